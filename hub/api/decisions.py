"""An operator's decisions, published: kits declared compromised (none of their results
count) and held results released into the totals or kept out of them (``tps-hub
declare-compromised``, ``tps-hub hold``), each with who, when and why.

They change what the hub counts, so a monitor recounting the log (``tps-verify recount``)
must know them to reach the hub's totals: it applies each one and names it, and judges for
itself which results are held (protocol/limits.py). Each document is named by its hash and
its place in the log, so the recount applies the decision to the very entry it read.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hub.api.context import Store
from hub.api.errors import ERRORS
from hub.store.decisions import PublishedDecision

router = APIRouter(tags=["operator decisions"], responses=ERRORS)


class DecidedDocument(BaseModel):
    sha256: str = Field(description="the document's hash (its DSSE payload's SHA-256)")
    log: str = Field(description="the log that holds it")
    leaf_index: int = Field(description="its entry's index in that log")
    election: str
    tps: str
    form: str
    kit: str
    seq: int


class Decision(BaseModel):
    id: int = Field(description="the decision's number; a later one about the same thing wins")
    kind: Literal["kit-compromised", "result-released", "result-kept-out"] = Field(
        description="kit-compromised: none of the kit's results count, before or after, each "
        "TPS it reported falls back to another kit's version or to none; result-released: a "
        "result held out of the totals (perlu verifikasi) counts; result-kept-out: it stays "
        "out"
    )
    kit: str | None = Field(description="the kit declared compromised (kit-compromised)")
    document: DecidedDocument | None = Field(
        description="the result released or kept out (result-released, result-kept-out)"
    )
    decided_by: str = Field(description="the operator who decided")
    decided_at: str = Field(description="when (UTC)")
    reason: str = Field(description="why, in the operator's words")


class Decisions(BaseModel):
    decisions: list[Decision] = Field(description="every decision, oldest first")


def _decision(found: PublishedDecision) -> Decision:
    d, doc = found.decision, found.document
    return Decision(
        id=d.id,
        kind=d.kind,
        kit=d.kit,
        document=None
        if doc is None
        else DecidedDocument(
            sha256=doc.document_sha256,
            log=doc.log_name,
            leaf_index=doc.log_index,
            election=doc.election,
            tps=doc.tps,
            form=doc.form,
            kit=doc.kit,
            seq=doc.seq,
        ),
        decided_by=d.decided_by,
        decided_at=d.decided_at,
        reason=d.reason,
    )


@router.get(
    "/decisions",
    response_model=Decisions,
    summary="Every operator decision: kits declared compromised, held results released or "
    "kept out, with who, when and why",
)
def decisions(store: Store) -> Decisions:
    return Decisions(decisions=[_decision(d) for d in store.published_decisions()])
