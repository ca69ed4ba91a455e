"""`tps-hub import DIR`: a kit's USB export (written by the kit's own outbox code) ingested."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner

from edge.outbox.store import Outbox
from hub.cli import main
from hub.errors import ExportFormatError
from hub.store import ResultStore
from hub.usbimport import read_export
from protocol import ack as acks
from provisioning import authority as ca
from tests.conftest import seal_next
from tests.hub import test_store_support as support
from tests.hub.test_store_support import LOG_ID, utcnow

hub_setup = support.hub_setup

TPS = "31.71.01.1001.001"


def _pages(seq: int) -> list[bytes]:
    return [b"jpeg of page %d of seq %d" % (p, seq) * 40 for p in (1, 2)]


@pytest.fixture
def stick(hub_setup, tmp_path) -> Path:
    """A kit's export of three chained results with two page images each."""
    kit = hub_setup.region.kit(TPS)
    with Outbox.open(tmp_path / "outbox.sqlite3") as outbox:
        for _ in range(3):
            images = _pages(outbox.next_chain().seq)
            seal_next(outbox, kit, dict(enumerate(images, start=1)))
        outbox.export(tmp_path / "usb")
    return tmp_path / "usb"


@pytest.fixture
def config(hub_setup, tmp_path) -> Path:
    authority = hub_setup.region.authority
    path = tmp_path / "hub.toml"
    path.write_text(
        tomli_w.dumps(
            {
                "hub": {"id": hub_setup.signer.hub_id, "log_id": LOG_ID},
                "paths": {
                    "key": str(hub_setup.hub_dir / "hub.key.pem"),
                    "certificate": str(hub_setup.hub_dir / "hub.cert.pem"),
                    "ca_certificate": str(authority.directory / ca.CERT_FILE),
                    "crl": str(authority.directory / ca.CRL_FILE),
                },
                "database": {"url": "hub.sqlite3"},
            }
        )
    )
    return path


def _import(config: Path, stick: Path):
    return CliRunner().invoke(main, ["import", "--config", str(config), str(stick)])


def test_import_ingests_every_file_and_is_repeatable(config, stick, hub_setup, tmp_path):
    run = _import(config, stick)
    assert run.exit_code == 0, run.output
    lines = run.output.splitlines()
    assert lines[0].startswith("export of kit kit-") and "9 files" in lines[0]
    assert sum("accepted (seq" in line for line in lines) == 3
    assert sum("image stored" in line for line in lines) == 6
    assert "now the current version" in lines[3]
    store = ResultStore.open(str(tmp_path / "hub.sqlite3"), now=utcnow())
    try:
        versions = store.versions("pemilu-2024", TPS, "ppwp-plano")
        assert [(d.seq, d.chain_status, d.source) for d in versions] == [
            (1, "ok", "usb"),
            (2, "ok", "usb"),
            (3, "ok", "usb"),
        ]
        # The stored ack is what the kit gets when it publishes the same document later.
        ca_cert = hub_setup.region.authority.cert
        for d in versions:
            acks.verify_ack(d.ack, ca_cert, at=utcnow(), published=d.signed)
        assert store.counts()["images"] == 6
    finally:
        store.close()
    again = _import(config, stick)
    assert again.exit_code == 0, again.output
    assert again.output.count("already stored") == 9


def test_import_reports_a_bad_file_keeps_the_rest_and_fails(config, stick, tmp_path):
    manifest = json.loads((stick / "manifest.json").read_text())
    second = manifest["documents"][1]["file"]
    bundle = json.loads((stick / second).read_bytes())
    bundle["envelope"]["signatures"][0]["sig"] = "A" * 86 + "=="  # a forged signature
    (stick / second).write_text(json.dumps(bundle))
    (stick / manifest["images"][-1]["file"]).unlink()
    run = _import(config, stick)
    assert run.exit_code == 1, run.output
    assert f"{second}: REJECTED bad-signature" in run.output
    assert "(file differs from the manifest: damaged in transit?)" in run.output
    assert "MISSING" in run.output
    store = ResultStore.open(str(tmp_path / "hub.sqlite3"), now=utcnow())
    try:
        seqs = [d.seq for d in store.versions("pemilu-2024", TPS, "ppwp-plano")]
        assert seqs == [1, 3]  # accepted before and after the bad file, kept
        assert [a.kind for a in store.anomalies()] == ["chain-gap"]
        # seq 2's images are refused too: no stored document names them.
        assert [r.reason_code for r in store.rejections()] == [
            "bad-signature",
            "unknown-image",
            "unknown-image",
        ]
    finally:
        store.close()


def test_not_an_export(tmp_path, config):
    (tmp_path / "empty").mkdir()
    run = _import(config, tmp_path / "empty")
    assert run.exit_code != 0 and "no manifest.json" in run.output
    escape = tmp_path / "escape"
    escape.mkdir()
    (escape / "manifest.json").write_text(
        json.dumps(
            {
                "format": "tps-outbox-export/1",
                "kit": "kit-a1",
                "documents": [{"file": "../hub.toml", "seq": 1}],
                "images": [],
            }
        )
    )
    with pytest.raises(ExportFormatError, match="not a plain file name"):
        read_export(escape)
