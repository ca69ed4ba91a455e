"""The hub's storage: SQLite (WAL) or PostgreSQL through one code path, with migrations."""

from hub.ledger import CurrentChange, DocumentFields
from hub.store.anomalies import Anomaly
from hub.store.db import Database
from hub.store.documents import StoredDocument
from hub.store.logstorage import DatabaseLogStorage
from hub.store.migrations import LATEST, MIGRATIONS, migrate, schema_version
from hub.store.rejections import Rejection
from hub.store.results import ResultStore, utc_text

__all__ = [
    "LATEST",
    "MIGRATIONS",
    "Anomaly",
    "CurrentChange",
    "Database",
    "DatabaseLogStorage",
    "DocumentFields",
    "Rejection",
    "ResultStore",
    "StoredDocument",
    "migrate",
    "schema_version",
    "utc_text",
]
