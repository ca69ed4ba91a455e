"""Anomalies: what the hub found wrong or odd, and kits silent for too long.

The ingest's chain breaks (gap, fork, seq reused) and the recapitulation's checks of each
counting version (rules broken, votes above the registered, numbers changed after the first
report); hub/recap/anomalies.py describes each kind. Both lists are paged
(hub/api/paging.py): a page costs its own rows, with the totals counted in the database.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from hub.api.context import Context, Store
from hub.api.errors import ERRORS
from hub.api.paging import DEFAULT_LIMIT, Limit
from hub.recap.kitstates import election_filter, silent_kits, wanted
from hub.recap.oddities import count_missing_images, missing_images, unregistered
from hub.store import ResultStore
from hub.store.db import Row
from hub.web.anomaly_words import sentence
from protocol.ids import TRAINING_PREFIX, is_training

router = APIRouter(tags=["anomalies"], responses=ERRORS)


class Anomaly(BaseModel):
    id: int
    kind: str = Field(
        description="rule-broken, votes-above-registered, votes-above-cap, "
        "changed-after-first-report, dpt-differs-from-manifest (rows I.A against the TPS's "
        "official DPT in the election's manifest), no-template, template-mismatch, chain-gap, "
        "chain-fork, "
        "seq-reused, clock-ahead, held-for-verification (perlu verifikasi: out of the "
        "totals), and the operator's decisions: kit-compromised, result-released, "
        "result-kept-out"
    )
    election: str | None
    training: bool | None = Field(description="found in a training election; null: unknown")
    tps: str | None
    kit: str | None
    document_id: int | None = Field(description="the stored document it was found in")
    detail: str = Field(description="what is wrong, in words")
    sentence: str = Field(description="the same in plain Indonesian, for the public")
    detected_at: str
    resolved_at: str | None = Field(description="set once a newer version no longer shows it")


class SilentKit(BaseModel):
    kit: str
    election: str | None
    tps: str | None
    last_seen: str | None = Field(description="last heard from (UTC); null: never")


class MissingImage(BaseModel):
    election: str
    tps: str
    form: str
    kit: str
    seq: int
    page: int = Field(description="the page whose photo never arrived")
    sha256: str = Field(description="the photo's hash, as the signed result names it")
    received_at: str = Field(description="when the result naming it arrived (UTC)")


class NotInRegistry(BaseModel):
    kit: str
    election: str
    tps: str
    reason: str = Field(
        description="kit: the registry does not list the kit (enrolled after its export); "
        "tps: neither the registry nor the election's manifest expects the TPS"
    )
    tps_expected: bool = Field(description="whether its TPS is expected all the same")


class AnomalyList(BaseModel):
    anomalies: list[Anomaly] = Field(description="a page of the anomalies, oldest first")
    anomalies_total: int = Field(description="anomalies over every page")
    next_after: int | None = Field(
        description="ask again with after=this for the next page of anomalies; null: last page"
    )
    silent_kits: list[SilentKit] = Field(
        description="a page of the kits not heard from for longer than the hub's [api] "
        "silent_after, by kit id"
    )
    silent_kits_total: int = Field(description="silent kits over every page")
    next_silent_kit_after: str | None = Field(
        description="ask again with silent_kit_after=this for the next page of silent kits"
    )
    silent_after_minutes: int
    images_missing: list[MissingImage] = Field(
        description="the first page images a counting result names that have not arrived "
        "images_after_minutes after it (the kit sends numbers first, photos after): the "
        "public cannot yet compare the numbers with the form"
    )
    images_missing_total: int = Field(description="such pages in all")
    images_after_minutes: int
    not_in_registry: list[NotInRegistry] = Field(
        description="the first kits heard from that the registry does not list, or whose TPS "
        "nothing expects: their results count, but not in completeness; export the registry "
        "again (tps-provision registry export) and restart the hub"
    )
    not_in_registry_total: int


@dataclass(frozen=True)
class AnomalyFilter:
    election: str | None = None
    training: bool | None = None
    tps: str | None = None
    open_only: bool = True

    def where(self) -> tuple[str, list[object]]:
        """SQL conditions on the anomaly (a) and the document it names (d)."""
        # The ingest's chain anomalies name no election: their document does.
        election = "COALESCE(a.election, d.election)"
        found: list[str] = []
        params: list[object] = []
        if self.open_only:
            found.append("a.resolved_at IS NULL")
        if self.election is not None:
            found.append(f"{election} = ?")
            params.append(self.election)
        if self.training is not None:
            # What no election can be told of is shown in both (as wanted() decides).
            same = "=" if self.training else "<>"
            found.append(f"({election} IS NULL OR substr({election}, 1, ?) {same} ?)")
            params += [len(TRAINING_PREFIX), TRAINING_PREFIX]
        if self.tps is not None:
            found.append("a.tps = ?")
            params.append(self.tps)
        return " AND ".join(found) or "1 = 1", params


_FROM = "FROM anomalies a LEFT JOIN documents d ON d.id = a.document_id"


def anomaly_page(
    store: ResultStore, which: AnomalyFilter, after: int | None = None, limit: int | None = None
) -> tuple[list[Anomaly], int]:
    """The anomalies ``which`` keeps, oldest first (``limit`` of them after the id
    ``after``), and how many it keeps in all: one count and one page read, no document."""
    where, params = which.where()
    row = store.db.one(f"SELECT COUNT(*) {_FROM} WHERE {where}", params)
    total = int(row[0]) if row else 0
    if after is not None:
        where, params = f"{where} AND a.id > ?", [*params, after]
    page = " LIMIT ?" if limit is not None else ""
    rows = store.db.all(
        "SELECT a.id, a.kind, COALESCE(a.election, d.election), a.tps, a.kit, a.document_id, "
        f"a.detail, a.detected_at, a.resolved_at {_FROM} WHERE {where} ORDER BY a.id{page}",
        [*params, *([limit] if limit is not None else [])],
    )
    return [_anomaly(r) for r in rows], total


def _anomaly(row: Row) -> Anomaly:
    election = row[2]
    return Anomaly(
        id=int(row[0]),
        kind=row[1],
        election=election,
        training=None if election is None else is_training(election),
        tps=row[3],
        kit=row[4],
        document_id=None if row[5] is None else int(row[5]),
        detail=row[6],
        sentence=sentence(row[1], row[6]),
        detected_at=row[7],
        resolved_at=row[8],
    )


@router.get(
    "/anomalies",
    response_model=AnomalyList,
    summary="Anomalies, silent kits, page images missing, kits and TPS nothing expects",
)
def anomalies(
    ctx: Context,
    store: Store,
    election: Annotated[str | None, Query(description="only this election")] = None,
    training: Annotated[
        bool | None, Query(description="only training (true) or only real (false) elections")
    ] = None,
    resolved: Annotated[bool, Query(description="include resolved anomalies too")] = False,
    limit: Limit = DEFAULT_LIMIT,
    after: Annotated[
        int | None, Query(ge=0, description="the page of anomalies after this id")
    ] = None,
    silent_kit_after: Annotated[
        str | None, Query(description="the page of silent kits after this kit id")
    ] = None,
) -> AnomalyList:
    which = AnomalyFilter(election, training, open_only=not resolved)
    found, total = anomaly_page(store, which, after, limit + 1)
    now, late = ctx.now(), ctx.images_after
    keep = election_filter(election, training)
    silent = silent_kits(
        store.db, ctx.registry_index, now, ctx.silent_after, keep, silent_kit_after, limit
    )
    images = missing_images(store.db, now, late, election=election, training=training, limit=limit)
    strangers = [
        u
        for u in unregistered(store.db, ctx.registry, expected=ctx.expected, election=election)
        if wanted(training, u.election)
    ]
    return AnomalyList(
        anomalies=found[:limit],
        anomalies_total=total,
        next_after=found[limit - 1].id if len(found) > limit else None,
        silent_kits=[SilentKit(**dataclasses.asdict(k)) for k in silent.kits],
        silent_kits_total=silent.total,
        next_silent_kit_after=silent.next_after,
        silent_after_minutes=int(ctx.silent_after.total_seconds() // 60),
        images_missing=[MissingImage(**dataclasses.asdict(p)) for p in images],
        images_missing_total=count_missing_images(
            store.db, now, late, election=election, training=training
        ),
        images_after_minutes=int(late.total_seconds() // 60),
        not_in_registry=[NotInRegistry(**dataclasses.asdict(u)) for u in strangers[:limit]],
        not_in_registry_total=len(strangers),
    )
