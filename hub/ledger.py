"""The hub's ledger rules, apart from any SQL: where a document sits in its kit's hash chain,
and which version of a TPS's result counts.

These are the rules the public audits, so they live here once, as plain functions over rows:
the ingestor applies them to each batch, the API answers receipts with them, and the store
(hub/store/) only reads and writes their rows. The version rule itself (:func:`supersedes`)
is protocol/versions.py's, which ``tps-verify recount`` applies to the log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, TypeVar

from protocol.document import GENESIS
from protocol.versions import Version, supersedes

ChainStatus = Literal["ok", "gap", "fork"]


# -- the per-kit hash chain -------------------------------------------------------------------


@dataclass(frozen=True)
class ChainRow:
    """A stored document's place in its kit's chain."""

    id: int
    seq: int
    document_sha256: str
    prev_sha256: str
    chain_status: ChainStatus


def chain_position(
    kit: str, seq: int, document_sha256: str, prev_sha256: str, neighbours: Sequence[ChainRow]
) -> tuple[ChainStatus, list[tuple[str, str]]]:
    """Where a new document sits in its kit's chain, and the anomalies (kind, detail) that
    shows. ``neighbours``: the kit's stored documents at ``seq - 1``, ``seq`` and
    ``seq + 1`` (:class:`BatchChains`).

    The kit signed the document, so a break is recorded, never a reason to refuse: a gap
    (the predecessor is not here, perhaps not yet: results can arrive out of order through
    several workers) or a fork (the predecessor here is another document).
    """
    anomalies: list[tuple[str, str]] = []
    same_seq = [r.document_sha256 for r in neighbours if r.seq == seq]
    if same_seq:
        others = ", ".join(sha[:12] for sha in same_seq)
        anomalies.append(
            (
                "seq-reused",
                f"kit {kit} signed seq {seq} again: {document_sha256[:12]} beside {others}",
            )
        )
    status: ChainStatus
    if seq == 1:
        status = "ok" if prev_sha256 == GENESIS else "fork"
    else:
        before = {r.document_sha256 for r in neighbours if r.seq == seq - 1}
        status = "ok" if prev_sha256 in before else ("fork" if before else "gap")
    if status == "gap":
        anomalies.append(
            ("chain-gap", f"kit {kit} seq {seq}: seq {seq - 1} ({prev_sha256[:12]}) is not here")
        )
    elif status == "fork":
        anomalies.append(
            (
                "chain-fork",
                f"kit {kit} seq {seq} names previous {prev_sha256[:12]}, "
                "which is not the document stored before it",
            )
        )
    return status, anomalies


def settled_successors(
    seq: int, document_sha256: str, neighbours: Sequence[ChainRow]
) -> list[ChainRow]:
    """The gaps at ``seq + 1`` that a document at ``seq`` settles, with their new status:
    closed if they name it as previous, forks if they name another document.

    ``neighbours``: as :func:`chain_position` read them, before this document was placed
    (placing it changes no other row, so they still hold).
    """
    return [
        replace(r, chain_status="ok" if r.prev_sha256 == document_sha256 else "fork")
        for r in neighbours
        if r.seq == seq + 1 and r.chain_status == "gap"
    ]


def settled_fork_detail(kit: str, seq: int, document_sha256: str, successor: ChainRow) -> str:
    """The anomaly's words for a successor that a late predecessor shows to be a fork."""
    return (
        f"kit {kit} seq {seq + 1} names previous {successor.prev_sha256[:12]}, but seq "
        f"{seq} is {document_sha256[:12]}"
    )


class BatchChains:
    """A batch's view of its kits' chains around its documents, read at once (the store's
    ``batch_chains``) and kept up to date as the batch places each document, so each sees
    the chain as it stands at its turn (a kit's seq 2 sees the seq 1 placed just before it).
    Valid only for the places it was read for."""

    def __init__(self, rows: Iterable[tuple[str, ChainRow]]) -> None:
        # (kit, seq) -> its rows in id order.
        self._rows: dict[tuple[str, int], list[ChainRow]] = {}
        for kit, row in rows:
            self.add(kit, row)

    def neighbours(self, kit: str, seq: int) -> list[ChainRow]:
        return [r for s in (seq - 1, seq, seq + 1) for r in self._rows.get((kit, s), ())]

    def add(self, kit: str, row: ChainRow) -> None:
        """A document placed (ids only grow, so the id order holds)."""
        self._rows.setdefault((kit, row.seq), []).append(row)

    def settle(self, kit: str, settled: Sequence[ChainRow]) -> None:
        """Successors whose status a placed document changed (:func:`settled_successors`)."""
        for row in settled:
            same_seq = self._rows[(kit, row.seq)]
            same_seq[:] = [row if r.id == row.id else r for r in same_seq]


# -- the version that counts ------------------------------------------------------------------


V = TypeVar("V", bound=Version)


def counting_version(versions: Iterable[V], excluded: frozenset[str]) -> V | None:
    """The version that counts among ``versions`` of one TPS's form, leaving out those of
    ``excluded`` kits (declared compromised): :func:`supersedes` applied in the hub's order,
    as ingest applied it when they arrived."""
    best: V | None = None
    for version in sorted(versions, key=lambda v: v.document_id):
        if version.kit in excluded:
            continue
        if best is None or supersedes(version, best):
            best = version
    return best


def clock_ahead(captured_at: str, received: dt.datetime, skew_s: int) -> str | None:
    """The anomaly's words if a signed capture time is more than ``skew_s`` seconds ahead
    of the hub's receipt time (a kit clock set wrong, or a kit dating its result ahead);
    None if it is not. The time orders nothing (:func:`supersedes`); the flag shows it."""
    try:
        captured = dt.datetime.fromisoformat(captured_at.replace("Z", "+00:00"))
    except ValueError:
        return f"capture time {captured_at!r} is not a time"
    if captured.tzinfo is None:
        captured = captured.replace(tzinfo=dt.UTC)
    ahead = (captured - received).total_seconds()
    if ahead <= skew_s:
        return None
    return (
        f"captured at {captured_at}, {int(ahead)} s after the hub received it "
        f"(allowed skew {skew_s} s)"
    )


@dataclass(frozen=True)
class StoredDocument:
    """A verified document as the ledger records it: a row of the store's ``documents``
    table (hub/store/documents.py generates its SQL from these fields)."""

    id: int
    document_sha256: str
    kit: str
    seq: int
    election: str
    is_training: bool
    tps: str
    form: str
    form_version: int
    captured_at: str
    prev_sha256: str
    fields: str  # canonical JSON of the field values, read by the recapitulation
    signed: bytes
    cert_serial: str
    chain_status: ChainStatus
    log_name: str
    log_index: int
    ack: bytes
    source: str
    received_at: str

    @property
    def document_id(self) -> int:
        return self.id


@dataclass(frozen=True)
class DocumentFields:
    """A stored document's identity and numbers, without its signed bytes: what the
    recapitulation reads (a fraction of the row, so the hot path stays cheap)."""

    id: int
    kit: str
    seq: int
    election: str
    is_training: bool
    tps: str
    form: str
    form_version: int
    fields: dict[str, int]
    received_at: str


@dataclass(frozen=True)
class CurrentChange:
    """The version that counts for one TPS and form moved: the recapitulation's input."""

    election: str
    tps: str
    form: str
    is_training: bool
    document_id: int
    previous_document_id: int | None  # None: the first report of this TPS and form
    # The new version as the recapitulation reads it, when the writer has it at hand (the
    # ingestor does), so the recapitulation need not read back what was just written.
    document: DocumentFields | None = field(default=None, compare=False, repr=False)


@dataclass
class Counting:
    """One TPS and form's current-version row, as a batch moves it."""

    key: tuple[str, str, str]  # election, tps, form
    is_training: bool
    document_id: int
    first_document_id: int
    kit: str
    seq: int
    captured_at: str
    versions: int
    updated_at: str
    stored: bool  # the row is in the table (else the batch inserts it)
    changed: bool = False


class CurrentVersions:
    """The version that counts of a batch's TPSs, moved in memory as each document is
    stored, in the batch's order; the store reads the rows before and writes the changed
    ones after (one statement for all, not one per document)."""

    def __init__(self, rows: Iterable[Counting], excluded: frozenset[str] = frozenset()) -> None:
        """``excluded``: kits declared compromised; their versions are stored, never count."""
        self._rows = {row.key: row for row in rows}
        self._excluded = excluded

    def advance(
        self, doc: StoredDocument, fields: Mapping[str, int], now: str
    ) -> CurrentChange | None:
        """Count ``doc`` (just stored, with these field values) as a version of its TPS's
        form; the change if it is now the version that counts (:func:`supersedes`)."""
        key = (doc.election, doc.tps, doc.form)
        row = self._rows.get(key)
        if doc.kit in self._excluded:
            if row is not None:
                row.versions, row.updated_at, row.changed = row.versions + 1, now, True
            return None
        if row is None:  # the first report of the TPS: nearly every document
            self._rows[key] = Counting(
                key,
                doc.is_training,
                doc.id,
                doc.id,
                doc.kit,
                doc.seq,
                doc.captured_at,
                1,
                now,
                stored=False,
                changed=True,
            )
            return _change(doc, None, fields)
        row.versions, row.updated_at, row.changed = row.versions + 1, now, True
        if not supersedes(doc, row):
            return None
        previous = row.document_id
        row.document_id, row.kit, row.seq = doc.id, doc.kit, doc.seq
        row.captured_at = doc.captured_at
        return _change(doc, previous, fields)

    def take_changed(self) -> tuple[list[Counting], list[Counting]]:
        """The rows :meth:`advance` changed since the last call, to be written: (new rows,
        rows already stored). From now on all of them count as stored."""
        changed = [row for row in self._rows.values() if row.changed]
        new = [row for row in changed if not row.stored]
        stored = [row for row in changed if row.stored]
        for row in changed:
            row.stored, row.changed = True, False
        return new, stored


def _change(doc: StoredDocument, previous: int | None, fields: Mapping[str, int]) -> CurrentChange:
    return CurrentChange(
        doc.election,
        doc.tps,
        doc.form,
        doc.is_training,
        doc.id,
        previous,
        DocumentFields(
            id=doc.id,
            kit=doc.kit,
            seq=doc.seq,
            election=doc.election,
            is_training=doc.is_training,
            tps=doc.tps,
            form=doc.form,
            form_version=doc.form_version,
            fields=dict(fields),
            received_at=doc.received_at,
        ),
    )
