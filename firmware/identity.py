"""Who this kit is, from its certificate, checked against kit.toml; and whether it trains.

Training mode is not a setting: it follows from the election the certificate binds (an id
starting ``latihan-``, protocol.ids.is_training). There is no button or config switch, so a
KPPS cannot turn a real kit into a training one or back, and a training kit's signature can
only ever name a training election, which the hub refuses for a real count.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from protocol import certs, keys
from protocol.errors import ProtocolError
from protocol.ids import is_training
from protocol.kitconfig import KitConfig


class StartupError(Exception):
    """The kit must not start: its files disagree or are missing. Says what to fix."""


@dataclass(frozen=True)
class KitIdentity:
    kit_id: str
    tps: str
    election: str
    key: Ed25519PrivateKey
    certificate: x509.Certificate

    @property
    def training(self) -> bool:
        return is_training(self.election)


def load_identity(config: KitConfig, base: Path) -> KitIdentity:
    """The kit's key and certificate; refuses a certificate that binds anything but what
    kit.toml says (a mismatch means a wrong bundle on this kit: never guess which is right)."""
    paths = config.paths
    cert_path, key_path = (config.resolve(p, base) for p in (paths.certificate, paths.key))
    try:
        certificate = certs.load_certificate(cert_path.read_bytes())
        key = keys.load_private_key(key_path)
    except OSError as e:
        raise StartupError(f"cannot read {e.filename}: {e.strerror}") from e
    except ProtocolError as e:
        raise StartupError(str(e)) from e
    if _raw(key.public_key()) != _raw(certificate.public_key()):
        raise StartupError(f"{key_path} is not the key of {cert_path}")
    bound = certs.urns(certificate)
    bound_kit = bound.get("kit") or certs.common_name(certificate)
    for what, claimed, held in (
        ("kit id", config.kit.id, bound_kit),
        ("TPS", config.kit.tps, bound.get("tps")),
        ("election", config.kit.election, bound.get("election")),
    ):
        if claimed != held:
            raise StartupError(
                f"kit.toml names {what} {claimed!r} but the kit's certificate binds {held!r}: "
                "this kit has the wrong configuration bundle"
            )
    return KitIdentity(config.kit.id, config.kit.tps, config.kit.election, key, certificate)


def _raw(public_key: object) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)  # type: ignore[attr-defined]
