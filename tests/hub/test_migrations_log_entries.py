"""Migration 3: the log's entries live only in ``documents.signed``, on SQLite and PostgreSQL.

A database written before it (schema 2) kept each leaf twice, in ``translog_entries`` and
as its document's signed bytes; the migration drops the copy only after checking both agree.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.errors import MigrationError, StoreError
from hub.store import LATEST, Database, DatabaseLogStorage, migrate, schema_version
from hub.store.migrations import MIGRATIONS
from hub.translog import LogRangeError, MemoryStorage, TransparencyLog
from protocol import merkle
from tests.hub import test_store_support as support
from tests.hub.translog_support import LeafDocumentStorage, store_leaf_documents

backend = support.backend  # both backends

NOW = "2024-02-14T12:00:00Z"
SCHEMA_2 = tuple(m for m in MIGRATIONS if m.version <= 2)
LOGS = {
    "pemilu-uji": [b"result-%d" % i for i in range(7)],
    "latihan-uji": [b"bimtek-%d" % i for i in range(3)],
}


@pytest.fixture
def db(backend: support.Backend) -> Iterator[Database]:
    opened = Database.open(backend.url, schema=backend.schema)
    yield opened
    opened.close()


def schema_2_database(db: Database) -> None:
    """A database as the hub left it at schema 2: every leaf's node hashes, its entry in
    translog_entries and its document (the same bytes), for two logs."""
    assert migrate(db, NOW, SCHEMA_2) == [1, 2]
    for log, entries in LOGS.items():
        with db.transaction():
            TransparencyLog(DatabaseLogStorage(db, log)).append_many(entries)
            db.executemany(
                "INSERT INTO translog_entries (log, idx, entry) VALUES (?, ?, ?)",
                [(log, i, e) for i, e in enumerate(entries)],
            )
            store_leaf_documents(db, log, 0, entries)
        DatabaseLogStorage(db, log).put_tree_head(len(entries), b"head of " + log.encode())


def reference_root(entries: list[bytes]) -> bytes:
    reference = TransparencyLog(MemoryStorage())
    reference.append_many(entries)
    return reference.root()


def test_migration_3_keeps_every_entry_and_root(db):
    schema_2_database(db)
    roots = {log: TransparencyLog(DatabaseLogStorage(db, log)).root() for log in LOGS}
    assert migrate(db, NOW)[:1] == [3]  # and any later ones
    assert schema_version(db) == LATEST
    with pytest.raises(StoreError):
        db.one("SELECT COUNT(*) FROM translog_entries")
    for log, entries in LOGS.items():
        storage = DatabaseLogStorage(db, log)
        log_ = TransparencyLog(storage)
        assert storage.size() == len(entries)
        assert storage.entries(0, len(entries)) == entries
        assert log_.root() == roots[log] == reference_root(entries)
        assert storage.tree_head() == b"head of " + log.encode()
        proof = log_.inclusion_proof(1)
        merkle.verify_inclusion(merkle.leaf_hash(entries[1]), 1, len(entries), proof, roots[log])
    # The log goes on growing where it stopped, its new leaves read from their documents.
    grown = TransparencyLog(LeafDocumentStorage(db, "pemilu-uji"))
    assert grown.append_many([b"after-0", b"after-1"]) == [7, 8]
    entries = [*LOGS["pemilu-uji"], b"after-0", b"after-1"]
    assert grown.storage.entries(0, 9) == entries
    assert grown.root() == reference_root(entries)
    proof = grown.consistency_proof(7)
    merkle.verify_consistency(7, 9, roots["pemilu-uji"], grown.root(), proof)


def _entry_differs(db: Database) -> str:
    db.execute(
        "UPDATE translog_entries SET entry = ? WHERE log = ? AND idx = ?",
        (b"tampered", "pemilu-uji", 3),
    )
    return "log 'pemilu-uji' leaf 3: the entry differs from its document's signed bytes " + (
        r"\(the log's leaf hash is that of the document\)"
    )


def _document_differs(db: Database) -> str:
    db.execute(
        "UPDATE documents SET signed = ? WHERE log_name = ? AND log_index = ?",
        (b"tampered", "latihan-uji", 2),
    )
    return "log 'latihan-uji' leaf 2: .* leaf hash is that of the entry"


def _entry_missing(db: Database) -> str:
    db.execute("DELETE FROM translog_entries WHERE log = ? AND idx = ?", ("pemilu-uji", 6))
    return "leaf 6: a document with no entry; log 'pemilu-uji': last entry 5, last leaf hash 6"


def _document_missing(db: Database) -> str:
    db.execute("DELETE FROM documents WHERE log_name = ? AND log_index = ?", ("pemilu-uji", 0))
    return "log 'pemilu-uji' leaf 0: an entry with no document"


@pytest.mark.parametrize(
    "damage", [_entry_differs, _document_differs, _entry_missing, _document_missing]
)
def test_migration_3_will_not_drop_entries_unlike_their_documents(db, damage):
    schema_2_database(db)
    expected = damage(db)
    with pytest.raises(MigrationError, match=expected) as refused:
        migrate(db, NOW)
    assert "Nothing was changed" in str(refused.value)
    assert "migrate again" in str(refused.value)
    assert schema_version(db) == 2  # left as it was, translog_entries and all
    assert db.one("SELECT COUNT(*) FROM translog_entries")[0] >= 9


def test_migration_3_refusal_from_schema_1_rolls_back_schema_2_too(db):
    assert migrate(db, NOW, SCHEMA_2[:1]) == [1]
    db.execute("INSERT INTO translog_entries (log, idx, entry) VALUES ('x', 0, ?)", (b"lost",))
    with pytest.raises(MigrationError, match="log 'x' leaf 0: an entry with no document"):
        migrate(db, NOW)
    assert schema_version(db) == 1
    with pytest.raises(StoreError):
        db.one("SELECT COUNT(*) FROM recap_totals")


def test_a_leaf_is_unreadable_until_its_document_is_stored(db):
    migrate(db, NOW)
    storage = DatabaseLogStorage(db, "pemilu-uji")
    with db.transaction():
        TransparencyLog(storage).append_many([b"a", b"b"])
        assert storage.size() == 2
        with pytest.raises(LogRangeError, match="its stored document's signed bytes"):
            storage.entries(0, 2)
        store_leaf_documents(db, "pemilu-uji", 0, [b"a"])
        with pytest.raises(LogRangeError):
            storage.entries(0, 2)
        store_leaf_documents(db, "pemilu-uji", 1, [b"b"])
        assert storage.entries(0, 2) == [b"a", b"b"]
    with pytest.raises(LogRangeError):
        storage.entries(1, 3)


def test_a_second_document_at_a_taken_leaf_is_refused(db):
    migrate(db, NOW)
    store_leaf_documents(db, "pemilu-uji", 0, [b"a"])
    with pytest.raises(StoreError, match=r"(?i)unique"):
        store_leaf_documents(db, "pemilu-uji", 0, [b"a-again"])


def test_an_append_without_its_leaf_hashes_is_refused(db):
    migrate(db, NOW)
    storage = DatabaseLogStorage(db, "pemilu-uji")
    with pytest.raises(ValueError, match="lack a leaf hash"):
        storage.append(0, [b"a", b"b"], {(0, 0): merkle.leaf_hash(b"a")})
    assert storage.size() == 0
