"""What the outbox hands back: plain frozen values, detached from the database."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class State(enum.StrEnum):
    """A document's delivery state. It only ever moves forward (see RANK)."""

    QUEUED = "queued"  # stored, not yet confirmed by the broker
    SENT = "sent"  # the broker's PUBACK seen; the hub has not answered yet
    ACKNOWLEDGED = "acknowledged"  # the hub's signed verdict: accepted
    REJECTED = "rejected"  # the hub's signed verdict: refused, with its reason


RANK = {State.QUEUED: 0, State.SENT: 1, State.ACKNOWLEDGED: 2, State.REJECTED: 2}
FINAL = frozenset({State.ACKNOWLEDGED, State.REJECTED})


class AckOutcome(enum.StrEnum):
    """What :meth:`Outbox.acknowledge` did with a verdict from the hub."""

    APPLIED = "applied"  # the document now carries the verdict
    DUPLICATE = "duplicate"  # the same verdict was already recorded (the hub re-sent it)
    UNKNOWN = "unknown"  # no document with that hash here: ignored
    CONFLICT = "conflict"  # a different verdict was already recorded: the first one stays


@dataclass(frozen=True)
class ChainHead:
    """What the next document must carry: its seq and its prev_sha256."""

    seq: int
    prev_sha256: str


@dataclass(frozen=True)
class Entry:
    """One stored signed document and its delivery bookkeeping."""

    seq: int
    sha256: str  # SHA-256 of the signed payload: the receipt's and the hub's key
    prev_sha256: str
    kit: str
    form: str
    signed: bytes  # exactly the bytes published on tps/v1/{kit}/result
    state: State
    attempts: int  # publishes tried (each PUBACK or failure counts one)
    created_at: float
    sent_at: float | None
    verdict_at: float | None
    last_error: str | None
    reason: str | None  # the hub's reason, for a rejection
    pages: tuple[tuple[int, str], ...] = ()  # (page, image sha256), page order

    @property
    def filename(self) -> str:
        """Its name in an export: sorts by seq, and names the document hash."""
        return f"{self.seq:06d}-{self.sha256[:12]}.json"


@dataclass(frozen=True)
class PendingImage:
    """A page image whose document's numbers are already with the broker."""

    sha256: str
    data: bytes
    seq: int  # the earliest document that names it
    page: int


@dataclass(frozen=True)
class OutboxStats:
    """Figures for the status heartbeat and `tps-kit status`."""

    last_seq: int
    pending_documents: int  # queued or sent: not yet answered by the hub
    unsent_documents: int  # queued: not even with the broker
    pending_images: int  # not yet with the broker
    oldest_pending_age_s: float | None  # since the oldest unanswered document was stored
    pending_bytes: int  # what is still to travel (documents and images)
    stored_bytes: int  # everything held (documents and images)
    by_state: dict[str, int] = field(default_factory=dict)

    def to_json_value(self) -> dict[str, Any]:
        age = self.oldest_pending_age_s
        return {
            "last_seq": self.last_seq,
            "pending_documents": self.pending_documents,
            "unsent_documents": self.unsent_documents,
            "pending_images": self.pending_images,
            # integers only, like everything else the kit publishes
            "oldest_pending_age_s": None if age is None else int(age),
            "pending_bytes": self.pending_bytes,
            "stored_bytes": self.stored_bytes,
            "by_state": dict(self.by_state),
        }
