"""Judging one received message: a pure function of (bytes, topic kit id, trust, now).

No storage and no signing here, so every rule can be tested alone and the expensive part
(signature checks) runs before the database's write lock is taken. The verdict names a
reason code (protocol.ack.REASON_CODES, plus the hub's own below) and, where the bytes
allow, the document hash and seq an acknowledgement must name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography import x509

from hub.errors import TrustError
from hub.trust import Trust
from protocol import ack as acks
from protocol import bundle, result
from protocol.canonical import parse_json, sha256_hex
from protocol.certs import Identity
from protocol.dsse import PublicKey
from protocol.errors import ProtocolError, RevokedError, VerificationError
from protocol.ids import check_hex64, check_id
from protocol.sodium import sodium_keys

# The hub's own reason codes, beside protocol.ack.REASON_CODES.
OVERSIZED = "oversized"
TOPIC_MISMATCH = "topic-mismatch"  # the topic's kit id is not the certificate's
BAD_TOPIC = "bad-topic"  # no kit id (or image hash) the hub can answer to
UNKNOWN_IMAGE = "unknown-image"  # no stored document of that kit names the image
IMAGE_MISMATCH = "image-mismatch"  # the bytes do not hash to the topic's hash
HUB_TRUST = "hub-trust"  # the hub's own CA/CRL is unusable: no verdict, no ack

_MAX_SEQ = 2**53 - 1


@dataclass(frozen=True)
class Accepted:
    """A verified document, reduced to what storing it needs.

    Plain values only, so a verdict can come back from a judging process (hub/ingest/
    pool.py): the parsed document and the certificate object stay where they were checked.
    """

    kit: str
    seq: int
    election: str
    tps: str
    form: str
    form_version: int
    captured_at: str
    prev_sha256: str
    fields: dict[str, int]  # the field values, for the recapitulation in this process
    fields_json: str  # their canonical JSON, as the store keeps them
    pages: tuple[tuple[int, str], ...]
    document_sha256: str
    cert_serial: int

    @classmethod
    def of(cls, verified: result.VerifiedResult) -> Accepted:
        doc = verified.document
        return cls(
            kit=doc.kit,
            seq=doc.seq,
            election=doc.election,
            tps=doc.tps,
            form=doc.form,
            form_version=doc.form_version,
            captured_at=doc.captured_at,
            prev_sha256=doc.prev_sha256,
            # protocol.canonical's form: the ids are ASCII (protocol.ids checked them) and
            # the values integers, where sorted compact JSON is the canonical text.
            fields=doc.fields,
            fields_json=orjson.dumps(doc.fields, option=orjson.OPT_SORT_KEYS).decode("ascii"),
            pages=tuple((p.page, p.sha256) for p in doc.pages),
            document_sha256=verified.document_sha256,
            cert_serial=verified.certificate.serial_number,
        )


@dataclass(frozen=True)
class Rejected:
    reason_code: str
    reason: str
    message_sha256: str  # of the bytes as received: the key for counting repeats
    document_sha256: str | None  # of the signed payload, when there is one
    seq: int | None  # the document's seq, when readable
    ackable: bool  # False: no kit to answer, or the fault is the hub's own

    @property
    def ack_document_sha256(self) -> str:
        """What the ack names: the document's hash, else the message's (see ack_for)."""
        return self.document_sha256 or self.message_sha256


Judgement = Accepted | Rejected


def valid_kit_id(kit: str) -> bool:
    try:
        check_id(kit, "kit")
    except ProtocolError:
        return False
    return True


def judge_result(
    data: bytes, topic_kit: str, trust: Trust, now: dt.datetime, *, max_bytes: int
) -> Judgement:
    """Accept a signed result only if DESIGN's rules hold and it came on its kit's topic."""
    message_sha = hashlib.sha256(data).hexdigest()
    if not valid_kit_id(topic_kit):
        return _unanswerable(BAD_TOPIC, f"topic kit id {topic_kit[:80]!r} is not a kit id", data)
    if len(data) > max_bytes:
        # Not parsed at all: the cap exists so an attacker cannot make the hub parse megabytes.
        return Rejected(
            OVERSIZED,
            f"message of {len(data)} bytes is over the {max_bytes} byte limit for a signed result",
            message_sha,
            None,
            None,
            ackable=True,
        )
    try:
        trust.check_fresh(now)
    except TrustError as e:  # the hub cannot judge, so it must not answer
        return Rejected(HUB_TRUST, str(e), message_sha, None, None, ackable=False)
    try:
        verified = _verify(data, trust, now)
    except VerificationError as e:
        doc_sha, seq = _identify(data)
        return Rejected(acks.reason_code(e), str(e), message_sha, doc_sha, seq, ackable=True)
    if verified.signer.name != topic_kit:
        return Rejected(
            TOPIC_MISMATCH,
            f"published on kit {topic_kit}'s topic but signed by kit {verified.signer.name}",
            message_sha,
            verified.document_sha256,
            verified.document.seq,
            ackable=True,
        )
    return Accepted.of(verified)


def _verify(data: bytes, trust: Trust, now: dt.datetime) -> result.VerifiedResult:
    """protocol.result.verify_result (so reasons are the same), with the kit certificate's
    check remembered (Trust.verify_kit), the registry's revocations added, and signatures
    checked by libsodium."""

    def verify_kit(certificate: x509.Certificate) -> Identity:
        signer = trust.verify_kit(certificate, now)
        if certificate.serial_number in trust.revoked_serials:
            raise RevokedError(
                f"kit {signer.name!r} (serial {certificate.serial_number:x}) is revoked in the "
                "hub's registry"
            )
        return signer

    return result.verify_result_with(data, verify_kit, keys=_sodium_keys)


def _sodium_keys(certificate: x509.Certificate) -> Mapping[str, PublicKey]:
    return sodium_keys(bundle.signing_keys(certificate))


def judge_image(
    data: bytes, topic_kit: str, topic_sha256: str, *, max_bytes: int
) -> Rejected | None:
    """The checks an image passes before the store is asked whether a document names it."""
    if not valid_kit_id(topic_kit):
        return _unanswerable(BAD_TOPIC, f"topic kit id {topic_kit[:80]!r} is not a kit id", data)
    try:
        check_hex64(topic_sha256, "image hash")
    except ProtocolError:
        why = f"image topic names {topic_sha256[:80]!r}, not a SHA-256"
        return _unanswerable(BAD_TOPIC, why, data)
    if len(data) > max_bytes:
        why = f"image of {len(data)} bytes is over the {max_bytes} byte limit"
        return _unanswerable(OVERSIZED, why, data)
    message_sha = hashlib.sha256(data).hexdigest()
    if message_sha != topic_sha256:
        why = f"image bytes hash to {message_sha}, not the topic's {topic_sha256}"
        return _unanswerable(IMAGE_MISMATCH, why, data)
    return None


def _unanswerable(reason_code: str, reason: str, data: bytes) -> Rejected:
    """A refusal no ack answers: no kit to answer, or nothing of a document to name."""
    return Rejected(reason_code, reason, hashlib.sha256(data).hexdigest(), None, None, False)


def _identify(data: bytes) -> tuple[str | None, int | None]:
    """Best effort, for a rejection's ack: the payload's hash and seq, if they can be read.

    Nothing here is trusted; it only lets the ack name what the sender will recognise.
    """
    try:
        envelope, _ = result.parse_bundle(data)
    except ProtocolError:
        return None, None
    payload = envelope.payload
    seq: Any = None
    try:
        value = parse_json(payload)
        seq = value.get("seq") if isinstance(value, dict) else None
    except ValueError:  # not JSON, too deep, or a number json will not convert
        pass
    ok = isinstance(seq, int) and not isinstance(seq, bool) and 1 <= seq <= _MAX_SEQ
    return sha256_hex(payload), seq if ok else None
