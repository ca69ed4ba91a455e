"""A throwaway PostgreSQL server for the tests (hub/postgres_process.py starts it).

Load from tests/conftest.py with ``pytest_plugins``; the ``postgres_dsn`` fixture starts one
server per test session, the first time a test asks for it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from hub.postgres_process import (  # noqa: F401 (tests/test_postgres_server.py checks them)
    PostgresServer,
    PostgresUnavailable,
    postgres_bindir,
    remove,
    start_postgres,
)
from hub.postgres_process import server_user as _server_user  # noqa: F401


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A DSN of a PostgreSQL server for this test session, ours unless told otherwise.

    TPS_TEST_POSTGRES_DSN names an external server (used as is). Otherwise one is started
    for the session; if that cannot be done the test errors saying why, never skips.
    """
    external = os.environ.get("TPS_TEST_POSTGRES_DSN")
    if external:
        yield external
        return
    try:
        server = start_postgres()
    except PostgresUnavailable as e:
        pytest.fail(f"cannot start a PostgreSQL server for the tests: {e}", pytrace=False)
    try:
        yield server.dsn
    finally:
        remove(server)
