"""Shared fixtures for the hub's store, ingest, worker and import tests (no tests here).

``backend`` runs a test on SQLite and on a real PostgreSQL server: the one the test
session starts (tests/fixtures_postgres.py), or the one TPS_TEST_POSTGRES_DSN names; each
PostgreSQL test in a schema of its own that is dropped afterwards. A server that cannot be
started or reached is an error, never a skip. Import the fixtures by name into a test
module to use them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hub.config import SizeLimits
from hub.ingest import AckSigner, Ingestor
from hub.ledger import DocumentFields
from hub.store import ResultStore
from hub.trust import Trust
from protocol import keys
from protocol.result import sign_result
from provisioning import enrol, services
from tests.conftest import Region, kit_key, make_document

HUB_ID = "hub-uji"
LOG_ID = "log-uji"
LIMITS = SizeLimits(max_image_bytes=1 << 20, rejected_raw_bytes=4096)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Backend:
    name: str
    url: str
    schema: str | None = None

    def open_store(self, now: dt.datetime | None = None) -> ResultStore:
        return ResultStore.open(self.url, now=now or utcnow(), schema=self.schema)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", str(tmp_path / "hub.sqlite3"))
        return
    import psycopg  # the hub extra, which the dev extra installs

    dsn = request.getfixturevalue("postgres_dsn")  # started on first use, once per session
    try:
        admin = psycopg.connect(dsn, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as e:
        pytest.fail(f"PostgreSQL is unreachable at {dsn}: {e}", pytrace=False)
    schema = f"tps_hub_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield Backend("postgres", dsn, schema)
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


@pytest.fixture
def store(backend: Backend) -> Iterator[ResultStore]:
    opened = backend.open_store()
    yield opened
    opened.close()


@dataclass
class HubSetup:
    """A region CA with a hub identity, as the hub loads it."""

    region: Region
    signer: AckSigner
    hub_dir: Path

    def trust(self, **changes: Any) -> Trust:
        authority = self.region.authority
        return Trust(authority.cert, authority.crl(), **changes)

    def ingestor(self, store: ResultStore, trust: Trust | None = None, **options: Any) -> Ingestor:
        return Ingestor(
            store,
            trust or self.trust(),
            self.signer,
            log_id=LOG_ID,
            training_log_id=LOG_ID + "-latihan",
            limits=options.pop("limits", LIMITS),
            **options,
        )


@pytest.fixture
def hub_setup(region: Region, tmp_path: Path) -> HubSetup:
    out = tmp_path / "hub-identity"
    cert = services.enrol_service(region.authority, role="hub", name=HUB_ID, out=out, days=30)
    key = keys.load_private_key(out / "hub.key.pem")
    return HubSetup(region, AckSigner(HUB_ID, key, cert), out)


def signed(kit: enrol.EnrolledKit, **changes: Any) -> bytes:
    """The bytes a kit publishes for ``make_document(kit, **changes)``."""
    return sign_result(make_document(kit, **changes), kit_key(kit), kit.certificate)


def document_sha(data: bytes) -> str:
    from protocol import result
    from protocol.canonical import sha256_hex

    envelope, certificate = result.parse_bundle(data)
    return sha256_hex(result.check_signature(envelope, certificate))


def kit_serial(kit: enrol.EnrolledKit) -> int:
    return kit.certificate.serial_number


def version_count(store: ResultStore, election: str, tps: str, form: str) -> int:
    """How many versions of a TPS's form the store has kept (its current_results row)."""
    row = store.db.one(
        "SELECT versions FROM current_results WHERE election = ? AND tps = ? AND form = ?",
        (election, tps, form),
    )
    return 0 if row is None else int(row[0])


def current_documents(store: ResultStore, election: str, form: str) -> list[DocumentFields]:
    """Every TPS's counting version of one election's form, by TPS code."""
    rows = store.db.all(
        "SELECT tps FROM current_results WHERE election = ? AND form = ? ORDER BY tps",
        (election, form),
    )
    found = store.current_fields(election, form, [str(r[0]) for r in rows])
    return [found[tps] for tps in sorted(found)]


__all__ = ["backend", "hub_setup", "store"]
