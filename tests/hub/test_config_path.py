"""One configuration path: the hub's commands default to the file its units read, and an
empty directory given to `tps-hub import` names the kit's command that makes an export."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub.cli import main
from hub.errors import ExportFormatError
from hub.usbimport import read_export

UNITS = Path(__file__).parents[2] / "systemd"


def test_default_config_is_where_the_units_read_it():
    unit = (UNITS / "tps-hub.service").read_text() + (UNITS / "tps-hub-api.service").read_text()
    used = set(re.findall(r"--config (\S+)", unit))
    assert used == {"/etc/tps-hub/hub.toml"}
    for name, command in main.commands.items():
        for param in command.params:
            if param.name == "config_path":
                assert param.default == Path("/etc/tps-hub/hub.toml"), name


def test_import_of_an_empty_directory_names_the_kit_command(tmp_path):
    with pytest.raises(ExportFormatError, match="tps-kit outbox export"):
        read_export(tmp_path)
