"""Judging results in worker processes: signature checks and parsing use every core.

Judging (hub/ingest/verdict.py) is pure and CPU-bound (Ed25519, X.509, JSON and pydantic
parsing), while storing is serialized by the database's write lock anyway, so the hub judges
a batch's results across ``workers`` processes and stores in one. (Accepted acks are no
longer signed one by one: the batch's checkpoint carries the one signature,
hub/ingest/acks.py, so no process signs acks any more.) Each process holds its own copy of
the Ingestor's :class:`~hub.trust.Trust`, rebuilt from the same CA, CRL and revocations; a
pool belongs to one Trust, so loading a new CRL means a new Trust and with it a new pool
(revocation never lags behind in a process that kept an old one).

Images are judged in the calling process: their check is one hash, and shipping megabytes
to another process would cost more than it saves.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import select
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

from cryptography.hazmat.primitives.serialization import Encoding

from hub.ingest import verdict as v
from hub.trust import Trust
from protocol import certs

# Results per task: large enough that a task's overhead (pickling, a pipe round trip) is
# small beside judging it, small enough that a batch spreads over every process.
_CHUNK = 64


@dataclass(frozen=True)
class _Image:
    """A Trust in picklable form (x509 objects are not). No key: judging signs nothing, so
    the hub's private key never reaches a judging process."""

    ca_pem: bytes
    crl_pem: bytes
    revoked: frozenset[int]
    hub_pid: int  # the process the pool belongs to: its processes end when it does

    @classmethod
    def of(cls, trust: Trust) -> _Image:
        return cls(
            trust.ca_cert.public_bytes(Encoding.PEM),
            trust.crl.public_bytes(Encoding.PEM),
            trust.revoked_serials,
            os.getpid(),
        )

    def trust(self) -> Trust:
        return Trust(
            certs.load_certificate(self.ca_pem), certs.load_crl(self.crl_pem), self.revoked
        )


# In a pool process: the Trust its pool was made for.
_TRUST: Trust | None = None


def _start(image: _Image) -> None:
    global _TRUST
    _TRUST = image.trust()
    _exit_with(image.hub_pid)


def _exit_with(hub_pid: int) -> None:
    """End this process once the hub process is gone.

    A hub killed outright (SIGKILL, the OOM killer) never runs ``close``. Its forkserver
    would not notice either: every process it starts holds the pipe whose closing tells the
    forkserver its client is gone. So each judging process watches the hub itself, through
    a pidfd that becomes readable when the hub exits (polling where there is none).
    """
    try:
        handle = os.pidfd_open(hub_pid)
    except ProcessLookupError:
        os._exit(0)
    except (AttributeError, OSError):
        handle = None

    def watch() -> None:
        if handle is not None:
            select.select([handle], [], [])
        else:
            while _running(hub_pid):
                time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-hub", daemon=True).start()


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _ready() -> bool:
    return _TRUST is not None


def _judge_chunk(
    items: list[tuple[bytes, str]], now: dt.datetime, max_bytes: int
) -> list[v.Judgement]:
    assert _TRUST is not None, "pool process started without its trust"
    return [v.judge_result(data, kit, _TRUST, now, max_bytes=max_bytes) for data, kit in items]


@dataclass(frozen=True)
class Task:
    """A chunk of a batch's results and its verdicts to come from the pool. A task the
    pool has not started yet can be cancelled and judged by the caller instead."""

    items: list[tuple[bytes, str]]
    future: Future[list[v.Judgement]]


class JudgePool:
    """``workers`` processes judging signed results against one Trust."""

    def __init__(self, trust: Trust, workers: int) -> None:
        if workers < 1:
            raise ValueError("a judging pool needs at least one worker")
        self.trust = trust
        self.workers = workers
        # forkserver, not fork: the hub has threads (paho's, the ingest thread) and open
        # database connections that a forked child must not inherit.
        context = multiprocessing.get_context("forkserver")
        image = _Image.of(trust)
        self._executor = ProcessPoolExecutor(
            workers, mp_context=context, initializer=_start, initargs=(image,)
        )

    def submit(
        self, items: Sequence[tuple[bytes, str]], now: dt.datetime, max_bytes: int
    ) -> list[Task]:
        """Start judging (data, topic kit) pairs, in tasks that keep their order.

        Consecutive messages stay together, so a kit's documents (sent one after another)
        mostly meet a process that already checked its certificate.
        """
        size = max(1, min(_CHUNK, -(-len(items) // self.workers)))
        chunks = [list(items[i : i + size]) for i in range(0, len(items), size)]
        return [
            Task(chunk, self._executor.submit(_judge_chunk, chunk, now, max_bytes))
            for chunk in chunks
        ]

    def warm_up(self) -> None:
        """Start every process now and wait for them, so the first results do not wait for
        processes to start (about a second each)."""
        # One task per process, all submitted before any finishes: each submit that finds
        # no idle process starts one (a fast process may answer two; the others still
        # started, and their initializer runs before they take any work).
        tasks = [self._executor.submit(_ready) for _ in range(self.workers)]
        if not all(t.result() for t in tasks):
            raise RuntimeError("a judging process started without its trust")

    def intact(self) -> bool:
        """False once one of its processes has ended (killed, out of memory). The executor
        finds out in its own thread, later; a batch given to it meanwhile would be the one
        to find out, with the results it holds judged again here."""
        if getattr(self._executor, "_broken", False):
            return False
        return all(p.is_alive() for p in list(self._executor._processes.values()))

    def pids(self) -> list[int]:
        """The judging processes' ids (for watching their memory)."""
        return [p.pid for p in self._executor._processes.values() if p.pid is not None]

    def close(self) -> None:
        # Not waiting: after a process died, a wait could hang on the broken pool.
        processes = list(self._executor._processes.values())
        self._executor.shutdown(wait=False, cancel_futures=True)
        # A process killed while it held the task queue's lock leaves its siblings waiting on
        # that lock for ever, and the interpreter joins them at exit: end them. They judge
        # only; nothing of theirs needs keeping.
        for process in processes:
            process.join(timeout=1.0)
            if process.is_alive():
                process.kill()
                process.join(timeout=1.0)
