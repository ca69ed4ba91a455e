"""Migration 5: the pages whose image the hub still awaits, filled from what is stored, on
SQLite and PostgreSQL; then kept as documents and images arrive."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.store import Database, ResultStore, migrate
from hub.store.migrations import MIGRATIONS
from tests.hub import test_store_support as support
from tests.hub.translog_support import store_leaf_documents

backend = support.backend  # both backends

NOW = "2024-02-14T12:00:00Z"
SCHEMA_4 = tuple(m for m in MIGRATIONS if m.version <= 4)


@pytest.fixture
def db(backend: support.Backend) -> Iterator[Database]:
    opened = Database.open(backend.url, schema=backend.schema)
    yield opened
    opened.close()


def _awaited(db: Database) -> list[tuple[int, int, str]]:
    rows = db.all("SELECT document_id, page, sha256 FROM awaited_images ORDER BY 1, 2")
    return [(int(r[0]), int(r[1]), str(r[2])) for r in rows]


def test_migration_5_awaits_exactly_the_pages_whose_image_is_not_stored(db):
    assert migrate(db, NOW, SCHEMA_4) == [1, 2, 3, 4]
    store_leaf_documents(db, "pemilu-uji", 0, [b"first", b"second"])
    first, second = (int(r[0]) for r in db.all("SELECT id FROM documents ORDER BY id"))
    with db.transaction():
        db.executemany(
            "INSERT INTO document_pages (document_id, page, sha256) VALUES (?, ?, ?)",
            [(first, 1, "a" * 64), (first, 2, "b" * 64), (second, 1, "c" * 64)],
        )
        db.execute(  # as the hub at schema 4 stored an image
            "INSERT INTO images (sha256, kit, data, size, source, received_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            ("b" * 64, "kit-uji", b"photo", 5, "mqtt", NOW),
        )
    assert migrate(db, NOW) == [v.version for v in MIGRATIONS if v.version > 4]
    assert _awaited(db) == [(first, 1, "a" * 64), (second, 1, "c" * 64)]
    # An image arriving is no longer awaited, by every document that names it.
    with db.transaction():
        assert ResultStore(db).insert_image("c" * 64, "kit-uji", b"photo 2", "mqtt", NOW)
    assert _awaited(db) == [(first, 1, "a" * 64)]
