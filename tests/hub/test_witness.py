"""Witnesses (C2SP tlog-witness): `tps-hub witness` cosigns only a checkpoint that extends
the one it cosigned last, keeps that on disk, refuses a rewritten or forked log; the hub
collects cosignatures onto the checkpoint it serves; a reader requires k of n of them; and a
hub that shows two logs to two witnesses is caught."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from hub.cli import main as hub_cli
from hub.translog import MemoryStorage, TransparencyLog
from hub.translog.cosigning import Cosigner, WitnessEndpoint, cosigners
from hub.translog.tiles import tile_bytes
from hub.witness import Witness, create_app
from protocol import checkpoint, keys, merkle, note, recount, tiles, witnessing
from provisioning.services import enrol_service
from tests.conftest import Region

LOG = "log-31-71"
NOW = dt.datetime(2024, 2, 14, 20, 0, tzinfo=dt.UTC)


def _entries(n: int, start: int = 0, tag: bytes = b"hasil") -> list[bytes]:
    return [b"%s-%d" % (tag, i) for i in range(start, start + n)]


class Hub:
    """A log and the key that signs its checkpoints."""

    def __init__(self, key: Ed25519PrivateKey | None = None) -> None:
        self.key = key or Ed25519PrivateKey.generate()
        self.log = TransparencyLog(MemoryStorage())

    def grow(self, entries: list[bytes]) -> bytes:
        self.log.append_many(entries)
        self.log.sign_tree_head(self.key, LOG, NOW)
        signed = self.log.checkpoint()
        assert signed is not None
        return signed

    @property
    def verifier(self) -> note.Verifier:
        return checkpoint.verifier_for(LOG, self.key.public_key())


@pytest.fixture
def hub() -> Hub:
    return Hub()


def make_witness(hub: Hub, path: Path, name: str = "saksi.example/w1", key=None) -> Witness:
    return Witness(
        name, key or Ed25519PrivateKey.generate(), {LOG: [hub.verifier]}, path, lambda: NOW
    )


@pytest.fixture
def witness(hub: Hub, tmp_path: Path) -> Iterator[Witness]:
    w = make_witness(hub, tmp_path / "w1.sqlite3")
    yield w
    w.close()


def add(witness: Witness, old: int, proof: list[bytes], signed: bytes):  # type: ignore[no-untyped-def]
    return witness.add_checkpoint(witnessing.request_body(old, proof, signed))


def test_witness_cosigns_a_growing_log_and_remembers_it_across_restarts(hub, tmp_path):
    key = Ed25519PrivateKey.generate()
    first = hub.grow(_entries(5))
    w = make_witness(hub, tmp_path / "w.sqlite3", key=key)
    answer = add(w, 0, [], first)
    assert answer.status == 200 and answer.body.startswith("— saksi.example/w1 ".encode())
    cosigned = witnessing.with_cosignatures(first, answer.body)
    assert witnessing.cosigners(cosigned, [w.verifier]) == [w.verifier]
    w.close()

    again = make_witness(hub, tmp_path / "w.sqlite3", key=key)  # the same state file
    second = hub.grow(_entries(6, 5))
    stale = add(again, 0, [], second)
    assert (stale.status, stale.body, stale.content_type) == (409, b"5\n", "text/x.tlog.size")
    answer = add(again, 5, hub.log.consistency_proof(5, 11), second)
    assert answer.status == 200
    origin_hash = hashlib.sha256(LOG.encode()).hexdigest()
    latest = again.latest(origin_hash)
    assert checkpoint.verify(latest.body, [again.verifier]).checkpoint.tree_size == 11
    again.close()


def test_witness_refuses_an_inconsistent_checkpoint(hub, witness):
    first = hub.grow(_entries(5))
    assert add(witness, 0, [], first).status == 200
    # The same hub key signs a log whose leaf 2 was rewritten, then grown.
    forked = Hub(hub.key)
    forked_signed = forked.grow([*_entries(2), b"rewritten", *_entries(5, 3)])
    refused = add(witness, 5, forked.log.consistency_proof(5, 8), forked_signed)
    assert refused.status == 422 and b"not consistent" in refused.body
    same_size = Hub(hub.key).grow([*_entries(4), b"other"])
    other_root = add(witness, 5, [], same_size)
    # 422, not 409: a 409 would tell the hub "retry from size 5", which cannot help here.
    assert (other_root.status, other_root.content_type) == (422, "text/plain; charset=utf-8")
    assert b"shown two ways" in other_root.body
    assert [r.origin for r in witness.refusals()] == [LOG, LOG]
    # Its record did not move: the honest log's next checkpoint is still cosigned.
    honest = hub.grow(_entries(3, 5))
    assert add(witness, 5, hub.log.consistency_proof(5, 8), honest).status == 200


def test_a_forked_log_leaves_evidence_its_operator_can_print_and_check(hub, witness, tmp_path):
    state = tmp_path / "w1.sqlite3"
    quiet = CliRunner().invoke(hub_cli, ["witness-refusals", "--state", str(state)])
    assert quiet.exit_code == 0 and "no checkpoint refused" in quiet.output
    assert add(witness, 0, [], hub.grow(_entries(5))).status == 200
    forked = Hub(hub.key)
    forked_signed = forked.grow([*_entries(2), b"rewritten", *_entries(5, 3)])
    assert add(witness, 5, forked.log.consistency_proof(5, 8), forked_signed).status == 422

    result = CliRunner().invoke(hub_cli, ["witness-refusals", "--state", str(state)])
    assert result.exit_code == 1, result.output
    assert "1 checkpoint(s) refused" in result.output and f"{LOG}: " in result.output
    # The printed request holds the hub's own signature over the forked tree: anyone can
    # check it with the hub's key, so the hub cannot deny it.
    printed = [line.removeprefix("    ") for line in result.output.splitlines()]
    start = printed.index(LOG)
    signed = "\n".join(printed[start:]).encode() + b"\n"
    assert checkpoint.verify(signed, [hub.verifier]).checkpoint.tree_size == 8
    other = tmp_path / "not-a-witness.txt"
    other.write_text("hello")
    bad = CliRunner().invoke(hub_cli, ["witness-refusals", "--state", str(other)])
    assert bad.exit_code == 1 and "is not a witness's state file" in bad.output


def test_witness_answers_what_the_spec_says(hub, witness):
    signed = hub.grow(_entries(3))
    impostor = Hub().grow(_entries(3))  # another key's signature under the same origin
    assert add(witness, 0, [], impostor).status == 403
    other_log = checkpoint.sign(checkpoint.make("log-lain", 3, hub.log.root()), hub.key)
    assert add(witness, 0, [], other_log).status == 404
    assert witness.add_checkpoint(b"old 01\n\n" + signed).status == 400
    assert add(witness, 4, [], signed).status == 400  # old size above the checkpoint's
    assert add(witness, 0, [merkle.EMPTY_ROOT], signed).status == 422  # a proof from 0
    empty = checkpoint.sign(checkpoint.make(LOG, 0, b"\x01" * 32), hub.key)
    assert add(witness, 0, [], empty).status == 422


def test_hub_collects_cosignatures_over_http_and_serves_them(hub, tmp_path):
    witnesses = [
        make_witness(hub, tmp_path / f"w{i}.sqlite3", f"saksi.example/w{i}") for i in (1, 2)
    ]
    clients = {
        f"http://w{i}": TestClient(create_app(w)) for i, w in zip((1, 2), witnesses, strict=True)
    }

    def post(url: str, body: bytes) -> tuple[int, bytes]:
        base = url.removesuffix("/add-checkpoint")
        response = clients[base].post("/add-checkpoint", content=body)
        return response.status_code, response.content

    endpoints = [
        WitnessEndpoint(url, w.verifier) for url, w in zip(clients, witnesses, strict=True)
    ]
    cosigner = Cosigner(hub.log, endpoints, post)
    hub.grow(_entries(300))
    done = cosigner.round()
    assert done is not None and done.cosigned_by == ["saksi.example/w1", "saksi.example/w2"]
    hub.grow(_entries(20, 300))
    cosigner.sizes.clear()  # the hub restarted: the witnesses' 409s give their sizes back
    done = cosigner.round()
    assert done is not None and len(done.cosigned_by) == 2 and not done.failed
    served = hub.log.checkpoint()
    assert served is not None
    assert checkpoint.verify(served, [hub.verifier]).checkpoint.tree_size == 320
    verifiers = [w.verifier for w in witnesses]
    assert len(witnessing.require(served, verifiers, 2)) == 2
    assert cosigners(served, LOG) == ["saksi.example/w1", "saksi.example/w2"]  # the API's list

    # A reader of the tiles who requires both witnesses recounts this log's checkpoint.
    state = recount.State(LOG)
    reader = tiles.TileReader(_fetch(hub.log))
    quorum = recount.Quorum(tuple(verifiers), 2)
    progress = recount.update(state, reader, hub.verifier, _no_results, quorum)
    assert progress.cosigned_by == ("saksi.example/w1", "saksi.example/w2")
    for w in witnesses:
        w.close()


def test_a_reader_requiring_witnesses_recounts_to_the_newest_cosigned_checkpoint(hub, tmp_path):
    w = make_witness(hub, tmp_path / "w1.sqlite3")

    def post(_url: str, body: bytes) -> tuple[int, bytes]:
        answer = w.add_checkpoint(body)
        return answer.status, answer.body

    cosigner = Cosigner(hub.log, [WitnessEndpoint("http://w1", w.verifier)], post)
    hub.grow(_entries(300))
    assert cosigner.round() is not None
    # Ingest goes on: each batch signs a newer checkpoint, none of them cosigned yet.
    for start in (300, 320):
        hub.grow(_entries(20, start))
    assert witnessing.cosigners(hub.log.checkpoint(), [w.verifier]) == []
    witnessed = hub.log.cosigned_checkpoint()
    assert witnessed is not None
    assert checkpoint.verify(witnessed, [hub.verifier]).checkpoint.tree_size == 300
    assert witnessing.require(witnessed, [w.verifier], 1) == [w.verifier]

    state = recount.State(LOG)
    reader = tiles.TileReader(_fetch(hub.log))
    quorum = recount.Quorum((w.verifier,), 1)
    progress = recount.update(state, reader, hub.verifier, _no_results, quorum)
    assert (progress.new_size, progress.cosigned_by) == (300, (w.verifier.name,))
    # The next round cosigns the latest; the reader resumes from what it read.
    assert cosigner.round() is not None
    progress = recount.update(state, reader, hub.verifier, _no_results, quorum)
    assert (progress.old_size, progress.new_size) == (300, 340)
    # A state read further without witnesses is not silently rolled back to a witnessed size.
    hub.grow(_entries(5, 340))
    ahead = recount.State(LOG)
    recount.update(ahead, reader, hub.verifier, _no_results)
    with pytest.raises(recount.RecountError, match="below the 345 entries"):
        recount.update(ahead, reader, hub.verifier, _no_results, quorum)
    w.close()


def test_an_equivocating_hub_is_caught(hub, tmp_path):
    w1 = make_witness(hub, tmp_path / "w1.sqlite3", "saksi.example/w1")
    w2 = make_witness(hub, tmp_path / "w2.sqlite3", "saksi.example/w2")
    # The hub shows log A to witness 1 and log B (another entry at leaf 3) to witness 2.
    view_a = hub.grow(_entries(6))
    other = Hub(hub.key)
    view_b = other.grow([*_entries(3), b"a different result", *_entries(2, 4)])
    a = witnessing.with_cosignatures(view_a, add(w1, 0, [], view_a).body)
    b = witnessing.with_cosignatures(view_b, add(w2, 0, [], view_b).body)
    witnesses = [w1.verifier, w2.verifier]
    # A reader requiring both finds neither view cosigned by both...
    for view in (a, b):
        with pytest.raises(witnessing.QuorumError, match="1 of the 2"):
            witnessing.require(view, witnesses, 2)
    # ...and each witness refuses the other view when the hub tries to complete it.
    assert add(w2, 6, [], view_a).status == 422
    assert add(w1, 6, [], view_b).status == 422
    other.log.storage.put_checkpoint(6, b, cosigned=True)  # view B, as its hub serves it
    reader = tiles.TileReader(_fetch(other.log))
    with pytest.raises(recount.RecountError, match="not cosigned as required"):
        recount.update(
            recount.State(LOG),
            reader,
            hub.verifier,
            _no_results,
            recount.Quorum(tuple(witnesses), 2),
        )
    w1.close()
    w2.close()


def test_witness_command_prints_its_verifier_key(region: Region, tmp_path):
    hub_dir = tmp_path / "hub"
    enrol_service(region.authority, role="hub", name="hub-31-71", out=hub_dir, days=30)
    keys.write_new_key(tmp_path / "witness.key.pem")
    result = CliRunner().invoke(
        hub_cli,
        [
            "witness",
            "--name",
            "bawaslu.example/w1",
            "--key",
            str(tmp_path / "witness.key.pem"),
            "--ca",
            str(hub_dir / "ca.cert.pem"),
            "--hub-cert",
            str(hub_dir / "hub.cert.pem"),
            "--log",
            LOG,
            "--state",
            str(tmp_path / "w.sqlite3"),
            "--print-vkey",
        ],
    )
    assert result.exit_code == 0, result.output
    vkey = note.parse_vkey(result.output.strip())
    key = keys.load_private_key(tmp_path / "witness.key.pem")
    assert vkey == note.Verifier("bawaslu.example/w1", key.public_key(), note.COSIGNATURE)


def _fetch(log: TransparencyLog):  # type: ignore[no-untyped-def]
    def fetch(path: str) -> bytes:
        if path == "checkpoint":
            return log.checkpoint() or b""
        if path == tiles.WITNESSED_CHECKPOINT:
            return log.cosigned_checkpoint() or b""
        return tile_bytes(log.storage, tiles.parse_path(path))

    return fetch


def _no_results(batches):  # type: ignore[no-untyped-def]
    # These logs hold plain bytes, not signed results: each is refused, named, not counted.
    return (["not a result"] * len(batch) for batch in batches)
