"""hub.store on SQLite and PostgreSQL: migrations, the log's storage, transactions."""

from __future__ import annotations

import pytest

from hub.errors import MigrationError, StoreError
from hub.store import LATEST, Database, DatabaseLogStorage, migrate, schema_version
from hub.store.migrations import MIGRATIONS, Migration
from hub.translog import MemoryStorage, TransparencyLog
from protocol import merkle
from tests.hub import test_store_support as support
from tests.hub.test_store_support import utcnow
from tests.hub.translog_support import LeafDocumentStorage, sqlite_log

backend, store = support.backend, support.store  # both backends

NOW = "2024-02-14T12:00:00Z"


def test_open_migrates_to_latest_once(backend):
    first = backend.open_store()
    try:
        assert schema_version(first.db) == LATEST
        assert migrate(first.db, NOW) == []  # nothing left to apply
        rows = first.db.all("SELECT version, description FROM schema_migrations")
        assert [r[0] for r in rows] == [m.version for m in MIGRATIONS]
    finally:
        first.close()
    second = backend.open_store()  # a second worker starting: no error, no re-apply
    try:
        assert schema_version(second.db) == LATEST
    finally:
        second.close()


def test_new_migration_applies_and_newer_database_is_refused(backend):
    opened = backend.open_store()
    try:
        extra = (*MIGRATIONS, Migration(LATEST + 1, "a test column", "CREATE TABLE t (x TEXT)"))
        assert migrate(opened.db, NOW, extra) == [LATEST + 1]
        with pytest.raises(MigrationError, match="newer than this hub"):
            migrate(opened.db, NOW)
    finally:
        opened.close()


def test_failed_migration_leaves_nothing(backend):
    opened = backend.open_store()
    try:
        broken = (
            *MIGRATIONS,
            Migration(
                LATEST + 1, "half", "CREATE TABLE u (x TEXT); CREATE TABLE documents (y TEXT)"
            ),
        )
        with pytest.raises(StoreError):
            migrate(opened.db, NOW, broken)
        assert schema_version(opened.db) == LATEST
        migrate(
            opened.db, NOW, (*MIGRATIONS, Migration(LATEST + 1, "u", "CREATE TABLE u (x TEXT)"))
        )
    finally:
        opened.close()


def test_log_storage_matches_the_reference_and_proves(store):
    log = TransparencyLog(store.log_storage("main"))
    reference = TransparencyLog(MemoryStorage())
    entries = [b"entry-%d" % i for i in range(37)]
    with store.db.transaction():
        log.append_many(entries[:20])
    for entry in entries[20:]:
        log.append(entry)  # outside a transaction: each append opens its own
    reference.append_many(entries)
    assert log.size == 37
    assert log.root() == reference.root()
    for index in (0, 13, 36):
        proof = log.inclusion_proof(index, 30 if index < 30 else 37)
        size = 30 if index < 30 else 37
        merkle.verify_inclusion(
            merkle.leaf_hash(entries[index]), index, size, proof, log.root(size)
        )
    assert log.consistency_proof(10, 37) == reference.consistency_proof(10, 37)
    other = TransparencyLog(store.log_storage("latihan"))  # logs do not mix
    assert other.size == 0


def test_rolled_back_append_leaves_no_trace_and_a_stale_writer_recovers(store):
    storage = store.log_storage("main")
    first, second = TransparencyLog(storage), TransparencyLog(DatabaseLogStorage(store.db, "main"))
    first.append(b"a")
    with pytest.raises(RuntimeError), store.db.transaction():
        first.append(b"b")
        raise RuntimeError("crash before commit")
    assert storage.size() == 1
    # ``second`` last saw size 0: the storage refuses its stale index, it reloads, retries.
    assert second.append(b"c") == 1
    reference = TransparencyLog(MemoryStorage())
    reference.append_many([b"a", b"c"])
    assert TransparencyLog(storage).root() == reference.root()


def test_tree_heads_are_kept_per_size(store):
    storage = store.log_storage("main")
    storage.put_tree_head(0, b"h0")
    storage.put_tree_head(5, b"h5")
    storage.put_tree_head(5, b"h5-again")
    assert storage.tree_head() == b"h5-again"
    assert storage.tree_head(0) == b"h0"
    assert storage.tree_head(3) is None


def test_log_written_in_a_transaction_reads_back_after_reopening(tmp_path):
    path = tmp_path / "hub.sqlite3"
    from hub.store import ResultStore

    opened = ResultStore.open(str(path), now=utcnow())
    try:
        TransparencyLog(LeafDocumentStorage(opened.db, "main")).append_many([b"x", b"y", b"z"])
    finally:
        opened.close()
    reader = sqlite_log(path, "main")
    try:
        assert TransparencyLog(reader).size == 3
        assert reader.entries(0, 3) == [b"x", b"y", b"z"]
    finally:
        reader.close()


def test_sqlite_runs_in_wal_with_full_sync(tmp_path):
    db = Database.open(str(tmp_path / "w.sqlite3"))
    try:
        assert db.one("PRAGMA journal_mode") == ("wal",)
        assert db.one("PRAGMA synchronous") == (2,)  # FULL
    finally:
        db.close()


def test_sqlite_page_cache_is_the_configured_size(tmp_path):
    default = Database.open(str(tmp_path / "c.sqlite3"))
    sized = Database.open(str(tmp_path / "c.sqlite3"), cache_mb=64)
    try:
        assert default.one("PRAGMA cache_size") == (-2000,)  # SQLite's own: 2,000 KiB
        assert sized.one("PRAGMA cache_size") == (-64 * 1024,)
    finally:
        default.close()
        sized.close()


def test_unreachable_postgres_is_a_store_error():
    pytest.importorskip("psycopg")
    with pytest.raises(StoreError, match="cannot connect"):
        Database.open("postgresql://postgres@127.0.0.1:1/none", busy_timeout=1)
