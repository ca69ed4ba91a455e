"""The kit's own key: made on the kit, kept at mode 0600, never copied anywhere else.

The certificate signing request (CSR) is the only thing that leaves the kit during enrolment.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from protocol.errors import ProtocolError


class KeyFileError(ProtocolError):
    """A key file is missing, unreadable, too open, or not an Ed25519 key."""


class KeyDecodeError(KeyFileError):
    """The bytes are not a PEM private key this password opens (or none was needed)."""


class KeyTypeError(KeyFileError):
    """A PEM private key, but not Ed25519."""


def write_new_key(path: Path) -> Ed25519PrivateKey:
    """Generate an Ed25519 key and write it as PKCS#8 PEM, created with mode 0600.

    The file is opened with O_EXCL and mode 0600 from the start, so there is no moment when
    the key exists with looser permissions, and an existing key is never overwritten.
    """
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as e:
        raise KeyFileError(f"{path} already exists: a kit keeps the key it has") from e
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
        out.flush()
        os.fsync(out.fileno())
    return key


def load_private_key(path: Path, *, check_mode: bool = True) -> Ed25519PrivateKey:
    try:
        mode = path.stat().st_mode & 0o777
        data = path.read_bytes()
    except OSError as e:
        raise KeyFileError(f"cannot read the kit key {path}: {e.strerror}") from e
    if check_mode and mode & 0o077:
        raise KeyFileError(f"{path} is readable by others (mode {mode:o}): chmod 600 it")
    return parse_private_key(data, source=str(path))


def parse_private_key(
    data: bytes, *, password: bytes | None = None, source: str = "the key"
) -> Ed25519PrivateKey:
    """The Ed25519 key in PEM ``data`` (encrypted under ``password``, if given): the one
    reader of every private key file, the kit's and the CA's."""
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError) as e:
        what = "an unencrypted" if password is None else "a"
        raise KeyDecodeError(f"{source} is not {what} PEM private key this opens") from e
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyTypeError(f"{source} is not an Ed25519 key")
    return key


def make_csr(key: Ed25519PrivateKey, name: str) -> x509.CertificateSigningRequest:
    """A CSR naming the holder; the CA decides the binding, not the requester."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    return x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, None)
