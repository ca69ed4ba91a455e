"""Reading the region's signed election manifest on the technician's laptop: every command
that takes ``--manifest`` checks it against the CA first, as a kit or the hub would."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from protocol import certs
from protocol.errors import ProtocolError
from protocol.forms.loader import load_template
from protocol.manifest_sign import VerifiedManifest, verify_manifest
from provisioning.authority import CERT_FILE, utc_now
from provisioning.errors import ProvisioningError


def read_manifest(path: Path, ca_cert: x509.Certificate) -> VerifiedManifest:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ProvisioningError(f"cannot read the manifest {path}: {e.strerror}") from e
    try:
        return verify_manifest(data, ca_cert, at=utc_now(), load_template=load_template)
    except ProtocolError as e:
        raise ProvisioningError(
            f"{path} is not a manifest this CA signed ({type(e).__name__}: {e}); "
            "make it again with `tps-provision election make`"
        ) from e


def read_manifest_for(path: Path, ca_dir: Path) -> VerifiedManifest:
    """The manifest, checked against the certificate in a CA directory (no passphrase)."""
    try:
        ca_cert = certs.load_certificate((ca_dir / CERT_FILE).read_bytes())
    except OSError as e:
        raise ProvisioningError(f"{ca_dir} holds no CA certificate: {e.strerror}") from e
    return read_manifest(path, ca_cert)
