"""Database connections for the API: a bounded pool of read-only stores, one per request.

A :class:`~hub.store.db.Database` serves one request at a time, and opening one per request
would cost a PostgreSQL connection each time. So at most ``size`` stores are ever open;
a request checks one out for its whole life (the dependency and the endpoint may run on
different threads, so nothing here is per thread) and gives it back when it ends. Waiting
for a free store happens in the event loop, never on a worker thread: a thread blocked on
the pool could starve the very endpoints that would give stores back.

The API only reads: the ingest worker writes, and SQLite's WAL lets both go on at once.
Every store is made read-only on opening, so a write by mistake fails instead of landing.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread

from hub.errors import StoreError
from hub.store import Database, ResultStore

StoreFactory = Callable[[], ResultStore]
DEFAULT_POOL_SIZE = 8  # enough for a dashboard's bursts; well under PostgreSQL's 100


def make_read_only(db: Database) -> None:
    """Refuse writes on this connection: the API must never change what the worker wrote."""
    if db.dialect.name == "sqlite":
        db.execute("PRAGMA query_only=ON")
    else:
        db.execute("SET default_transaction_read_only = on")


class StorePool:
    """At most ``size`` stores (opened through ``open_store``, made read-only), lent out one
    request at a time by :meth:`checkout`; :meth:`close` closes them all."""

    def __init__(self, open_store: StoreFactory, size: int = DEFAULT_POOL_SIZE) -> None:
        if size < 1:
            raise ValueError(f"a store pool needs at least one store, not {size}")
        self.size = size
        self._open = open_store
        self._idle: queue.LifoQueue[ResultStore] = queue.LifoQueue()
        self._slots: anyio.Semaphore | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.opened = 0  # stores ever opened: at most ``size`` while none breaks

    @asynccontextmanager
    async def checkout(self) -> AsyncIterator[ResultStore]:
        """A store for one request; given back (or, if its connection broke, closed)."""
        async with self._semaphore():
            store = await self._take()
            broken = False
            try:
                yield store
            except StoreError:
                # A database error may mean a dead connection: never lend it again.
                broken = True
                raise
            finally:
                self._give_back(store, broken)

    def _semaphore(self) -> anyio.Semaphore:
        # Made on first use, inside the serving event loop; a semaphore's permits never
        # outnumber the stores, so a request holding one always finds or opens a store.
        if self._slots is None:
            self._slots = anyio.Semaphore(self.size)
        return self._slots

    async def _take(self) -> ResultStore:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return await anyio.to_thread.run_sync(self._open_new)

    def _open_new(self) -> ResultStore:
        store = self._open()
        try:
            make_read_only(store.db)
        except BaseException:
            store.close()
            raise
        with self._lock:
            self.opened += 1
        return store

    def _give_back(self, store: ResultStore, broken: bool) -> None:
        # Under the lock, so a store never slips into the idle queue after close() drained it.
        with self._lock:
            keep = not broken and not self._closed
            if keep:
                self._idle.put(store)
        if not keep:
            store.close()

    def close(self) -> None:
        """Close every store; those lent out now are closed when they come back."""
        with self._lock:
            self._closed = True
            idle = []
            while not self._idle.empty():
                idle.append(self._idle.get_nowait())
        for store in idle:
            store.close()
