"""The published vectors match the code, and openssl alone verifies them."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from protocol import dsse
from protocol.canonical import canonical_bytes
from protocol.document import parse_document
from protocol.errors import BadSignatureError
from protocol.result import PAYLOAD_TYPE
from protocol.vectors import make

VECTORS = Path(make.__file__).parent
NAMES = ["ppwp-plano-basic", "tampered-payload"]

# The same commands the README gives, so the README cannot drift from what works.
OPENSSL_CHECK = r"""
set -e
T=application/vnd.tps-result+json
sed -E 's/.*"payload":"([^"]+)".*/\1/' envelope.json | openssl base64 -d -A > "$W/payload.bin"
N=$(wc -c < "$W/payload.bin")
{ printf 'DSSEv1 %d %s %d ' ${#T} "$T" "$N"; cat "$W/payload.bin"; } > "$W/pae.bin"
sed -E 's/.*"sig":"([^"]+)".*/\1/' envelope.json | openssl base64 -d -A > "$W/sig.bin"
openssl pkeyutl -verify -pubin -inkey kit.pub.pem -rawin -in "$W/pae.bin" -sigfile "$W/sig.bin"
"""


@pytest.mark.parametrize("name", NAMES)
def test_vector_matches_the_code(name, tmp_path, monkeypatch):
    folder = VECTORS / name
    document = json.loads((folder / "document.json").read_text())
    assert parse_document(document).canonical() == (folder / "canonical.json").read_bytes()
    assert canonical_bytes(document) == (folder / "canonical.json").read_bytes()
    key = make.vector_key(name)
    trusted = {dsse.key_id(key.public_key()): key.public_key()}
    envelope = dsse.parse_envelope_bytes((folder / "envelope.json").read_bytes())
    assert (folder / "pae.bin").read_bytes() == dsse.pae(PAYLOAD_TYPE, envelope.payload)
    if (folder / "expected.txt").read_text().strip() == "valid":
        assert dsse.verify(envelope, PAYLOAD_TYPE, trusted)[1] == envelope.payload
    else:
        with pytest.raises(BadSignatureError):
            dsse.verify(envelope, PAYLOAD_TYPE, trusted)


def test_regenerating_vectors_gives_identical_bytes(tmp_path, monkeypatch):
    copy = tmp_path / "vectors"
    shutil.copytree(VECTORS, copy)
    monkeypatch.setattr(make, "HERE", copy)
    make.main()
    for path in VECTORS.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            assert (copy / path.relative_to(VECTORS)).read_bytes() == path.read_bytes(), path


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
@pytest.mark.parametrize("name", NAMES)
def test_openssl_alone_checks_the_vector_signature(name, tmp_path):
    run = subprocess.run(
        ["bash", "-c", OPENSSL_CHECK],
        cwd=VECTORS / name,
        env={"W": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    expected_ok = (VECTORS / name / "expected.txt").read_text().strip() == "valid"
    assert (run.returncode == 0) == expected_ok, run.stdout + run.stderr
    assert ("Signature Verified Successfully" in run.stdout) == expected_ok
