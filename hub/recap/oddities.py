"""Oddities that depend on when one asks or on the registry, found at query time (as silent
kits are, hub/recap/seen.py), never stored:

- ``images-missing``: a counting version names a page image the hub still does not hold
  ``after`` its receipt (the kit sends numbers first and images when the link allows, so a
  missing image is normal for a while, and a flag after that: the public cannot compare
  the numbers with the photo);
- ``not-in-registry``: a kit whose results the hub holds but the registry does not list
  (enrolled after the registry export, or a CA that issued beyond it), or a TPS neither
  the registry nor the election's manifest expects. Its results are valid and count in
  the totals, but a TPS nothing expects never counts in completeness (so a region never
  shows more than 100 %): export the registry again (README, "Security").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from hub.recap.completeness import Expected, expected_from_registry
from hub.store.db import Database
from hub.store.results import utc_text
from hub.trust import RegistryKit


@dataclass(frozen=True)
class MissingImage:
    election: str
    tps: str
    form: str
    kit: str
    seq: int
    page: int
    sha256: str
    received_at: str  # when the document naming it arrived


@dataclass(frozen=True)
class Unregistered:
    kit: str
    election: str
    tps: str
    reason: str  # "kit" (the registry lists no such kit) or "tps" (nothing expects the TPS)
    tps_expected: bool  # whether the registry or the manifest expects its TPS all the same


def missing_images(
    db: Database,
    now: dt.datetime,
    after: dt.timedelta,
    *,
    election: str | None = None,
    training: bool | None = None,
    limit: int | None = None,
) -> list[MissingImage]:
    """Pages of counting versions received before ``now - after`` whose image the hub does
    not hold, in (election, tps, form, page) order; the first ``limit`` of them if given.
    Reads only the pages still awaited (the awaited_images table), never every page."""
    where, params = _awaited_where(now, after, election, training)
    rows = db.all(
        "SELECT c.election, c.tps, c.form, d.kit, d.seq, a.page, a.sha256, a.named_at "
        "FROM awaited_images AS a JOIN current_results AS c ON c.document_id = a.document_id "
        "JOIN documents AS d ON d.id = a.document_id "
        f"WHERE a.named_at < ?{where} "
        "ORDER BY c.election, c.tps, c.form, a.page"
        + ("" if limit is None else f" LIMIT {int(limit)}"),
        params,
    )
    return [
        MissingImage(str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]), int(r[5]), *r[6:])
        for r in rows
    ]


def _awaited_where(
    now: dt.datetime, after: dt.timedelta, election: str | None, training: bool | None
) -> tuple[str, list[object]]:
    where, params = "", [utc_text(now - after)]
    if election is not None:
        where, params = f"{where} AND c.election = ?", [*params, election]
    if training is not None:
        where, params = f"{where} AND c.is_training = ?", [*params, int(training)]
    return where, params


def count_missing_images(
    db: Database,
    now: dt.datetime,
    after: dt.timedelta,
    *,
    election: str | None = None,
    training: bool | None = None,
) -> int:
    """How many pages :func:`missing_images` finds, counted in the database."""
    where, params = _awaited_where(now, after, election, training)
    row = db.one(
        "SELECT COUNT(*) FROM awaited_images AS a "
        "JOIN current_results AS c ON c.document_id = a.document_id "
        f"WHERE a.named_at < ?{where}",
        params,
    )
    return int(row[0]) if row else 0


def unregistered(
    db: Database,
    registry: Iterable[RegistryKit],
    *,
    expected: Expected | None = None,
    election: str | None = None,
) -> list[Unregistered]:
    """Kits the hub counted results of that the registry does not list, or whose TPS
    nothing expects (the registry, and the election's manifest when ``expected`` has it),
    by kit (read from the kits' last-seen rows: one per kit, not a scan of the documents)."""
    kits = {k.kit for k in registry}
    if expected is None:
        expected = expected_from_registry(registry) if kits else None
    if not kits and expected is None:
        return []  # no registry or manifest: nothing to compare with
    rows = db.all(
        "SELECT kit, election, tps FROM kit_last_seen "
        "WHERE election IS NOT NULL AND tps IS NOT NULL ORDER BY kit"
    )
    found = []
    for kit, elec, tps in rows:
        if election is not None and elec != election:
            continue
        tps_expected = expected is not None and tps in expected.tps.get(elec, ())
        reason = "kit" if kits and kit not in kits else None if tps_expected else "tps"
        if reason is not None:
            found.append(Unregistered(str(kit), str(elec), str(tps), reason, tps_expected))
    return found


def stray_tps(
    db: Database, registry: Iterable[RegistryKit], expected: Expected | None
) -> dict[str, frozenset[str]]:
    """Per election, the TPS that kits report for but nothing expects: they count in the
    totals, never in completeness (hub/recap/completeness.py)."""
    strays: dict[str, set[str]] = {}
    for odd in unregistered(db, registry, expected=expected):
        if not odd.tps_expected:
            strays.setdefault(odd.election, set()).add(odd.tps)
    return {e: frozenset(t) for e, t in strays.items()}
