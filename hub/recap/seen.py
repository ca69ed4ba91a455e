"""When each kit was last heard from, and which kits have been silent too long.

The one definition of a *silent* kit: a kit not revoked whose last word (a status
heartbeat, or any document it sent, one that arrived late included) is older than the hub's
``[api] silent_after``, or that was never heard from at all. A kit heard within that time
whose latest status is its last will ("offline": the broker saw it go) is not silent: it is
*disconnected* (terputus), heard from recently. :func:`category` decides which of the four
a kit is; hub/recap/kitstates.py applies it to every kit for each page and command.

Recorded on every document that becomes the counting version (the recap hook) and, once
the worker handles the status topic, on every status heartbeat (:func:`record_status`,
which also keeps the kit's latest status, where counters such as paper mistakes caught can
travel). A document that arrives late and does not become current does not pass through
the hook, so :func:`heard_kits` and :func:`last_heard` also read the documents table
(indexed by kit).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Literal

from hub.store.db import Database
from hub.store.results import utc_text
from protocol.status import KitStatus, StatusError, parse_status

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


def record_status(db: Database, kit: str, at: str, status: KitStatus) -> None:
    """A status heartbeat (tps/v1/{kit}/status) arrived at ``at``: for the worker to call.

    Kept whole (its JSON) so later counters need no schema change; an offline last will
    still says the kit was heard from (the broker published it when the kit vanished).
    """
    text = json.dumps(status.to_json_value(), sort_keys=True, separators=(",", ":"))
    with db.transaction():
        record_seen(db, kit, at)
        db.execute(
            "UPDATE kit_last_seen SET status = ?, status_at = ? WHERE kit = ? "
            "AND (status_at IS NULL OR status_at <= ?)",
            (text, at, kit, at),
        )


def latest_status(db: Database, kit: str) -> KitStatus | None:
    row = db.one("SELECT status FROM kit_last_seen WHERE kit = ?", (kit,))
    if row is None or row[0] is None:
        return None
    try:
        return parse_status(row[0])
    except StatusError:
        return None  # stored by an older hub that kept any JSON object


Category = Literal["online", "silent", "said-offline", "revoked"]
CATEGORIES: tuple[Category, ...] = ("online", "silent", "said-offline", "revoked")


def cutoff_of(now: dt.datetime, after: dt.timedelta) -> str:
    """The time (sortable UTC text) a kit must have been heard from since to be recent."""
    return utc_text(now - after)


def is_recent(last_heard: str | None, cutoff: str) -> bool:
    return last_heard is not None and last_heard >= cutoff


def category(revoked: bool, recent: bool, said: str | None) -> Category:
    """A kit's state: revoked (meant to be silent), silent (no word since the cutoff, or
    never), said-offline (heard recently, but its last will says it went), or online."""
    if revoked:
        return "revoked"
    if not recent:
        return "silent"
    return "said-offline" if said == "offline" else "online"


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


@dataclass(frozen=True)
class HeardKit:
    """One kit heard from, as cheaply as it can be read for every kit at once."""

    kit: str
    election: str | None  # None: heard only by its heartbeat so far
    tps: str | None
    recent: bool  # heard from (a heartbeat or any document) at or after the cutoff
    said: str | None  # the ``state`` of its latest status ("online", "offline"), if any


def heard_kits(db: Database, now: dt.datetime, after: dt.timedelta) -> list[HeardKit]:
    """Every kit heard from, one narrow row each (no status JSON, no document read in full).

    Recent: heard at or after ``now - after``, counting a document that arrived late and
    did not pass the recap hook."""
    cutoff = cutoff_of(now, after)
    state = (
        "json_extract(k.status, '$.state')"
        if db.dialect.name == "sqlite"
        else "(k.status::jsonb ->> 'state')"
    )
    rows = db.all(
        "SELECT k.kit, k.election, k.tps, CASE WHEN k.last_seen >= ? THEN 1 WHEN EXISTS "
        "(SELECT 1 FROM documents d WHERE d.kit = k.kit AND d.received_at >= ?) THEN 1 "
        f"ELSE 0 END, {state} FROM kit_last_seen k",
        (cutoff, cutoff),
    )
    return [
        HeardKit(str(kit), election, tps, bool(recent), None if said is None else str(said))
        for kit, election, tps, recent, said in rows
    ]


@dataclass(frozen=True)
class KitRecord:
    last_seen: str | None
    status: dict[str, Any] | None  # the latest heartbeat, as the kit sent it
    status_at: str | None


def kit_records(db: Database, kits: list[str]) -> dict[str, KitRecord]:
    """What the hub keeps of each of ``kits`` (at most a page of them) that it heard from."""
    if not kits:
        return {}
    marks = ", ".join("?" * len(kits))
    rows = db.all(
        f"SELECT kit, last_seen, status, status_at FROM kit_last_seen WHERE kit IN ({marks})",
        kits,
    )
    records = {}
    for kit, last_seen, text, status_at in rows:
        status = json.loads(text) if text else None
        records[str(kit)] = KitRecord(
            last_seen, status if isinstance(status, dict) else None, status_at
        )
    return records


def last_heard(db: Database, kits: list[str]) -> dict[str, str]:
    """When each of ``kits`` was last heard from: the later of its last-seen time and its
    latest document (one that arrived late and did not pass the recap hook)."""
    if not kits:
        return {}
    marks = ", ".join("?" * len(kits))
    seen = {
        str(kit): str(at)
        for kit, at in db.all(
            f"SELECT kit, last_seen FROM kit_last_seen WHERE kit IN ({marks})", kits
        )
        if at is not None
    }
    latest = _latest_documents(db, kits)
    return {k: max(v for v in (seen.get(k), latest.get(k)) if v) for k in seen.keys() | latest}
