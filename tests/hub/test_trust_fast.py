"""The hub's check of a kit certificate it has not seen (Trust.verify_kit: under an anchor,
the CA's signature checked by libsodium) reaches the verdict tps-verify's certs.verify_issued
reaches, but for CA signatures only OpenSSL takes (under a CA key of small order, or with
an R of small order), which only the hub refuses."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID

from hub.trust import Trust
from protocol import certs
from provisioning import authority as ca
from tests.conftest import ELECTION, PASSPHRASE, Region
from tests.protocol.test_certs_anchor import odd_certificates, outcome

# Read at collection: an hour on, so it is past every CA a test makes (backdated five
# minutes) however long the suite runs before this module.
NOW = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
TPS = "31.71.01.1001.001"
_NEUTRAL = bytes([1]) + bytes(31)  # the neutral element: an Ed25519 key of small order
# R = neutral, S = 0: under that key, OpenSSL's cofactorless check accepts it for any message.
_FORGERY = _NEUTRAL + bytes(32)
_L = 2**252 + 27742317777372353535851937790883648493  # the order of Ed25519's base point
_REFUSED = ("UntrustedIssuerError", "certificate signature does not verify with the CA's key")


def _hub_and_tps_verify(
    cert: x509.Certificate, ca_cert: x509.Certificate, crl: x509.CertificateRevocationList
) -> tuple[object, object]:
    hub = outcome(Trust(ca_cert, crl).verify_kit, cert, NOW)
    return hub, outcome(certs.verify_issued, cert, ca_cert, role="kit", at=NOW, crl=crl)


def test_good_and_oddly_signed_kits_are_judged_as_tps_verify_judges_them(
    region: Region, tmp_path: Path
) -> None:
    forger = ca.init_ca(
        tmp_path / "forger", region="31.71", name="KPU Kota Uji", passphrase=PASSPHRASE, days=30
    )
    kit = region.kit(TPS)
    cases = odd_certificates(kit.certificate, region.authority, forger)
    cases["as issued"] = kit.certificate
    for case, cert in cases.items():
        hub, tps_verify = _hub_and_tps_verify(cert, region.authority.cert, region.authority.crl())
        assert hub == tps_verify, case
    assert isinstance(hub, certs.Identity)


def test_only_the_hub_refuses_a_ca_key_of_small_order(tmp_path: Path) -> None:
    # Such a "CA" signs anything for OpenSSL, its own certificate and CRL included; no
    # region's CA has one (provisioning makes its key), and libsodium refuses the key.
    authority = ca.Authority(tmp_path, Ed25519PrivateKey.generate(), _small_order_ca())
    (tmp_path / ca.ISSUED_DIR).mkdir()
    issued = ca.issue(
        authority,
        Ed25519PrivateKey.generate().public_key(),
        role="kit",
        name="kit-1",
        days=10,
        tps=TPS,
        election=ELECTION,
    )
    kit = x509.load_der_x509_certificate(_forged(issued.public_bytes(Encoding.DER)))
    crl = x509.load_der_x509_crl(_forged(ca._write_crl(authority, []).public_bytes(Encoding.DER)))
    hub, tps_verify = _hub_and_tps_verify(kit, authority.cert, crl)
    assert isinstance(tps_verify, certs.Identity)
    assert hub == _REFUSED


def test_only_the_hub_refuses_a_ca_signature_whose_r_is_neutral(region: Region) -> None:
    # With the CA's secret scalar a, S = k·a makes [S]B - [k]A the neutral element: OpenSSL
    # takes R = neutral as a signature by the CA; libsodium refuses an R of small order. Only
    # the CA's key can make it, and provisioning signs as Ed25519 does (R of the full order).
    kit = region.kit(TPS).certificate
    key = region.authority.key
    scalar = bytearray(hashlib.sha512(key.private_bytes_raw()).digest()[:32])
    scalar[0] &= 248
    scalar[31] = (scalar[31] & 127) | 64
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    k = hashlib.sha512(_NEUTRAL + public + kit.tbs_certificate_bytes).digest()
    s = int.from_bytes(k, "little") * int.from_bytes(scalar, "little") % _L
    forged = _forged(kit.public_bytes(Encoding.DER), _NEUTRAL + s.to_bytes(32, "little"))
    cert = x509.load_der_x509_certificate(forged)
    hub, tps_verify = _hub_and_tps_verify(cert, region.authority.cert, region.authority.crl())
    assert isinstance(tps_verify, certs.Identity)
    assert hub == _REFUSED


def _small_order_ca() -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "TPS CA 31.71")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(Ed25519PublicKey.from_public_bytes(_NEUTRAL))
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(minutes=5))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(ca._usage(cert_sign=True), critical=True)
        .add_extension(ca._san([f"{certs.URN}region:31.71"]), critical=False)
        .sign(Ed25519PrivateKey.generate(), None)
    )
    return x509.load_der_x509_certificate(_forged(cert.public_bytes(Encoding.DER)))


def _forged(der: bytes, signature: bytes = _FORGERY) -> bytes:
    """A DER certificate or CRL with this Ed25519 signature (its last 64 bytes) instead."""
    return der[:-64] + signature
