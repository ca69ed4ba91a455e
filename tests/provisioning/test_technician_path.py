"""The technician's whole path, through the installed commands, as a person would run it."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from protocol import keys
from protocol.certs import load_certificate
from protocol.kitconfig import load_kit_config
from protocol.result import sign_result
from tests.conftest import make_document
from tests.protocol.test_vectors import OPENSSL_CHECK

BIN = Path(sys.executable).parent
ENV = {**os.environ, "TPS_CA_PASSPHRASE": "correct horse battery"}


def enroll(ca, *args, env=ENV):
    """`tps-provision kit enroll --ca CA --election pemilu-2024 ARGS...`"""
    return run(
        "tps-provision",
        "kit",
        "enroll",
        "--ca",
        str(ca),
        "--election",
        "pemilu-2024",
        *args,
        env=env,
    )


def run(*args, env=ENV, cwd=None):
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]], capture_output=True, text=True, env=env, cwd=cwd
    )


class _Kit:
    def __init__(self, config):
        self.kit_id, self.tps, self.election = config.kit.id, config.kit.tps, config.kit.election


@pytest.fixture
def technician(tmp_path):
    ca = tmp_path / "ca"
    done = run(
        "tps-provision", "ca", "init", "--ca", str(ca), "--region", "31.71", "--name", "KPU Uji"
    )
    assert done.returncode == 0, done.stderr
    return tmp_path, ca


def _csv(path, codes):
    path.write_text("tps\n" + "".join(f"{c}\n" for c in codes))
    return path


def _sign(kit_dir, **changes):
    config = load_kit_config(kit_dir / "kit.toml")
    key = keys.load_private_key(kit_dir / config.paths.key)
    cert = load_certificate((kit_dir / config.paths.certificate).read_bytes())
    return sign_result(make_document(_Kit(config), **changes), key, cert)


def test_technician_enrols_fifty_kits_and_a_result_verifies(technician):
    root, ca = technician
    codes = [f"31.71.{d:02d}.1001.{t:03d}" for d in (1, 2) for t in range(1, 26)]
    done = enroll(ca, "--csv", str(_csv(root / "tps.csv", codes)), "--out", str(root / "kits"))
    assert done.returncode == 0, done.stderr
    assert "enrolled 50 of 50" in done.stdout
    kit_dirs = sorted((root / "kits").iterdir())
    assert len(kit_dirs) == 50
    kit_dir = root / "kits" / "kit-3171011001001-1"
    assert stat.S_IMODE((kit_dir / "kit.key.pem").stat().st_mode) == 0o600

    done = run(
        "tps-provision",
        "kit",
        "bundle",
        str(kit_dir),
        "--ca",
        str(ca),
        "--broker",
        "hub.example:8883",
        "--public-url",
        "https://hasil.hub.example",
        "--log-id",
        "log-3171",
        "--form",
        "ppwp-plano",
    )
    assert done.returncode == 0, done.stderr
    config = load_kit_config(kit_dir / "kit.toml")
    assert (config.kit.tps, config.kit.election) == ("31.71.01.1001.001", "pemilu-2024")
    assert config.hub.public_url == "https://hasil.hub.example"  # the receipt QR's hub
    assert config.hub.log_id == "log-3171"  # the only log its acks may prove results in

    signed = root / "result.json"
    signed.write_bytes(_sign(kit_dir))
    crl = ca / "crl.pem"
    done = run("tps-verify", str(signed), "--ca", str(ca / "ca.cert.pem"), "--crl", str(crl))
    assert done.returncode == 0, done.stdout
    assert "VERDICT: VALID" in done.stdout
    assert "kit-3171011001001-1" in done.stdout and "31.71.01.1001.001" in done.stdout
    assert "V.C" in done.stdout

    # openssl alone: export what the README's recipe needs from the signed result.
    bundle = json.loads(signed.read_bytes())
    (root / "envelope.json").write_text(json.dumps(bundle["envelope"], separators=(",", ":")))
    cert = load_certificate(bundle["certificate"].encode())
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    (root / "kit.pub.pem").write_bytes(
        cert.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    work = root / "w"
    work.mkdir()
    checked = subprocess.run(
        ["bash", "-c", OPENSSL_CHECK],
        cwd=root,
        env={"W": str(work), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert "Signature Verified Successfully" in checked.stdout, checked.stderr

    registry = root / "registry.json"
    done = run("tps-provision", "registry", "export", "--ca", str(ca), "--out", str(registry))
    assert done.returncode == 0, done.stderr
    exported = json.loads(registry.read_text())
    assert len(exported["kits"]) == 50 and exported["region"] == "31.71"


def _verify(root, ca, signed_bytes, ca_cert=None):
    signed = root / "check.json"
    signed.write_bytes(signed_bytes)
    return run(
        "tps-verify",
        str(signed),
        "--ca",
        str(ca_cert or ca / "ca.cert.pem"),
        "--crl",
        str(ca / "crl.pem"),
    )


@pytest.fixture
def one_kit(technician):
    root, ca = technician
    done = enroll(ca, "--tps", "31.71.01.1001.001", "--out", str(root / "kits"))
    assert done.returncode == 0, done.stderr
    kit_dir = root / "kits" / "kit-3171011001001-1"
    bundled = run(
        "tps-provision",
        "kit",
        "bundle",
        str(kit_dir),
        "--ca",
        str(ca),
        "--broker",
        "hub.example:8883",
        "--form",
        "ppwp-plano",
    )
    assert bundled.returncode == 0, bundled.stderr
    return root, ca, kit_dir


def test_verify_rejects_document_for_another_tps(one_kit):
    root, ca, kit_dir = one_kit
    done = _verify(root, ca, _sign(kit_dir, tps="31.71.01.1001.002"))
    assert done.returncode == 1
    assert "[FAIL] binding" in done.stdout and "BindingError" in done.stdout


def test_verify_rejects_revoked_kit(one_kit):
    root, ca, kit_dir = one_kit
    signed = _sign(kit_dir)
    assert run("tps-provision", "revoke", "--ca", str(ca), "kit-3171011001001-1").returncode == 0
    done = _verify(root, ca, signed)
    assert done.returncode == 1
    assert "[FAIL] not revoked: RevokedError" in done.stdout


def test_verify_rejects_tampered_payload(one_kit):
    root, ca, kit_dir = one_kit
    bundle = json.loads(_sign(kit_dir))
    import base64

    payload = base64.b64decode(bundle["envelope"]["payload"]).replace(b'"IV.1":112', b'"IV.1":912')
    bundle["envelope"]["payload"] = base64.b64encode(payload).decode()
    done = _verify(root, ca, json.dumps(bundle).encode())
    assert done.returncode == 1
    assert "[FAIL] signature: BadSignatureError" in done.stdout


def test_verify_rejects_kit_under_another_ca(one_kit):
    root, _ca, kit_dir = one_kit
    other = root / "other-ca"
    assert (
        run(
            "tps-provision",
            "ca",
            "init",
            "--ca",
            str(other),
            "--region",
            "31.71",
            "--name",
            "Other",
        ).returncode
        == 0
    )
    done = _verify(root, other, _sign(kit_dir))
    assert done.returncode == 1
    assert "[FAIL] certificate chain: UntrustedIssuerError" in done.stdout


def test_batch_with_bad_rows_keeps_the_good_ones_and_reports_each(technician):
    root, ca = technician
    csv = _csv(
        root / "tps.csv",
        ["31.71.01.1001.001", "31.71.1.1001.2", "31.71.01.1001.001", "31.71.01.1001.003"],
    )
    done = enroll(ca, "--csv", str(csv), "--out", str(root / "kits"))
    assert done.returncode == 1
    assert "enrolled 2 of 4" in done.stdout
    assert "tps.csv: row 3, column tps: '31.71.1.1001.2' is not a TPS code" in done.stderr
    assert "tps.csv: row 4, column tps: 31.71.01.1001.001 is already on row 2" in done.stderr
    names = sorted(p.name for p in (root / "kits").iterdir())
    assert names == ["kit-3171011001001-1", "kit-3171011001003-1"]  # nothing half-written
    failed = root / "tps.failed.csv"
    assert failed.read_text() == "tps\n31.71.1.1001.2\n31.71.01.1001.001\n"
    failed.write_text("tps\n31.71.01.1001.002\n")  # fixed: the rerun takes the file as is
    rerun = enroll(ca, "--csv", str(failed), "--out", str(root / "kits"))
    assert rerun.returncode == 0, rerun.stderr
    assert "enrolled 1 of 1" in rerun.stdout
    again = enroll(ca, "--tps", "31.71.01.1001.001", "--out", str(root / "kits"))
    assert again.returncode == 1 and "already has kit kit-3171011001001-1" in again.stderr


def test_wrong_passphrase_is_refused_clearly(technician):
    root, ca = technician
    done = enroll(
        ca,
        "--tps",
        "31.71.01.1001.001",
        "--out",
        str(root / "kits"),
        env={**ENV, "TPS_CA_PASSPHRASE": "wrong one"},
    )
    assert done.returncode == 1
    assert "wrong passphrase" in done.stderr
    assert not (root / "kits").exists() or not any((root / "kits").iterdir())


def test_expired_ca_is_refused_clearly(tmp_path):
    ca = tmp_path / "ca"
    assert (
        run(
            "tps-provision",
            "ca",
            "init",
            "--ca",
            str(ca),
            "--region",
            "31.71",
            "--name",
            "Old",
            "--days",
            "0",
        ).returncode
        == 0
    )
    done = enroll(ca, "--tps", "31.71.01.1001.001", "--out", str(tmp_path / "kits"))
    assert done.returncode == 1
    assert "expired" in done.stderr and "new CA" in done.stderr


def test_unwritable_output_directory_is_refused(technician):
    root, ca = technician
    assert ca.exists()
    blocker = root / "usb"
    blocker.write_text("a file where a directory should be")  # fails even for root
    done = enroll(ca, "--tps", "31.71.01.1001.001", "--out", str(blocker / "kits"))
    assert done.returncode == 1 and "cannot create" in done.stderr


def test_unwritable_output_file_is_refused(technician):
    root, ca = technician
    done = run(
        "tps-provision",
        "registry",
        "export",
        "--ca",
        str(ca),
        "--out",
        str(root / "no-such-dir" / "registry.json"),
    )
    assert done.returncode == 1
    assert "cannot write in" in done.stderr


def test_ca_init_refuses_to_overwrite(technician):
    _, ca = technician
    done = run("tps-provision", "ca", "init", "--ca", str(ca), "--region", "31.71", "--name", "x")
    assert done.returncode == 1 and "already holds a CA" in done.stderr


def test_real_kit_makes_its_own_key_and_only_the_csr_travels(technician):
    root, ca = technician
    kit = root / "on-the-kit"
    made = run("tps-kit", "keygen", "--dir", str(kit))
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE((kit / "kit.key.pem").stat().st_mode) == 0o600
    done = enroll(
        ca,
        "--tps",
        "31.71.01.1001.007",
        "--csr",
        str(kit / "kit.csr.pem"),
        "--out",
        str(kit / "kit.cert.pem"),
    )
    assert done.returncode == 0, done.stderr
    cert = load_certificate((kit / "kit.cert.pem").read_bytes())
    key = keys.load_private_key(kit / "kit.key.pem")
    assert cert.public_key() == key.public_key()
    again = run("tps-kit", "keygen", "--dir", str(kit))
    assert again.returncode != 0 and "already exists" in again.stderr
