"""`tps-verify recount` against a real hub: results through the real ingest path (a rescan, a
held result, a training result), `tps-hub serve` on a loopback port, and the recount reading
only its tiles and its published recapitulation over HTTP, with the region's CA."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.broker_process import free_port
from hub.translog import MemoryStorage, TransparencyLog
from hub.translog.tiles import tile_bytes
from protocol import certs, checkpoint, recount, tiles
from protocol.recount_cli import _json_getter, http_get, judge_with
from tests.hub.test_api_support import (
    ELECTION,
    FORM,
    TPS_A,
    TPS_B,
    TPS_C,
    TPS_D,
    WITNESS,
    FilledHub,
    fill_hub,
    form,
    write_hub_toml,
)
from tests.hub.test_dashboard_chromium import serving
from tests.hub.test_store_support import LOG_ID

VERIFY = Path(sys.executable).parent / "tps-verify"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> FilledHub:
    return fill_hub(tmp_path_factory.mktemp("recount"))


@pytest.fixture(scope="module")
def server(hub: FilledHub) -> Iterator[str]:
    port = free_port()
    with serving(hub, write_hub_toml(hub, port), port) as address:
        yield address + "/api/v1"


def run_recount(
    hub: FilledHub, api: str, state: Path, log: str = LOG_ID, *options: str
) -> tuple[int, dict]:
    done = subprocess.run(
        [
            str(VERIFY),
            "recount",
            "--hub",
            api,
            "--log",
            log,
            "--ca",
            str(hub.root / "ca" / "ca.cert.pem"),
            "--state",
            str(state),
            "--json",
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 1, 3), done.stderr
    return done.returncode, json.loads(done.stdout)


def test_recount_agrees_with_the_hub_then_resumes_and_names_a_planted_difference(
    hub, server, tmp_path
):
    state = tmp_path / "state.sqlite"
    code, first = run_recount(hub, server, state)
    assert first["differences"] == [] and first["refused"] == [], first
    assert code == 0 and first["agrees"] and first["tree_size"] == 5 and first["read_from"] == 0
    # d1's votes are above its registered voters: the hub holds it out, and says so.
    assert [h["tps"] for h in first["held"]] == [[TPS_D]]

    # More results: a rescan at TPS B; the second run reads only them, after a
    # consistency proof from the checkpoint it kept.
    hub.send("b2", TPS_B, form(11), seq=2, prev_sha256=hub.sha("b1"))
    code, second = run_recount(hub, server, state)
    assert code == 0 and second["agrees"], second
    assert (second["read_from"], second["tree_size"]) == (5, 6)
    with sqlite3.connect(state) as kept:  # the state is a SQLite file, added to in place
        assert kept.execute("SELECT count(*) FROM versions").fetchone() == (6,)

    # A hub whose published totals are not its log's: one kecamatan's number changed.
    kecamatan = ".".join(TPS_A.split(".")[:3])
    with sqlite3.connect(hub.url) as db:
        (totals,) = db.execute(
            "SELECT totals FROM recap_totals WHERE region = ? AND is_training = 0", (kecamatan,)
        ).fetchone()
        planted = json.loads(totals)
        field = sorted(planted)[0]
        honest = planted[field][0]
        planted[field][0] = honest + 7
        db.execute(
            "UPDATE recap_totals SET totals = ? WHERE region = ? AND is_training = 0",
            (json.dumps(planted), kecamatan),
        )
    try:
        code, third = run_recount(hub, server, state)
        assert code == 1 and not third["agrees"]
        assert third["read_from"] == 6  # nothing new to read: only compared again
        assert any(
            f"kecamatan {kecamatan}: {field}: hub {honest + 7}, recount {honest}" in line
            for line in third["differences"]
        ), third["differences"]
        assert len(third["differences"]) == 1
    finally:
        with sqlite3.connect(hub.url) as db:
            db.execute(
                "UPDATE recap_totals SET totals = ? WHERE region = ? AND is_training = 0",
                (totals, kecamatan),
            )


def test_training_log_recounted_apart(hub, server, tmp_path):
    code, answer = run_recount(hub, server, tmp_path / "latihan.sqlite", LOG_ID + "-latihan")
    assert code == 0 and answer["agrees"] and answer["tree_size"] == 1, answer


def test_a_hub_counting_a_superseded_version_is_named_at_its_tps(hub, server, tmp_path):
    # The hub's current version of TPS A set back to a1, which a2 (seq 2) replaced.
    with sqlite3.connect(hub.url) as db:
        ids = dict(
            db.execute(
                "SELECT document_sha256, id FROM documents WHERE document_sha256 IN (?, ?)",
                (hub.sha("a1"), hub.sha("a2")),
            ).fetchall()
        )
        db.execute(
            "UPDATE current_results SET document_id = ? WHERE document_id = ?",
            (ids[hub.sha("a1")], ids[hub.sha("a2")]),
        )
    try:
        code, answer = run_recount(hub, server, tmp_path / "state.sqlite")
        assert code == 1
        changed = [
            f for f in sorted(hub.fields["a2"]) if hub.fields["a1"][f] != hub.fields["a2"][f]
        ]
        named = {
            d for d in answer["differences"] if d.startswith(f"{ELECTION} {FORM} tps {TPS_A}:")
        }
        assert named == {
            f"{ELECTION} {FORM} tps {TPS_A}: {f}: hub {hub.fields['a1'][f]}, "
            f"recount {hub.fields['a2'][f]}"
            for f in changed
        }
    finally:
        with sqlite3.connect(hub.url) as db:
            db.execute(
                "UPDATE current_results SET document_id = ? WHERE document_id = ?",
                (ids[hub.sha("a2")], ids[hub.sha("a1")]),
            )


def test_a_recount_while_the_hub_ingests_names_no_false_differences(hub, server, tmp_path):
    now = dt.datetime.now(dt.UTC)
    ca = certs.load_certificate((hub.root / "ca" / "ca.cert.pem").read_bytes())
    hub_cert = certs.load_certificate(http_get(f"{server}/hub-certificate"))
    hub_key = checkpoint.hub_verifier(LOG_ID, hub_cert, ca, now)
    reader = tiles.TileReader(lambda path: http_get(f"{server}/logs/{LOG_ID}/{path}"))
    state = recount.State(LOG_ID)
    read = recount.update(state, reader, hub_key, _judge(hub))
    # The hub logs a rescan at TPS C after the checkpoint the recount read.
    hub.send("c2", TPS_C, form(12), seq=2, prev_sha256=hub.sha("c1"))
    published = recount.Published(_json_getter(server), training=False)

    def compare() -> list[str]:
        counting = state.counting()
        return recount.compare(counting, recount.held(counting, {}), published)

    def hub_size() -> int:
        return checkpoint.verify(reader.checkpoint(), [hub_key]).checkpoint.tree_size

    assert compare(), "compared anyway, the new result shows as differences at TPS C and up"
    moved = recount.while_at(read.new_size, hub_size, compare)
    assert moved == recount.MovedOn(read.new_size, read.new_size + 1)

    # The command reads what was logged meanwhile, then compares: the hub agrees with its log.
    code, answer = run_recount(hub, server, tmp_path / "state.sqlite")
    assert (code, answer["agrees"], answer["compared"]) == (0, True, True), answer
    assert answer["tree_size"] == answer["hub_tree_size"] == read.new_size + 1

    # Requiring the witness, the log is read up to the checkpoint it cosigned (size 3); the
    # hub's totals count results past it, so they are not compared, and nothing is named.
    assert hub.witness is not None
    witnessed = ("--witness", hub.witness.vkey(), "--witnesses-required", "1")
    code, answer = run_recount(hub, server, tmp_path / "witnessed.sqlite", LOG_ID, *witnessed)
    assert code == 3 and not answer["agrees"] and answer["differences"] == [], answer
    assert (answer["tree_size"], answer["cosigned_by"]) == (3, [WITNESS])
    assert (answer["compared"], answer["hub_tree_size"]) == (False, read.new_size + 1)
    files = ("--ca", str(hub.root / "ca" / "ca.cert.pem"), "--state", str(tmp_path / "w.sqlite"))
    said = subprocess.run(
        [str(VERIFY), "recount", "--hub", server, "--log", LOG_ID, *witnessed, *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert said.returncode == 3 and "[DIFF]" not in said.stdout, said.stdout + said.stderr
    assert said.stdout.rstrip().splitlines()[-1].startswith("HASIL: belum dibandingkan")
    assert f"the hub's log is at size {read.new_size + 1}, not the 3 recounted" in said.stdout


# -- the log itself: a rewritten log, entries that are not the log's, invalid entries --------


def _fetch(log: TransparencyLog):  # type: ignore[no-untyped-def]
    def fetch(path: str) -> bytes:
        if path == "checkpoint":
            return log.checkpoint() or b""
        return tile_bytes(log.storage, tiles.parse_path(path))

    return fetch


def _judge(hub: FilledHub) -> recount.JudgeMany:
    ca = certs.load_certificate((hub.root / "ca" / "ca.cert.pem").read_bytes())
    return recount.in_order(judge_with(ca, None, dt.datetime.now(dt.UTC)))


def test_a_rewritten_log_is_refused_on_resume(hub):
    key = Ed25519PrivateKey.generate()
    verifier = checkpoint.verifier_for("log-x", key.public_key())
    now = dt.datetime.now(dt.UTC)
    honest = TransparencyLog(MemoryStorage())
    honest.append_many([hub.signed["a1"], hub.signed["b1"], hub.signed["c1"]])
    honest.sign_tree_head(key, "log-x", now)
    state = recount.State("log-x")
    recount.update(state, tiles.TileReader(_fetch(honest)), verifier, _judge(hub))
    assert state.size == 3 and not state.refused

    # The same key signs a log whose first entries differ (c1 dropped), then grown.
    forked = TransparencyLog(MemoryStorage())
    forked.append_many([hub.signed["a1"], hub.signed["b1"], hub.signed["a2"], hub.signed["d1"]])
    forked.sign_tree_head(key, "log-x", now)
    kept = (state.signed_checkpoint, state.size, state.counting())
    with pytest.raises(recount.RecountError, match="does not extend"):
        recount.update(state, tiles.TileReader(_fetch(forked)), verifier, _judge(hub))
    assert (state.signed_checkpoint, state.size, state.counting()) == kept  # nothing taken


def test_entries_that_are_not_the_logs_are_refused(hub):
    key = Ed25519PrivateKey.generate()
    verifier = checkpoint.verifier_for("log-x", key.public_key())
    log = TransparencyLog(MemoryStorage())
    log.append_many([hub.signed["a1"], hub.signed["b1"]])
    log.sign_tree_head(key, "log-x", dt.datetime.now(dt.UTC))
    honest = _fetch(log)

    def swapping(path: str) -> bytes:
        if path.startswith("tile/entries/"):
            return tiles.encode_bundle([hub.signed["a1"], hub.signed["c1"]])
        return honest(path)

    with pytest.raises(recount.RecountError, match="not its log"):
        recount.update(recount.State("log-x"), tiles.TileReader(swapping), verifier, _judge(hub))


def test_an_entry_that_is_not_a_valid_result_is_named_and_not_counted(hub):
    key = Ed25519PrivateKey.generate()
    verifier = checkpoint.verifier_for("log-x", key.public_key())
    log = TransparencyLog(MemoryStorage())
    forged = json.loads(hub.signed["c1"])  # c1's kit and signature over a1's numbers
    forged["envelope"]["payload"] = json.loads(hub.signed["a1"])["envelope"]["payload"]
    log.append_many([hub.signed["a1"], json.dumps(forged).encode(), hub.signed["b1"]])
    log.sign_tree_head(key, "log-x", dt.datetime.now(dt.UTC))
    state = recount.State("log-x")
    progress = recount.update(state, tiles.TileReader(_fetch(log)), verifier, _judge(hub))
    assert [leaf for leaf, _ in progress.refused] == [1]
    assert progress.refused[0][1].startswith("BadSignatureError"), progress.refused
    assert len(state.counting()) == 2 and state.refused == {1: progress.refused[0][1]}


# -- the operator's decisions: published, applied by the recount, named -----------------------

HUB_BIN = Path(sys.executable).parent / "tps-hub"


def _getter(api: str):  # type: ignore[no-untyped-def]
    return lambda path, query: json.loads(
        http_get(f"{api}/{path}?{'&'.join(f'{k}={v}' for k, v in query.items())}")
    )


def _hub_cli(config: Path, *args: str) -> str:
    done = subprocess.run(
        [str(HUB_BIN), *args, "--config", str(config)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_compromised_kit_and_a_released_held_result_agree_between_hub_and_recount(tmp_path):
    own = fill_hub(tmp_path / "hub")
    port = free_port()
    config = write_hub_toml(own, port)
    state = tmp_path / "state.sqlite"
    with serving(own, config, port) as address:
        api = address + "/api/v1"
        code, before = run_recount(own, api, state)
        assert code == 0 and before["decisions_applied"] == [], before
        assert [h["tps"] for h in before["held"]] == [[TPS_D]]

        kit_a = own.kits[TPS_A]
        _hub_cli(
            config, "declare-compromised", "--kit", kit_a, "--by", "Ketua KPU", "--reason", "x"
        )
        _hub_cli(
            config, "hold", "--document", own.sha("d1"), "--release", "--by", "Ani", "--reason", "y"
        )
        published = json.loads(http_get(f"{api}/decisions"))["decisions"]
        assert [(d["kind"], d["kit"], d["decided_by"]) for d in published] == [
            ("kit-compromised", kit_a, "Ketua KPU"),
            ("result-released", None, "Ani"),
        ]
        d1 = published[1]["document"]
        assert (d1["sha256"], d1["log"], d1["tps"]) == (own.sha("d1"), LOG_ID, TPS_D)

        code, after = run_recount(own, api, state)
        assert code == 0 and after["agrees"] and after["differences"] == [], after
        assert after["held"] == []  # d1 released: in both totals
        assert len(after["decisions_applied"]) == 2
        assert f"kit {kit_a} declared compromised by Ketua KPU" in after["decisions_applied"][0]
        assert "none of its 2 results in this log count" in after["decisions_applied"][0]
        assert (
            f"{TPS_D} {FORM} seq 1 of kit {own.kits[TPS_D]} (leaf {d1['leaf_index']}) "
            "released into the totals by Ani" in after["decisions_applied"][1]
        )

        # Without the decisions the same log gives other totals: they are what made it agree.
        with recount.State(LOG_ID, state) as kept:
            blind = kept.counting()
            differences = recount.compare(
                blind, recount.held(blind, {}), recount.Published(_getter(api), training=False)
            )
        assert any(d.startswith(f"{ELECTION} {FORM} tps {TPS_A}:") for d in differences)
        assert f"{ELECTION} {FORM} tps {TPS_D}: held by the recount, not by the hub" in differences


def test_a_decision_naming_another_document_than_the_logs_leaf_is_not_applied(hub):
    key = Ed25519PrivateKey.generate()
    verifier = checkpoint.verifier_for("log-x", key.public_key())
    log = TransparencyLog(MemoryStorage())
    log.append_many([hub.signed["a1"], hub.signed["d1"]])
    log.sign_tree_head(key, "log-x", dt.datetime.now(dt.UTC))
    state = recount.State("log-x")
    recount.update(state, tiles.TileReader(_fetch(log)), verifier, _judge(hub))
    release = {
        "id": 4,
        "kind": "result-released",
        "kit": None,
        "decided_by": "Ani",
        "decided_at": "2024-02-15T01:00:00Z",
        "reason": "dicek",
        # d1's hash, but leaf 0 (a1): a hub releasing one result while naming another.
        "document": {
            "sha256": hub.sha("d1"),
            "log": "log-x",
            "leaf_index": 0,
            "election": ELECTION,
            "tps": TPS_D,
            "form": FORM,
            "kit": hub.kits[TPS_D],
            "seq": 1,
        },
    }
    found = recount.apply_decisions([release], state)
    assert found.released == {} and found.applied == []
    assert found.problems == [
        f"decision 4 (result-released) names document {hub.sha('d1')[:12]} at leaf 0, but the "
        f"log's entry there is {hub.sha('a1')[:12]}: not applied"
    ]
    assert recount.held(state.counting(), found.released) == {(ELECTION, FORM): {TPS_D}}
    release["document"]["leaf_index"] = 1  # type: ignore[index]
    found = recount.apply_decisions([release], state)
    assert found.released == {1: True} and not found.problems
    assert recount.held(state.counting(), found.released) == {}


# -- the state file: resumed in another process, after more entries ----------------------------


def test_a_resumed_recount_from_its_sqlite_file_agrees_with_a_fresh_one(hub, tmp_path):
    key = Ed25519PrivateKey.generate()
    verifier = checkpoint.verifier_for("log-x", key.public_key())
    log = TransparencyLog(MemoryStorage())
    log.append_many([hub.signed["a1"], hub.signed["b1"], hub.signed["c1"]])
    log.sign_tree_head(key, "log-x", dt.datetime.now(dt.UTC))
    path = tmp_path / "kept.sqlite"
    with recount.State("log-x", path) as state:
        recount.update(state, tiles.TileReader(_fetch(log)), verifier, _judge(hub))
    log.append_many([hub.signed["a2"], hub.signed["d1"]])
    log.sign_tree_head(key, "log-x", dt.datetime.now(dt.UTC))
    with recount.State("log-x", path) as resumed:
        progress = recount.update(resumed, tiles.TileReader(_fetch(log)), verifier, _judge(hub))
        assert (progress.old_size, progress.new_size) == (3, 5)
        fresh = recount.State("log-x")
        recount.update(fresh, tiles.TileReader(_fetch(log)), verifier, _judge(hub))
        assert resumed.counting() == fresh.counting()
        assert resumed.frontier == fresh.frontier
        assert resumed.counting()[(ELECTION, FORM, TPS_A)].seq == 2  # a2 replaced a1
    with pytest.raises(recount.RecountError, match="not log-y"):
        recount.State("log-y", path)
    (tmp_path / "old.json").write_text('{"format": "tps-recount-state/1"}')
    with pytest.raises(recount.RecountError, match="start afresh"):
        recount.State("log-x", tmp_path / "old.json")


def test_two_recounts_on_one_state_file_do_not_mix_their_runs(hub, server, tmp_path):
    state = tmp_path / "state.sqlite"
    code, _ = run_recount(hub, server, state)
    assert code == 0
    other = sqlite3.connect(state, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another recount mid-run on the same file
        done = subprocess.run(
            [
                str(VERIFY),
                "recount",
                "--hub",
                server,
                "--log",
                LOG_ID,
                "--ca",
                str(hub.root / "ca" / "ca.cert.pem"),
                "--state",
                str(state),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2
        assert f"the state file {state} cannot be written" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    finally:
        other.close()


def test_a_contest_whose_every_tps_is_held_agrees_with_a_hub_showing_none_in():
    tps = "31.71.01.1001.001"
    key = ("pemilu-2024", "ppwp-plano", tps)
    counting = {key: recount.Counted("kit-1", 1, 0, {"IV.1": 99999}, "a" * 64)}
    empty = {"region": "", "tps_reported": 0, "totals": {}}
    views = {"": {"region": empty, "children": [], "held_tps": [tps]}}

    def get(path: str, query: dict[str, str]) -> object:
        if path == "contests":
            return {"contests": [{"election": key[0], "form": key[1]}]}
        return views[query["region"]]

    published = recount.Published(get, training=False)
    assert recount.compare(counting, {key[:2]: {tps}}, published) == []
    # The same hub counting it after all is named.
    views[""]["region"] = {"region": "", "tps_reported": 1, "totals": {"IV.1": 99999}}
    assert recount.compare(counting, {key[:2]: {tps}}, published) != []
