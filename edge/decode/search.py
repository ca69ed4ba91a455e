"""The most probable reading of a form that satisfies every rule: exact, bounded search.

Best-first branch and bound over the fields in a fixed order. A node is a partial reading;
its priority is the cost so far (each field's candidate cost, in nats) plus an admissible
bound on the rest: an unassigned field costs at least its best candidate (0), or exactly the
cost of the value an equation already forces on it. A relation is checked as soon as all its
fields are assigned; before that, an equation with one field left forces that field's value
(it must be one of its candidates) and every partly assigned relation must still be
reachable from the candidates' smallest and largest values. Because the bound never
overestimates, the first complete reading popped is the most probable consistent one; the
search goes on popping until the cost exceeds the best by ``margin`` and so lists every
consistent reading within the margin (the runners-up that make fields doubtful).

Limits (``Limits``): at most ``max_nodes`` expanded nodes, ``max_seconds`` of wall time and
``max_solutions`` readings within the margin. When a limit stops the search the result says
so (``complete`` is False): the caller must then treat what it could not rule out as
doubtful, never take the best found as settled.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from protocol.forms.rules import Relation

MARGIN_NATS = 4.605  # ln 100: the chosen reading must be 100 times as probable as any other


@dataclass(frozen=True)
class Limits:
    max_nodes: int = 50_000
    max_seconds: float = 0.5
    max_solutions: int = 64
    margin: float = MARGIN_NATS


DEFAULT_LIMITS = Limits()


@dataclass
class SearchResult:
    solutions: list[tuple[float, dict[str, int]]] = field(default_factory=list)  # best first
    complete: bool = True  # False: a limit stopped the search before it proved its answer
    stopped_by: str | None = None  # "nodes", "time" or "solutions"
    nodes: int = 0
    seconds: float = 0.0

    @property
    def best(self) -> tuple[float, dict[str, int]] | None:
        return self.solutions[0] if self.solutions else None


@dataclass(frozen=True)
class _Rel:
    """A relation as coefficients: sum(coef * value) + const  (= 0 | <= 0)."""

    equal: bool
    terms: tuple[tuple[int, int], ...]  # (position in the order, coefficient)
    const: int
    closes_at: int  # position after which all its fields are assigned


def _compile(relations: Sequence[Relation], pos: Mapping[str, int]) -> list[_Rel]:
    out = []
    for r in relations:
        coef: dict[int, int] = {}
        for f in r.lhs:
            coef[pos[f]] = coef.get(pos[f], 0) + 1
        for f in r.rhs:
            coef[pos[f]] = coef.get(pos[f], 0) - 1
        terms = tuple((p, c) for p, c in sorted(coef.items()) if c)
        const = -(r.limit or 0)
        closes = max((p for p, _ in terms), default=-1)
        out.append(_Rel(r.op == "=", terms, const, closes))
    return out


def field_order(
    fields: Sequence[str],
    candidates: Mapping[str, Sequence[tuple[int, float]]],
    relations: Sequence[Relation],
) -> list[str]:
    """Fields so that relations close early and fields with few candidates come first."""
    left, order, done = list(fields), [], set()
    touching = {f: [set(r.fields) for r in relations if f in r.fields] for f in fields}
    while left:

        def score(f: str) -> tuple[int, int, int]:
            closes = sum(r <= done | {f} for r in touching[f])
            linked = sum(bool(r & done) for r in touching[f])
            return (closes, -len(candidates[f]), linked)

        best = max(left, key=score)
        order.append(best)
        done.add(best)
        left.remove(best)
    return order


def search(
    candidates: Mapping[str, Sequence[tuple[int, float]]],
    relations: Sequence[Relation],
    limits: Limits = DEFAULT_LIMITS,
) -> SearchResult:
    """Every consistent reading within ``limits.margin`` of the most probable one."""
    start = time.perf_counter()
    order = field_order(list(candidates), candidates, relations)
    pos = {f: i for i, f in enumerate(order)}
    rels = _compile(relations, pos)
    cands = [list(candidates[f]) for f in order]
    result = SearchResult()
    if any(not c for c in cands):
        return _done(result, start)  # a field with no plausible value: nothing is consistent
    lookup = [{v: c for v, c in cs} for cs in cands]
    lo = [min(v for v, _ in cs) for cs in cands]
    hi = [max(v for v, _ in cs) for cs in cands]
    by_pos: list[list[_Rel]] = [[] for _ in order]
    for r in rels:
        for p, _ in r.terms:
            by_pos[p].append(r)
    n = len(order)
    heap: list[tuple[float, int, float, tuple[int, ...]]] = [(0.0, 0, 0.0, ())]
    tick = 0
    while heap:
        f_cost, _, g_cost, values = heapq.heappop(heap)
        best = result.best
        if best is not None and f_cost > best[0] + limits.margin:
            break
        if len(values) == n:
            result.solutions.append((g_cost, dict(zip(order, values, strict=True))))
            if len(result.solutions) >= limits.max_solutions:
                return _stop(result, start, "solutions")
            continue
        result.nodes += 1
        if result.nodes > limits.max_nodes:
            return _stop(result, start, "nodes")
        if result.nodes % 256 == 0 and time.perf_counter() - start > limits.max_seconds:
            return _stop(result, start, "time")
        depth = len(values)
        for value, cost in cands[depth]:
            child = (*values, value)
            bound = _bound(child, by_pos[depth], lookup, lo, hi)
            if bound is None:
                continue
            tick += 1
            g = g_cost + cost
            heapq.heappush(heap, (g + bound, tick, g, child))
    return _done(result, start)


def _bound(
    values: tuple[int, ...],
    touched: list[_Rel],
    lookup: list[dict[int, float]],
    lo: list[int],
    hi: list[int],
) -> float | None:
    """None if ``values`` already break a relation; else a lower bound on the rest's cost."""
    depth = len(values)
    forced: dict[int, int] = {}
    for r in touched:
        total, open_terms = r.const, []
        for p, c in r.terms:
            if p < depth:
                total += c * values[p]
            else:
                open_terms.append((p, c))
        if not open_terms:
            if (total != 0) if r.equal else (total > 0):
                return None
            continue
        low = total + sum(c * (lo[p] if c > 0 else hi[p]) for p, c in open_terms)
        high = total + sum(c * (hi[p] if c > 0 else lo[p]) for p, c in open_terms)
        if low > 0 or (r.equal and high < 0):
            return None
        if r.equal and len(open_terms) == 1:
            p, c = open_terms[0]
            if total % c:
                return None
            need = -total // c
            if need not in lookup[p] or forced.get(p, need) != need:
                return None
            forced[p] = need
    return sum(lookup[p][v] for p, v in forced.items())


def _done(result: SearchResult, start: float) -> SearchResult:
    result.seconds = time.perf_counter() - start
    return result


def _stop(result: SearchResult, start: float, why: str) -> SearchResult:
    result.complete, result.stopped_by = False, why
    return _done(result, start)
