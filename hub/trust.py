"""What the hub trusts: the region's CA certificate, its revocation list, and the registry.

Loaded once at start-up from the paths in hub.toml. The registry (tps-provision registry
export) names every kit; a kit it marks revoked is refused even if the CRL file the hub holds
is older than the registry (fail closed: either source revoking is enough).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.hashes import SHA256

from hub.errors import ConfigError, TrustError
from protocol import certs
from protocol.errors import ProtocolError
from protocol.sodium import SodiumKey

REGISTRY_FORMAT = "tps-registry/1"
_CACHE_LIMIT = 1_000_000  # kit certificates remembered (a country has under a million kits)
_OBJECT_LIMIT = 65_536  # certificate objects whose fingerprint is remembered


@dataclass(frozen=True)
class RegistryKit:
    """One kit of the registry: which TPS and election its certificate binds."""

    kit: str
    tps: str
    election: str
    serial: int
    revoked: bool


@dataclass(frozen=True)
class Trust:
    ca_cert: x509.Certificate
    crl: x509.CertificateRevocationList
    revoked_serials: frozenset[int] = frozenset()
    kits: tuple[RegistryKit, ...] = ()

    @property
    def region(self) -> str:
        return certs.region_of(self.ca_cert)

    # Kit certificates already found good under this CA and CRL, by SHA-256 of their DER.
    # A kit sends every document with the same certificate, and checking it (the CA's
    # signature, its profile and binding) costs about as much as verifying a result.
    _verified: dict[bytes, certs.Identity] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    # Fingerprints by certificate object (held here, so its id is not reused while it is a
    # key): protocol.bundle hands out the same object for the same PEM, and hashing a
    # certificate re-encodes it to DER, as costly as reading it.
    _fingerprints: dict[int, tuple[x509.Certificate, bytes]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    # The CA and CRL once their signatures held (certs.anchor): two of the three signature
    # checks of a kit seen for the first time, and they never change within one Trust. The
    # third, the CA's on the kit's certificate, is libsodium's (protocol/sodium.py).
    _anchor: list[certs.Anchor] = field(default_factory=list, init=False, compare=False, repr=False)

    def check_fresh(self, now: dt.datetime) -> None:
        """Raise TrustError if the CA or CRL cannot be relied on at ``now``.

        Checked before judging any document: with a stale CRL every kit would be refused
        as "expired", and a kit takes a rejection as final. The CRL's signature was
        checked when it was loaded; only time can make it stale since.
        """
        ca = self.ca_cert
        if not ca.not_valid_before_utc <= now <= ca.not_valid_after_utc:
            raise TrustError(
                f"the region's CA certificate is not valid now (valid until "
                f"{ca.not_valid_after_utc:%Y-%m-%d}); the hub cannot judge any document"
            )
        next_update = self.crl.next_update_utc
        if next_update is not None and now > next_update:
            raise TrustError(
                f"the hub's revocation list expired on {next_update:%Y-%m-%d}: install a "
                "fresh CRL or registry (tps-provision crl refresh) and restart the hub"
            )

    def verify_kit(self, certificate: x509.Certificate, now: dt.datetime) -> certs.Identity:
        """certs.verify_issued for a kit, remembered per certificate while this trust lasts.

        The CA and CRL never change within one Trust, so a certificate once good stays
        good except for its own validity window, which is re-checked on every use.
        """
        key = self._fingerprint(certificate)
        known = self._verified.get(key)
        if known is not None and (
            certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc
        ):
            return known
        identity = self._verify_new(certificate, now)
        if len(self._verified) >= _CACHE_LIMIT:
            self._verified.clear()
        self._verified[key] = identity
        return identity

    def _fingerprint(self, certificate: x509.Certificate) -> bytes:
        seen = self._fingerprints.get(id(certificate))
        if seen is not None and seen[0] is certificate:
            return seen[1]
        key = certificate.fingerprint(SHA256())
        if len(self._fingerprints) >= _OBJECT_LIMIT:
            self._fingerprints.clear()
        self._fingerprints[id(certificate)] = (certificate, key)
        return key

    def _verify_new(self, certificate: x509.Certificate, now: dt.datetime) -> certs.Identity:
        if not self._anchor:
            try:
                self._anchor.append(certs.anchor(self.ca_cert, self.crl, now, verifier=SodiumKey))
            except ProtocolError:
                # The CA or CRL fails (perhaps only at this time): the full check says how.
                return certs.verify_issued(
                    certificate, self.ca_cert, role="kit", at=now, crl=self.crl
                )
        return certs.verify_anchored(certificate, self._anchor[0], role="kit", at=now)


def load_trust(ca_path: Path, crl_path: Path | None, registry_path: Path | None) -> Trust:
    """Read the CA certificate, CRL and registry named by hub.toml; ConfigError if unusable."""
    ca_cert = _load(ca_path, "paths.ca_certificate", certs.load_certificate)
    crl = _load(crl_path, "paths.crl", certs.load_crl) if crl_path is not None else None
    revoked: set[int] = set()
    kits: tuple[RegistryKit, ...] = ()
    if registry_path is not None:
        registry = _read_registry(registry_path)
        registry_ca = _parse(
            registry.get("ca_certificate"), "registry ca_certificate", certs.load_certificate
        )
        if registry_ca != ca_cert:
            raise ConfigError(
                "paths.registry", "the registry is for another CA than paths.ca_certificate"
            )
        if crl is None:
            crl = _parse(registry.get("crl"), "registry crl", certs.load_crl)
        kits = tuple(_kit(entry) for entry in registry["kits"])
        revoked = {k.serial for k in kits if k.revoked}
    if crl is None:
        raise ConfigError(
            "paths.crl", "no revocation list: name paths.crl or a paths.registry that holds one"
        )
    if crl.issuer != ca_cert.subject or not crl.is_signature_valid(ca_cert.public_key()):
        raise ConfigError("paths.crl", "the revocation list is not signed by the region's CA")
    revoked |= {entry.serial_number for entry in crl}
    return Trust(ca_cert, crl, frozenset(revoked), kits)


def _load(path: Path, key: str, parse: Any) -> Any:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(key, f"cannot read {path}: {e.strerror}") from e
    return _parse(data.decode("ascii", errors="replace"), f"{key} ({path})", parse)


def _parse(text: Any, key: str, parse: Any) -> Any:
    if not isinstance(text, str):
        raise ConfigError(key, "expected a PEM string")
    try:
        return parse(text.encode("ascii"))
    except (ProtocolError, UnicodeEncodeError) as e:
        raise ConfigError(key, str(e)) from e


def _read_registry(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_bytes())
    except OSError as e:
        raise ConfigError("paths.registry", f"cannot read {path}: {e.strerror}") from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError("paths.registry", f"{path} is not JSON: {e}") from e
    if not isinstance(value, dict) or value.get("format") != REGISTRY_FORMAT:
        raise ConfigError("paths.registry", f"{path} is not a {REGISTRY_FORMAT} file")
    if not isinstance(value.get("kits"), list):
        raise ConfigError("paths.registry", f"{path} has no kits list")
    return value


def _kit(entry: Any) -> RegistryKit:
    try:
        return RegistryKit(
            kit=str(entry["kit"]),
            tps=str(entry["tps"]),
            election=str(entry["election"]),
            serial=int(entry["serial"], 16),
            revoked=bool(entry["revoked"]),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise ConfigError("paths.registry", f"a kit entry is malformed: {entry!r:.200}") from e
