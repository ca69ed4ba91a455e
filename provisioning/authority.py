"""The region's certificate authority, kept offline on the technician's laptop.

A CA directory holds ``ca.key.pem`` (encrypted with the region's passphrase, mode 0600),
``ca.cert.pem``, ``crl.pem`` (the revocation list, re-signed on every revocation) and
``issued/<name>.cert.pem`` for every certificate it issued, so the registry and revocation
need nothing else.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from protocol import certs
from protocol.errors import CertificateError
from protocol.keys import KeyDecodeError, KeyTypeError, parse_private_key
from provisioning.errors import CaStateError, PassphraseError, ProvisioningError
from provisioning.files import write_atomic

KEY_FILE = "ca.key.pem"
CERT_FILE = "ca.cert.pem"
CRL_FILE = "crl.pem"
ISSUED_DIR = "issued"
CRL_DAYS = 30


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Authority:
    """An unlocked CA: its directory, key and certificate."""

    directory: Path
    key: Ed25519PrivateKey
    cert: x509.Certificate

    @property
    def region(self) -> str:
        return certs.region_of(self.cert)

    def issued_path(self, name: str) -> Path:
        return self.directory / ISSUED_DIR / f"{name}.cert.pem"

    def issued(self) -> list[x509.Certificate]:
        folder = self.directory / ISSUED_DIR
        return [certs.load_certificate(p.read_bytes()) for p in sorted(folder.glob("*.cert.pem"))]

    def crl(self) -> x509.CertificateRevocationList:
        return certs.load_crl((self.directory / CRL_FILE).read_bytes())


def init_ca(directory: Path, *, region: str, name: str, passphrase: bytes, days: int) -> Authority:
    """Create a region's CA in an empty directory."""
    if not certs.tps_codes.region_prefix_valid(region):
        raise CaStateError(f"{region!r} is not a region code such as 31 or 31.71")
    if (directory / KEY_FILE).exists():
        raise CaStateError(f"{directory} already holds a CA; refusing to overwrite its key")
    if len(passphrase) < 8:
        raise PassphraseError("the CA passphrase must be at least 8 characters")
    _make_dir(directory)
    _make_dir(directory / ISSUED_DIR)
    key = Ed25519PrivateKey.generate()
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.COMMON_NAME, f"TPS CA {region}"),
        ]
    )
    now = utc_now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(_san([f"{certs.URN}region:{region}"]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, None)
    )
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )
    write_atomic(directory / KEY_FILE, encrypted, mode=0o600)
    write_atomic(directory / CERT_FILE, cert.public_bytes(serialization.Encoding.PEM))
    authority = Authority(directory, key, cert)
    _write_crl(authority, [])
    return authority


def load_ca(directory: Path, passphrase: bytes, *, at: dt.datetime | None = None) -> Authority:
    """Unlock a CA; refuse a wrong passphrase or an expired CA with a message that says so."""
    try:
        key_pem = (directory / KEY_FILE).read_bytes()
        cert = certs.load_certificate((directory / CERT_FILE).read_bytes())
    except FileNotFoundError as e:
        raise CaStateError(
            f"{directory} holds no CA ({e.filename} missing): run `tps-provision ca init` first"
        ) from e
    try:
        key = parse_private_key(key_pem, password=passphrase, source=str(directory / KEY_FILE))
    except KeyDecodeError as e:
        raise PassphraseError(f"wrong passphrase for the CA key in {directory}") from e
    except KeyTypeError as e:
        raise CaStateError(str(e)) from e
    try:
        certs.check_ca(cert, at or utc_now())
    except CertificateError as e:
        raise CaStateError(
            f"{directory}: {e}; a new CA must be created and kits re-enrolled"
        ) from e
    return Authority(directory, key, cert)


def issue(
    authority: Authority,
    public_key: Ed25519PublicKey,
    *,
    role: certs.Role,
    name: str,
    days: int,
    tps: str | None = None,
    election: str | None = None,
    dns: tuple[str, ...] = (),
    ips: tuple[str, ...] = (),
) -> x509.Certificate:
    """Issue a leaf certificate in the profile of protocol.certs, and file it under issued/."""
    if not isinstance(public_key, Ed25519PublicKey):
        raise ProvisioningError("only Ed25519 keys are enrolled")
    if authority.issued_path(name).exists():
        raise ProvisioningError(f"{name!r} already has a certificate from this CA")
    now = utc_now()
    not_after = min(now + dt.timedelta(days=days), authority.cert.not_valid_after_utc)
    uris = [f"{certs.URN}{role}:{name}"]
    if tps is not None:
        uris.append(f"{certs.URN}tps:{tps}")
    if election is not None:
        uris.append(f"{certs.URN}election:{election}")
    usage = ExtendedKeyUsageOID.SERVER_AUTH if role == "broker" else ExtendedKeyUsageOID.CLIENT_AUTH
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(authority.cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(_san(uris, dns, ips), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()),
            critical=False,
        )
        .sign(authority.key, None)
    )
    write_atomic(authority.issued_path(name), cert.public_bytes(serialization.Encoding.PEM))
    return cert


def revoke(authority: Authority, name: str) -> x509.Certificate:
    """Put an issued certificate on the CRL and re-sign it."""
    path = authority.issued_path(name)
    if not path.exists():
        raise ProvisioningError(f"this CA issued no certificate named {name!r}")
    cert = certs.load_certificate(path.read_bytes())
    entries = list(authority.crl())
    if any(e.serial_number == cert.serial_number for e in entries):
        raise ProvisioningError(f"{name!r} is already revoked")
    revoked = (
        x509.RevokedCertificateBuilder()
        .serial_number(cert.serial_number)
        .revocation_date(utc_now())
        .build()
    )
    _write_crl(authority, [*entries, revoked])
    return cert


def refresh_crl(authority: Authority) -> x509.CertificateRevocationList:
    """Re-sign the CRL with the same entries and a new validity window."""
    return _write_crl(authority, list(authority.crl()))


def _write_crl(
    authority: Authority, entries: list[x509.RevokedCertificate]
) -> x509.CertificateRevocationList:
    now = utc_now()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(authority.cert.subject)
        .last_update(now - dt.timedelta(minutes=5))
        .next_update(min(now + dt.timedelta(days=CRL_DAYS), authority.cert.not_valid_after_utc))
    )
    for entry in entries:
        builder = builder.add_revoked_certificate(entry)
    crl = builder.sign(authority.key, None)
    write_atomic(authority.directory / CRL_FILE, crl.public_bytes(serialization.Encoding.PEM))
    return crl


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _san(
    uris: list[str], dns: tuple[str, ...] = (), ips: tuple[str, ...] = ()
) -> x509.SubjectAlternativeName:
    import ipaddress

    names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(u) for u in uris]
    names += [x509.DNSName(d) for d in dns]
    names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    return x509.SubjectAlternativeName(names)


def _make_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CaStateError(f"cannot create {path}: {e.strerror}") from e
    if not os.access(path, os.W_OK):
        raise CaStateError(f"{path} is not writable")
