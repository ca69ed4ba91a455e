"""Oddities that depend on when one asks or on the registry, found at query time (as silent
kits are, hub/recap/seen.py), never stored:

- ``images-missing``: a counting version names a page image the hub still does not hold
  ``after`` its receipt (the kit sends numbers first and images when the link allows, so a
  missing image is normal for a while, and a flag after that: the public cannot compare
  the numbers with the photo);
- ``not-in-registry``: a kit whose results the hub holds but the registry does not list
  (enrolled after the registry export, or a CA that issued beyond it), or a TPS the
  registry does not expect. Its results are valid and count, but completeness cannot
  place its TPS: export the registry again (README, "Security").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

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
    reason: str  # "kit" (the registry lists no such kit) or "tps" (it expects no such TPS)


def missing_images(
    db: Database, now: dt.datetime, after: dt.timedelta, *, election: str | None = None
) -> list[MissingImage]:
    """Pages of counting versions received before ``now - after`` whose image the hub does
    not hold, in (election, tps, form, page) order."""
    where, params = "", [utc_text(now - after)]
    if election is not None:
        where, params = " AND c.election = ?", [*params, election]
    rows = db.all(
        "SELECT c.election, c.tps, c.form, d.kit, d.seq, p.page, p.sha256, d.received_at "
        "FROM current_results AS c JOIN documents AS d ON d.id = c.document_id "
        "JOIN document_pages AS p ON p.document_id = d.id "
        "LEFT JOIN images AS i ON i.sha256 = p.sha256 "
        f"WHERE i.sha256 IS NULL AND d.received_at < ?{where} "
        "ORDER BY c.election, c.tps, c.form, p.page",
        params,
    )
    return [
        MissingImage(str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]), int(r[5]), *r[6:])
        for r in rows
    ]


def unregistered(
    db: Database, registry: Iterable[RegistryKit], *, election: str | None = None
) -> list[Unregistered]:
    """Kits the hub counted results of that the registry does not list, or whose TPS it
    does not expect, by kit (read from the kits' last-seen rows: one per kit, not a scan
    of the documents)."""
    kits = {k.kit for k in registry}
    expected = {(k.election, k.tps) for k in registry}
    if not kits:
        return []  # no registry given: nothing to compare with
    rows = db.all(
        "SELECT kit, election, tps FROM kit_last_seen "
        "WHERE election IS NOT NULL AND tps IS NOT NULL ORDER BY kit"
    )
    found = []
    for kit, elec, tps in rows:
        if election is not None and elec != election:
            continue
        reason = "kit" if kit not in kits else "tps" if (elec, tps) not in expected else None
        if reason is not None:
            found.append(Unregistered(str(kit), str(elec), str(tps), reason))
    return found
