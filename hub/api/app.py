"""The hub's HTTP API and dashboard as one FastAPI app, built by :func:`create_app`.

Read-only JSON under ``/api/v1/`` (described at ``/api/v1/openapi.json``) and the dashboard
page at ``/`` (static files in ``static/``: no build step, nothing fetched from elsewhere,
since hub sites may be offline). The app reads what the ingest worker writes; it never
writes, so it can run beside the worker or on another machine reading the same database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from importlib import metadata
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from hub.api import (
    anomalies,
    charts,
    citizen,
    decisions,
    elections,
    errors,
    kits,
    recap,
    receipts,
    tiles,
    tps,
    translog,
    zones,
)
from hub.api import (
    published as published_api,
)
from hub.api.context import ApiContext, utcnow
from hub.api.documents import API
from hub.api.published_files import PublishedFiles
from hub.api.stores import DEFAULT_POOL_SIZE, StoreFactory, StorePool
from hub.recap.completeness import expected_from
from hub.reports import ReportStore
from hub.translog.cosigning import WitnessPolicy
from hub.trust import RegistryKit
from hub.web import pages
from protocol.manifest_sign import VerifiedManifest

STATIC = Path(__file__).parent / "static"
# The page loads only its own files; images and JSON come from this same origin.
_CSP = (
    "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def create_app(
    open_store: StoreFactory,
    *,
    log_id: str,
    training_log_id: str,
    region: str = "",
    registry: Iterable[RegistryKit] = (),
    silent_after: dt.timedelta = dt.timedelta(minutes=60),
    images_after: dt.timedelta = dt.timedelta(minutes=60),
    hub_certificate: bytes | None = None,
    now: Callable[[], dt.datetime] = utcnow,
    store_pool_size: int = DEFAULT_POOL_SIZE,
    manifests: Mapping[str, VerifiedManifest] | None = None,
    published: PublishedFiles | None = None,
    citizen_reports: ReportStore | None = None,
    witnesses: WitnessPolicy | None = None,
) -> FastAPI:
    """The app over stores ``open_store`` opens (at most ``store_pool_size``, each made
    read-only, all closed at shutdown). ``registry`` gives the TPS expected (completeness)
    and the kits that should be heard from; without it completeness is unknown (null),
    never a guess. ``manifests`` (by election id): names of regions and candidates, and
    the TPS each election expects. ``published``: the files anyone may fetch to check the
    hub (its CA certificate, CRL, registry, signed manifests). ``region``: its CA's, whose
    time zone the hub's own times are written in (WIB when empty). ``witnesses``: the ones
    the hub asks to cosign its checkpoints, and how (published with their keys)."""
    kits_known = tuple(registry)
    by_election = dict(manifests or {})
    context = ApiContext(
        stores=StorePool(open_store, store_pool_size),
        log_id=log_id,
        training_log_id=training_log_id,
        region=region,
        registry=kits_known,
        expected=expected_from(kits_known, by_election),
        silent_after=silent_after,
        images_after=images_after,
        hub_certificate=hub_certificate,
        now=now,
        manifests=by_election,
        published=published or PublishedFiles(),
        witnesses=witnesses or WitnessPolicy(),
        citizen_reports=citizen_reports,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        context.stores.close()
        if citizen_reports is not None:
            citizen_reports.close()

    app = FastAPI(
        title="TPS hub",
        summary="A regional hub's verified TPS results, recapitulation and transparency log",
        version=_version(),
        openapi_url=f"{API}/openapi.json",
        docs_url=None,  # Swagger UI and ReDoc load scripts from a CDN: hub sites are offline
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.context = context
    errors.install(app)
    for module in (
        citizen,
        recap,
        charts,
        tps,
        kits,
        anomalies,
        decisions,
        receipts,
        translog,
        tiles,
        elections,
        zones,
        published_api,
    ):
        app.include_router(module.router, prefix=API)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_api_route("/", _index, include_in_schema=False)
    app.middleware("http")(_headers)
    return app


def _index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


async def _headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def _version() -> str:
    try:
        return metadata.version("tps-kit")
    except metadata.PackageNotFoundError:
        return "0"
