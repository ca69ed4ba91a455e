"""The hub's acknowledgements (protocol/ack.py), made with the hub's identity: accepted ones
proved to the batch's signed checkpoint, rejected ones signed one by one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding

from protocol import ack as acks
from protocol import bundle
from protocol.utctime import format_utc

# An ack must name a seq >= 1, but a message that could not be read has none. The ack
# then names seq 1 and the hash of the bytes received: the sender's outbox holds no such
# document and ignores it, and anyone reading it sees "rejected, malformed". A protocol
# change (an explicit "unknown" seq) would be the cleaner fix.
UNKNOWN_SEQ = 1


def accepted_value(
    hub_id: str,
    *,
    kit: str,
    seq: int,
    document_sha256: str,
    at: str,
    log_index: int,
    proof: list[bytes],
    checkpoint: bytes | None = None,
) -> dict[str, Any]:
    """The payload of an accepted ack, as plain values, proved to the batch's signed
    ``checkpoint`` (AckSigner.batched makes the acks ingest sends)."""
    value: dict[str, Any] = {
        "format": acks.FORMAT,
        "hub": hub_id,
        "kit": kit,
        "seq": seq,
        "document_sha256": document_sha256,
        "verdict": "accepted",
        "reason_code": "",
        "reason": "",
        "at": at,
        "log_index": log_index,
        "inclusion_proof": [h.hex() for h in proof],
    }
    if checkpoint is not None:
        value["checkpoint"] = checkpoint.decode("utf-8")
    return value


@dataclass(frozen=True)
class AckSigner:
    hub_id: str
    key: Ed25519PrivateKey
    certificate: x509.Certificate
    _bundles: bundle.BundleSigner = field(init=False, repr=False, compare=False)
    _pem: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        signer = bundle.BundleSigner(
            acks.BUNDLE_FORMAT, acks.PAYLOAD_TYPE, self.key, self.certificate
        )
        object.__setattr__(self, "_bundles", signer)
        pem = self.certificate.public_bytes(Encoding.PEM).decode("ascii")
        object.__setattr__(self, "_pem", pem)

    def batched(self, values: Sequence[dict[str, Any]]) -> list[bytes]:
        """The accepted acks of a batch, each an :func:`accepted_value` proved to the
        batch's checkpoint, unsigned: the checkpoint holds the batch's one signature."""
        for value in values:
            acks.Ack(**value)  # protocol's own validation of every field
        return [acks.batched_ack(value, self._pem) for value in values]

    def rejected(
        self,
        *,
        kit: str,
        seq: int | None,
        document_sha256: str,
        reason_code: str,
        reason: str,
        now: dt.datetime,
    ) -> bytes:
        ack = acks.Ack(
            format=acks.FORMAT,
            hub=self.hub_id,
            kit=kit,
            seq=seq or UNKNOWN_SEQ,
            document_sha256=document_sha256,
            verdict="rejected",
            reason_code=reason_code,
            reason=reason[:500],
            at=format_utc(now),
        )
        return self._bundles.sign(ack.payload())
