"""Anyone can check the hub: it serves its region's CA certificate, CRL, registry, signed
manifest and where its signed tree heads are, and `tps-verify --hub URL` checks a result
from them alone, against a real `tps-hub serve`.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding

from hub.broker_process import free_port
from protocol import hubfetch, note
from provisioning import authority as ca
from tests.conftest import PASSPHRASE
from tests.hub.test_api_support import (
    ELECTION,
    TPS_B,
    WITNESS,
    WITNESS_URL,
    FilledHub,
    fill_hub,
    witness_vkey,
    write_hub_toml,
    write_manifest,
)
from tests.hub.test_dashboard_chromium import serving
from tests.hub.test_store_support import LOG_ID

VERIFY = Path(sys.executable).parent / "tps-verify"
DPT = {TPS_B: (100, 101), "31.71.01.1001.001": (120, 131)}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> FilledHub:
    return fill_hub(tmp_path_factory.mktemp("published"))


@pytest.fixture(scope="module")
def server(hub: FilledHub) -> Iterator[str]:
    port = free_port()
    paths = {
        "manifests": [str(write_manifest(hub, DPT))],
        "crl": str(hub.root / "ca" / "crl.pem"),
    }
    path = write_hub_toml(hub, port, paths=paths)
    with serving(hub, path, port) as address:
        yield address


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.read()


def verify(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VERIFY), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_hub_serves_what_anyone_needs_at_stable_urls(server, hub):
    index = json.loads(fetch(f"{server}/api/v1/trust"))
    files = {
        "ca_certificate_url": hub.root / "ca" / "ca.cert.pem",
        "crl_url": hub.root / "ca" / "crl.pem",
        "registry_url": hub.root / "registry.json",
    }
    for key, path in files.items():
        assert index[key] == f"/api/v1/trust/{path.name}"
        assert fetch(server + index[key]) == path.read_bytes()
    manifest = index["manifest_urls"][ELECTION]
    assert fetch(server + manifest) == (hub.root / "election.json").read_bytes()
    pem = (hub.root / "ca" / "ca.cert.pem").read_bytes()
    der = x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)
    digest = hashlib.sha256(der).hexdigest().upper()
    assert index["ca_fingerprint_sha256"].replace(":", "") == digest
    heads = {log["log_id"]: log["tree_head_url"] for log in index["logs"]}
    for url in heads.values():
        assert json.loads(fetch(server + url))["tree_size"] >= 1
    with pytest.raises(urllib.error.HTTPError) as missing:
        fetch(f"{server}/api/v1/trust/manifests/pemilu-2029.json")
    assert missing.value.code == 404


def test_the_witnesses_hub_toml_lists_are_published_with_the_policy(server, hub):
    index = json.loads(fetch(f"{server}/api/v1/trust"))
    published = json.loads(fetch(server + index["witnesses_url"]))
    assert published["witnesses"] == [
        {"name": WITNESS, "vkey": witness_vkey(hub), "url": WITNESS_URL}
    ]
    assert "a witness not listed was never asked" in published["policy"]
    for log in published["logs"]:
        assert fetch(server + log["checkpoint_url"]).startswith(log["log_id"].encode() + b"\n")


def test_tps_verify_checks_a_result_from_the_hub_url_alone(server, hub):
    done = verify("--hub", server, hub.sha("b1"))
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for check in ("certificate chain", "not revoked", "signature", "hub certificate from the CA"):
        assert f"[ok] {check}" in out
    assert "[ok] result included at leaf" in out
    # The CA came from the hub it checks: VALID only with that said, and its fingerprint.
    fingerprint = json.loads(fetch(f"{server}/api/v1/trust"))["ca_fingerprint_sha256"]
    assert "[--] CA origin not checked: the CA certificate came from the hub itself" in out
    assert fingerprint in out
    assert out.rstrip().endswith("VERDICT: VALID (not checked: CA origin, witnesses)")

    ca_from_kpu = str(hub.root / "ca" / "ca.cert.pem")
    given = verify("--hub", server, "--ca", ca_from_kpu, hub.sha("b1"))
    assert given.stdout.rstrip().endswith("VERDICT: VALID (not checked: witnesses)")
    # Everything checked: the CA from KPU, the hub's CRL, the witnesses the reader trusts.
    whole = verify(
        "--hub", server, "--ca", ca_from_kpu, "--witness", witness_vkey(hub), hub.sha("b1")
    )
    assert whole.returncode == 0 and whole.stdout.rstrip().endswith("VERDICT: VALID")


def test_a_hub_serving_its_own_ca_cannot_pass_a_reader_who_holds_kpus(server, hub, tmp_path):
    # A reader with the region's real CA (from KPU) checks what a hub signed under another.
    other = ca.init_ca(
        tmp_path / "other", region="31.71", name="Bukan KPU", passphrase=PASSPHRASE, days=30
    )
    done = verify("--hub", server, "--ca", str(other.directory / "ca.cert.pem"), hub.sha("b1"))
    assert done.returncode == 1
    assert "[FAIL] certificate chain" in done.stdout and "VERDICT: NOT VALID" in done.stdout


def test_tps_verify_names_what_the_hub_lacks(server, hub):
    done = verify("--hub", server, "0" * 64)
    assert done.returncode != 0 and "does not publish a document" in done.stderr
    unreachable = verify("--hub", f"http://127.0.0.1:{free_port()}", hub.sha("b1"))
    assert unreachable.returncode != 0 and "cannot reach the hub" in unreachable.stderr


@contextmanager
def in_front_of(server: str, rewrite: Callable[[str], str]) -> Iterator[str]:
    """A lying hub in front of the real one: every path it is asked it fetches from the real
    hub as ``rewrite`` changes it, and answers with that."""

    class Lying(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            try:
                with urllib.request.urlopen(server + rewrite(self.path), timeout=10) as answer:
                    status, body = answer.status, answer.read()
            except urllib.error.HTTPError as e:
                status, body = e.code, e.read()
            self.send_response(status)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    liar = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Lying)
    threading.Thread(target=liar.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{liar.server_port}"
    finally:
        liar.shutdown()


def test_a_hub_answering_a_receipts_hash_with_another_result_is_caught(server, hub):
    # The hub in front of the real one answers the hash of TPS C's result with TPS B's, a
    # valid signed result of the same region: the receipt's holder must not read VALID.
    asked, swapped = hub.sha("c1"), hub.sha("b1")
    swap = hubfetch.signed_url(asked), hubfetch.signed_url(swapped)
    with in_front_of(server, lambda path: path.replace(*swap)) as liar:
        done = verify("--hub", liar, asked)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"the hub was asked for document {asked} and served {swapped}" in done.stdout
    assert "VERDICT: NOT VALID" in done.stdout


def test_tps_verify_checks_an_elections_manifest_from_the_hub_url(server, hub):
    done = verify("--hub", server, "--election", ELECTION)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"election: {ELECTION}" in done.stdout
    assert "[ok] the election asked for" in done.stdout
    assert "VERDICT: VALID (not checked: CA origin, latest version)" in done.stdout
    unknown = verify("--hub", server, "--election", "pemilu-2029")
    assert unknown.returncode != 0
    assert "does not publish a manifest of election 'pemilu-2029'" in unknown.stderr
    alone = verify("--election", ELECTION, "--ca", str(hub.root / "ca" / "ca.cert.pem"))
    assert alone.returncode == 2 and "give --hub URL" in alone.stderr


def test_a_hub_answering_with_another_elections_manifest_is_caught(server, hub):
    # A validly signed manifest, but of another election than the one asked for.
    swap = hubfetch.manifest_url("pilkada-x"), hubfetch.manifest_url(ELECTION)
    with in_front_of(server, lambda path: path.replace(*swap)) as liar:
        done = verify("--hub", liar, "--election", "pilkada-x")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"the hub was asked for election 'pilkada-x' and served '{ELECTION}'" in done.stdout
    assert "VERDICT: NOT VALID" in done.stdout


def test_tps_verify_finds_a_result_in_the_checkpoint_its_witnesses_cosigned(server, hub):
    done = verify("--hub", server, "--witness", witness_vkey(hub), hub.sha("b1"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"[ok] result included in that checkpoint (size 3, cosigned by {WITNESS})" in done.stdout
    as_json = json.loads(
        verify("--hub", server, "--witness", witness_vkey(hub), "--json", hub.sha("b1")).stdout
    )
    assert as_json["witnessed"] == {"tree_size": 3, "cosigned_by": [WITNESS]}


def test_a_result_logged_after_the_witnessed_checkpoint_is_not_called_witnessed(server, hub):
    done = verify("--hub", server, "--witness", witness_vkey(hub), hub.sha("c1"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "logged after the newest checkpoint witnesses cosigned (size 3)" in done.stdout
    assert "VERDICT: NOT VALID" in done.stdout


def test_a_quorum_of_witnesses_the_hub_never_had_is_not_met(server, hub):
    key = Ed25519PrivateKey.generate().public_key()
    stranger = note.Verifier("bawaslu.example/w9", key, kind=note.COSIGNATURE).vkey()
    done = verify(
        "--hub",
        server,
        "--witness",
        witness_vkey(hub),
        "--witness",
        stranger,
        "--witnesses-required",
        "2",
        hub.sha("b1"),
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "carries 1 of the 2 witness cosignatures required" in done.stdout


def test_a_hub_passing_off_its_uncosigned_checkpoint_as_witnessed_is_caught(server, hub):
    to_latest = hubfetch.witnessed_checkpoint_url(LOG_ID), f"/api/v1/logs/{LOG_ID}/checkpoint"
    with in_front_of(server, lambda path: path.replace(*to_latest)) as liar:
        done = verify("--hub", liar, "--witness", witness_vkey(hub), hub.sha("b1"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "carries 0 of the 1 witness cosignatures required" in done.stdout


def test_witnesses_are_named_with_a_hub_and_a_result(hub):
    done = verify(
        "--witness", witness_vkey(hub), "--ca", str(hub.root / "ca" / "ca.cert.pem"), hub.sha("b1")
    )
    assert done.returncode == 2 and "give --hub URL and the result" in done.stderr
