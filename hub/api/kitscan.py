"""Which kits are online, silent, offline by their own word, or revoked: counted, and paged.

The kits are those heard from (``kit_last_seen``) and those the registry lists. Per request
the hub reads one narrow row per heard kit (no status JSON, no document) to count them;
the registry is indexed once, so its kits never heard from are counted per election and
only those of the page are visited. Only a page's kits are then read in full.

A kit is *recent* if heard from (its last-seen time or, for a document that arrived late
and did not pass the recap hook, its latest document) within the hub's ``silent_after``,
as :func:`hub.recap.seen.category` decides it (the one definition of a silent kit).
"""

from __future__ import annotations

import bisect
import heapq
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hub.recap.seen import CATEGORIES, Category, category, heard_kits
from hub.store import Database, ResultStore
from hub.trust import RegistryKit

if TYPE_CHECKING:
    from hub.api.context import ApiContext  # which imports this module

ElectionFilter = Callable[[str | None], bool]
ALL_CATEGORIES: tuple[Category, ...] = CATEGORIES


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
    ctx: ApiContext,
    store: ResultStore,
    election_ok: ElectionFilter,
    categories: Collection[Category],
    after: str | None,
    limit: int,
) -> KitPage:
    """The first ``limit`` kits (by id, after ``after``) in ``categories``, and the counts."""
    index = ctx.registry_index
    heard = _heard(store.db, ctx, index)
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
    page = heapq.nsmallest(limit + 1, candidates, key=lambda s: s.kit)
    bound = page[-1].kit if len(page) > limit else None
    page += _unheard(index, heard, election_ok, categories, after, bound, limit + 1)
    page = sorted(page, key=lambda s: s.kit)[: limit + 1]
    more = len(page) > limit
    return KitPage(page[:limit], counts, page[limit - 1].kit if more else None)


def _heard(db: Database, ctx: ApiContext, index: RegistryIndex) -> dict[str, KitState]:
    heard = {}
    for kit in heard_kits(db, ctx.now(), ctx.silent_after):
        entry = index.by_kit.get(kit.kit)
        election, tps = kit.election, kit.tps
        # A kit heard only by its status heartbeat has no election of its own yet.
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
    wanted: int,
) -> list[KitState]:
    """Registry kits never heard from, in id order after ``after``, up to ``bound``."""
    found: list[KitState] = []
    start = 0 if after is None else bisect.bisect_right(index.ids, after)
    for position in range(start, len(index.ids)):
        kit = index.ids[position]
        if len(found) >= wanted or (bound is not None and kit > bound):
            break
        entry = index.by_kit[kit]
        state = category(entry.revoked, False, None)  # never heard from
        if kit not in heard and election_ok(entry.election) and state in categories:
            found.append(KitState(kit, entry.election, entry.tps, False, state))
    return found
