"""Anomalies: what the hub found wrong or odd, and kits silent for too long.

The ingest's chain breaks (gap, fork, seq reused) and the recapitulation's checks of each
counting version (rules broken, votes above the registered, numbers changed after the first
report); hub/recap/anomalies.py describes each kind.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from hub.api.context import Context, Store
from hub.api.errors import ERRORS
from hub.recap import list_anomalies, silent_kits
from hub.recap.anomalies import AnomalyRow
from hub.store import ResultStore
from protocol.ids import is_training

router = APIRouter(tags=["anomalies"], responses=ERRORS)


class Anomaly(BaseModel):
    id: int
    kind: str = Field(
        description="rule-broken, votes-above-registered, votes-above-cap, "
        "changed-after-first-report, no-template, template-mismatch, chain-gap, chain-fork, "
        "seq-reused"
    )
    election: str | None
    training: bool | None = Field(description="found in a training election; null: unknown")
    tps: str | None
    kit: str | None
    document_id: int | None = Field(description="the stored document it was found in")
    detail: str = Field(description="what is wrong, in words")
    detected_at: str
    resolved_at: str | None = Field(description="set once a newer version no longer shows it")


class SilentKit(BaseModel):
    kit: str
    election: str | None
    tps: str | None
    last_seen: str | None = Field(description="last heard from (UTC); null: never")


class AnomalyList(BaseModel):
    anomalies: list[Anomaly]
    silent_kits: list[SilentKit] = Field(
        description="kits not heard from for longer than the hub's [api] silent_after"
    )
    silent_after_minutes: int


def anomaly(store: ResultStore, row: AnomalyRow) -> Anomaly:
    election = row.election
    if election is None and row.document_id is not None:
        # The ingest's chain anomalies name the document, not the election: its document
        # does, so a training kit's chain break is not shown among the real ones.
        election = store.document(row.document_id).election
    return Anomaly(
        id=row.id,
        kind=row.kind,
        election=election,
        training=None if election is None else is_training(election),
        tps=row.tps,
        kit=row.kit,
        document_id=row.document_id,
        detail=row.detail,
        detected_at=row.detected_at,
        resolved_at=row.resolved_at,
    )


def wanted(training: bool | None, election: str | None) -> bool:
    """Kept by the training filter; what no election can be told of is shown in both."""
    return training is None or election is None or is_training(election) == training


@router.get("/anomalies", response_model=AnomalyList, summary="Anomalies and silent kits")
def anomalies(
    ctx: Context,
    store: Store,
    election: Annotated[str | None, Query(description="only this election")] = None,
    training: Annotated[
        bool | None, Query(description="only training (true) or only real (false) elections")
    ] = None,
    resolved: Annotated[bool, Query(description="include resolved anomalies too")] = False,
) -> AnomalyList:
    rows = list_anomalies(store.db, election=election, open_only=not resolved)
    silent = silent_kits(
        store.db, ctx.now(), ctx.silent_after, registry=ctx.registry, election=election
    )
    return AnomalyList(
        anomalies=[a for a in (anomaly(store, r) for r in rows) if wanted(training, a.election)],
        silent_kits=[
            SilentKit(kit=s.kit, election=s.election, tps=s.tps, last_seen=s.last_seen)
            for s in silent
            if wanted(training, s.election)
        ],
        silent_after_minutes=int(ctx.silent_after.total_seconds() // 60),
    )
