"""What the uplink needs to know: who the kit is, where the broker is, and its timers."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from protocol.ids import log_of
from protocol.kitconfig import KitConfig

# The broker keeps an offline kit's session (its ack subscription and the acks queued for it)
# this long. The hub site's broker expires abandoned sessions after 30 days
# (persistent_client_expiration in systemd/mosquitto/tps-hub.conf); ask for the same.
SESSION_EXPIRY_S = 30 * 86_400


@dataclass(frozen=True)
class UplinkSettings:
    """One kit's uplink. Build it with :func:`settings_from_config` on the kit."""

    kit_id: str  # the kit's certificate CN: MQTT client id and topic prefix
    host: str
    port: int
    ca_cert: Path  # the region CA: the broker's certificate and the hub's acks chain to it
    cert: Path  # the kit's certificate, its TLS client identity
    key: Path  # the kit's private key (mode 0600)
    state_dir: Path  # its free space goes into the heartbeat
    log_id: str = ""  # the log an accepted ack must prove the result in; "": any of the region
    keepalive_s: int = 30
    session_expiry_s: int = SESSION_EXPIRY_S
    heartbeat_s: float = 60.0  # a retained status at least this often, and on every change
    connect_timeout_s: float = 10.0  # TCP + TLS handshake of one attempt
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 120.0  # bounded: a kit never waits longer than this to retry
    document_window: int = 8  # results published and not yet PUBACKed, at most
    image_window: int = 1  # page images (megabytes each) in flight, at most
    poll_s: float = 1.0  # how often the outbox is looked at when nothing else wakes us
    # A result the broker PUBACKed but the hub has not acknowledged (a worker died with it,
    # or the broker lost it) is published again after resend_initial_s, then after twice
    # as long each time, up to resend_s; each wait drawn from [w/2, w] so kits spread out.
    resend_initial_s: float = 60.0
    resend_s: float = 600.0
    # ...or soon after a PUBACK 16 "no matching subscribers": no hub worker was listening
    # (measured: mosquitto 2.0.11 loses $share subscriptions over a restart until each worker
    # subscribes again, and the kits reconnect about a second before the hub), so that
    # publish reached nobody. Again after unheard_resend_initial_s, doubling while nobody
    # hears, up to unheard_resend_s; jittered as above.
    unheard_resend_initial_s: float = 2.0
    unheard_resend_s: float = 30.0
    refused_retry_s: float = 300.0  # after a PUBACK failure code, try that result again later

    def tls_context(self) -> ssl.SSLContext:
        """TLS 1.2+ with the kit's certificate, trusting only the region CA."""
        context = ssl.create_default_context(cafile=str(self.ca_cert))
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(str(self.cert), str(self.key))
        return context


def settings_from_config(config: KitConfig, base: Path, **timers: float | int) -> UplinkSettings:
    """The uplink of the kit described by a kit.toml in directory ``base``."""
    paths = config.paths
    return UplinkSettings(
        kit_id=config.kit.id,
        host=config.broker.host,
        port=config.broker.port,
        keepalive_s=config.broker.keepalive,
        ca_cert=config.resolve(paths.ca_certificate, base),
        cert=config.resolve(paths.certificate, base),
        key=config.resolve(paths.key, base),
        state_dir=config.resolve(paths.state_dir, base),
        log_id=log_of(config.hub.log_id, config.kit.election) if config.hub.log_id else "",
        **timers,  # type: ignore[arg-type]
    )
