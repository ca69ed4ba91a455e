"""The hub site's Mosquitto configuration, rendered from systemd/mosquitto/tps-hub.conf.

The template is the documented, operator-facing file; this module only fills its
``${name}`` placeholders, so the tests, the demo and ``tps-hub broker-config`` all run the
configuration an operator would read. Who may publish, subscribe and read is the dynamic
security plugin's JSON file, written beside it (hub/broker_access.py says why).
"""

from __future__ import annotations

import glob
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from hub.broker_access import render_access
from protocol.errors import ProtocolError
from protocol.ids import check_id

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "systemd" / "mosquitto"
CONF_TEMPLATE = "tps-hub.conf"
ACCESS_FILE = "tps-hub-access.json"
# Where Debian's mosquitto package puts the plugin (the directory names the architecture).
DYNSEC_GLOBS = (
    "/usr/lib/*/mosquitto_dynamic_security.so",
    "/usr/lib/mosquitto_dynamic_security.so",
    "/usr/local/lib/mosquitto_dynamic_security.so",
)

_PLACEHOLDER = re.compile(r"\$\{([a-z_]+)\}")


class BrokerConfigError(ValueError):
    """A value cannot go into the broker configuration (bad path, port or hub id)."""


def render_broker_config(
    *,
    port: int,
    ca_file: Path,
    cert_file: Path,
    key_file: Path,
    access_file: Path,
    persistence_dir: Path,
    hub_ids: Iterable[str],
    kit_ids: Iterable[str],
    bind_address: str | None = None,
    crl_file: Path | None = None,
    run_as_user: str = "mosquitto",
    dynsec_plugin: Path | None = None,
    template_dir: Path = TEMPLATE_DIR,
) -> tuple[str, str]:
    """Return (mosquitto.conf text, access JSON text) for one hub site.

    The access JSON goes to ``access_file``; ``kit_ids`` are every kit that may publish
    (the registry's). ``bind_address`` None listens on every interface; ``crl_file`` None
    leaves the revocation line commented out (see the template for why); ``dynsec_plugin``
    None looks for Debian's. Paths are made absolute because mosquitto resolves relative
    ones against its working directory, not the file.
    """
    values = {
        "listener": _listener(port, bind_address),
        "ca_file": _path(ca_file),
        "cert_file": _path(cert_file),
        "key_file": _path(key_file),
        "dynsec_plugin": _path(dynsec_plugin or find_dynsec_plugin()),
        "access_file": _path(access_file),
        "persistence_dir": _path(persistence_dir),
        "run_as_user": _word(run_as_user, "run_as_user"),
        "crl_file": _path(crl_file) if crl_file is not None else "/etc/tps/ca/crl.pem",
    }
    conf = _fill(_read(template_dir / CONF_TEMPLATE), values)
    if crl_file is not None:
        conf = conf.replace("\n#crlfile ", "\ncrlfile ")
    hubs = _hub_ids(hub_ids)
    return conf, render_access(hubs, _kit_ids(kit_ids, hubs))


def find_dynsec_plugin() -> Path:
    """Debian's mosquitto_dynamic_security.so, or BrokerConfigError naming where it looked."""
    for pattern in DYNSEC_GLOBS:
        found = sorted(glob.glob(pattern))
        if found:
            return Path(found[0])
    raise BrokerConfigError(
        "mosquitto's dynamic security plugin (mosquitto_dynamic_security.so) is not in "
        f"{', '.join(DYNSEC_GLOBS)}: install Debian's mosquitto package or name it"
    )


def _fill(template: str, values: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        try:
            return values[match.group(1)]
        except KeyError:
            raise BrokerConfigError(f"no value for placeholder {match.group(0)}") from None

    return _PLACEHOLDER.sub(replace, template)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise BrokerConfigError(f"cannot read the broker template {path}: {e.strerror}") from e


def _listener(port: int, bind_address: str | None) -> str:
    if not isinstance(port, int) or not 0 < port < 65536:
        raise BrokerConfigError(f"{port!r} is not a TCP port")
    if bind_address is None:
        return str(port)
    return f"{port} {_word(bind_address, 'bind_address')}"


def _path(path: Path) -> str:
    # Mosquitto splits a value at whitespace, so a path with a space would be cut short.
    text = str(Path(path).absolute())
    if any(c.isspace() for c in text):
        raise BrokerConfigError(f"{text!r}: mosquitto cannot use a path containing spaces")
    return text


def _word(value: str, field: str) -> str:
    if not value or any(c.isspace() for c in value):
        raise BrokerConfigError(f"{field} {value!r} must be one word")
    return value


def _hub_ids(hub_ids: Iterable[str]) -> list[str]:
    ids = list(hub_ids)
    if not ids:
        raise BrokerConfigError("at least one hub id is needed, or no one may read results")
    for hub_id in ids:
        try:
            check_id(hub_id, "hub id")
        except ProtocolError as e:
            raise BrokerConfigError(str(e)) from e
        # A kit's CN is kit-<digits>-<n>: listing one as a hub would let it read every result.
        if hub_id.startswith("kit-"):
            raise BrokerConfigError(f"{hub_id!r} is a kit id, not a hub id")
    if len(set(ids)) != len(ids):
        raise BrokerConfigError(f"hub ids are listed twice: {ids}")
    return ids


def _kit_ids(kit_ids: Iterable[str], hub_ids: list[str]) -> list[str]:
    ids = list(kit_ids)
    for kit_id in ids:
        try:
            check_id(kit_id, "kit id")
        except ProtocolError as e:
            raise BrokerConfigError(str(e)) from e
        # One user name, one client entry: listed twice, which role it gets is unclear.
        if kit_id in hub_ids:
            raise BrokerConfigError(f"{kit_id!r} is listed as a hub and as a kit")
    return ids
