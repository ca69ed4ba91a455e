"""A throwaway PostgreSQL server: initdb in a temp dir, postgres on a free loopback port.

The tests (tests/fixtures_postgres.py) and the fault run (benchmarks/faults.py) start their
own server this way, as they start Mosquitto with hub/broker_process.py; in production the
hub uses the operator's server.

Debian's postgresql package puts its programs in /usr/lib/postgresql/<major>/bin, off PATH
(TPS_POSTGRES_BIN names another directory). PostgreSQL refuses to run as root, and CI
often is root: then the cluster is made and run as an unprivileged user
(TPS_TEST_POSTGRES_USER, default ``postgres``, which the package creates), in a directory
outside a root-only temp dir so that user can reach it.

Durability is switched off (fsync, synchronous_commit, full_page_writes): a throwaway
server's data dies with it, and the suite runs on two shared cores.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.broker_process import free_port

START_TIMEOUT_S = 60.0
DEFAULT_USER = "postgres"  # the server's OS user when the tests run as root
DATABASE = "test"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be started; the message says why and what to do."""


def postgres_bindir() -> Path:
    """The directory holding initdb and postgres (the newest Debian major version)."""
    named = os.environ.get("TPS_POSTGRES_BIN")
    candidates = [named] if named else glob.glob("/usr/lib/postgresql/*/bin")
    found = [Path(c) for c in candidates if (Path(c) / "initdb").is_file()]
    if not found:
        raise PostgresUnavailable(
            "PostgreSQL is not installed: no initdb in "
            f"{named or '/usr/lib/postgresql/*/bin'} (bash scripts/setup installs Debian's "
            "postgresql package; TPS_POSTGRES_BIN names another bin directory; "
            "TPS_TEST_POSTGRES_DSN an external server)"
        )
    return max(found, key=lambda p: _major(p.parent.name))


def _major(name: str) -> int:
    return int(name) if name.isdigit() else -1


@dataclass
class PostgresServer:
    """One postgres process on 127.0.0.1 with trust authentication for ``postgres``."""

    bindir: Path
    root: Path  # holds the cluster (data/), the socket and the log
    port: int
    run_as: pwd.struct_passwd | None  # None: the current user
    process: subprocess.Popen[bytes] | None = None

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    def start(self) -> None:
        data = self.root / "data"
        options = ("-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
        self._run([self.bindir / "initdb", "-D", data, *options, "--no-instructions"], "initdb")
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *(str(a) for a in (self.bindir / "postgres", "-D", data, "-p", self.port)),
                    *("-h", "127.0.0.1", "-k", str(self.root)),
                    *("-c", "fsync=off", "-c", "synchronous_commit=off"),
                    *("-c", "full_page_writes=off", "-c", "max_connections=200"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C of its caller must not kill it mid-run
                cwd=self.root,
                **self._as_user(),
            )
        self._wait_ready()
        self._run([self.bindir / "createdb", *self._client_args(), DATABASE], "createdb")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown: ends every session
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def _client_args(self) -> list[str]:
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise PostgresUnavailable(f"postgres exited at start:\n{self.log_text()}")
            ready = subprocess.run(
                [str(self.bindir / "pg_isready"), *self._client_args(), "-q"], check=False
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        self.stop()
        raise PostgresUnavailable(f"postgres was not ready in {START_TIMEOUT_S} s")

    def _run(self, argv: list[Any], what: str) -> None:
        done = subprocess.run(
            [str(a) for a in argv],
            capture_output=True,
            check=False,
            cwd=self.root,
            **self._as_user(),
        )
        if done.returncode != 0:
            output = (done.stdout + done.stderr).decode(errors="replace")
            raise PostgresUnavailable(f"{what} failed ({done.returncode}):\n{output}")

    def _as_user(self) -> dict[str, Any]:
        if self.run_as is None:
            return {}
        return {"user": self.run_as.pw_uid, "group": self.run_as.pw_gid, "extra_groups": []}


def start_postgres() -> PostgresServer:
    """Start a fresh server on a free loopback port; PostgresUnavailable says why it cannot."""
    bindir = postgres_bindir()
    run_as = server_user() if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="tps-test-postgres-"))
    if run_as is not None:
        os.chown(root, run_as.pw_uid, run_as.pw_gid)
    server = PostgresServer(bindir, root, free_port(), run_as)
    try:
        server.start()
    except BaseException:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        raise
    return server


def remove(server: PostgresServer) -> None:
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


def server_user() -> pwd.struct_passwd:
    """The OS user a root caller runs the server as."""
    name = os.environ.get("TPS_TEST_POSTGRES_USER", DEFAULT_USER)
    try:
        user = pwd.getpwnam(name)
    except KeyError:
        raise PostgresUnavailable(
            f"the tests run as root and PostgreSQL refuses to: no user {name!r} to run it as "
            "(Debian's postgresql package creates 'postgres'; TPS_TEST_POSTGRES_USER names "
            "another)"
        ) from None
    if user.pw_uid == 0:
        raise PostgresUnavailable(f"TPS_TEST_POSTGRES_USER {name!r} is root")
    return user
