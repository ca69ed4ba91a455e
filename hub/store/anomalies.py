"""The anomalies table: what the chain or the numbers show that is worth a look (a gap or
fork in a kit's chain, a seq signed twice, a broken rule), kept with when it was settled."""

from __future__ import annotations

from dataclasses import dataclass

from hub.store.db import Database


@dataclass(frozen=True)
class Anomaly:
    id: int
    kind: str
    kit: str | None
    document_id: int | None
    detail: str
    resolved: bool


class AnomalyTable:
    db: Database

    def add_anomaly(
        self,
        kind: str,
        detail: str,
        now: str,
        *,
        kit: str | None = None,
        election: str | None = None,
        tps: str | None = None,
        document_id: int | None = None,
    ) -> None:
        self.db.execute(
            "INSERT INTO anomalies (kind, kit, election, tps, document_id, detail, detected_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (kind, kit, election, tps, document_id, detail, now),
        )

    def resolve_anomalies(self, document_id: int, kind: str, now: str) -> None:
        """Mark a document's open anomalies of one kind settled."""
        self.db.execute(
            "UPDATE anomalies SET resolved_at = ? WHERE document_id = ? "
            "AND kind = ? AND resolved_at IS NULL",
            (now, document_id, kind),
        )

    def anomalies(self, *, open_only: bool = False) -> list[Anomaly]:
        where = " WHERE resolved_at IS NULL" if open_only else ""
        rows = self.db.all(
            f"SELECT id, kind, kit, document_id, detail, resolved_at FROM anomalies{where} "
            "ORDER BY id"
        )
        return [Anomaly(int(r[0]), r[1], r[2], r[3], r[4], r[5] is not None) for r in rows]
