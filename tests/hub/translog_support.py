"""A transparency log on its own SQLite file, as the hub stores it (for the log's tests)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hub.store import ResultStore
from hub.store.logstorage import DatabaseLogStorage


def sqlite_log(path: Path, log: str = "main") -> DatabaseLogStorage:
    """The hub's log storage on ``path``; ``.close()`` closes the database."""
    store = ResultStore.open(str(path), now=dt.datetime.now(dt.UTC))
    storage = store.log_storage(log)
    storage.close = store.close  # type: ignore[attr-defined]
    return storage
