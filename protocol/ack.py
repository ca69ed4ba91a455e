"""The hub's verdict on one document, sent back to the kit that signed it.

An acknowledgement says, under the hub's key, that the document with this hash from this kit
was accepted (with its place in the transparency log: index, inclusion proof and the signed
tree head it is proved against) or rejected, with a reason code and a message. An accepted
ack of a batch (``tps-batched-ack/1``) is not signed on its own: it carries the batch's
signed checkpoint (protocol/checkpoint.py) and the inclusion proof of the document in it,
so one hub signature serves the whole batch; rejections stay signed one by one. The kit
deletes nothing from its outbox until an acknowledgement verifies; a broker's PUBACK is not
one. Verification is a pure function of bytes, the region's CA certificate and a time.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from protocol import bundle, certs, checkpoint, dsse, errors, note, result, treehead
from protocol.canonical import canonical_bytes, parse_canonical, parse_json, sha256_hex
from protocol.errors import CanonicalError, VerificationError
from protocol.ids import check_hex64, check_id
from protocol.utctime import SHAPE, is_utc

PAYLOAD_TYPE = "application/vnd.tps-ack+json"
FORMAT = "tps-ack/1"
BUNDLE_FORMAT = "tps-signed-ack/1"
# An accepted ack of a batch: not signed on its own. The signed checkpoint it carries is
# the hub's one signature for the whole batch, and its inclusion proof shows the kit's
# document is in that checkpoint's tree: being logged is what accepted means.
BATCH_FORMAT = "tps-batched-ack/1"
_BATCH_KEYS = {"format", "ack", "certificate"}

AckVerdict = Literal["accepted", "rejected"]

# Why a document was refused, one code per cause, so kits and dashboards can count them.
REASON_CODES: dict[type[VerificationError], str] = {
    errors.MalformedEnvelopeError: "malformed",
    errors.WrongPayloadTypeError: "wrong-payload-type",
    errors.UnknownKeyError: "unknown-key",
    errors.BadSignatureError: "bad-signature",
    errors.DocumentParseError: "not-a-document",
    errors.UntrustedIssuerError: "untrusted-issuer",
    errors.CertificateExpiredError: "expired",
    errors.RevokedError: "revoked",
    errors.CertificateProfileError: "certificate-profile",
    errors.BindingError: "binding",
}


def reason_code(error: VerificationError) -> str:
    for kind in type(error).__mro__:
        if kind in REASON_CODES:
            return REASON_CODES[kind]
    return "rejected"


class AckError(VerificationError):
    """The acknowledgement is not one this kit can rely on (wrong hub, document or proof)."""


class Ack(BaseModel):
    """The signed payload of an acknowledgement."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    format: Literal["tps-ack/1"]
    hub: str = Field(description="the hub's id (its certificate's CN)")
    kit: str = Field(description="the kit the document came from")
    seq: int = Field(ge=1, description="the document's sequence number")
    document_sha256: str = Field(description="SHA-256 of the document's canonical payload")
    verdict: AckVerdict
    reason_code: str = Field("", description="empty when accepted, else one of REASON_CODES")
    reason: str = Field("", description="the message for people, empty when accepted")
    at: str = Field(description="UTC time of the verdict, YYYY-MM-DDTHH:MM:SSZ")
    log_index: int | None = Field(None, ge=0, description="the result's leaf in the log")
    inclusion_proof: list[str] | None = Field(None, description="RFC 9162 proof, hex hashes")
    tree_head: str | None = Field(None, description="base64 of the signed tree head proved to")
    checkpoint: str | None = Field(
        None, description="the signed checkpoint (C2SP note) proved to, in a batched ack"
    )

    @field_validator("hub", "kit")
    @classmethod
    def _ids(cls, v: str) -> str:
        return check_id(v, "id")

    @field_validator("document_sha256")
    @classmethod
    def _hash(cls, v: str) -> str:
        return check_hex64(v, "document_sha256")

    @field_validator("at")
    @classmethod
    def _time(cls, v: str) -> str:
        if not is_utc(v):
            raise ValueError(f"{v!r} is not {SHAPE}")
        return v

    @model_validator(mode="after")
    def _shape(self) -> Ack:
        proof_fields = (self.log_index, self.inclusion_proof, self.tree_head, self.checkpoint)
        heads = (self.tree_head is not None) + (self.checkpoint is not None)
        if self.verdict == "accepted" and (None in proof_fields[:2] or heads != 1):
            raise ValueError(
                "an accepted ack carries log_index, inclusion_proof and one of tree_head "
                "and checkpoint"
            )
        if self.verdict == "rejected" and (any(f is not None for f in proof_fields)):
            raise ValueError("a rejected ack carries no log proof")
        if self.verdict == "rejected" and not self.reason_code:
            raise ValueError("a rejected ack names its reason_code")
        return self

    def payload(self) -> bytes:
        return canonical_bytes(self.model_dump(mode="json", exclude_none=True))


@dataclass(frozen=True)
class VerifiedAck:
    """An ack whose hub certificate and signature held. A batched ack's own fields are not
    signed: it holds only once :func:`check_published` has bound them to the document."""

    ack: Ack
    hub: certs.Identity
    tree_head: treehead.TreeHead | None
    checkpoint: checkpoint.Checkpoint | None = None


def sign_ack(ack: Ack, key: Ed25519PrivateKey, certificate: x509.Certificate) -> bytes:
    return bundle.make_bundle(BUNDLE_FORMAT, PAYLOAD_TYPE, ack.payload(), key, certificate)


def batched_ack(value: Mapping[str, Any], certificate_pem: str) -> bytes:
    """An accepted ack of a batch: ``value`` (an :class:`Ack`'s fields, with the batch's
    ``checkpoint``) and the hub certificate, unsigned: the checkpoint carries the signature."""
    return orjson.dumps(
        {"format": BATCH_FORMAT, "ack": dict(value), "certificate": certificate_pem},
        option=orjson.OPT_SORT_KEYS,
    )


def verify_ack(
    data: bytes,
    ca_cert: x509.Certificate,
    *,
    at: dt.datetime,
    crl: x509.CertificateRevocationList | None = None,
    published: bytes | None = None,
    log_id: str | None = None,
) -> VerifiedAck:
    """Check an acknowledgement from a hub of this region.

    With ``published`` (the signed-result bytes the kit published), the ack must be about
    exactly that document, and an accepted one must prove that those bytes are the leaf at
    ``log_index`` of the tree head it carries, signed by the same hub. With ``log_id``, an
    accepted one must prove it in that log: the same hub key signs its training log, and
    any hub of the region signs a log of its own.
    """
    batch = _batch_value(data)
    if batch is not None:
        verified = _verify_batched(batch, ca_cert, at, crl, log_id)
        if published is not None:
            check_published(verified, published)
        return verified
    envelope, certificate = bundle.parse_bundle(data, BUNDLE_FORMAT)
    hub = certs.verify_issued(certificate, ca_cert, role="hub", at=at, crl=crl)
    payload = bundle.check_signature(envelope, certificate, PAYLOAD_TYPE)
    ack = _parse(payload)
    if ack.hub != hub.name:
        raise AckError(f"ack names hub {ack.hub!r} but is signed by {hub.name!r}")
    head = None
    if ack.verdict == "accepted":
        head = _tree_head(ack, certificate, ca_cert, at, crl)
        if log_id is not None and head.log_id != log_id:
            raise AckError(f"the ack proves the result in log {head.log_id!r}, not {log_id!r}")
    verified = VerifiedAck(ack, hub, head)
    if published is not None:
        check_published(verified, published)
    return verified


def check_published(verified: VerifiedAck, published: bytes) -> None:
    """That a verified ack is about exactly ``published`` (the signed-result bytes the kit
    published) and, if accepted, proves those bytes are the leaf at its ``log_index`` of
    the tree head it carries: what :func:`verify_ack` checks when given ``published``, for a
    caller that learns which bytes the ack is about only from the ack itself."""
    ack = verified.ack
    _check_document(ack, published)
    if verified.tree_head is not None:
        treehead.check_inclusion(verified.tree_head, published, ack.log_index or 0, _proof(ack))
    if verified.checkpoint is not None:
        checkpoint.check_inclusion(verified.checkpoint, published, ack.log_index or 0, _proof(ack))


def _batch_value(data: bytes) -> dict[str, Any] | None:
    """The object of a batched ack; None if ``data`` is another kind of message."""
    if len(data) > dsse.MAX_ENVELOPE_BYTES:
        return None  # refused as the signed kind, with its own message
    try:
        value = parse_json(data)
    except ValueError:
        return None
    if isinstance(value, dict) and value.get("format") == BATCH_FORMAT:
        return value
    return None


def _verify_batched(
    value: dict[str, Any],
    ca_cert: x509.Certificate,
    at: dt.datetime,
    crl: x509.CertificateRevocationList | None,
    log_id: str | None,
) -> VerifiedAck:
    if set(value) != _BATCH_KEYS or not isinstance(value["certificate"], str):
        raise AckError(f"a {BATCH_FORMAT} is an object with keys {sorted(_BATCH_KEYS)}")
    hub_cert = certs.load_certificate(value["certificate"].encode("ascii", "replace"))
    hub = certs.verify_issued(hub_cert, ca_cert, role="hub", at=at, crl=crl)
    try:
        ack = Ack.model_validate(value["ack"])
    except ValidationError as e:
        raise AckError(f"not a valid acknowledgement: {e}") from e
    if ack.verdict != "accepted" or ack.checkpoint is None:
        raise AckError("only an accepted ack proved to a checkpoint comes unsigned in a batch")
    if ack.hub != hub.name:
        raise AckError(f"ack names hub {ack.hub!r} but its certificate is {hub.name!r}")
    public_key = hub_cert.public_key()
    if not isinstance(public_key, Ed25519PublicKey):  # verify_issued checks; keep mypy honest
        raise errors.CertificateProfileError("hub certificate key is not Ed25519")
    signed = ack.checkpoint.encode()
    origin = checkpoint.parse_text(note.parse(signed).text).origin
    if log_id is not None and origin != log_id:
        raise AckError(f"the ack's checkpoint is of log {origin!r}, not {log_id!r}")
    verified = checkpoint.verify(signed, [checkpoint.verifier_for(origin, public_key)])
    _proof(ack)  # a malformed proof is refused with the signature, not only with the leaf
    return VerifiedAck(ack, hub, None, verified.checkpoint)


def _parse(payload: bytes) -> Ack:
    try:
        return Ack.model_validate(parse_canonical(payload))
    except (CanonicalError, ValidationError) as e:
        raise AckError(f"signed payload is not a valid acknowledgement: {e}") from e


def _check_document(ack: Ack, published: bytes) -> None:
    envelope, certificate = result.parse_bundle(published)
    payload = result.check_signature(envelope, certificate)
    if sha256_hex(payload) != ack.document_sha256:
        raise AckError("the ack is about another document than the one published")


def _tree_head(
    ack: Ack,
    hub_cert: x509.Certificate,
    ca_cert: x509.Certificate,
    at: dt.datetime,
    crl: x509.CertificateRevocationList | None,
) -> treehead.TreeHead:
    try:
        head_bytes = base64.b64decode(ack.tree_head or "", validate=True)
    except (binascii.Error, ValueError) as e:
        raise AckError("the ack's tree head or proof is not well formed") from e
    _proof(ack)  # a malformed proof is refused with the signatures, not only with the leaf
    return treehead.verify_tree_head(head_bytes, hub_cert, ca_cert, at, crl=crl).head


def _proof(ack: Ack) -> list[bytes]:
    try:
        return [bytes.fromhex(h) for h in ack.inclusion_proof or []]
    except ValueError as e:
        raise AckError("the ack's tree head or proof is not well formed") from e
