"""Kits online and offline: when each was last heard from, and its latest status.

A kit is online if the hub heard from it (a result, or a status heartbeat once the worker
records them) within the hub's ``[api] silent_after``; registry kits never heard from are
listed too, and revoked kits are left out of "offline" (they are meant to be silent).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from hub.api.anomalies import wanted
from hub.api.context import ApiContext, Context, Store
from hub.api.errors import ERRORS
from hub.recap import silent_kits
from hub.store import ResultStore
from protocol.ids import is_training

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


class KitList(BaseModel):
    kits: list[Kit]
    online: int
    offline: int
    silent_after_minutes: int
    now: str = Field(description="the hub's time of this answer (UTC)")


@router.get("/kits", response_model=KitList, summary="Kits online and offline")
def kits(
    ctx: Context,
    store: Store,
    election: Annotated[str | None, Query(description="only kits of this election")] = None,
    training: Annotated[
        bool | None, Query(description="only training (true) or only real (false) kits")
    ] = None,
) -> KitList:
    silent = {
        s.kit for s in silent_kits(store.db, ctx.now(), ctx.silent_after, registry=ctx.registry)
    }
    found = [k for k in _all_kits(ctx, store, silent) if wanted(training, k.election)]
    if election is not None:
        found = [k for k in found if k.election == election]
    return KitList(
        kits=found,
        online=sum(k.online for k in found),
        offline=sum(not k.online and not k.revoked for k in found),
        silent_after_minutes=int(ctx.silent_after.total_seconds() // 60),
        now=ctx.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def _all_kits(ctx: ApiContext, store: ResultStore, silent: set[str]) -> list[Kit]:
    revoked = {k.kit for k in ctx.registry if k.revoked}
    # One read of the whole table: a region's few thousand kits, never the documents.
    seen = {
        str(r[0]): r
        for r in store.db.all(
            "SELECT kit, election, tps, last_seen, status, status_at FROM kit_last_seen"
        )
    }
    kits = {
        kit: _kit(kit, election, tps, last, status, at, kit not in silent, kit in revoked)
        for kit, (_, election, tps, last, status, at) in seen.items()
    }
    for entry in ctx.registry:
        if entry.kit not in kits:
            kits[entry.kit] = _kit(
                entry.kit, entry.election, entry.tps, None, None, None, False, entry.revoked
            )
    return [kits[k] for k in sorted(kits)]


def _kit(
    kit: str,
    election: str | None,
    tps: str | None,
    last_seen: str | None,
    status_text: str | None,
    status_at: str | None,
    online: bool,
    revoked: bool,
) -> Kit:
    status = json.loads(status_text) if status_text else None
    state = status.get("state") if isinstance(status, dict) else None
    return Kit(
        kit=kit,
        election=election,
        training=None if election is None else is_training(election),
        tps=tps,
        online=online and not revoked and state != "offline",
        last_seen=last_seen,
        state=state if state in ("online", "offline") else None,
        status=status if isinstance(status, dict) else None,
        status_at=status_at,
        revoked=revoked,
    )
