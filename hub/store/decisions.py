"""The operator_decisions table: what an operator decided about a kit or a result, with who,
when and why. Rows are only added: a later decision about the same thing overrides an
earlier one, and both stay on record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hub.store.db import Database

DecisionKind = Literal["kit-compromised", "result-released", "result-kept-out"]


@dataclass(frozen=True)
class Decision:
    id: int
    kind: DecisionKind
    kit: str | None
    document_id: int | None
    decided_by: str
    reason: str
    decided_at: str


@dataclass(frozen=True)
class DecidedDocument:
    """The document a decision is about, as anyone reading the log finds it."""

    document_sha256: str
    log_name: str
    log_index: int
    election: str
    tps: str
    form: str
    kit: str
    seq: int


@dataclass(frozen=True)
class PublishedDecision:
    """A decision as the hub publishes it: with its document's place in the log, so a
    monitor's recount can apply it to the entry it read."""

    decision: Decision
    document: DecidedDocument | None


class DecisionTable:
    db: Database

    def add_decision(
        self,
        kind: DecisionKind,
        decided_by: str,
        reason: str,
        now: str,
        *,
        kit: str | None = None,
        document_id: int | None = None,
    ) -> None:
        self.db.execute(
            "INSERT INTO operator_decisions (kind, kit, document_id, decided_by, reason, "
            "decided_at) VALUES (?, ?, ?, ?, ?, ?)",
            (kind, kit, document_id, decided_by, reason, now),
        )

    def compromised_kits(self) -> frozenset[str]:
        """Kits an operator declared compromised: none of their results count."""
        rows = self.db.all(
            "SELECT DISTINCT kit FROM operator_decisions WHERE kind = 'kit-compromised'"
        )
        return frozenset(str(r[0]) for r in rows)

    def released(self, document_id: int) -> bool:
        """Whether an operator's latest word on a held result is to release it."""
        row = self.db.one(
            "SELECT kind FROM operator_decisions WHERE document_id = ? AND kind IN "
            "('result-released', 'result-kept-out') ORDER BY id DESC LIMIT 1",
            (document_id,),
        )
        return row is not None and row[0] == "result-released"

    def decisions(self) -> list[Decision]:
        rows = self.db.all(
            "SELECT id, kind, kit, document_id, decided_by, reason, decided_at "
            "FROM operator_decisions ORDER BY id"
        )
        return [
            Decision(int(r[0]), r[1], r[2], None if r[3] is None else int(r[3]), *r[4:])
            for r in rows
        ]

    def published_decisions(self) -> list[PublishedDecision]:
        """Every decision, oldest first, each with the document it is about (if any)."""
        rows = self.db.all(
            "SELECT o.id, o.kind, o.kit, o.document_id, o.decided_by, o.reason, o.decided_at, "
            "d.document_sha256, d.log_name, d.log_index, d.election, d.tps, d.form, d.kit, d.seq "
            "FROM operator_decisions AS o LEFT JOIN documents AS d ON d.id = o.document_id "
            "ORDER BY o.id"
        )
        found = []
        for r in rows:
            decision = Decision(int(r[0]), r[1], r[2], None if r[3] is None else int(r[3]), *r[4:7])
            document = (
                None
                if r[7] is None
                else DecidedDocument(
                    str(r[7]),
                    str(r[8]),
                    int(r[9]),
                    str(r[10]),
                    str(r[11]),
                    str(r[12]),
                    str(r[13]),
                    int(r[14]),
                )
            )
            found.append(PublishedDecision(decision, document))
        return found
