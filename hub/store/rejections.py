"""The rejections table: every refused message with its reason, a repeat counted rather
than stored again (so a flood of the same bad message cannot fill the disk)."""

from __future__ import annotations

from dataclasses import dataclass

from hub.store.db import Database
from hub.store.rows import column_list, read_row


@dataclass(frozen=True)
class Rejection:
    """A row of ``rejections`` as read: its fields are the columns (all but first_seen and
    last_seen)."""

    id: int
    kind: str
    topic_kit: str
    message_sha256: str
    document_sha256: str | None
    seq: int | None
    reason_code: str
    reason: str
    raw: bytes
    raw_size: int
    ack: bytes | None
    times: int
    source: str


_REJECTIONS = column_list(Rejection)


class RejectionTable:
    db: Database

    def record_rejection(
        self,
        *,
        kind: str,
        topic_kit: str,
        message_sha256: str,
        document_sha256: str | None,
        seq: int | None,
        reason_code: str,
        reason: str,
        raw: bytes,
        raw_size: int,
        source: str,
        now: str,
    ) -> Rejection:
        """Store a rejection, or count a repeat of the same one; return the stored row."""
        key = (kind, topic_kit[:200], message_sha256, reason_code)
        updated = self.db.one(
            "UPDATE rejections SET times = times + 1, last_seen = ? "
            "WHERE kind = ? AND topic_kit = ? AND message_sha256 = ? AND reason_code = ? "
            "RETURNING id",
            (now, *key),
        )
        if updated is None:
            updated = self.db.one(
                "INSERT INTO rejections (kind, topic_kit, message_sha256, document_sha256, seq, "
                "reason_code, reason, raw, raw_size, ack, times, source, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 1, ?, ?, ?) RETURNING id",
                (
                    *key[:3],
                    document_sha256,
                    seq,
                    reason_code,
                    reason,
                    raw,
                    raw_size,
                    source,
                    now,
                    now,
                ),
            )
        assert updated is not None
        return self.rejection(int(updated[0]))

    def set_rejection_ack(self, rejection_id: int, ack: bytes) -> None:
        self.db.execute("UPDATE rejections SET ack = ? WHERE id = ?", (ack, rejection_id))

    def rejection(self, rejection_id: int) -> Rejection:
        row = self.db.one(f"SELECT {_REJECTIONS} FROM rejections WHERE id = ?", (rejection_id,))
        if row is None:
            raise KeyError(rejection_id)
        return read_row(Rejection, row)

    def rejections(self) -> list[Rejection]:
        rows = self.db.all(f"SELECT {_REJECTIONS} FROM rejections ORDER BY id")
        return [read_row(Rejection, r) for r in rows]
