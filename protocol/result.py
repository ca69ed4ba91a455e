"""A signed result as it travels: the DSSE envelope and the kit's certificate, together.

The certificate rides along (as a Sigstore bundle carries its verification material) so that
anyone holding only the region's CA certificate and revocation list can check a result, on
the hub, from a USB stick, or years later. Trust never comes from the bundled certificate
itself: it must chain to the CA the verifier brings.

:func:`verify_result` is a pure function of bytes, trusted material and a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol import bundle, certs, dsse
from protocol.canonical import sha256_hex
from protocol.document import ResultDocument, parse_document_bytes
from protocol.errors import (
    BindingError,
    DocumentParseError,
    FieldError,
)

PAYLOAD_TYPE = "application/vnd.tps-result+json"
BUNDLE_FORMAT = "tps-signed-result/1"


@dataclass(frozen=True)
class VerifiedResult:
    document: ResultDocument
    document_sha256: str  # hash of the canonical payload: the receipt's and the log's key
    signer: certs.Identity
    envelope: dsse.Envelope
    certificate: x509.Certificate


def sign_result(
    document: ResultDocument, key: Ed25519PrivateKey, certificate: x509.Certificate
) -> bytes:
    """The bytes a kit stores in its outbox and publishes: envelope plus certificate."""
    return bundle.make_bundle(BUNDLE_FORMAT, PAYLOAD_TYPE, document.canonical(), key, certificate)


def parse_bundle(data: bytes) -> tuple[dsse.Envelope, x509.Certificate]:
    return bundle.parse_bundle(data, BUNDLE_FORMAT)


def verify_result(
    data: bytes,
    ca_cert: x509.Certificate,
    *,
    at: dt.datetime,
    crl: x509.CertificateRevocationList | None = None,
) -> VerifiedResult:
    """Accept a signed result only if every check holds; otherwise raise the first failure.

    Order matters for the reasons reported: the certificate is judged before the signature,
    so a forged or revoked kit is named as such, and the document is parsed only once its
    signature holds, so nothing unauthenticated reaches the parser's error messages.
    """
    return verify_result_with(
        data, lambda cert: certs.verify_issued(cert, ca_cert, role="kit", at=at, crl=crl)
    )


def verify_result_with(
    data: bytes,
    verify_kit: Callable[[x509.Certificate], certs.Identity],
    *,
    keys: Callable[[x509.Certificate], Mapping[str, dsse.PublicKey]] | None = None,
) -> VerifiedResult:
    """:func:`verify_result`'s steps in its order, with the kit certificate judged by
    ``verify_kit`` (which raises if it is not trusted) and, if given, the signature checked
    with ``keys`` of the certificate: a verifier of many results (the hub) remembers the
    certificates it judged and checks signatures with a faster library."""
    envelope, certificate = parse_bundle(data)
    signer = verify_kit(certificate)
    payload = check_signature(
        envelope, certificate, keys=None if keys is None else keys(certificate)
    )
    document = parse_payload(payload)
    check_binding(document, signer)
    return VerifiedResult(document, sha256_hex(payload), signer, envelope, certificate)


def check_signature(
    envelope: dsse.Envelope,
    certificate: x509.Certificate,
    *,
    keys: Mapping[str, dsse.PublicKey] | None = None,
) -> bytes:
    """Verify the envelope with the certificate's key; return the signed payload.

    ``keys``: as :func:`protocol.bundle.check_signature` takes them.
    """
    return bundle.check_signature(envelope, certificate, PAYLOAD_TYPE, keys=keys)


def parse_payload(payload: bytes) -> ResultDocument:
    try:
        return parse_document_bytes(payload)
    except FieldError as e:
        raise DocumentParseError(f"signed payload is not a valid result document: {e}") from e


def check_binding(document: ResultDocument, signer: certs.Identity) -> None:
    for field, bound in (("kit", signer.name), ("tps", signer.tps), ("election", signer.election)):
        claimed = getattr(document, field)
        if claimed != bound:
            raise BindingError(
                f"document names {field} {claimed!r} but the kit's certificate binds {bound!r}"
            )
