"""The log as C2SP tlog-tiles: paths as the spec spells them, tiles as the spec shapes them,
and proofs computed from tiles alone equal to the hub's JSON proofs and verifying against
the hub's signed checkpoint."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from hub.api.app import create_app
from hub.store import ResultStore
from hub.translog import MemoryStorage, TransparencyLog
from hub.translog.tiles import TileNotFoundError, tile_bytes
from protocol import checkpoint, merkle, tiles
from protocol.tiles import TileError, TileId, TileReader
from tests.hub.translog_support import sqlite_log

NOW = dt.datetime(2024, 2, 14, 20, 0, tzinfo=dt.UTC)
LOG = "log-31-71"
V1 = "/api/v1"


def _entries(n: int, start: int = 0) -> list[bytes]:
    return [b'{"payload":"hasil-%d"}' % i for i in range(start, start + n)]


@pytest.mark.parametrize(
    ("tile", "path"),
    [
        (TileId(0, 1234067), "tile/0/x001/x234/067"),  # the spec's example index
        (TileId(0, 0), "tile/0/000"),
        (TileId(2, 1000, 17), "tile/2/x001/000.p/17"),
        (TileId(None, 5), "tile/entries/005"),
        (TileId(None, 3, 112), "tile/entries/003.p/112"),
    ],
)
def test_tile_paths_are_the_specs(tile, path):
    assert tile.path() == path
    assert tiles.parse_path(path) == tile


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/x000/001",  # a second spelling of index 1
        "tile/00/001",  # a leading zero in the level
        "tile/64/001",
        "tile/0/1",
        "tile/0/001.p/0",
        "tile/0/001.p/256",
        "tile/0/001.p/017",
        "tile/0/001/",
        "tile/../001",
        "tile/entries/x1/001",
    ],
)
def test_paths_outside_the_spec_are_refused(path):
    with pytest.raises(TileError):
        tiles.parse_path(path)


def tiles_of(tree_size: int) -> list[tiles.TileId]:
    """Every hash tile a tree of ``tree_size`` leaves has, level by level."""
    found = []
    level = 0
    while tiles.hashes_at(level, tree_size) > 0:
        count = -(-tiles.hashes_at(level, tree_size) // tiles.WIDTH)
        found.extend(tiles.tile_for(level, n, tree_size) for n in range(count))
        level += 1
    return found


def test_tree_of_70000_has_the_tiles_the_spec_lists():
    # "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial
    # level 0 tile of width 112, one full level 1 tile, one partial level 1 tile of width
    # 17, and one partial level 2 tile of width 1"
    found = tiles_of(70_000)
    by_level = {level: [t for t in found if t.level == level] for level in (0, 1, 2)}
    assert len(found) == 273 + 1 + 1 + 1 + 1
    assert [t.width for t in by_level[0]] == [256] * 273 + [112]
    assert [t.width for t in by_level[1]] == [256, 17]
    assert [t.width for t in by_level[2]] == [1]
    assert [(t.level, t.width) for t in tiles_of(256)] == [(0, 256), (1, 1)]


def test_entry_bundle_round_trip_and_limits():
    entries = [b"", b"a", b"x" * 0xFFFF]
    assert tiles.decode_bundle(tiles.encode_bundle(entries), 3) == entries
    with pytest.raises(TileError):
        tiles.encode_bundle([b"x" * 0x10000])
    with pytest.raises(TileError, match="not 2"):
        tiles.decode_bundle(tiles.encode_bundle(entries), 2)
    with pytest.raises(TileError, match="inside"):
        tiles.decode_bundle(tiles.encode_bundle(entries)[:-1], 3)


@pytest.fixture(scope="module")
def big_log() -> tuple[TransparencyLog, Ed25519PrivateKey, list[int]]:
    """A log of 70,000 leaves with checkpoints at several sizes: three tile levels."""
    key = Ed25519PrivateKey.generate()
    log = TransparencyLog(MemoryStorage())
    sizes = [1, 255, 256, 257, 65_536, 70_000]
    done = 0
    for size in sizes:
        log.append_many(_entries(size - done, done))
        log.sign_tree_head(key, LOG, NOW)
        done = size
    return log, key, sizes


def _reader_of(log: TransparencyLog) -> TileReader:
    storage = log.storage

    def fetch(path: str) -> bytes:
        if path == "checkpoint":
            signed = storage.checkpoint()
            assert signed is not None
            return signed
        return tile_bytes(storage, tiles.parse_path(path))

    return TileReader(fetch)


def test_proofs_from_tiles_alone_equal_the_logs_and_verify(big_log):
    log, key, sizes = big_log
    reader = _reader_of(log)
    verifier = checkpoint.verifier_for(LOG, key.public_key())
    latest = checkpoint.verify(reader.checkpoint(), [verifier], origin=LOG).checkpoint
    assert latest.tree_size == 70_000
    assert reader.root(70_000) == latest.root_hash
    for size in sizes:
        assert reader.root(size) == log.root(size)
    for index, size in [
        (0, 1),
        (254, 255),
        (255, 256),
        (256, 257),
        (65_535, 65_536),
        (65_536, 70_000),
        (12_345, 70_000),
        (69_999, 70_000),
        (0, 70_000),
    ]:
        proof = reader.inclusion_proof(index, size)
        assert proof == log.inclusion_proof(index, size)
    for index in (0, 12_345, 69_999):
        entry = log.entry(index)
        checkpoint.check_inclusion(latest, entry, index, reader.inclusion_proof(index, 70_000))
    for old, new in [
        (1, 255),
        (255, 256),
        (256, 257),
        (257, 65_536),
        (65_536, 70_000),
        (1, 70_000),
    ]:
        proof = reader.consistency_proof(old, new)
        assert proof == log.consistency_proof(old, new)
        old_cp = checkpoint.parse_text(
            checkpoint.verify(log.checkpoint(old) or b"", [verifier]).note.text
        )
        new_cp = checkpoint.verify(log.checkpoint(new) or b"", [verifier]).checkpoint
        checkpoint.check_consistency(old_cp, new_cp, proof)
    assert reader.entries(65_530, 65_540, 70_000) == _entries(10, 65_530)


def test_tiles_past_the_latest_checkpoint_are_not_served(big_log):
    log, _, _ = big_log
    assert len(tile_bytes(log.storage, TileId(0, 273, 112))) == 112 * 32
    assert len(tile_bytes(log.storage, TileId(0, 273, 100))) == 100 * 32  # a prefix
    for beyond in (
        TileId(0, 273, 113),
        TileId(0, 273),
        TileId(0, 274, 1),
        TileId(3, 0, 1),
        TileId(None, 273, 113),
    ):
        with pytest.raises(TileNotFoundError):
            tile_bytes(log.storage, beyond)


def test_a_forged_tile_fails_the_checkpoint(big_log):
    log, key, _ = big_log
    honest = _reader_of(log)

    def forging(path: str) -> bytes:
        data = honest._fetch(path)
        if path == "tile/0/100":  # one leaf hash of a full tile changed
            data = data[: 32 * 5] + hashlib.sha256(b"forged").digest() + data[32 * 6 :]
        return data

    reader = TileReader(forging)
    verifier = checkpoint.verifier_for(LOG, key.public_key())
    latest = checkpoint.verify(reader.checkpoint(), [verifier]).checkpoint
    # The root is folded from level-1 tiles, so the forgery shows in the proofs that read it.
    assert reader.root(70_000) == latest.root_hash
    index = 100 * 256 + 7  # the forged leaf's neighbour: its proof holds the forged hash
    proof = reader.inclusion_proof(index, 70_000)
    with pytest.raises(merkle.InclusionProofError):
        checkpoint.check_inclusion(latest, log.entry(index), index, proof)
    with pytest.raises(TileError, match="does not hash to its leaf"):
        reader.entries(100 * 256, 100 * 256 + 10, 70_000)


# -- served by the hub's API, next to its JSON proofs -----------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TestClient, TransparencyLog, Ed25519PrivateKey]]:
    path = tmp_path / "hub.sqlite3"
    storage = sqlite_log(path, LOG)
    key = Ed25519PrivateKey.generate()
    log = TransparencyLog(storage)
    for size in (3, 300, 600):
        log.append_many(_entries(size - log.size, log.size))
        log.sign_tree_head(key, LOG, NOW)
    app = create_app(
        lambda: ResultStore.open(str(path), now=NOW), log_id=LOG, training_log_id=LOG + "-latihan"
    )
    with TestClient(app) as client:
        yield client, log, key
    storage.close()  # type: ignore[attr-defined]


def _http_reader(client: TestClient) -> TileReader:
    def fetch(path: str) -> bytes:
        response = client.get(f"{V1}/logs/{LOG}/{path}")
        assert response.status_code == 200, response.text
        return response.content

    return TileReader(fetch)


def _leaf_sha(index: int) -> str:
    # The placeholder documents of tests/hub/translog_support.py, found by this hash.
    entry = _entries(1, index)[0]
    return hashlib.sha256(b"%s/%d/%s" % (LOG.encode(), index, entry)).hexdigest()


def test_tile_proofs_agree_with_the_json_proof_api(served):
    client, log, key = served
    reader = _http_reader(client)
    verifier = checkpoint.verifier_for(LOG, key.public_key())
    latest = checkpoint.verify(reader.checkpoint(), [verifier], origin=LOG).checkpoint
    assert (latest.tree_size, latest.root_hash) == (600, log.root())
    for index in (0, 2, 255, 256, 299, 599):
        answer = client.get(f"{V1}/documents/{_leaf_sha(index)}/inclusion").json()
        assert answer["tree_size"] == 600 and answer["leaf_index"] == index
        proof = reader.inclusion_proof(index, 600)
        assert [h.hex() for h in proof] == answer["inclusion_proof"]
        checkpoint.check_inclusion(latest, log.entry(index), index, proof)
    for old in (3, 300):
        answer = client.get(f"{V1}/logs/{LOG}/consistency", params={"old_size": old}).json()
        proof = reader.consistency_proof(old, 600)
        assert [h.hex() for h in proof] == answer["consistency_proof"]
        kept = checkpoint.verify(log.checkpoint(old) or b"", [verifier]).checkpoint
        checkpoint.check_consistency(kept, latest, proof)


def test_tile_responses_carry_the_specs_types_and_caching(served):
    client, _, _ = served
    head = client.get(f"{V1}/logs/{LOG}/checkpoint")
    assert head.headers["content-type"] == "text/plain; charset=utf-8"
    assert "no-cache" in head.headers["cache-control"]
    assert head.text.startswith(f"{LOG}\n600\n")
    full = client.get(f"{V1}/logs/{LOG}/tile/0/001")
    assert full.headers["content-type"] == "application/octet-stream"
    assert "immutable" in full.headers["cache-control"] and len(full.content) == 256 * 32
    bundle = client.get(f"{V1}/logs/{LOG}/tile/entries/002.p/88")
    assert tiles.decode_bundle(bundle.content, 88) == _entries(88, 512)
    level_one = client.get(f"{V1}/logs/{LOG}/tile/1/000.p/2").content
    assert level_one == merkle.root_of_entries(_entries(256)) + merkle.root_of_entries(
        _entries(256, 256)
    )
    assert client.get(f"{V1}/logs/{LOG}/tile/0/002").status_code == 404  # still partial
    assert client.get(f"{V1}/logs/{LOG}/tile/0/x000/002").status_code == 400
    assert client.get(f"{V1}/logs/log-nowhere/checkpoint").status_code == 404
    assert client.get(f"{V1}/logs/{LOG}-latihan/checkpoint").status_code == 404  # none yet


# -- tile bytes against RFC 9162's definitions, computed here with hashlib alone -----------------


def _rfc9162_leaf(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def _rfc9162_mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 section 2.1.1 over leaf hashes: split at the largest power of
    two below n, recursively. Written from the RFC, sharing nothing with protocol/merkle."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _rfc9162_mth(leaves[:k]) + _rfc9162_mth(leaves[k:])).digest()


@pytest.fixture
def served_300(tmp_path: Path) -> Iterator[tuple[TestClient, Ed25519PrivateKey]]:
    path = tmp_path / "hub.sqlite3"
    storage = sqlite_log(path, LOG)
    key = Ed25519PrivateKey.generate()
    log = TransparencyLog(storage)
    log.append_many(_entries(300))
    log.sign_tree_head(key, LOG, NOW)
    app = create_app(
        lambda: ResultStore.open(str(path), now=NOW), log_id=LOG, training_log_id=LOG + "-latihan"
    )
    with TestClient(app) as client:
        yield client, key
    storage.close()  # type: ignore[attr-defined]


def test_served_tiles_hold_the_rfc9162_hashes_computed_independently(served_300):
    client, _ = served_300

    def get(path: str) -> bytes:
        response = client.get(f"{V1}/logs/{LOG}/{path}")
        assert response.status_code == 200, (path, response.text)
        return response.content

    entries = _entries(300)
    leaves = [_rfc9162_leaf(e) for e in entries]
    # Level 0: a full tile of leaves 0..255 and a partial one of the 44 after it.
    assert get("tile/0/000") == b"".join(leaves[:256])
    assert get("tile/0/001.p/44") == b"".join(leaves[256:])
    # Level 1: its one complete hash is the root of the first 256 leaves.
    assert get("tile/1/000.p/1") == _rfc9162_mth(leaves[:256])
    # Entry bundles: each entry after its big-endian uint16 length.
    bundle = b"".join(len(e).to_bytes(2, "big") + e for e in entries)
    first_256 = sum(2 + len(e) for e in entries[:256])
    assert get("tile/entries/000") == bundle[:first_256]
    assert get("tile/entries/001.p/44") == bundle[first_256:]
    # The checkpoint's body (c2sp.org/tlog-checkpoint): origin, size, base64 of MTH(D[300]).
    origin, size, root = get("checkpoint").decode().split("\n")[:3]
    assert (origin, size) == (LOG, "300")
    assert base64.b64decode(root) == _rfc9162_mth(leaves)
