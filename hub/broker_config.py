"""The hub site's Mosquitto configuration, rendered from systemd/mosquitto/tps-hub.{conf,acl}.

The templates are the documented, operator-facing files; this module only fills their
``${name}`` placeholders, so the tests, the demo and ``tps-hub broker-config`` all run the
configuration an operator would read. The ACL's hub block is repeated once per hub identity
because Mosquitto's ACL has no wildcard user names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from protocol.errors import ProtocolError
from protocol.ids import check_id

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "systemd" / "mosquitto"
CONF_TEMPLATE = "tps-hub.conf"
ACL_TEMPLATE = "tps-hub.acl"

_PLACEHOLDER = re.compile(r"\$\{([a-z_]+)\}")
_HUB_BLOCK = re.compile(r"^# BEGIN hub block\n(.*?)^# END hub block\n", re.M | re.S)


class BrokerConfigError(ValueError):
    """A value cannot go into the broker configuration (bad path, port or hub id)."""


def render_broker_config(
    *,
    port: int,
    ca_file: Path,
    cert_file: Path,
    key_file: Path,
    acl_file: Path,
    persistence_dir: Path,
    hub_ids: Iterable[str],
    bind_address: str | None = None,
    crl_file: Path | None = None,
    run_as_user: str = "mosquitto",
    template_dir: Path = TEMPLATE_DIR,
) -> tuple[str, str]:
    """Return (mosquitto.conf text, ACL text) for one hub site.

    ``bind_address`` None listens on every interface; ``crl_file`` None leaves the
    revocation line commented out (see the template for why). Paths are made absolute
    because mosquitto resolves relative ones against its working directory, not the file.
    """
    values = {
        "listener": _listener(port, bind_address),
        "ca_file": _path(ca_file),
        "cert_file": _path(cert_file),
        "key_file": _path(key_file),
        "acl_file": _path(acl_file),
        "persistence_dir": _path(persistence_dir),
        "run_as_user": _word(run_as_user, "run_as_user"),
        "crl_file": _path(crl_file) if crl_file is not None else "/etc/tps/ca/crl.pem",
    }
    conf = _fill(_read(template_dir / CONF_TEMPLATE), values)
    if crl_file is not None:
        conf = conf.replace("\n#crlfile ", "\ncrlfile ")
    acl = _render_acl(_read(template_dir / ACL_TEMPLATE), _hub_ids(hub_ids))
    return conf, acl


def _render_acl(template: str, hub_ids: list[str]) -> str:
    match = _HUB_BLOCK.search(template)
    if match is None:
        raise BrokerConfigError("the ACL template has no '# BEGIN hub block' ... '# END' block")
    blocks = "".join(_fill(match.group(1), {"hub_id": hub_id}) for hub_id in hub_ids)
    return _fill(template[: match.start()] + blocks + template[match.end() :], {})


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
