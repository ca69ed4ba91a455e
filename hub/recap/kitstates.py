"""Which kits are online, silent, offline by their own word, or revoked: counted, and paged.

The one place that decides which kits are silent: the kits page, the anomaly page and
``tps-hub anomalies`` all ask :func:`kit_page` (or :func:`silent_kits`, which asks it), so
none of them can list a kit another leaves out.

The kits are those heard from (``kit_last_seen``) and those the registry lists. The hub
reads one narrow row per heard kit (no status JSON, no document) to count them; the
registry is indexed once, so its kits never heard from are counted per election and only
those of the page are visited. A kit heard only by its status heartbeat has no election of
its own yet: the registry's is taken, so an election filter keeps it as it keeps the kit
never heard from. Each kit's state is :func:`hub.recap.seen.category`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass

from hub.recap.seen import CATEGORIES, Category, category, heard_kits, last_heard
from hub.store.db import Database
from hub.trust import RegistryKit
from protocol.ids import is_training

ElectionFilter = Callable[[str | None], bool]


def wanted(training: bool | None, election: str | None) -> bool:
    """Kept by the training filter; what no election can be told of is shown in both."""
    return training is None or election is None or is_training(election) == training


def election_filter(election: str | None = None, training: bool | None = None) -> ElectionFilter:
    """Keeps kits of ``election`` (only those known to be of it) and of the training kind."""

    def keep(kit_election: str | None) -> bool:
        if election is not None and kit_election != election:
            return False
        return wanted(training, kit_election)

    return keep


@dataclass(frozen=True)
class RegistryIndex:
    """The registry by kit id, its ids in order, and its kits per election."""

    by_kit: dict[str, RegistryKit]
    ids: list[str]
    per_election: Counter[str]
    live_per_election: Counter[str]  # not revoked

    @classmethod
    def of(cls, registry: Collection[RegistryKit]) -> RegistryIndex:
        by_kit = {k.kit: k for k in registry}
        return cls(
            by_kit,
            sorted(by_kit),
            Counter(k.election for k in by_kit.values()),
            Counter(k.election for k in by_kit.values() if not k.revoked),
        )


@dataclass(frozen=True)
class KitState:
    kit: str
    election: str | None
    tps: str | None
    heard: bool
    category: Category


@dataclass(frozen=True)
class KitPage:
    kits: list[KitState]
    counts: Counter[Category]  # over every kit the election filter keeps, all categories
    next_after: str | None


def kit_page(
    db: Database,
    index: RegistryIndex,
    now: dt.datetime,
    silent_after: dt.timedelta,
    election_ok: ElectionFilter,
    categories: Collection[Category] = CATEGORIES,
    after: str | None = None,
    limit: int | None = None,
) -> KitPage:
    """The first ``limit`` kits (by id, after ``after``; all if None) in ``categories``,
    and the counts over every category."""
    heard = _heard(db, index, now, silent_after)
    counts = _unheard_counts(index, election_ok)
    candidates: list[KitState] = []
    for state in heard.values():
        entry = index.by_kit.get(state.kit)
        if entry is not None and election_ok(entry.election):
            counts["revoked" if entry.revoked else "silent"] -= 1  # heard after all
        if election_ok(state.election):
            counts[state.category] += 1
            if state.category in categories and (after is None or state.kit > after):
                candidates.append(state)
    if limit is None:
        unheard = _unheard(index, heard, election_ok, categories, after, None, None)
        return KitPage(sorted(candidates + unheard, key=lambda s: s.kit), counts, None)
    page = heapq.nsmallest(limit + 1, candidates, key=lambda s: s.kit)
    bound = page[-1].kit if len(page) > limit else None
    page += _unheard(index, heard, election_ok, categories, after, bound, limit + 1)
    page = sorted(page, key=lambda s: s.kit)[: limit + 1]
    more = len(page) > limit
    return KitPage(page[:limit], counts, page[limit - 1].kit if more else None)


@dataclass(frozen=True)
class SilentKit:
    kit: str
    election: str | None
    tps: str | None
    last_seen: str | None  # None: never heard from (a registry kit with nothing received)


@dataclass(frozen=True)
class SilentKits:
    kits: list[SilentKit]
    total: int  # over every page
    next_after: str | None


def silent_kits(
    db: Database,
    index: RegistryIndex,
    now: dt.datetime,
    silent_after: dt.timedelta,
    election_ok: ElectionFilter,
    after: str | None = None,
    limit: int | None = None,
) -> SilentKits:
    """The kits :func:`kit_page` calls silent, by kit id, each with when it was last heard."""
    page = kit_page(db, index, now, silent_after, election_ok, ("silent",), after, limit)
    seen = last_heard(db, [k.kit for k in page.kits if k.heard])
    return SilentKits(
        [SilentKit(k.kit, k.election, k.tps, seen.get(k.kit)) for k in page.kits],
        page.counts["silent"],
        page.next_after,
    )


def _heard(
    db: Database, index: RegistryIndex, now: dt.datetime, silent_after: dt.timedelta
) -> dict[str, KitState]:
    heard = {}
    for kit in heard_kits(db, now, silent_after):
        entry = index.by_kit.get(kit.kit)
        election, tps = kit.election, kit.tps
        if election is None and entry is not None:
            election, tps = entry.election, tps or entry.tps
        state = category(entry is not None and entry.revoked, kit.recent, kit.said)
        heard[kit.kit] = KitState(kit.kit, election, tps, True, state)
    return heard


def _unheard_counts(index: RegistryIndex, election_ok: ElectionFilter) -> Counter[Category]:
    """The registry's kits as if none was heard from yet; heard ones are taken off after."""
    counts: Counter[Category] = Counter()
    for election, n in index.per_election.items():
        if election_ok(election):
            live = index.live_per_election[election]
            counts["silent"] += live
            counts["revoked"] += n - live
    return counts


def _unheard(
    index: RegistryIndex,
    heard: dict[str, KitState],
    election_ok: ElectionFilter,
    categories: Collection[Category],
    after: str | None,
    bound: str | None,
    enough: int | None,
) -> list[KitState]:
    """Registry kits never heard from, in id order after ``after``, up to ``bound``."""
    found: list[KitState] = []
    start = 0 if after is None else bisect.bisect_right(index.ids, after)
    for position in range(start, len(index.ids)):
        kit = index.ids[position]
        if (enough is not None and len(found) >= enough) or (bound is not None and kit > bound):
            break
        entry = index.by_kit[kit]
        state = category(entry.revoked, False, None)  # never heard from
        if kit not in heard and election_ok(entry.election) and state in categories:
            found.append(KitState(kit, entry.election, entry.tps, False, state))
    return found
