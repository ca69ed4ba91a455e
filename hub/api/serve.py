"""Running the API: the app built from hub.toml, under uvicorn, alone or beside the worker.

`tps-hub serve` runs it in the foreground (uvicorn handles SIGTERM and SIGINT);
`tps-hub run --serve` runs it in a thread of the worker's process, for a small hub on one
machine. Either way it reads the database the worker writes, through read-only connections
of its own, and refuses to start on a database not migrated to its schema.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI

from hub.api.app import create_app
from hub.api.published_files import PublishedFiles
from hub.api.stores import make_read_only
from hub.config import HubConfig
from hub.errors import ConfigError, HubError, StoreError
from hub.manifests import load_manifest_files
from hub.reports import ReportStore
from hub.store import LATEST, Database, ResultStore
from hub.store.db import is_postgres_url, sqlite_path
from hub.trust import RegistryKit
from protocol import certs
from protocol.errors import ProtocolError

if TYPE_CHECKING:
    import uvicorn

_START_TIMEOUT_S = 30.0


def app_from_config(
    config: HubConfig,
    registry: Iterable[RegistryKit],
    *,
    schema: str | None = None,
) -> FastAPI:
    """The app over hub.toml's database, whose schema must be this software's: the API only
    reads, so it never migrates (``tps-hub migrate`` and the worker do). The manifests are
    read here (a worker in the same process read them too: a few milliseconds), since the
    API also publishes the files they came from."""
    url = config.database.url
    check_schema(url, schema=schema)
    paths = config.paths
    loaded = load_manifest_files(paths.manifests, paths.ca_certificate, dt.datetime.now(dt.UTC))
    published = PublishedFiles(
        ca_certificate=paths.ca_certificate,
        crl=paths.crl,
        registry=paths.registry,
        manifests={election: path for election, (_, path) in loaded.items()},
    )
    return create_app(
        lambda: ResultStore(Database.open(url, schema=schema)),
        log_id=config.hub.log_id,
        training_log_id=config.training_log_id,
        region=_region_of(paths.ca_certificate),
        registry=registry,
        silent_after=dt.timedelta(minutes=config.api.silent_after),
        images_after=dt.timedelta(minutes=config.api.images_after),
        hub_certificate=_read_if_there(config.paths.certificate),
        store_pool_size=config.api.store_connections,
        manifests={election: verified for election, (verified, _) in loaded.items()},
        published=published,
        witnesses=config.witnesses.policy(),
        citizen_reports=None
        if paths.citizen_reports is None
        else ReportStore(paths.citizen_reports),
    )


def check_schema(url: str, *, schema: str | None = None) -> None:
    """HubError unless the database at ``url`` is at this software's schema version; read
    through a read-only connection of its own, so not even a missing table is created."""
    if not is_postgres_url(url) and not sqlite_path(url).is_file():
        raise HubError(f"no hub database at {url}: run `tps-hub migrate` first")
    db = Database.open(url, schema=schema)
    try:
        make_read_only(db)
        version = _schema_version(db)
    finally:
        db.close()
    if version < LATEST:
        raise HubError(
            f"the database is at schema version {version}, this hub needs {LATEST}: "
            "run `tps-hub migrate` first"
        )
    if version > LATEST:
        raise HubError(
            f"the database is at schema version {version}, newer than this hub's {LATEST}: "
            "upgrade the hub software"
        )


def _schema_version(db: Database) -> int:
    # hub.store.schema_version() would create schema_migrations if missing: a write.
    try:
        row = db.one("SELECT MAX(version) FROM schema_migrations")
    except StoreError:
        return 0  # no such table: never migrated
    return int(row[0]) if row and row[0] is not None else 0


def _region_of(ca_certificate: Path) -> str:
    """The region of the hub's CA; "" (times in WIB) where the file is not on this machine."""
    data = _read_if_there(ca_certificate)
    if data is None:
        return ""
    try:
        return certs.region_of(certs.load_certificate(data))
    except ProtocolError as e:
        raise ConfigError("paths.ca_certificate", str(e)) from e


def _read_if_there(path: Path) -> bytes | None:
    # `tps-hub serve` may run on a machine without the hub's identity: it then serves all
    # but the certificate (its endpoint says so), rather than refusing to start.
    return path.read_bytes() if path.is_file() else None


def serve(app: FastAPI, host: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT."""
    _uvicorn(app, host, port).run()


class BackgroundServer:
    """The API in a thread of this process: started once listening, stopped on request."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self.address = f"http://{host}:{port}/"
        self._server = _uvicorn(app, host, port)
        self._thread = threading.Thread(target=self._server.run, name="tps-hub-api", daemon=True)

    def start(self) -> None:
        self._thread.start()
        pause = threading.Event()  # never set: a sleep that reads as one
        for _ in range(int(_START_TIMEOUT_S / 0.05)):
            if self._server.started:
                return
            if not self._thread.is_alive():
                break  # uvicorn could not bind (it logged why) and gave up
            pause.wait(0.05)
        raise HubError(f"the HTTP API did not start listening at {self.address} (see the log)")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=_START_TIMEOUT_S)


def _uvicorn(app: FastAPI, host: str, port: int) -> uvicorn.Server:
    import uvicorn  # only the serving commands need it loaded

    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info"))
