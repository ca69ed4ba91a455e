"""The transparency log: signed tree heads, inclusion and consistency proofs.

The documents are hub/translog/proofs.py's (format: protocol/proofs.py), served as they are
made; ``tps-verify`` and anyone's own code check them with the region's CA certificate.
Real and training results are in separate logs (``<log_id>`` and ``<log_id>-latihan``).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from hub.api.context import Context, Store
from hub.api.documents import API, check_sha256
from hub.api.errors import ERRORS, NOT_YET, bad_parameter, not_found, not_yet
from hub.translog.cosigning import cosigners
from hub.translog.proofs import (
    ProofRequestError,
    consistency_document,
    inclusion_document,
    latest_tree_head,
)
from protocol import checkpoint, note, tiles

# The largest tree size a database integer holds (SQLite's and PostgreSQL's BIGINT): a larger
# one is a bad request, not an overflow inside the store.
MAX_SIZE = 2**63 - 1

router = APIRouter(tags=["transparency log"], responses=ERRORS)

_HEAD = "the signed tree head: base64 of its DSSE envelope (protocol/treehead.py)"


class TreeHead(BaseModel):
    log_id: str
    tree_size: int = Field(description="how many results the log held when it was signed")
    root_hash: str = Field(description="the Merkle tree's root (64 hex)")
    timestamp: str = Field(description="when the hub signed it (UTC)")
    tree_head: str = Field(description=_HEAD)


class Witnessed(BaseModel):
    tree_size: int = Field(description="the size of the newest checkpoint witnesses cosigned")
    cosigned_by: list[str] = Field(description="the witnesses whose cosignatures it carries")
    checkpoint_url: str = Field(description="that checkpoint, with them (check them with keys)")


class Log(BaseModel):
    log_id: str
    training: bool = Field(description="the training results' log, apart from the real one")
    latest: TreeHead | None = Field(description="its latest signed tree head; null: none yet")
    cosigned_by: list[str] = Field(
        default_factory=list,
        description="the witnesses whose cosignatures the hub collected on its latest "
        "checkpoint (logs/{log}/checkpoint carries them: check them with their keys); "
        "during ingest usually none yet: see witnessed",
    )
    witnessed: Witnessed | None = Field(
        None,
        description="the newest checkpoint witnesses cosigned, and who (the list of the "
        "witnesses asked: trust/witnesses); null: none cosigned yet",
    )


class LogList(BaseModel):
    logs: list[Log]


class InclusionProof(BaseModel):
    format: str = Field(description="tps-inclusion/1")
    log_id: str
    document_sha256: str = Field(description="SHA-256 of the result's signed payload")
    leaf_index: int = Field(description="the result's leaf in the log, from 0")
    tree_size: int = Field(description="the size of the tree head proved against")
    inclusion_proof: list[str] = Field(description="RFC 9162 audit path, leaf to root (hex)")
    tree_head: str = Field(description=_HEAD)


class ConsistencyProof(BaseModel):
    format: str = Field(description="tps-consistency/1")
    log_id: str
    old_size: int
    new_size: int
    old_tree_head: str = Field(description=_HEAD)
    new_tree_head: str = Field(description=_HEAD)
    consistency_proof: list[str] = Field(description="RFC 9162 consistency proof (hex)")


@router.get("/logs", response_model=LogList, summary="The hub's logs and their latest heads")
def logs(ctx: Context, store: Store) -> LogList:
    found = []
    for log_id, training in ctx.logs.items():
        head = latest_tree_head(store, log_id)
        latest = None if head is None else TreeHead(**head)
        storage = store.log_storage(log_id)
        found.append(
            Log(
                log_id=log_id,
                training=training,
                latest=latest,
                cosigned_by=cosigners(storage.checkpoint(), log_id),
                witnessed=_witnessed(log_id, storage.cosigned_checkpoint()),
            )
        )
    return LogList(logs=found)


def _witnessed(log_id: str, signed: bytes | None) -> Witnessed | None:
    if signed is None:
        return None
    # The hub's own stored note: its signatures were checked as they were added.
    size = checkpoint.parse_text(note.parse(signed).text).tree_size
    url = f"{API}/logs/{quote(log_id)}/{tiles.WITNESSED_CHECKPOINT}"
    return Witnessed(tree_size=size, cosigned_by=cosigners(signed, log_id), checkpoint_url=url)


@router.get("/logs/{log}/tree-head", response_model=TreeHead, summary="A log's latest head")
def tree_head(log: str, store: Store) -> TreeHead:
    try:
        head = latest_tree_head(store, log)
    except ProofRequestError as e:
        raise bad_parameter("log", str(e)) from e
    if head is None:
        raise not_found(f"the hub has signed no tree head of log {log!r}")
    return TreeHead(**head)


@router.get(
    "/logs/{log}/consistency",
    response_model=ConsistencyProof,
    summary="Proof that a newer tree head extends an older one",
)
def consistency(
    log: str,
    store: Store,
    old_size: Annotated[
        int, Query(ge=1, le=MAX_SIZE, description="the older signed head's tree size")
    ],
    new_size: Annotated[
        int | None,
        Query(ge=1, le=MAX_SIZE, description="the newer head's size; default: the latest"),
    ] = None,
) -> ConsistencyProof:
    tree_head(log, store)  # an unknown log is a 404, not a bad size
    storage = store.log_storage(log)
    for name, size in (("old_size", old_size), ("new_size", new_size)):
        # Proofs run only between heads the hub signed: say which size has none.
        if size is not None and storage.tree_head(size) is None:
            raise bad_parameter(name, f"the hub signed no tree head of size {size} in {log}")
    try:
        return ConsistencyProof(**consistency_document(store, log, old_size, new_size))
    except ProofRequestError as e:  # what is left: old_size above new_size
        raise bad_parameter("old_size", str(e)) from e


@router.get(
    "/documents/{sha256}/inclusion",
    response_model=InclusionProof,
    summary="Proof that a stored result is in the transparency log",
    responses=NOT_YET,
)
def inclusion(
    sha256: str,
    store: Store,
    tree_size: Annotated[
        int | None,
        Query(ge=1, le=MAX_SIZE, description="prove against this signed head; default: latest"),
    ] = None,
) -> InclusionProof:
    if store.find_document(check_sha256(sha256)) is None:
        raise not_found(f"the hub holds no document {sha256}")
    try:
        proof = inclusion_document(store, sha256, tree_size=tree_size)
    except ProofRequestError as e:
        raise bad_parameter("tree_size", str(e)) from e
    if proof is None:
        raise not_yet(
            f"document {sha256} is logged but not yet under a signed tree head; ask again "
            "after the hub signs its next one"
        )
    return InclusionProof(**proof)


@router.get(
    "/hub-certificate",
    response_class=Response,
    summary="The hub's X.509 certificate (PEM) that signs its tree heads and acks",
    responses={200: {"content": {"application/x-pem-file": {}}}},
)
def hub_certificate(ctx: Context) -> Response:
    # Safe to take from the hub itself: tps-verify checks it against the region's CA, which
    # a reader must get from KPU, never from the server it is checking.
    if ctx.hub_certificate is None:
        raise not_found("the hub's certificate was not found where hub.toml says ([paths])")
    return Response(ctx.hub_certificate, media_type="application/x-pem-file")
