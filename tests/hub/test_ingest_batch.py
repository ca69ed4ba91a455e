"""A batch is stored with a few statements, not a few per document, and ends as the same
documents ingested one by one (in the batch's storing order) do: ids, chain statuses,
anomalies, current versions and the hooks' changes (on both backends)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from hub.ingest import Inbound
from hub.store import CurrentChange, ResultStore
from hub.store.documents import StoredDocument
from provisioning import authority as ca
from tests.hub import test_store_support as support
from tests.hub.test_recap import full_form
from tests.hub.test_store_support import document_sha, signed, utcnow

backend, store, hub_setup = support.backend, support.store, support.hub_setup

TPS = ("31.71.01.1001.001", "31.71.01.1001.002", "31.71.01.1002.001")
_WHEN = "2024-02-14T12:00:00.000000Z"


def _recorded(store: ResultStore, changes: list[CurrentChange]) -> dict[str, list[Any]]:
    """Everything the batch path writes, ack bytes aside (a batch signs one tree head)."""
    db = store.db
    return {
        "documents": db.all("SELECT id, document_sha256, chain_status FROM documents ORDER BY id"),
        "current": db.all("SELECT * FROM current_results ORDER BY election, tps, form"),
        "anomalies": db.all(
            "SELECT id, kind, kit, document_id, detail, resolved_at FROM anomalies ORDER BY id"
        ),
        "pages": db.all("SELECT * FROM document_pages ORDER BY document_id, page"),
        "changes": [(c.tps, c.document_id, c.previous_document_id) for c in changes],
    }


def test_a_batch_stores_what_one_by_one_stores(hub_setup, store, tmp_path):
    """Versions of one TPS within a batch (a rescan; a replacement kit's older capture),
    versions replacing ones stored before, and a late seq 1 closing a stored gap."""
    a, b, c = (hub_setup.region.kit(t) for t in TPS)
    trust = hub_setup.trust()  # read before kit a is revoked: its documents still count
    ca.revoke(hub_setup.region.authority, a.kit_id)
    replacement = hub_setup.region.kit(TPS[0])
    a1 = signed(a, **full_form(1))
    a2 = signed(a, seq=2, prev_sha256=document_sha(a1), captured_at="2024-02-14T20:00:00Z")
    older = signed(replacement, captured_at="2024-02-14T19:30:00Z", **full_form(2))
    b1 = signed(b, **full_form(3))
    b2 = signed(b, seq=2, prev_sha256=document_sha(b1), **full_form(4))
    b3 = signed(b, seq=3, prev_sha256=document_sha(b2), **full_form(5))
    c1 = signed(c, **full_form(6))
    c2 = signed(c, seq=2, prev_sha256=document_sha(c1), **full_form(7))
    before = [(b, 1, b1), (c, 2, c2)]  # stored by an earlier batch: c2 with a gap
    batch = [(b, 3, b3), (a, 2, a2), (c, 1, c1), (replacement, 1, older), (b, 2, b2), (a, 1, a1)]
    in_storing_order = sorted(batch, key=lambda m: (m[0].kit_id, m[1]))  # by kit, then seq
    now = utcnow()

    def ingest(
        target: ResultStore, batches: list[list[tuple[Any, int, bytes]]]
    ) -> dict[str, list[Any]]:
        changes: list[CurrentChange] = []
        ingestor = hub_setup.ingestor(target, trust, hooks=[lambda _s, ch: changes.append(ch)])
        for messages in batches:
            ingestor.ingest_many([Inbound("result", k.kit_id, d) for k, _, d in messages], now)
        return _recorded(target, changes)

    one_by_one = ResultStore.open(str(tmp_path / "one-by-one.sqlite3"), now=now)
    expected = ingest(one_by_one, [before] + [[m] for m in in_storing_order])
    one_by_one.close()
    got = ingest(store, [before, batch])
    assert got == expected
    assert [row[9] for row in got["current"]] == [3, 3, 2]  # versions per TPS
    assert [row[2] for row in got["documents"]][:2] == ["ok", "ok"]  # c2's gap closed


def _counting(store: ResultStore) -> list[str]:
    """Every statement the store's database runs from now on, but the transparency log's
    (whose reads depend on the tree's shape, not on the batch's documents)."""
    run: list[str] = []
    for name in ("execute", "executemany"):
        method: Callable[..., Any] = getattr(store.db, name)

        def counted(sql: str, *args: Any, _method: Callable[..., Any] = method) -> Any:
            if "translog_" not in sql:
                run.append(" ".join(sql.split()[:3]))
            return _method(sql, *args)

        setattr(store.db, name, counted)
    return run


def test_a_batch_runs_as_many_statements_for_six_results_as_for_two(hub_setup, store):
    kits = [hub_setup.region.kit(f"31.71.01.1001.{n:03d}") for n in range(1, 9)]
    ingestor = hub_setup.ingestor(store)
    now = utcnow()
    run = _counting(store)

    def statements(batch: list[Any]) -> list[str]:
        run.clear()
        outcomes = ingestor.ingest_many(
            [Inbound("result", k.kit_id, signed(k)) for k in batch], now
        )
        assert {o.status for o in outcomes} == {"accepted"}
        return list(run)

    two = statements(kits[:2])
    assert statements(kits[2:]) == two
    assert len(two) <= 12, two  # none of them per document


def _document(document_id: int, kit: str = "kit-uji", seq: int | None = None) -> StoredDocument:
    sha = hashlib.sha256(b"%d" % document_id).hexdigest()
    return StoredDocument(
        id=document_id,
        document_sha256=sha,
        kit=kit,
        seq=document_id if seq is None else seq,
        election="pemilu-uji",
        is_training=False,
        tps=f"tps-{kit}",
        form="C1",
        form_version=1,
        captured_at=_WHEN,
        prev_sha256="",
        fields="{}",
        signed=b"signed",
        cert_serial="1",
        chain_status="ok",
        log_name="log",
        log_index=document_id,
        ack=b"ack",
        source="test",
        received_at=_WHEN,
    )


def _store(store: ResultStore, make: Callable[[int], StoredDocument], count: int) -> list[int]:
    """Store ``count`` documents as ingest does: ids reserved, then one insert for all."""
    with store.db.transaction():
        ids = store.next_document_ids(count)
        docs = [make(i) for i in ids]
        store.insert_documents(docs, [(d.id, 1, d.document_sha256) for d in docs])
    return ids


def test_reserved_document_ids_are_those_the_database_would_give(store):
    assert _store(store, _document, 2) == [1, 2]
    assert _store(store, _document, 1) == [3]
    assert [store.document(i).seq for i in (1, 2, 3)] == [1, 2, 3]
    assert store.document(2) == _document(2)  # the row type reads back what it wrote
    # The column's own numbering went past them too (on PostgreSQL, its sequence).
    row = store.db.one(
        "INSERT INTO documents (document_sha256, kit, seq, election, is_training, tps, form, "
        "form_version, captured_at, prev_sha256, fields, signed, cert_serial, chain_status, "
        "log_name, log_index, ack, source, received_at) "
        "VALUES ('d4', 'kit-uji', 4, 'pemilu-uji', 0, 'tps', 'C1', 1, ?, '', '{}', ?, '1', "
        "'ok', 'log', 4, ?, 'test', ?) RETURNING id",
        (_WHEN, b"signed", b"ack", _WHEN),
    )
    assert row is not None and row[0] == 4


def test_batch_reads_past_one_query_find_what_is_stored(store):
    """More places and TPSs than one query's parameters hold (on both databases)."""
    # 400 kits, each with seqs 1, 2 and 4 stored: seq 3 is missing, its place reads 2 and 4.
    seqs = (1, 2, 4)
    ids = _store(store, lambda i: _document(i, f"kit-{(i - 1) // 3:03d}", seqs[(i - 1) % 3]), 1200)
    with store.db.transaction():
        versions = store.current_versions(
            ("pemilu-uji", f"tps-kit-{k:03d}", "C1") for k in range(400)
        )
        for document_id in ids:
            versions.advance(store.document(document_id), {}, _WHEN)
        store.write_current(versions)
    places = [(f"kit-{k:03d}", seq) for k in range(400) for seq in (1, 3, 5)]
    chains = store.batch_chains(places)
    for kit, seq in places:
        found = [(r.seq, r.id) for r in chains.neighbours(kit, seq)]
        first = int(kit.removeprefix("kit-")) * 3 + 1  # the id of the kit's seq 1
        stored = {1: first, 2: first + 1, 4: first + 2}
        assert found == [(s, stored[s]) for s in (seq - 1, seq, seq + 1) if s in stored]
    versions = store.current_versions(("pemilu-uji", f"tps-kit-{k:03d}", "C1") for k in range(400))
    (rescan_id,) = _store(store, lambda i: _document(i, "kit-000", 9), 1)
    with store.db.transaction():
        moved = versions.advance(store.document(rescan_id), {}, _WHEN)
        store.write_current(versions)
    assert moved is not None and moved.previous_document_id == ids[2]  # kit-000's seq 4
    assert support.version_count(store, "pemilu-uji", "tps-kit-000", "C1") == 4
