"""When each kit was last heard from, and which kits have been silent too long.

Recorded on every document that becomes the counting version (the recap hook) and, once
the worker handles the status topic, on every status heartbeat (:func:`record_status`,
which also keeps the kit's latest status, where counters such as paper mistakes caught can
travel). A document that arrives late and does not become current does not pass through
the hook, so :func:`silent_kits` re-checks each candidate against the documents table
(indexed by kit) before calling it silent.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hub.store.db import Database
from hub.store.results import utc_text
from hub.trust import RegistryKit

_LATER = "CASE WHEN excluded.{c} > kit_last_seen.{c} THEN excluded.{c} ELSE kit_last_seen.{c} END"
_SEEN_SQL = (
    "INSERT INTO kit_last_seen (kit, election, tps, last_seen, last_document_id) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (kit) DO UPDATE SET "
    f"last_seen = {_LATER.format(c='last_seen')}, "
    "election = COALESCE(excluded.election, kit_last_seen.election), "
    "tps = COALESCE(excluded.tps, kit_last_seen.tps), "
    "last_document_id = COALESCE(excluded.last_document_id, kit_last_seen.last_document_id)"
)


def record_seen(
    db: Database,
    kit: str,
    at: str,
    *,
    election: str | None = None,
    tps: str | None = None,
    document_id: int | None = None,
) -> None:
    """The kit was heard from at ``at`` (sortable UTC text); never moves last-seen back."""
    db.execute(_SEEN_SQL, (kit, election, tps, at, document_id))


class PendingSeen:
    """:func:`record_seen` calls collected over a transaction, written as one statement
    per kit. Equivalent to the calls in order: last-seen is the latest time of them all
    (and of what is stored), and election, TPS and document are the last call's."""

    def __init__(self) -> None:
        self._kits: dict[str, tuple[str, str | None, str | None, int | None]] = {}

    def add(
        self, kit: str, at: str, election: str | None, tps: str | None, document_id: int | None
    ) -> None:
        known = self._kits.get(kit)
        if known is not None:
            at = max(at, known[0])
            election = election if election is not None else known[1]
            tps = tps if tps is not None else known[2]
            document_id = document_id if document_id is not None else known[3]
        self._kits[kit] = (at, election, tps, document_id)

    def write(self, db: Database) -> None:
        db.executemany(_SEEN_SQL, [(kit, e, t, at, d) for kit, (at, e, t, d) in self._kits.items()])
        self._kits = {}


def record_status(db: Database, kit: str, at: str, status: Mapping[str, Any]) -> None:
    """A status heartbeat (tps/v1/{kit}/status) arrived at ``at``: for the worker to call.

    Kept whole (its JSON) so later counters need no schema change; an offline last will
    still says the kit was heard from (the broker published it when the kit vanished).
    """
    text = json.dumps(dict(status), sort_keys=True, separators=(",", ":"))
    with db.transaction():
        record_seen(db, kit, at)
        db.execute(
            "UPDATE kit_last_seen SET status = ?, status_at = ? WHERE kit = ? "
            "AND (status_at IS NULL OR status_at <= ?)",
            (text, at, kit, at),
        )


def latest_status(db: Database, kit: str) -> dict[str, Any] | None:
    row = db.one("SELECT status FROM kit_last_seen WHERE kit = ?", (kit,))
    if row is None or row[0] is None:
        return None
    value = json.loads(row[0])
    return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class SilentKit:
    kit: str
    election: str | None
    tps: str | None
    last_seen: str | None  # None: never heard from (a registry kit with nothing received)


def silent_kits(
    db: Database,
    now: dt.datetime,
    after: dt.timedelta,
    *,
    registry: Iterable[RegistryKit] = (),
    election: str | None = None,
) -> list[SilentKit]:
    """Kits last heard from before ``now - after``, and registry kits never heard from
    (revoked ones excepted: a revoked kit is meant to be silent), sorted by kit id."""
    cutoff = utc_text(now - after)
    known = {
        str(r[0]): SilentKit(str(r[0]), r[1], r[2], r[3])
        for r in db.all("SELECT kit, election, tps, last_seen FROM kit_last_seen")
    }
    candidates = {k: s for k, s in known.items() if (s.last_seen or "") < cutoff}
    for entry in registry:
        if entry.revoked:
            candidates.pop(entry.kit, None)
        elif entry.kit not in known:
            candidates[entry.kit] = SilentKit(entry.kit, entry.election, entry.tps, None)
    latest = _latest_documents(db, list(candidates))
    silent = []
    for kit, candidate in sorted(candidates.items()):
        seen = max(filter(None, (candidate.last_seen, latest.get(kit))), default=None)
        if seen is not None and seen >= cutoff:
            continue
        if election is not None and candidate.election != election:
            continue
        silent.append(SilentKit(kit, candidate.election, candidate.tps, seen))
    return silent


def _latest_documents(db: Database, kits: list[str]) -> dict[str, str]:
    latest: dict[str, str] = {}
    for start in range(0, len(kits), 400):
        chunk = kits[start : start + 400]
        marks = ", ".join("?" * len(chunk))
        for kit, at in db.all(
            f"SELECT kit, MAX(received_at) FROM documents WHERE kit IN ({marks}) GROUP BY kit",
            chunk,
        ):
            latest[str(kit)] = str(at)
    return latest
