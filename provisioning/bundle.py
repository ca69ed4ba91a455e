"""The kit's configuration directory: what the install script copies onto a kit.

A bundle is the kit directory from enrolment (key, CSR, certificate) completed with the CA
certificate and one validated ``kit.toml``. The key is already there, made in that directory,
and is only checked, never copied.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from protocol import certs, keys
from protocol.errors import ProtocolError
from protocol.kitconfig import (
    CONFIG_FILE,
    BrokerSettings,
    FormSettings,
    HubSettings,
    KitConfig,
    KitPaths,
    KitSection,
    dump_kit_config,
    parse_kit_config,
)
from protocol.manifest_sign import VerifiedManifest
from protocol.tpsslice import SLICE_FILE
from provisioning.authority import Authority, utc_now
from provisioning.enrol import CERT_FILE, KEY_FILE
from provisioning.errors import EnrolmentError
from provisioning.files import write_atomic
from provisioning.kitforms import choose_forms


def parse_broker(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise EnrolmentError(f"broker {text!r} is not HOST:PORT, e.g. hub.kpu-3171.local:8883")
    return host, int(port)


def write_bundle(
    authority: Authority,
    kit_dir: Path,
    *,
    broker: str,
    forms: Sequence[str],
    manifest: VerifiedManifest | None = None,
    public_url: str = "",
    log_id: str = "",
) -> KitConfig:
    """Complete ``kit_dir`` into a configuration bundle; return the config written.

    ``public_url``, the hub's public web address, makes the receipt's QR code open the hub's
    page for it (kit.toml's ``hub.public_url``). ``log_id``, the hub's log (hub.toml's
    ``hub.log_id``), is the only log the kit takes an accepted ack's proof from.

    With the election ``manifest``, the forms are its contests' for this TPS (``forms``
    may only narrow them) and the bundle gets the TPS's slice of it (protocol/tpsslice.py).
    """
    try:
        cert = certs.load_certificate((kit_dir / CERT_FILE).read_bytes())
        keys.load_private_key(kit_dir / KEY_FILE)
    except (OSError, ProtocolError) as e:
        raise EnrolmentError(f"{kit_dir} is not an enrolled kit directory: {e}") from e
    try:
        identity = certs.verify_issued(
            cert, authority.cert, role="kit", at=utc_now(), crl=authority.crl()
        )
    except ProtocolError as e:
        raise EnrolmentError(f"{kit_dir}: its certificate does not hold: {e}") from e
    host, port = parse_broker(broker)
    forms, cut = choose_forms(identity.tps or "", identity.election or "", forms, manifest)
    config = KitConfig(
        kit=KitSection(
            id=identity.name,
            tps=identity.tps or "",
            election=identity.election or "",
            region=authority.region,
        ),
        paths=KitPaths(),
        broker=BrokerSettings(host=host, port=port),
        hub=HubSettings(public_url=public_url, log_id=log_id),
        forms=FormSettings(ids=list(forms)),
    )
    data = dump_kit_config(config)
    parse_kit_config(config.model_dump(mode="json"))  # what we write must read back
    write_atomic(kit_dir / "ca.cert.pem", authority.cert.public_bytes(Encoding.PEM))
    write_atomic(kit_dir / CONFIG_FILE, data)
    if cut is not None:
        write_atomic(kit_dir / SLICE_FILE, cut.to_bytes())
    else:
        (kit_dir / SLICE_FILE).unlink(missing_ok=True)  # never a slice of another manifest
    return config
