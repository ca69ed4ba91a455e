"""What the hub's commands share: the --config option, reading hub.toml, the store, the
registry and the TPS expected, each turned into a click error that names what is wrong."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hub.config import HubConfig, load_hub_config
from hub.errors import HubError

if TYPE_CHECKING:  # the commands import what they use when run
    from hub.recap.completeness import Expected
    from hub.store import ResultStore
    from hub.trust import RegistryKit

CONFIG = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="TPS_HUBCONFIG",
    default=Path("/etc/tps-hub/hub.toml"),  # where the units and the README put it
    show_default=True,
    help="The hub's hub.toml (env TPS_HUBCONFIG).",
)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def load_config(config_path: Path) -> HubConfig:
    try:
        return load_hub_config(config_path)
    except HubError as e:
        raise click.ClickException(str(e)) from e


def open_store(config: HubConfig) -> ResultStore:
    from hub.store import ResultStore

    try:
        return ResultStore.open(config.database.url, now=now())
    except HubError as e:
        raise click.ClickException(str(e)) from e


def registry(config: HubConfig) -> tuple[RegistryKit, ...]:
    """The registry's kits, if hub.toml names a registry (for expected TPS and kits)."""
    from hub.trust import load_trust

    paths = config.paths
    if paths.registry is None:
        return ()
    try:
        return load_trust(paths.ca_certificate, paths.crl, paths.registry).kits
    except HubError as e:
        raise click.ClickException(str(e)) from e


def expected_tps(config: HubConfig, kits: tuple[RegistryKit, ...]) -> Expected | None:
    """The TPS the registry and the election manifests expect (None: neither says), as the
    API counts them."""
    from hub import service
    from hub.recap.completeness import expected_from

    try:
        manifests = service.config_manifests(config, now())
    except HubError as e:
        raise click.ClickException(str(e)) from e
    return expected_from(kits, manifests)
