"""The tests' own PostgreSQL server: it starts, and when it cannot, it says why."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import fixtures_postgres as pg


def test_postgres_server_runs_as_an_unprivileged_user_on_loopback(postgres_dsn: str) -> None:
    import psycopg

    if "TPS_TEST_POSTGRES_DSN" in os.environ:
        pytest.skip("TPS_TEST_POSTGRES_DSN names an external server; this checks ours")
    with psycopg.connect(postgres_dsn, connect_timeout=3) as conn:
        address, pid = conn.execute("SELECT inet_server_addr()::text, pg_backend_pid()").fetchone()
        # Read while connected: the backend process ends with its connection.
        owner = Path(f"/proc/{pid}").stat().st_uid
    assert address.startswith("127.0.0.1")
    # PostgreSQL refuses root; as root the tests run it as an ordinary user instead.
    assert owner != 0


def test_missing_postgresql_is_an_error_naming_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TPS_POSTGRES_BIN", str(tmp_path))
    with pytest.raises(pg.PostgresUnavailable, match="scripts/setup installs"):
        pg.postgres_bindir()


@pytest.mark.parametrize(("user", "message"), [("no-such-user-x", "no user"), ("root", "is root")])
def test_as_root_the_server_user_must_exist_and_not_be_root(
    monkeypatch: pytest.MonkeyPatch, user: str, message: str
) -> None:
    monkeypatch.setenv("TPS_TEST_POSTGRES_USER", user)
    with pytest.raises(pg.PostgresUnavailable, match=message):
        pg._server_user()
