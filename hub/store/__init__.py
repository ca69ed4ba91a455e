"""The hub's storage: SQLite (WAL) or PostgreSQL through one code path, with migrations."""

from hub.store.db import Database
from hub.store.logstorage import DatabaseLogStorage
from hub.store.migrations import LATEST, MIGRATIONS, migrate, schema_version
from hub.store.results import (
    Anomaly,
    CurrentChange,
    DocumentFields,
    NewDocument,
    Rejection,
    ResultStore,
    StoredDocument,
    utc_text,
)

__all__ = [
    "LATEST",
    "MIGRATIONS",
    "Anomaly",
    "CurrentChange",
    "Database",
    "DatabaseLogStorage",
    "DocumentFields",
    "NewDocument",
    "Rejection",
    "ResultStore",
    "StoredDocument",
    "migrate",
    "schema_version",
    "utc_text",
]
