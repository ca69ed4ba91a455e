"""Regenerate the published test vectors: ``python -m protocol.vectors.make``.

Keys come from fixed seeds and Ed25519 signatures are deterministic, so running this again
writes identical bytes; the test suite checks that the committed vectors still match the code.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from protocol import dsse
from protocol.canonical import canonical_bytes
from protocol.document import GENESIS, parse_document
from protocol.result import PAYLOAD_TYPE

HERE = Path(__file__).parent


def vector_key(name: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(f"tps vector {name}".encode()).digest()
    )


def _evidence(values: dict[str, int]) -> dict[str, Any]:
    return {k: {"confidence": 9990, "decision": "read"} for k in values}


def ppwp_document() -> dict[str, Any]:
    fields = {"IV.1": 112, "IV.2": 97, "IV.3": 41, "V.A": 250, "V.B": 6, "V.C": 256}
    evidence = _evidence(fields)
    evidence["IV.3"] = {"confidence": 9412, "decision": "corrected", "read_as": 47}
    return {
        "format": "tps-result/1",
        "election": "pemilu-2024",
        "form": "ppwp-plano",
        "form_version": 1,
        "tps": "31.71.01.1001.001",
        "kit": "kit-3171011001001-1",
        "seq": 1,
        "captured_at": "2024-02-14T19:03:00Z",
        "fields": fields,
        "evidence": evidence,
        "pages": [
            {"page": 2, "sha256": hashlib.sha256(b"page 2").hexdigest()},
            {"page": 3, "sha256": hashlib.sha256(b"page 3").hexdigest()},
        ],
        "model_sha256": hashlib.sha256(b"model").hexdigest(),
        "template_sha256": hashlib.sha256(b"template").hexdigest(),
        "prev_sha256": GENESIS,
    }


def write_vector(name: str, document: dict[str, Any], *, tamper: bool = False) -> None:
    folder = HERE / name
    folder.mkdir(exist_ok=True)
    key = vector_key(name)
    payload = parse_document(document).canonical()
    envelope = dsse.sign(PAYLOAD_TYPE, payload, key)
    if tamper:  # the payload changes after signing: every verifier must refuse it
        envelope = dsse.Envelope(
            envelope.payload_type,
            payload.replace(b'"IV.1":112', b'"IV.1":712'),
            envelope.signatures,
        )
    (folder / "document.json").write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    (folder / "canonical.json").write_bytes(payload)
    (folder / "pae.bin").write_bytes(dsse.pae(PAYLOAD_TYPE, envelope.payload))
    (folder / "envelope.json").write_bytes(envelope.to_bytes() + b"\n")
    pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    (folder / "kit.pub.pem").write_bytes(pem)
    (folder / "expected.txt").write_text("invalid\n" if tamper else "valid\n")


CANONICAL_CASES: list[Any] = [
    {"b": 1, "a": [3, 2, {"z": "", "y": -7}]},
    {"é": "ünïcode", "e": "tab\there", "\u20ac": 'line\nbreak "quoted" \\ slash'},
    {"\U0001f600": 1, "\ufb01": 2},  # UTF-16 order puts the surrogate pair first
    {"max": 2**53 - 1, "min": -(2**53 - 1), "ctl": "\u0001\u001f"},
]


def write_canonical_cases() -> None:
    cases = [{"input": c, "canonical": canonical_bytes(c).decode("utf-8")} for c in CANONICAL_CASES]
    text = json.dumps(cases, indent=2, ensure_ascii=True) + "\n"
    (HERE / "canonical-cases.json").write_text(text)


def main() -> None:
    write_vector("ppwp-plano-basic", ppwp_document())
    write_vector("tampered-payload", ppwp_document(), tamper=True)
    write_canonical_cases()
    print(f"vectors written to {HERE}")


if __name__ == "__main__":
    main()
