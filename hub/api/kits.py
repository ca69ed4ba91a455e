"""Kits online and offline: when each was last heard from, and its latest status.

A kit is online if the hub heard from it (a result, or a status heartbeat once the worker
records them) within the hub's ``[api] silent_after``; registry kits never heard from are
listed too, and revoked kits are left out of "offline" (they are meant to be silent).
A page at a time (hub/api/paging.py), with the counts over them all (hub/recap/kitstates.py).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from hub.api.context import Context, Store
from hub.api.errors import ERRORS
from hub.api.paging import DEFAULT_LIMIT, Limit
from hub.recap.kitstates import KitState, election_filter, kit_page
from hub.recap.seen import Category, KitRecord, kit_records
from hub.store import ResultStore
from protocol.ids import is_training
from protocol.utctime import format_utc

router = APIRouter(tags=["kits"], responses=ERRORS)


class Kit(BaseModel):
    kit: str
    election: str | None
    training: bool | None
    tps: str | None
    online: bool = Field(
        description="heard from within silent_after_minutes, and its latest status does not "
        "say offline"
    )
    last_seen: str | None = Field(description="last heard from (UTC); null: never")
    state: Literal["online", "offline"] | None = Field(
        description="what the kit's latest status heartbeat says (its last will says "
        "offline); null: no status received"
    )
    status: dict[str, Any] | None = Field(
        description="the latest status heartbeat: queue depth, disk, software and model"
    )
    status_at: str | None = Field(description="when that status arrived (UTC)")
    revoked: bool = Field(description="revoked in the registry: silence is expected")
    category: Category = Field(
        description="online; silent: no word for longer than silent_after_minutes (or "
        "never); said-offline: heard within that time, but its last will says it went "
        "(terputus); revoked"
    )


class KitList(BaseModel):
    kits: list[Kit] = Field(description="a page of the kits, by kit id")
    total: int = Field(description="kits listed over every page (revoked ones included)")
    online: int = Field(description="online kits, over every page")
    offline: int = Field(description="silent + said_offline, over every page")
    silent: int = Field(
        description="kits silent for longer than silent_after_minutes (or never heard from), "
        "revoked ones excepted: the anomaly list's silent kits"
    )
    said_offline: int = Field(
        description="kits heard within silent_after_minutes whose last will says offline"
    )
    revoked: int = Field(description="revoked kits (meant to be silent)")
    silent_after_minutes: int
    now: str = Field(description="the hub's time of this answer (UTC)")
    next_after: str | None = Field(
        description="ask again with after=this for the next page; null: this is the last"
    )


@router.get("/kits", response_model=KitList, summary="Kits online and offline")
def kits(
    ctx: Context,
    store: Store,
    election: Annotated[str | None, Query(description="only kits of this election")] = None,
    training: Annotated[
        bool | None, Query(description="only training (true) or only real (false) kits")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    after: Annotated[str | None, Query(description="the page after this kit id")] = None,
) -> KitList:
    now, keep = ctx.now(), election_filter(election, training)
    index = ctx.registry_index
    page = kit_page(store.db, index, now, ctx.silent_after, keep, after=after, limit=limit)
    counts = page.counts
    return KitList(
        kits=_kits(store, page.kits),
        total=sum(counts.values()),
        online=counts["online"],
        offline=counts["silent"] + counts["said-offline"],
        silent=counts["silent"],
        said_offline=counts["said-offline"],
        revoked=counts["revoked"],
        silent_after_minutes=int(ctx.silent_after.total_seconds() // 60),
        now=format_utc(now),
        next_after=page.next_after,
    )


def _kits(store: ResultStore, states: list[KitState]) -> list[Kit]:
    # One read of the page's kits (at most MAX_LIMIT ids: under both databases' limits).
    records = kit_records(store.db, [s.kit for s in states if s.heard])
    return [_kit(s, records.get(s.kit)) for s in states]


def _kit(state: KitState, record: KitRecord | None) -> Kit:
    status = None if record is None else record.status
    said = None if status is None else status.get("state")
    return Kit(
        kit=state.kit,
        election=state.election,
        training=None if state.election is None else is_training(state.election),
        tps=state.tps,
        online=state.category == "online",
        last_seen=None if record is None else record.last_seen,
        state=said if said in ("online", "offline") else None,
        status=status,
        status_at=None if record is None else record.status_at,
        revoked=state.category == "revoked",
        category=state.category,
    )
