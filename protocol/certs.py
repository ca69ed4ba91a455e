"""The certificate profile: a region's CA, its kits, its hub and its broker (X.509, Ed25519).

A kit certificate binds one kit id to exactly one TPS code and one election, as URIs in the
subjectAltName (readable with ``openssl x509 -text``)::

    urn:x-tps:kit:<kit id>   urn:x-tps:tps:<PP.KK.CC.DDDD.TTT>   urn:x-tps:election:<id>

The CA certificate carries ``urn:x-tps:region:<prefix>`` and may only vouch for TPS codes in
that region. The subject CN of a kit is its kit id, so Mosquitto's ``use_identity_as_username``
gives the broker the same identity the signature carries.

``cryptography``'s path builder refuses Ed25519, and the chain here is always two links (CA,
leaf), so verification is done by hand: signature by the CA (``verify_directly_issued_by``),
validity windows, basic constraints, key usage, the binding, and the revocation list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

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


def anchor(
    ca_cert: x509.Certificate, crl: x509.CertificateRevocationList | None, at: dt.datetime
) -> Anchor:
    """Check the CA (and CRL) as :func:`verify_issued` would; raise its error if they fail."""
    check_ca(ca_cert, at)
    if crl is not None:
        check_crl(crl, ca_cert, at)
    return Anchor(ca_cert, crl, region_of(ca_cert))


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
    if cert.issuer != ca_cert.subject:
        raise UntrustedIssuerError(
            f"certificate issued by {cert.issuer.rfc4514_string()!r}, "
            f"not by this region's CA {ca_cert.subject.rfc4514_string()!r}"
        )
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (InvalidSignature, ValueError, TypeError) as e:
        raise UntrustedIssuerError("certificate signature does not verify with the CA's key") from e
    _check_window(cert, at, "certificate")
    _check_leaf_profile(cert, role)
    if trusted.crl is not None:
        if anchored:
            _check_crl_date(trusted.crl, at)
        else:
            check_crl(trusted.crl, ca_cert, at)
        _check_entry(cert, trusted.crl)
    return _identity(cert, role, trusted.region)


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
