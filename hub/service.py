"""The hub's parts, built from its configuration: trust, identity, store, ingestor."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from hub.config import HubConfig
from hub.errors import ConfigError, TrustError
from hub.ingest import AckSigner, Ingestor
from hub.ingest.ingestor import CurrentHook
from hub.manifests import load_manifests
from hub.recap import RecapHook
from hub.store import ResultStore
from hub.trust import Trust, load_trust
from protocol import certs, keys
from protocol.errors import ProtocolError
from protocol.manifest_sign import VerifiedManifest


@dataclass
class Hub:
    config: HubConfig
    trust: Trust
    signer: AckSigner
    store: ResultStore
    ingestor: Ingestor
    manifests: dict[str, VerifiedManifest] = field(default_factory=dict)  # by election id

    def close(self) -> None:
        self.ingestor.close()
        self.store.close()


def load_identity(config: HubConfig, trust: Trust, now: dt.datetime) -> AckSigner:
    """The hub's key and certificate, checked: issued by the region's CA as a hub, named
    as hub.id says, and the key matching the certificate."""
    paths = config.paths
    try:
        key = keys.load_private_key(paths.key)
    except (ProtocolError, OSError) as e:
        raise ConfigError("paths.key", str(e)) from e
    try:
        certificate = certs.load_certificate(paths.certificate.read_bytes())
        identity = certs.verify_issued(certificate, trust.ca_cert, role="hub", at=now)
    except OSError as e:
        raise ConfigError("paths.certificate", f"cannot read: {e.strerror}") from e
    except ProtocolError as e:
        raise ConfigError("paths.certificate", str(e)) from e
    if identity.name != config.hub.id:
        raise ConfigError(
            "hub.id", f"is {config.hub.id!r} but the certificate names {identity.name!r}"
        )
    raw = (Encoding.Raw, PublicFormat.Raw)
    if key.public_key().public_bytes(*raw) != certificate.public_key().public_bytes(*raw):
        raise ConfigError("paths.key", "the key does not belong to paths.certificate")
    return AckSigner(config.hub.id, key, certificate)


def check_config(config: HubConfig, now: dt.datetime) -> tuple[Trust, AckSigner]:
    """Everything `--validate-config` checks short of touching the database or broker."""
    paths = config.paths
    trust = load_trust(paths.ca_certificate, paths.crl, paths.registry)
    try:
        trust.check_fresh(now)
    except TrustError as e:
        raise ConfigError("paths.crl", str(e)) from e
    return trust, load_identity(config, trust, now)


def config_manifests(config: HubConfig, now: dt.datetime) -> dict[str, VerifiedManifest]:
    """The election manifests ``[paths] manifests`` names, each checked against the CA."""
    return load_manifests(config.paths.manifests, config.paths.ca_certificate, now)


def open_hub(
    config: HubConfig,
    now: dt.datetime,
    *,
    schema: str | None = None,
    hooks: tuple[CurrentHook, ...] = (),
    recap: bool = True,
    workers: int | None = None,
) -> Hub:
    """Load trust and identity, open (and migrate) the database, build the ingestor.

    The recapitulation's hook runs first (unless ``recap`` is False), so its totals commit
    in the same transaction as each document that moves a TPS's counting version; it holds
    the election manifests, read here once, to compare each version with its TPS's DPT.
    ``workers`` overrides ``[ingest] workers`` (the judging processes; 0: none).
    """
    trust, signer = check_config(config, now)
    manifests = config_manifests(config, now)
    if recap:
        hooks = (RecapHook(manifests), *hooks)
    store = ResultStore.open(
        config.database.url,
        now=now,
        schema=schema,
        cache_mb=config.database.cache_mb,
        background_checkpoint=True,
    )
    ingestor = Ingestor(
        store,
        trust,
        signer,
        log_id=config.hub.log_id,
        training_log_id=config.training_log_id,
        limits=config.limits,
        hooks=hooks,
        workers=config.ingest.judging_processes if workers is None else workers,
    )
    return Hub(config, trust, signer, store, ingestor, manifests)
