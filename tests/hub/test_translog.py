"""hub.translog: the append-only log over both storages, checked against protocol.merkle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.store import ResultStore
from hub.translog import (
    LogConflictError,
    LogRangeError,
    MemoryStorage,
    TranslogError,
    TransparencyLog,
)
from protocol import checkpoint, dsse, merkle, treehead
from protocol import subtrees as tree
from tests.hub.translog_support import LeafDocumentStorage, sqlite_log


def entries(n: int, tag: bytes = b"e") -> list[bytes]:
    return [tag + b"-%d" % i for i in range(n)]


@pytest.fixture(params=["memory", "sqlite"])
def storage(request, tmp_path: Path) -> Iterator[object]:
    if request.param == "memory":
        yield MemoryStorage()
        return
    store = sqlite_log(tmp_path / "log.db")
    yield store
    store.close()


def test_empty_log(storage):
    log = TransparencyLog(storage)
    assert log.size == 0
    assert log.root() == merkle.EMPTY_ROOT
    assert log.consistency_proof(0, 0) == []
    with pytest.raises(LogRangeError):
        log.inclusion_proof(0)


def test_a_batch_of_proofs_equals_the_reference_proofs(storage):
    log = TransparencyLog(storage)
    data = entries(37)
    log.append_many(data)
    hashes = [merkle.leaf_hash(e) for e in data]
    for size in (1, 2, 16, 17, 37):
        indexes = list(range(size))[::-1]  # any order, as a batch's chain order gives
        expected = [merkle.inclusion_proof(i, size, hashes) for i in indexes]
        assert log.inclusion_proofs(indexes, size) == expected
    assert log.inclusion_proofs([], 37) == []
    with pytest.raises(LogRangeError):
        log.inclusion_proofs([3, 37], 37)


def test_append_returns_consecutive_indexes(storage):
    log = TransparencyLog(storage)
    assert [log.append(e) for e in entries(3)] == [0, 1, 2]
    assert log.append_many(entries(4, b"f")) == [3, 4, 5, 6]
    assert log.size == 7
    assert log.entry(4) == b"f-1"


def test_roots_and_proofs_match_reference_at_every_size(storage):
    log = TransparencyLog(storage)
    data = entries(40)
    log.append_many(data[:17])
    for e in data[17:]:
        log.append(e)
    hashes = [merkle.leaf_hash(e) for e in data]
    for size in range(41):
        assert log.root(size) == merkle.root(hashes[:size])
        for index in range(size):
            assert log.inclusion_proof(index, size) == merkle.inclusion_proof(index, size, hashes)
        for old in range(size + 1):
            assert log.consistency_proof(old, size) == merkle.consistency_proof(old, size, hashes)


def test_proofs_verify_from_bytes(storage):
    log = TransparencyLog(storage)
    data = entries(13)
    log.append_many(data)
    root = log.root()
    for index, entry in enumerate(data):
        proof = log.inclusion_proof(index)
        merkle.verify_inclusion(merkle.leaf_hash(entry), index, 13, proof, root)
    for old in range(14):
        merkle.verify_consistency(old, 13, log.root(old), root, log.consistency_proof(old))


def test_sizes_beyond_the_log_are_refused(storage):
    log = TransparencyLog(storage)
    log.append_many(entries(5))
    for call in (
        lambda: log.root(6),
        lambda: log.inclusion_proof(5, 5),
        lambda: log.inclusion_proof(0, 6),
        lambda: log.inclusion_proof(-1, 5),
        lambda: log.consistency_proof(3, 6),
        lambda: log.consistency_proof(4, 3),
        lambda: log.entry(5),
    ):
        with pytest.raises(LogRangeError):
            call()


def test_second_writer_with_stale_view_retries(storage):
    first, second = TransparencyLog(storage), TransparencyLog(storage)
    first.append_many(entries(3))
    # ``second`` still thinks the log is empty: the storage refuses, it reloads and appends.
    assert second.append(b"late") == 3
    assert first.append(b"later") == 4
    hashes = [merkle.leaf_hash(e) for e in [*entries(3), b"late", b"later"]]
    assert first.root() == merkle.root(hashes)


def test_storage_refuses_a_gap_or_an_overwrite(storage):
    TransparencyLog(storage).append_many(entries(2))
    with pytest.raises(LogConflictError):
        storage.append(1, [b"x"], {(0, 1): merkle.leaf_hash(b"x")})
    with pytest.raises(LogConflictError):
        storage.append(5, [b"x"], {(0, 5): merkle.leaf_hash(b"x")})
    assert storage.size() == 2


def test_stored_nodes_are_exactly_the_complete_subtrees(storage):
    TransparencyLog(storage).append_many(entries(11))
    wanted = [(level, i) for level in range(5) for i in range(11 >> level)]
    stored = storage.nodes([*wanted, (0, 11), (2, 2), (3, 1), (4, 0)])
    assert sorted(stored) == sorted(wanted)
    data = [merkle.leaf_hash(e) for e in entries(11)]
    assert stored[(3, 0)] == merkle.root(data[:8])
    assert stored[(1, 4)] == merkle.root(data[8:10])


def test_tree_heads_are_kept(storage):
    key = Ed25519PrivateKey.generate()
    log = TransparencyLog(storage)
    assert log.tree_head() is None
    log.append_many(entries(3))
    now = dt.datetime(2024, 2, 14, 20, 0, tzinfo=dt.UTC)
    first = log.sign_tree_head(key, "log-31-71", now)
    log.append(b"more")
    second = log.sign_tree_head(key, "log-31-71", now)
    assert log.tree_head(3) == first
    assert log.tree_head() == second
    envelope = dsse.parse_envelope_bytes(second)
    trusted = {dsse.key_id(key.public_key()): key.public_key()}
    _, payload = dsse.verify(envelope, treehead.PAYLOAD_TYPE, trusted)
    head = treehead.parse_tree_head(payload)
    assert (head.tree_size, head.root_hash) == (4, log.root())


def test_each_head_is_also_a_checkpoint_of_the_same_size_and_root(storage):
    key = Ed25519PrivateKey.generate()
    log = TransparencyLog(storage)
    assert log.checkpoint() is None
    log.append_many(entries(5))
    now = dt.datetime(2024, 2, 14, 20, 0, tzinfo=dt.UTC)
    log.sign_tree_head(key, "log-31-71", now)
    log.append(b"more")
    log.sign_tree_head(key, "log-31-71", now)
    verifier = checkpoint.verifier_for("log-31-71", key.public_key())
    for size in (5, 6):
        signed = log.checkpoint(size)
        assert signed is not None
        verified = checkpoint.verify(signed, [verifier], origin="log-31-71")
        assert verified.checkpoint == checkpoint.Checkpoint("log-31-71", size, log.root(size))
    assert log.checkpoint() == log.checkpoint(6)


def test_the_newest_cosigned_checkpoint_is_kept_apart_from_the_latest(storage):
    assert storage.cosigned_checkpoint() is None
    for size in range(1, 5):
        storage.put_checkpoint(size, b"checkpoint %d" % size, cosigned=size in (1, 3))
    assert (storage.checkpoint(), storage.cosigned_checkpoint()) == (
        b"checkpoint 4",
        b"checkpoint 3",
    )
    # A checkpoint signed again at the same size replaces the cosigned one, mark and all.
    storage.put_checkpoint(3, b"checkpoint 3 again")
    assert storage.cosigned_checkpoint() == b"checkpoint 1"


def test_missing_nodes_are_reported_not_guessed():
    store = MemoryStorage()
    TransparencyLog(store).append_many(entries(4))
    del store._nodes[(2, 0)]
    with pytest.raises(TranslogError, match="lacks"):
        TransparencyLog(store)


def test_sqlite_log_survives_reopen(tmp_path):
    path = tmp_path / "hub.db"
    store = sqlite_log(path)
    TransparencyLog(store).append_many(entries(21))
    root = TransparencyLog(store).root()
    store.close()
    reopened = sqlite_log(path)
    log = TransparencyLog(reopened)
    assert (log.size, log.root()) == (21, root)
    assert log.append(b"after") == 21
    hashes = [merkle.leaf_hash(e) for e in [*entries(21), b"after"]]
    assert log.root() == merkle.root(hashes)
    reopened.close()


def test_sqlite_logs_are_kept_apart_by_name(tmp_path):
    store = ResultStore.open(str(tmp_path / "hub.db"), now=dt.datetime.now(dt.UTC))
    real = TransparencyLog(LeafDocumentStorage(store.db, "pemilu-2024"))
    training = TransparencyLog(LeafDocumentStorage(store.db, "latihan-2024"))
    real.append_many(entries(5, b"real"))
    training.append_many(entries(2, b"bimtek"))
    assert (real.size, training.size) == (5, 2)
    assert training.entry(0) == b"bimtek-0"
    assert real.root() == merkle.root_of_entries(entries(5, b"real"))
    store.close()


def test_sqlite_race_on_the_key_is_a_conflict(tmp_path):
    path = tmp_path / "hub.db"
    a, b = sqlite_log(path), sqlite_log(path)
    a.append(0, [b"x"], {(0, 0): merkle.leaf_hash(b"x")})
    # As if ``b`` had read the size just before a's commit: the primary key refuses it.
    b.size = lambda: 0
    with pytest.raises(LogConflictError, match="lost a race"):
        b.append(0, [b"y"], {(0, 0): merkle.leaf_hash(b"y")})
    assert b.entries(0, 1) == [b"x"]
    a.close()
    b.close()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=1, max_size=12))
def test_batches_of_any_shape_give_the_same_tree(batches):
    log = TransparencyLog(MemoryStorage())
    data: list[bytes] = []
    for n in batches:
        batch = entries(n, b"b%d" % len(data))
        log.append_many(batch)
        data += batch
    hashes = [merkle.leaf_hash(e) for e in data]
    assert log.root() == merkle.root(hashes)
    index = len(data) // 2
    assert log.inclusion_proof(index) == merkle.inclusion_proof(index, len(data), hashes)


def test_range_nodes_decompose_aligned_ranges():
    assert tree.range_nodes(0, 0) == []
    assert tree.range_nodes(0, 7) == [(2, 0), (1, 2), (0, 6)]
    assert tree.range_nodes(8, 11) == [(1, 4), (0, 10)]
    with pytest.raises(ValueError, match="aligned"):
        tree.range_nodes(1, 5)


def test_rfc9162_example_ranges():
    # RFC 9162 §2.1.5, 7 leaves: proof for d0 is [b, h, l], PROOF(3, D[7]) = [c, d, g, l].
    assert tree.inclusion_ranges(0, 7) == [(1, 2), (2, 4), (4, 7)]
    assert tree.inclusion_ranges(6, 7) == [(4, 6), (0, 4)]
    assert tree.consistency_ranges(3, 7) == [(2, 3), (3, 4), (0, 2), (4, 7)]
    assert tree.consistency_ranges(4, 7) == [(4, 7)]
    assert tree.consistency_ranges(6, 7) == [(4, 6), (6, 7), (0, 4)]


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 3000).flatmap(
        lambda n: st.tuples(st.just(n), st.lists(st.integers(0, n - 1), max_size=40))
    )
)
def test_a_batchs_ranges_walked_once_equal_each_leafs_own(case: tuple[int, list[int]]):
    size, leaves = case
    assert tree.inclusion_ranges_many(leaves, size) == [
        tree.inclusion_ranges(leaf, size) for leaf in leaves
    ]


def test_a_batch_naming_a_leaf_beyond_the_tree_is_refused():
    with pytest.raises(ValueError, match="not in a tree of 5"):
        tree.inclusion_ranges_many([0, 5], 5)
