"""The hub's signed acknowledgements (protocol/ack.py), made with the hub's identity."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol import ack as acks

# An ack must name a seq >= 1, but a message that could not be read has none. The ack
# then names seq 1 and the hash of the bytes received: the sender's outbox holds no such
# document and ignores it, and anyone reading it sees "rejected, malformed". A protocol
# change (an explicit "unknown" seq) is the cleaner fix; see the hub's issue note.
UNKNOWN_SEQ = 1


@dataclass(frozen=True)
class AckSigner:
    hub_id: str
    key: Ed25519PrivateKey
    certificate: x509.Certificate

    def accepted(
        self,
        *,
        kit: str,
        seq: int,
        document_sha256: str,
        now: dt.datetime,
        log_index: int,
        proof: list[bytes],
        tree_head: bytes,
    ) -> bytes:
        ack = acks.Ack(
            format=acks.FORMAT,
            hub=self.hub_id,
            kit=kit,
            seq=seq,
            document_sha256=document_sha256,
            verdict="accepted",
            at=acks.utc(now),
            log_index=log_index,
            inclusion_proof=[h.hex() for h in proof],
            tree_head=base64.b64encode(tree_head).decode("ascii"),
        )
        return acks.sign_ack(ack, self.key, self.certificate)

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
            at=acks.utc(now),
        )
        return acks.sign_ack(ack, self.key, self.certificate)
