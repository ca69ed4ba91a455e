"""Identities for the hub (signs acknowledgements and tree heads) and the site's broker (TLS)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from protocol import certs, keys
from protocol.errors import ProtocolError
from protocol.ids import check_id
from provisioning.authority import Authority, issue
from provisioning.errors import EnrolmentError
from provisioning.files import publish_dir, write_atomic


def enrol_service(
    authority: Authority,
    *,
    role: certs.Role,
    name: str,
    out: Path,
    days: int,
    dns: tuple[str, ...] = (),
    ips: tuple[str, ...] = (),
) -> x509.Certificate:
    """Write ``out/`` with ``<role>.key.pem`` (0600), ``<role>.cert.pem`` and ``ca.cert.pem``."""
    if role == "hub":
        try:
            check_id(name, "hub name")
        except ProtocolError as e:
            raise EnrolmentError(str(e)) from e
    if out.exists():
        raise EnrolmentError(f"{out} already exists; choose a new --out directory")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        key = keys.write_new_key(staging / f"{role}.key.pem")
        cert = issue(authority, key.public_key(), role=role, name=name, days=days, dns=dns, ips=ips)
        write_atomic(staging / f"{role}.cert.pem", cert.public_bytes(Encoding.PEM))
        write_atomic(staging / "ca.cert.pem", authority.cert.public_bytes(Encoding.PEM))
        publish_dir(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return cert
