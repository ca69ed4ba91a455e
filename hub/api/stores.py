"""Database connections for the API: one per serving thread, reused across requests.

A :class:`~hub.store.db.Database` serves one thread at a time, and opening one per request
would cost a PostgreSQL connection each time; FastAPI runs synchronous endpoints on a
bounded thread pool, so a connection per pool thread bounds the connections too. The API
only reads: the ingest worker writes, and SQLite's WAL lets both go on at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from hub.store import ResultStore

StoreFactory = Callable[[], ResultStore]


class StorePool:
    """Opens a store per thread on first use (through ``open_store``); closes them all."""

    def __init__(self, open_store: StoreFactory) -> None:
        self._open = open_store
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened: list[ResultStore] = []

    def get(self) -> ResultStore:
        store: ResultStore | None = getattr(self._local, "store", None)
        if store is None:
            store = self._open()
            self._local.store = store
            with self._lock:
                self._opened.append(store)
        return store

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for store in opened:
            store.close()
