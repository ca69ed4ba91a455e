"""The election manifest: made, signed by the region's CA, verified, and every forgery or
change refused."""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from protocol import bundle
from protocol.errors import (
    BadSignatureError,
    BindingError,
    DocumentParseError,
    FieldError,
    MalformedEnvelopeError,
    UnknownKeyError,
    UntrustedIssuerError,
    WrongPayloadTypeError,
)
from protocol.forms.loader import load_template
from protocol.manifest import KOLOM_KOSONG, OfficialDpt, check_forms, parse_manifest
from protocol.manifest_sign import BUNDLE_FORMAT, PAYLOAD_TYPE, manifest_bytes, verify_manifest
from protocol.result import sign_result
from provisioning import authority as ca
from tests.conftest import PASSPHRASE, kit_key, make_document
from tests.manifests import ppwp_manifest, signed_manifest

BIN = Path(sys.executable).parent


def _verify(data, authority):
    now = dt.datetime.now(dt.UTC)
    return verify_manifest(data, authority.cert, at=now, load_template=load_template)


def _payload(data: bytes) -> dict:
    return json.loads(base64.b64decode(json.loads(data)["envelope"]["payload"]))


def _with_payload(data: bytes, value: dict) -> bytes:
    outer = json.loads(data)
    outer["envelope"]["payload"] = base64.b64encode(
        json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
    ).decode()
    return json.dumps(outer).encode()


def test_manifest_made_signed_and_verified(region):
    data = signed_manifest(region.authority)
    verified = _verify(data, region.authority)
    m = verified.manifest
    assert m == ppwp_manifest()
    assert m.election.kind == "real"
    assert m.official_dpt("31.71.01.1001.001") == OfficialDpt(120, 131)
    assert m.official_dpt("31.71.01.1001.001").total == 251
    assert [c.form for c in m.contests_for("31.71.01.1002.001")] == ["ppwp-plano"]
    assert m.names_of("31.71.01.1002.001")["desa"] == "Cideng"
    assert m.contests[0].options[1].names == ["H. PRABOWO SUBIANTO", "GIBRAN RAKABUMING RAKA"]
    assert len(verified.sha256) == 64


def test_tampered_dpt_is_refused(region):
    data = signed_manifest(region.authority)
    value = _payload(data)
    value["tps"]["31.71.01.1001.001"]["dpt_l"] = 300  # room for 169 invented votes
    with pytest.raises(BadSignatureError):
        _verify(_with_payload(data, value), region.authority)


def test_candidate_names_swapped_after_signing_are_refused(region):
    data = signed_manifest(region.authority)
    value = _payload(data)
    options = value["contests"][0]["options"]
    options[0]["names"], options[1]["names"] = options[1]["names"], options[0]["names"]
    with pytest.raises(BadSignatureError):
        _verify(_with_payload(data, value), region.authority)


def test_manifest_signed_by_a_forged_ca_of_the_same_region_is_refused(region, tmp_path):
    forged = ca.init_ca(
        tmp_path / "forged", region="31.71", name="KPU Palsu", passphrase=PASSPHRASE, days=30
    )
    with pytest.raises(UntrustedIssuerError):
        _verify(signed_manifest(forged), region.authority)


def test_real_ca_certificate_beside_a_forger_signature_is_refused(region, tmp_path):
    forged = ca.init_ca(
        tmp_path / "forged", region="31.71", name="KPU Palsu", passphrase=PASSPHRASE, days=30
    )
    data = bundle.make_bundle(
        BUNDLE_FORMAT,
        PAYLOAD_TYPE,
        manifest_bytes(ppwp_manifest()),
        forged.key,
        region.authority.cert,
    )
    with pytest.raises((UnknownKeyError, BadSignatureError)):
        _verify(data, region.authority)


def test_manifest_for_another_region_is_refused(region):
    other = ppwp_manifest(region="31")  # the CA of 31.71 signs a manifest for the province
    with pytest.raises(BindingError):
        _verify(signed_manifest(region.authority, other), region.authority)


def test_kit_result_passed_off_as_a_manifest_is_refused(region):
    kit = region.kit("31.71.01.1001.001")
    data = sign_result(make_document(kit), kit_key(kit), kit.certificate)
    with pytest.raises(MalformedEnvelopeError):
        _verify(data, region.authority)


def test_manifest_under_a_result_payload_type_is_refused(region):
    data = bundle.make_bundle(
        BUNDLE_FORMAT,
        "application/vnd.tps-result+json",
        manifest_bytes(ppwp_manifest()),
        region.authority.key,
        region.authority.cert,
    )
    with pytest.raises(WrongPayloadTypeError):
        _verify(data, region.authority)


def test_non_canonical_payload_is_refused_even_signed(region):
    raw = json.dumps(ppwp_manifest().to_json_value(), indent=1).encode()
    data = bundle.make_bundle(
        BUNDLE_FORMAT, PAYLOAD_TYPE, raw, region.authority.key, region.authority.cert
    )
    with pytest.raises(DocumentParseError):
        _verify(data, region.authority)


def test_kolom_kosong_where_the_form_has_a_candidate_is_refused():
    value = ppwp_manifest().to_json_value()
    value["contests"][0]["options"][2]["names"] = [KOLOM_KOSONG]
    with pytest.raises(FieldError, match="no KOLOM KOSONG"):
        check_forms(parse_manifest(value), load_template)


def test_unknown_form_is_refused():
    value = ppwp_manifest().to_json_value()
    value["contests"][0]["form"] = "ppwp"
    with pytest.raises(FieldError, match="unknown form 'ppwp'"):
        check_forms(parse_manifest(value), load_template)


@pytest.mark.parametrize(
    ("path", "bad", "match"),
    [
        (("election", "kind"), "training", "contradicts the id"),
        (("election", "date"), "14-02-2024", "not a date"),
        (("region",), "31.7", "not a region code"),
    ],
)
def test_inconsistent_manifest_is_refused(path, bad, match):
    value = ppwp_manifest().to_json_value()
    target = value
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = bad
    with pytest.raises(FieldError, match=match):
        parse_manifest(value)


def test_tps_outside_the_region_or_without_names_is_refused():
    value = ppwp_manifest().to_json_value()
    value["tps"]["31.74.01.1001.001"] = {"dpt_l": 1, "dpt_p": 1}
    with pytest.raises(FieldError, match="outside the manifest's region"):
        parse_manifest(value)
    value = ppwp_manifest().to_json_value()
    value["tps"]["31.71.09.1001.001"] = {"dpt_l": 1, "dpt_p": 1}
    with pytest.raises(FieldError, match="no name for its kecamatan"):
        parse_manifest(value)


def test_tps_verify_checks_a_manifest(region, tmp_path):
    good = tmp_path / "election.json"
    good.write_bytes(signed_manifest(region.authority))
    ca_cert = region.ca_dir / ca.CERT_FILE
    done = subprocess.run(
        [BIN / "tps-verify", good, "--ca", ca_cert], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # A signature carries no version: VALID says a later manifest was not looked for.
    assert done.stdout.rstrip().endswith("VERDICT: VALID (not checked: latest version)")
    assert "H. PRABOWO SUBIANTO / GIBRAN RAKABUMING RAKA" in done.stdout
    value = _payload(good.read_bytes())
    value["tps"]["31.71.01.1002.001"]["dpt_p"] = 1
    bad = tmp_path / "tampered.json"
    bad.write_bytes(_with_payload(good.read_bytes(), value))
    done = subprocess.run(
        [BIN / "tps-verify", bad, "--ca", ca_cert, "--json"], capture_output=True, text=True
    )
    assert done.returncode == 1
    assert json.loads(done.stdout)["checks"][0]["error"].startswith("BadSignatureError")
