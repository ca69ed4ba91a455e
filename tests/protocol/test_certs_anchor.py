"""certs.verify_anchored (the hub's path: the CA's and CRL's signatures checked once) gives
the same identity, or the same error, as certs.verify_issued, at every step that can fail."""

import datetime as dt
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from protocol import certs
from protocol.errors import ProtocolError
from provisioning import authority as ca
from tests.conftest import PASSPHRASE

# Read at collection: an hour on, so it is past every CA a test makes (backdated five
# minutes) however long the suite runs before this module.
NOW = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
TPS = "31.71.01.1001.001"
# AlgorithmIdentifiers in DER: Ed25519 (and with NULL parameters, which RFC 8410 forbids),
# ecdsa-with-SHA256, and 1.2.3.4 (known to no one).
ED25519 = bytes.fromhex("300506032b6570")
ED25519_NULL = bytes.fromhex("300706032b65700500")
ECDSA_SHA256 = bytes.fromhex("300a06082a8648ce3d040302")
UNKNOWN = bytes.fromhex("300506032a0304")
ALGORITHM, ISSUER = 2, 3  # fields of a version 3 TBSCertificate, the [0] version first


def outcome(verify, *args, **kwargs):
    try:
        return verify(*args, **kwargs)
    except ProtocolError as e:
        return type(e).__name__, str(e)


def _both(cert, ca_cert, crl, at, role="kit", verifier=None):
    anchor = certs.anchor(ca_cert, crl, NOW, verifier=verifier)  # made once, as the hub makes it
    full = outcome(certs.verify_issued, cert, ca_cert, role=role, at=at, crl=crl)
    anchored = outcome(certs.verify_anchored, cert, anchor, role=role, at=at)
    return full, anchored


def test_a_good_kit_gets_the_same_identity(region):
    kit = region.kit(TPS)
    full, anchored = _both(kit.certificate, region.authority.cert, region.authority.crl(), NOW)
    assert isinstance(full, certs.Identity)
    assert anchored == full


@pytest.mark.parametrize(
    "at",
    [
        NOW + dt.timedelta(days=400),  # the kit's certificate (and the CA) expired
        NOW + dt.timedelta(days=60),  # the CRL's next update has passed
        NOW - dt.timedelta(days=3),  # before any of them was valid
    ],
)
def test_time_is_checked_on_every_use(region, at):
    kit = region.kit(TPS)
    full, anchored = _both(kit.certificate, region.authority.cert, region.authority.crl(), at)
    assert isinstance(full, tuple)
    assert anchored == full


def test_a_revoked_kit_is_refused_the_same_way(region):
    kit = region.kit(TPS)
    ca.revoke(region.authority, kit.kit_id)
    full, anchored = _both(kit.certificate, region.authority.cert, region.authority.crl(), NOW)
    assert full[0] == "RevokedError"
    assert anchored == full


def test_another_cas_kit_and_the_wrong_role_are_refused_the_same_way(region, tmp_path):
    other = ca.init_ca(
        tmp_path / "other-ca", region="31.71", name="Forger", passphrase=PASSPHRASE, days=30
    )
    kit = region.kit(TPS)
    for cert, role in ((kit.certificate, "hub"), (kit.certificate, "broker")):
        full, anchored = _both(cert, region.authority.cert, region.authority.crl(), NOW, role)
        assert isinstance(full, tuple)
        assert anchored == full
    full, anchored = _both(kit.certificate, other.cert, other.crl(), NOW)
    assert full[0] == "UntrustedIssuerError"
    assert anchored == full


def test_no_anchor_for_a_crl_the_ca_did_not_sign(region, tmp_path):
    other = ca.init_ca(
        tmp_path / "other-ca", region="31.71", name="Forger", passphrase=PASSPHRASE, days=30
    )
    with pytest.raises(ProtocolError, match="revocation list"):
        certs.anchor(region.authority.cert, other.crl(), NOW)


def test_the_anchor_checks_a_leaf_in_the_profile_with_its_verifier(region):
    checked: list[bytes] = []

    class Recording:
        def __init__(self, key: Ed25519PublicKey) -> None:
            self.key = key

        def verify(self, signature: bytes, data: bytes) -> None:
            checked.append(data)
            self.key.verify(signature, data)

    kit = region.kit(TPS)
    full, anchored = _both(
        kit.certificate, region.authority.cert, region.authority.crl(), NOW, verifier=Recording
    )
    assert isinstance(full, certs.Identity)
    assert anchored == full
    assert checked == [kit.certificate.tbs_certificate_bytes]


def test_oddly_signed_certificates_are_judged_the_same_way(region, tmp_path):
    """Certificates only a forger or a broken CA makes, in and out of the anchor's shortcut
    (an Ed25519 signature under the CA's name, byte for byte): the shortcut must neither
    accept what cryptography refuses nor change the error it reports."""
    forger = ca.init_ca(  # the region's CA name, another key
        tmp_path / "forger", region="31.71", name="KPU Kota Uji", passphrase=PASSPHRASE, days=30
    )
    assert forger.cert.subject == region.authority.cert.subject
    kit = region.kit(TPS)
    outcomes = {}
    for case, cert in odd_certificates(kit.certificate, region.authority, forger).items():
        full, anchored = _both(cert, region.authority.cert, region.authority.crl(), NOW)
        assert anchored == full, case
        outcomes[case] = full if isinstance(full, tuple) else "accepted"
    assert outcomes.pop("re-signed as it was") == "accepted"  # the forging itself is sound
    assert outcomes.pop("version 1: no version field") == "accepted"
    refused = {
        (name, message.startswith("certificate issued by")) for name, message in outcomes.values()
    }
    assert refused == {("UntrustedIssuerError", False)}  # all for the CA's signature


def odd_certificates(
    cert: x509.Certificate, authority: ca.Authority, forger: ca.Authority
) -> dict[str, x509.Certificate]:
    """``cert`` re-made, in ways only the CA's key or a forger's can make, by what changed."""
    tbs = _elements(cert.tbs_certificate_bytes)
    signature = authority.key.sign(_der(0x30, b"".join(tbs)))
    flipped = bytes([signature[0] ^ 1]) + signature[1:]

    def algorithm(value: bytes) -> list[bytes]:
        return [value if i == ALGORITHM else field for i, field in enumerate(tbs)]

    def issuer(name: x509.Name) -> list[bytes]:
        return [name.public_bytes() if i == ISSUER else field for i, field in enumerate(tbs)]

    printable = x509.Name(  # equal to the CA's name as cryptography compares Names
        [
            x509.NameAttribute(a.oid, a.value, _ASN1Type.PrintableString)
            for a in authority.cert.subject
        ]
    )
    key = authority.key
    return {
        "re-signed as it was": _certificate(tbs, ED25519, key),
        "version 1: no version field": _certificate(tbs[1:], ED25519, key),
        "inner algorithm ECDSA": _certificate(algorithm(ECDSA_SHA256), ED25519, key),
        "outer algorithm ECDSA": _certificate(tbs, ECDSA_SHA256, key),
        "both algorithms ECDSA": _certificate(algorithm(ECDSA_SHA256), ECDSA_SHA256, key),
        "inner algorithm unknown": _certificate(algorithm(UNKNOWN), ED25519, key),
        "both algorithms unknown": _certificate(algorithm(UNKNOWN), UNKNOWN, key),
        "another key under the CA's name": _certificate(tbs, ED25519, forger.key),
        "a bit of the signature flipped": _certificate(tbs, ED25519, lambda _: flipped),
        "the signature a byte short": _certificate(tbs, ED25519, lambda _: signature[:63]),
        "the CA's name as PrintableStrings": _certificate(issuer(printable), ED25519, key),
    }


@pytest.mark.parametrize("inner", [ED25519, ED25519_NULL])
def test_an_ed25519_identifier_with_parameters_is_unreadable(region, inner):
    # The anchor's shortcut relies on it: a certificate cryptography reads as Ed25519 has
    # exactly the identifier it looks for in the TBS bytes, as verify_directly_issued_by
    # requires the inner and outer identifiers to be equal.
    tbs = _elements(region.kit(TPS).certificate.tbs_certificate_bytes)
    tbs[ALGORITHM] = inner
    outer = ED25519_NULL if inner == ED25519 else ED25519
    with pytest.raises(ValueError, match="signature_alg"):
        _certificate(tbs, outer, region.authority.key)


def test_a_ca_whose_key_is_not_ed25519_gets_no_shortcut(tmp_path):
    """The profile's CA is Ed25519, but check_ca does not insist: another CA's leaves must
    meet cryptography's check, whatever algorithm they claim."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "TPS CA 31.71")])
    ca_cert = (
        _builder(name, name, key.public_key(), is_ca=True)
        .add_extension(ca._usage(cert_sign=True), critical=True)
        .add_extension(ca._san([f"{certs.URN}region:31.71"]), critical=False)
        .sign(key, SHA256())
    )
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(name)
        .last_update(NOW - dt.timedelta(minutes=5))
        .next_update(NOW + dt.timedelta(days=1))
        .sign(key, SHA256())
    )
    kit = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kit-1")])
    uris = [f"{certs.URN}kit:kit-1", f"{certs.URN}tps:{TPS}", f"{certs.URN}election:e"]
    leaf = (
        _builder(name, kit, Ed25519PrivateKey.generate().public_key(), is_ca=False)
        .add_extension(ca._usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(ca._san(uris), critical=False)
    )
    assert certs.anchor(ca_cert, crl, NOW).ca_key is None
    ecdsa_signed = leaf.sign(key, SHA256())
    full, anchored = _both(ecdsa_signed, ca_cert, crl, NOW)
    assert isinstance(full, certs.Identity)
    assert anchored == full
    ed25519_signed = leaf.sign(Ed25519PrivateKey.generate(), None)
    full, anchored = _both(ed25519_signed, ca_cert, crl, NOW)
    assert full[0] == "UntrustedIssuerError"
    assert anchored == full


def _builder(
    issuer: x509.Name,
    subject: x509.Name,
    key: ec.EllipticCurvePublicKey | Ed25519PublicKey,
    *,
    is_ca: bool,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .issuer_name(issuer)
        .subject_name(subject)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(minutes=5))
        .not_valid_after(NOW + dt.timedelta(days=1))
        .add_extension(
            x509.BasicConstraints(ca=is_ca, path_length=0 if is_ca else None), critical=True
        )
    )


def _certificate(
    tbs_fields: list[bytes],
    algorithm: bytes,
    signer: Ed25519PrivateKey | Callable[[bytes], bytes],
) -> x509.Certificate:
    """A certificate of these TBS fields and outer algorithm, its signature by ``signer``."""
    tbs = _der(0x30, b"".join(tbs_fields))
    signature = signer.sign(tbs) if isinstance(signer, Ed25519PrivateKey) else signer(tbs)
    return x509.load_der_x509_certificate(
        _der(0x30, tbs + algorithm + _der(0x03, b"\0" + signature))
    )


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def _elements(der: bytes) -> list[bytes]:
    """The elements inside the DER SEQUENCE ``der``, each whole (tag and length too)."""
    header, size = _sizes(der)
    content, out = der[header : header + size], []
    while content:
        header, size = _sizes(content)
        out.append(content[: header + size])
        content = content[header + size :]
    return out


def _sizes(der: bytes) -> tuple[int, int]:
    """The sizes of the header and of the contents of the DER element ``der`` starts with."""
    if der[1] < 0x80:
        return 2, der[1]
    length = der[1] & 0x7F
    return 2 + length, int.from_bytes(der[2 : 2 + length], "big")
