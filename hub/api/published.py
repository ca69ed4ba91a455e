"""What anyone needs to check the hub, at stable URLs: the region's CA certificate, its
revocation list (CRL), the kit registry, the signed election manifests, where the hub's
signed tree heads are, and the witnesses it asks to cosign them with its stated policy
(``GET /api/v1/trust`` lists them all).

``tps-verify --hub URL`` fetches them from here. The CA certificate is served for
convenience only: a checker must compare its fingerprint with the one the region's KPU
publishes (``fingerprint_sha256`` below), since a hub could serve any CA. The CRL and the
registry are read on each request, so a revocation shows as soon as the operator copies
the new files in.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from hub.api.context import Context
from hub.api.documents import API
from hub.api.errors import ERRORS, not_found
from protocol import certs
from protocol.errors import ProtocolError
from protocol.tiles import WITNESSED_CHECKPOINT

router = APIRouter(tags=["trust"], responses=ERRORS)
TRUST = "/trust"
PEM = "application/x-pem-file"


class LogHead(BaseModel):
    log_id: str
    training: bool
    tree_head_url: str = Field(description="its latest signed tree head")


class WitnessKey(BaseModel):
    name: str = Field(description="the witness's key name, as its cosignature lines carry it")
    vkey: str = Field(description="its verifier key (tps-verify recount --witness VKEY)")
    url: str = Field(description="where the hub asks it (its add-checkpoint prefix)")


class WitnessedLog(BaseModel):
    log_id: str
    checkpoint_url: str = Field(description="the latest checkpoint (cosigned or not yet)")
    witnessed_checkpoint_url: str = Field(description="the newest one witnesses cosigned")


class Witnesses(BaseModel):
    policy: str = Field(description="what the hub does, in its own words")
    every_s: float = Field(description="seconds between the rounds in which it asks")
    witnesses: list[WitnessKey] = Field(
        description="every witness it asks, and no other: one missing from a checkpoint's "
        "cosignatures was asked and refused or did not answer; one not here was never asked"
    )
    logs: list[WitnessedLog]


class TrustIndex(BaseModel):
    ca_certificate_url: str | None = Field(description="the region CA certificate (PEM)")
    ca_fingerprint_sha256: str | None = Field(
        description="SHA-256 of the CA certificate (DER): compare it with the one the "
        "region's KPU publishes before trusting anything checked against it"
    )
    crl_url: str | None = Field(description="the region's revocation list (PEM); null: none")
    registry_url: str | None = Field(description="which kit serves which TPS (JSON)")
    hub_certificate_url: str = Field(description="the hub's certificate (PEM)")
    manifest_urls: dict[str, str] = Field(description="election id -> its signed manifest")
    witnesses_url: str = Field(description="the witnesses the hub asks, and its policy")
    logs: list[LogHead]
    how_to_check: str = Field(description="the command that checks a result against all this")


@router.get(TRUST, response_model=TrustIndex, summary="What anyone needs to check this hub")
def trust_index(ctx: Context) -> TrustIndex:
    files = ctx.published
    base = f"{API}{TRUST}"
    ca = _read(files.ca_certificate)
    return TrustIndex(
        ca_certificate_url=None if ca is None else f"{base}/ca.cert.pem",
        ca_fingerprint_sha256=None if ca is None else fingerprint(ca),
        crl_url=f"{base}/crl.pem" if _read(files.crl) is not None else None,
        registry_url=f"{base}/registry.json" if _read(files.registry) is not None else None,
        hub_certificate_url=f"{API}/hub-certificate",
        manifest_urls={e: f"{base}/manifests/{quote(e)}.json" for e in sorted(files.manifests)},
        witnesses_url=f"{base}/witnesses",
        logs=[
            LogHead(
                log_id=log, training=training, tree_head_url=f"{API}/logs/{quote(log)}/tree-head"
            )
            for log, training in ctx.logs.items()
        ],
        how_to_check="tps-verify --hub URL DOCUMENT_SHA256 (or a signed result file)",
    )


@router.get(
    f"{TRUST}/witnesses",
    response_model=Witnesses,
    summary="The witnesses the hub asks to cosign its checkpoints, and its stated policy",
)
def witnesses(ctx: Context) -> Witnesses:
    policy = ctx.witnesses
    return Witnesses(
        policy=policy.statement(),
        every_s=policy.every_s,
        witnesses=[
            WitnessKey(name=w.verifier.name, vkey=w.verifier.vkey(), url=w.url)
            for w in policy.witnesses
        ],
        logs=[
            WitnessedLog(
                log_id=log,
                checkpoint_url=f"{API}/logs/{quote(log)}/checkpoint",
                witnessed_checkpoint_url=f"{API}/logs/{quote(log)}/{WITNESSED_CHECKPOINT}",
            )
            for log in ctx.logs
        ],
    )


def fingerprint(pem: bytes) -> str | None:
    """SHA-256 of the certificate's DER, as `openssl x509 -fingerprint -sha256` shows it."""
    try:
        return certs.fingerprint_sha256(certs.load_certificate(pem))
    except ProtocolError:
        return None


@router.get(
    f"{TRUST}/ca.cert.pem",
    response_class=Response,
    summary="The region CA certificate (PEM)",
    responses={200: {"content": {PEM: {}}}},
)
def ca_certificate(ctx: Context) -> Response:
    return _file(ctx.published.ca_certificate, "the region CA certificate", PEM)


@router.get(
    f"{TRUST}/crl.pem",
    response_class=Response,
    summary="The region's certificate revocation list (PEM)",
    responses={200: {"content": {PEM: {}}}},
)
def crl(ctx: Context) -> Response:
    return _file(ctx.published.crl, "the revocation list (CRL)", PEM)


@router.get(
    f"{TRUST}/registry.json",
    response_class=Response,
    summary="The kit registry: which kit serves which TPS",
    responses={200: {"content": {"application/json": {}}}},
)
def registry(ctx: Context) -> Response:
    return _file(ctx.published.registry, "the kit registry", "application/json")


@router.get(
    f"{TRUST}/manifests/{{election}}.json",
    response_class=Response,
    summary="An election's signed manifest, as its CA signed it",
    responses={200: {"content": {"application/json": {}}}},
)
def manifest(election: str, ctx: Context) -> Response:
    path = ctx.published.manifests.get(election)
    if path is None:
        raise not_found(f"the hub holds no manifest of election {election!r}")
    return _file(path, f"the manifest of {election}", "application/json")


def _read(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def _file(path: Path | None, what: str, media_type: str) -> Response:
    data = _read(path)
    if data is None:
        raise not_found(f"this hub does not publish {what} (hub.toml [paths] names none here)")
    # Revocations and new kits must show at once: no cache keeps an old copy.
    return Response(data, media_type=media_type, headers={"Cache-Control": "no-cache"})
