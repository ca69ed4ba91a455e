"""Signing and verifying the election manifest: the region's CA signs it itself.

The manifest travels as a result does (protocol/bundle.py): a DSSE envelope over its
canonical JSON, with the signer's certificate beside it. Here the signer is the CA, so a
verifier trusts it only if the bundled certificate *is* the CA certificate it brings, the
CA is in date, the envelope verifies with the CA's key, the payload is canonical, and the
manifest is for that CA's region.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol import bundle, certs
from protocol.canonical import canonical_bytes, parse_canonical, parse_json, sha256_hex
from protocol.errors import (
    BindingError,
    CanonicalError,
    DocumentParseError,
    FieldError,
    UntrustedIssuerError,
)
from protocol.forms.schema import Template
from protocol.manifest import Manifest, check_forms, parse_manifest

PAYLOAD_TYPE = "application/vnd.tps-election-manifest+json"
BUNDLE_FORMAT = "tps-signed-manifest/1"
# A region's manifest holds every TPS of a kabupaten/kota: the largest (about 20,000 TPS)
# comes to a few MB, far past a result's limit.
MAX_MANIFEST_BYTES = 32 << 20


@dataclass(frozen=True)
class VerifiedManifest:
    manifest: Manifest
    sha256: str  # of the canonical payload: names this exact manifest (kit slices carry it)


def manifest_bytes(manifest: Manifest) -> bytes:
    """The canonical bytes that are signed."""
    return canonical_bytes(manifest.to_json_value())


def sign_manifest(manifest: Manifest, key: Ed25519PrivateKey, ca_cert: x509.Certificate) -> bytes:
    return bundle.make_bundle(BUNDLE_FORMAT, PAYLOAD_TYPE, manifest_bytes(manifest), key, ca_cert)


def is_signed_manifest(data: bytes) -> bool:
    """For tools that take either a signed result or a signed manifest (tps-verify)."""
    try:
        value = parse_json(data)
    except ValueError:
        return False
    return isinstance(value, dict) and value.get("format") == BUNDLE_FORMAT


def verify_manifest(
    data: bytes,
    ca_cert: x509.Certificate,
    *,
    at: dt.datetime,
    load_template: Callable[[str], Template] | None = None,
) -> VerifiedManifest:
    """Accept a signed manifest only if every check holds; otherwise raise the first failure
    (a protocol.errors.VerificationError naming it). ``load_template``: also check each
    contest against its form (the shipped templates, where the caller has them)."""
    envelope, signer = bundle.parse_bundle(data, BUNDLE_FORMAT, max_bytes=MAX_MANIFEST_BYTES)
    if signer != ca_cert:
        raise UntrustedIssuerError(
            f"signed by {signer.subject.rfc4514_string()}, not by the region's CA given"
        )
    certs.check_ca(ca_cert, at)
    payload = bundle.check_signature(envelope, ca_cert, PAYLOAD_TYPE)
    try:
        manifest = parse_manifest(parse_canonical(payload))
        if load_template is not None:
            check_forms(manifest, load_template)
    except (CanonicalError, FieldError, ValueError) as e:
        raise DocumentParseError(f"signed payload is not a valid election manifest: {e}") from e
    region = certs.region_of(ca_cert)
    if manifest.region != region:
        raise BindingError(
            f"the manifest is for region {manifest.region}, the CA's region is {region}"
        )
    return VerifiedManifest(manifest, sha256_hex(payload))
