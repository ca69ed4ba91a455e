"""The certificate profile: a region's CA, its kits, its hub and its broker (X.509, Ed25519).

A kit certificate binds one kit id to exactly one TPS code and one election, as URIs in the
subjectAltName (readable with ``openssl x509 -text``)::

    urn:x-tps:kit:<kit id>   urn:x-tps:tps:<PP.KK.CC.DDDD.TTT>   urn:x-tps:election:<id>

The CA certificate carries ``urn:x-tps:region:<prefix>`` and may only vouch for TPS codes in
that region. The subject CN of a kit is its kit id, so Mosquitto's ``use_identity_as_username``
gives the broker the same identity the signature carries.

``cryptography``'s path builder refuses Ed25519, and the chain here is always two links (CA,
leaf), so verification is done by hand: signature by the CA (``verify_directly_issued_by``),
validity windows, basic constraints, key usage, the binding, and the revocation list. Under an
:func:`anchor`, a leaf in the profile's shape (Ed25519, issuer name byte for byte the CA's
subject) has the CA's signature checked on its TBS bytes by the anchor's key, which the hub
makes libsodium's; any other leaf gets ``verify_directly_issued_by`` and its verdict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, SignatureAlgorithmOID

from protocol import tps as tps_codes
from protocol.errors import (
    CertificateExpiredError,
    CertificateProfileError,
    FieldError,
    RevokedError,
    UntrustedIssuerError,
)

URN = "urn:x-tps:"
_T = TypeVar("_T", bound=x509.ExtensionType)
Role = Literal["kit", "hub", "broker"]
_ROLE_USAGE = {
    "kit": ExtendedKeyUsageOID.CLIENT_AUTH,
    "hub": ExtendedKeyUsageOID.CLIENT_AUTH,
    "broker": ExtendedKeyUsageOID.SERVER_AUTH,
}
# AlgorithmIdentifier { id-Ed25519 } in DER: RFC 8410 allows no parameters, and cryptography
# refuses to read a certificate whose Ed25519 identifier has any.
_ED25519_ALGORITHM = bytes.fromhex("300506032b6570")
_TBS_SIGNATURE, _TBS_SUBJECT = 1, 4  # fields of a TBSCertificate, from serialNumber (0)
_BAD_SIGNATURE = "certificate signature does not verify with the CA's key"


class SignatureKey(Protocol):
    """What checks the CA's Ed25519 signatures under an :class:`Anchor`: cryptography's
    ``Ed25519PublicKey``, or anything raising ``InvalidSignature`` as its ``verify`` does."""

    def verify(self, signature: bytes, data: bytes) -> None: ...


@dataclass(frozen=True)
class Identity:
    """What a verified certificate says about its holder."""

    role: Role
    name: str  # kit id, hub id or broker host
    tps: str | None = None
    election: str | None = None
    serial: int = 0
    not_after: dt.datetime | None = None


def urns(cert: x509.Certificate) -> dict[str, str]:
    """The ``urn:x-tps:KIND:VALUE`` entries of a certificate's subjectAltName, by KIND."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return {}
    found: dict[str, str] = {}
    for uri in san.get_values_for_type(x509.UniformResourceIdentifier):
        if uri.startswith(URN):
            kind, _, value = uri[len(URN) :].partition(":")
            found[kind] = value
    return found


def fingerprint_sha256(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER, colon-separated upper-case hex, as
    `openssl x509 -noout -fingerprint -sha256` prints it: what people compare by eye."""
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


def common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def region_of(ca_cert: x509.Certificate) -> str:
    region = urns(ca_cert).get("region")
    if not region or not tps_codes.region_prefix_valid(region):
        raise CertificateProfileError("the CA certificate names no region (urn:x-tps:region:…)")
    return region


def check_ca(ca_cert: x509.Certificate, at: dt.datetime) -> None:
    """The CA itself: self-signed, a CA, allowed to sign certificates and CRLs, in date."""
    try:
        ca_cert.verify_directly_issued_by(ca_cert)
    except (InvalidSignature, ValueError, TypeError) as e:
        raise UntrustedIssuerError("the CA certificate is not validly self-signed") from e
    constraints = _ext(ca_cert, x509.BasicConstraints)
    usage = _ext(ca_cert, x509.KeyUsage)
    if constraints is None or not constraints.ca or usage is None or not usage.key_cert_sign:
        raise CertificateProfileError("the CA certificate is not a certificate authority")
    _check_window(ca_cert, at, "the region's CA certificate")
    region_of(ca_cert)


@dataclass(frozen=True)
class AnchorKey:
    """The CA's Ed25519 key as an :class:`Anchor` checks its leaves' signatures with."""

    key: SignatureKey
    # The DER a leaf's TBS certificate carries after its serial number when it is signed
    # with Ed25519 under the CA's subject, byte for byte: signature algorithm, issuer.
    signed_prefix: bytes


@dataclass(frozen=True, eq=False)
class Anchor:
    """A region's CA certificate and revocation list whose signatures and profile were
    checked once (:func:`anchor`), for a verifier that checks many certificates under them.

    Only what time cannot change is remembered: the CA's validity window and the CRL's
    next update are checked again on every use, at the same step as :func:`verify_issued`.
    """

    ca_cert: x509.Certificate
    crl: x509.CertificateRevocationList | None
    region: str
    # None if the CA's key is not Ed25519: no leaf then takes the shortcut, and
    # verify_directly_issued_by says why each fails.
    ca_key: AnchorKey | None = None


def anchor(
    ca_cert: x509.Certificate,
    crl: x509.CertificateRevocationList | None,
    at: dt.datetime,
    *,
    verifier: Callable[[Ed25519PublicKey], SignatureKey] | None = None,
) -> Anchor:
    """Check the CA (and CRL) as :func:`verify_issued` would; raise its error if they fail.

    ``verifier`` makes what checks the CA's signature on each leaf from its Ed25519 key (the
    hub's judging passes protocol.sodium.SodiumKey); by default, the key itself.
    """
    check_ca(ca_cert, at)
    if crl is not None:
        check_crl(crl, ca_cert, at)
    key = ca_cert.public_key()
    ca_key = None
    if isinstance(key, Ed25519PublicKey):
        tbs = ca_cert.tbs_certificate_bytes
        start, end = _tbs_field(tbs, _TBS_SUBJECT)
        ca_key = AnchorKey(
            key if verifier is None else verifier(key), _ED25519_ALGORITHM + tbs[start:end]
        )
    return Anchor(ca_cert, crl, region_of(ca_cert), ca_key)


def verify_issued(
    cert: x509.Certificate,
    ca_cert: x509.Certificate,
    *,
    role: Role,
    at: dt.datetime,
    crl: x509.CertificateRevocationList | None = None,
) -> Identity:
    """Verify a leaf certificate of ``role`` against the region's CA; return who it names."""
    check_ca(ca_cert, at)
    return _verify_leaf(cert, Anchor(ca_cert, crl, region_of(ca_cert)), role, at, anchored=False)


def verify_anchored(
    cert: x509.Certificate, trusted: Anchor, *, role: Role, at: dt.datetime
) -> Identity:
    """:func:`verify_issued` under an :func:`anchor`: the same checks in the same order, with
    the CA's and CRL's signatures (checked when the anchor was made) not checked again."""
    _check_window(trusted.ca_cert, at, "the region's CA certificate")
    return _verify_leaf(cert, trusted, role, at, anchored=True)


def _verify_leaf(
    cert: x509.Certificate, trusted: Anchor, role: Role, at: dt.datetime, *, anchored: bool
) -> Identity:
    ca_cert = trusted.ca_cert
    if not (anchored and _signed_in_profile(cert, trusted)):
        _check_issued_by(cert, ca_cert)
    _check_window(cert, at, "certificate")
    _check_leaf_profile(cert, role)
    if trusted.crl is not None:
        if anchored:
            _check_crl_date(trusted.crl, at)
        else:
            check_crl(trusted.crl, ca_cert, at)
        _check_entry(cert, trusted.crl)
    return _identity(cert, role, trusted.region)


def _check_issued_by(cert: x509.Certificate, ca_cert: x509.Certificate) -> None:
    if cert.issuer != ca_cert.subject:
        raise UntrustedIssuerError(
            f"certificate issued by {cert.issuer.rfc4514_string()!r}, "
            f"not by this region's CA {ca_cert.subject.rfc4514_string()!r}"
        )
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (InvalidSignature, ValueError, TypeError) as e:
        raise UntrustedIssuerError(_BAD_SIGNATURE) from e


def _signed_in_profile(cert: x509.Certificate, trusted: Anchor) -> bool:
    """:func:`_check_issued_by` for a leaf signed with Ed25519 under the CA's subject: True
    if the CA's signature holds, UntrustedIssuerError if not; False for any other leaf.

    Cheaper, and to the same verdict: for such a leaf ``verify_directly_issued_by`` finds
    the inner and outer algorithms equal, the issuer equal to the CA's subject (its check
    compares the DER, the Name comparison before it only values) and the CA key's type
    matching the algorithm, then verifies the signature on these TBS bytes with the key.
    Every other leaf is left to it, so its error and message stay the same.
    """
    ca_key = trusted.ca_key
    if ca_key is None or cert.signature_algorithm_oid != SignatureAlgorithmOID.ED25519:
        return False
    tbs = cert.tbs_certificate_bytes
    if not tbs.startswith(ca_key.signed_prefix, _tbs_field(tbs, _TBS_SIGNATURE)[0]):
        return False
    try:
        ca_key.key.verify(cert.signature, tbs)
    except InvalidSignature as e:
        raise UntrustedIssuerError(_BAD_SIGNATURE) from e
    return True


def _tbs_field(tbs: bytes, index: int) -> tuple[int, int]:
    """(start, end) of field ``index`` of a DER TBSCertificate as cryptography writes it (so
    well-formed), counted past the optional version: 0 serialNumber, 1 signature, 2 issuer,
    3 validity, 4 subject."""
    start = _element(tbs, 0)[0]
    if tbs[start] == 0xA0:  # the [0] version, absent from version 1 certificates
        start = _element(tbs, start)[1]
    for _ in range(index):
        start = _element(tbs, start)[1]
    return start, _element(tbs, start)[1]


def _element(der: bytes, pos: int) -> tuple[int, int]:
    """Where the contents of the DER element at ``pos`` start, and where it ends."""
    length = der[pos + 1]
    if length < 0x80:
        return pos + 2, pos + 2 + length
    start = pos + 2 + (length & 0x7F)
    return start, start + int.from_bytes(der[pos + 2 : start], "big")


def _identity(cert: x509.Certificate, role: Role, region: str) -> Identity:
    names = urns(cert)
    name = common_name(cert)
    if names.get(role) != name:
        raise CertificateProfileError(
            f"certificate CN {name!r} does not match its urn:x-tps:{role}: entry"
        )
    if role != "kit":
        return Identity(role, name, serial=cert.serial_number, not_after=cert.not_valid_after_utc)
    try:
        code = str(tps_codes.parse(names.get("tps", ""), field="certificate tps"))
    except FieldError as e:
        raise CertificateProfileError(f"kit certificate binds no valid TPS: {e}") from e
    if not code.startswith(region + "."):
        raise CertificateProfileError(f"kit certificate binds TPS {code}, outside region {region}")
    election = names.get("election")
    if not election:
        raise CertificateProfileError("kit certificate binds no election")
    return Identity(
        "kit", name, code, election, serial=cert.serial_number, not_after=cert.not_valid_after_utc
    )


def _check_leaf_profile(cert: x509.Certificate, role: Role) -> None:
    if not isinstance(cert.public_key(), Ed25519PublicKey):
        raise CertificateProfileError("certificate key is not Ed25519")
    constraints = _ext(cert, x509.BasicConstraints)
    if constraints is not None and constraints.ca:
        raise CertificateProfileError("a CA certificate cannot act as a kit, hub or broker")
    usage = _ext(cert, x509.KeyUsage)
    if usage is None or not usage.digital_signature:
        raise CertificateProfileError("certificate key usage does not allow signatures")
    eku = _ext(cert, x509.ExtendedKeyUsage)
    if eku is None or _ROLE_USAGE[role] not in eku:
        raise CertificateProfileError(f"certificate is not issued for the {role} role")


def check_crl(
    crl: x509.CertificateRevocationList, ca_cert: x509.Certificate, at: dt.datetime
) -> None:
    if crl.issuer != ca_cert.subject or not crl.is_signature_valid(ca_cert.public_key()):
        raise UntrustedIssuerError("the revocation list is not signed by this region's CA")
    _check_crl_date(crl, at)


def _check_crl_date(crl: x509.CertificateRevocationList, at: dt.datetime) -> None:
    if crl.next_update_utc is not None and at > crl.next_update_utc:
        raise CertificateExpiredError(
            f"the revocation list expired on {crl.next_update_utc:%Y-%m-%d}: "
            "ask the region's technician for a fresh one (tps-provision crl)"
        )


def check_not_revoked(
    cert: x509.Certificate,
    crl: x509.CertificateRevocationList,
    ca_cert: x509.Certificate,
    at: dt.datetime,
) -> None:
    check_crl(crl, ca_cert, at)
    _check_entry(cert, crl)


def _check_entry(cert: x509.Certificate, crl: x509.CertificateRevocationList) -> None:
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    if entry is not None:
        raise RevokedError(
            f"certificate {common_name(cert)!r} (serial {cert.serial_number:x}) was revoked "
            f"on {entry.revocation_date_utc:%Y-%m-%d %H:%M} UTC"
        )


def _check_window(cert: x509.Certificate, at: dt.datetime, what: str) -> None:
    if at < cert.not_valid_before_utc:
        raise CertificateExpiredError(f"{what} is not valid before {cert.not_valid_before_utc}")
    if at > cert.not_valid_after_utc:
        raise CertificateExpiredError(f"{what} expired on {cert.not_valid_after_utc}")


def _ext(cert: x509.Certificate, kind: type[_T]) -> _T | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def load_certificate(data: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as e:
        raise CertificateProfileError(f"not a PEM certificate: {e}") from e


def load_crl(data: bytes) -> x509.CertificateRevocationList:
    try:
        return x509.load_pem_x509_crl(data)
    except ValueError as e:
        raise CertificateProfileError(f"not a PEM revocation list: {e}") from e
