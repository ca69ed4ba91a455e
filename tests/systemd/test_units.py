"""The systemd units in systemd/: `systemd-analyze verify` on each, then the hardening.

`systemd-analyze verify` loads a unit the way systemd would and reports unknown keys, bad
values and ExecStart= binaries that do not exist. CI has no booted systemd and no
/opt/tps-kit, so each run gets a throwaway root (``--root=``): the host's packaged units
(/usr/lib/systemd/system, for the targets ours name), our units in its
/etc/systemd/system, and an empty executable at every absolute path an Exec*= line names.
Checked with systemd 252 (Debian 12): with --root the executables are looked up inside the
root, and unknown keys are only warnings (exit status 0), so stderr must be empty as well.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNITS = REPO / "systemd"
KIT = "tps-kit.service"
HUB = "tps-hub.service"
HUB_TEMPLATE = "tps-hub@.service"
HUB_API = "tps-hub-api.service"
MOSQUITTO_DROPIN = UNITS / "mosquitto.service.d" / "tps-hub.conf"
OUR_UNITS = [KIT, HUB, HUB_TEMPLATE, HUB_API]

# Debian's packaged unit (mosquitto 2.0.11-1.2+deb12u1), for hosts without mosquitto: the
# drop-in is verified on top of it.
DEBIAN_MOSQUITTO_UNIT = """\
[Unit]
Description=Mosquitto MQTT Broker
After=network.target
Wants=network.target

[Service]
Type=notify
NotifyAccess=main
ExecStart=/usr/sbin/mosquitto -c /etc/mosquitto/mosquitto.conf
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
ExecStartPre=/bin/mkdir -m 740 -p /var/log/mosquitto
ExecStartPre=/bin/chown mosquitto /var/log/mosquitto
ExecStartPre=/bin/mkdir -m 740 -p /run/mosquitto
ExecStartPre=/bin/chown mosquitto /run/mosquitto

[Install]
WantedBy=multi-user.target
"""

ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze missing (scripts/setup installs systemd)"
)


def parse_unit(path: Path) -> list[tuple[str, str, str]]:
    """(section, key, value) for every assignment, in order; repeated keys kept."""
    entries = []
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not an assignment: {raw!r}"
        entries.append((section, key.strip(), value.strip()))
    return entries


def values(path: Path, key: str, section: str = "Service") -> list[str]:
    return [v for s, k, v in parse_unit(path) if s == section and k == key]


def value(path: Path, key: str, section: str = "Service") -> str:
    found = values(path, key, section)
    assert len(found) == 1, f"{path.name}: [{section}] {key}= set {len(found)} times"
    return found[0]


def exec_paths(path: Path) -> set[str]:
    """Absolute executables of every Exec*= line (after systemd's -@:+! prefixes)."""
    found = set()
    for _section, key, val in parse_unit(path):
        if key.startswith("Exec") and val:
            command = val.lstrip("-@:+!").split()[0]
            if command.startswith("/"):
                found.add(command)
    return found


@pytest.fixture(scope="module")
def analyze_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("analyze-root")
    packaged = next(
        p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")) if p.is_dir()
    )
    shutil.copytree(packaged, root / "usr/lib/systemd/system", symlinks=True)
    mosquitto = root / "usr/lib/systemd/system/mosquitto.service"
    if not mosquitto.exists():
        mosquitto.write_text(DEBIAN_MOSQUITTO_UNIT)
    system = root / "etc/systemd/system"
    system.mkdir(parents=True)
    for name in OUR_UNITS:
        shutil.copy(UNITS / name, system / name)
    (system / "mosquitto.service.d").mkdir()
    shutil.copy(MOSQUITTO_DROPIN, system / "mosquitto.service.d" / MOSQUITTO_DROPIN.name)
    for unit in [*(system / n for n in OUR_UNITS), mosquitto, MOSQUITTO_DROPIN]:
        for command in exec_paths(unit):
            placeholder = root / command.lstrip("/")
            placeholder.parent.mkdir(parents=True, exist_ok=True)
            placeholder.write_text("#!/bin/sh\nexit 0\n")
            placeholder.chmod(0o755)
    return root


def analyze(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None
    return subprocess.run(
        [ANALYZE, *args, f"--root={root}"], capture_output=True, text=True, timeout=120
    )


# --- systemd-analyze ----------------------------------------------------------------------


@needs_analyze
@pytest.mark.parametrize("unit", [KIT, HUB, "tps-hub@hub-3171-a.service", "mosquitto.service"])
def test_systemd_analyze_verify_is_clean(analyze_root, unit):
    result = analyze(analyze_root, "verify", "--man=no", unit)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


@needs_analyze
def test_the_verify_harness_catches_mistakes(analyze_root, tmp_path):
    """The clean runs above mean something: a typo and a missing binary are both caught."""
    root = tmp_path / "root"
    shutil.copytree(analyze_root, root, symlinks=True)
    unit = root / "etc/systemd/system" / KIT
    unit.write_text(unit.read_text().replace("ProtectHome=yes", "ProtectHom=yes"))
    result = analyze(root, "verify", "--man=no", KIT)
    assert "Unknown key 'ProtectHom'" in result.stderr
    (root / "opt/tps-kit/bin/tps-kit").unlink()
    result = analyze(root, "verify", "--man=no", KIT)
    assert result.returncode != 0
    assert "/opt/tps-kit/bin/tps-kit is not executable" in result.stderr


@needs_analyze
@pytest.mark.parametrize("unit", [KIT, HUB, "tps-hub@hub-3171-a.service"])
def test_systemd_analyze_security_rates_the_units_ok(analyze_root, unit):
    """systemd's own exposure score (0 = locked down, 10 = none): 'OK' is below 2.5."""
    result = analyze(analyze_root, "security", "--offline=yes", unit)
    assert result.returncode == 0, result.stderr
    score = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert score, result.stdout
    assert float(score.group(1)) < 2.5, result.stdout


# --- Structure: what the design asks of every unit -------------------------------------

HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "PrivateTmp": "yes",
    "ProtectHome": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectControlGroups": "yes",
    "DevicePolicy": "closed",
    "CapabilityBoundingSet": "",
    "RestrictNamespaces": "yes",
    "LockPersonality": "yes",
    "Restart": "always",
}


@pytest.mark.parametrize("name", OUR_UNITS)
def test_every_unit_is_hardened(name):
    unit = UNITS / name
    for key, expected in HARDENING.items():
        assert value(unit, key) == expected, f"{name}: {key}"
    assert set(value(unit, "RestrictAddressFamilies").split()) == {
        "AF_UNIX",
        "AF_INET",
        "AF_INET6",
    }
    assert value(unit, "User") not in ("", "root", "0")
    assert value(unit, "User") == value(unit, "Group")
    # Never give up restarting (the default stops after 5 failures in 10 s).
    assert value(unit, "StartLimitIntervalSec", "Unit") == "0"
    assert value(unit, "WantedBy", "Install") == "multi-user.target"


def test_kit_unit_is_a_notify_service_with_a_watchdog():
    unit = UNITS / KIT
    assert value(unit, "Type") == "notify"
    watchdog = value(unit, "WatchdogSec")
    assert watchdog.isdigit() and 5 <= int(watchdog) <= 120
    assert value(unit, "ExecStart") == (
        "/opt/tps-kit/bin/tps-kit run --config /etc/tps-kit/kit.toml"
    )
    restart_sec = value(unit, "RestartSec")
    assert restart_sec.isdigit() and 1 <= int(restart_sec) <= 30


def test_kit_unit_writes_only_its_state_directory():
    unit = UNITS / KIT
    assert values(unit, "ReadWritePaths") == ["/var/lib/tps-kit"]
    assert value(unit, "StateDirectory") == "tps-kit"
    assert value(unit, "ConfigurationDirectory") == "tps-kit"
    assert value(unit, "User") == "tps-kit"
    # Nothing else made writable behind ReadWritePaths' back.
    for key in ("BindPaths", "LogsDirectory", "CacheDirectory", "ReadWriteDirectories"):
        assert values(unit, key) == [], key
    # The one runtime directory is the lgpio working directory, a tmpfs under /run.
    assert value(unit, "RuntimeDirectory") == "tps-kit"
    assert value(unit, "WorkingDirectory") == "/run/tps-kit"


def test_kit_unit_reaches_only_gpio_camera_and_screen():
    unit = UNITS / KIT
    assert value(unit, "SupplementaryGroups").split() == ["gpio", "video"]
    assert set(values(unit, "DeviceAllow")) == {
        "char-gpiochip rw",  # /dev/gpiochip*
        "char-*gpiomem* rw",  # /dev/gpiomem (bcm2835-gpiomem / rpi-gpiomem)
        "/dev/gpiomem rw",
        "char-video4linux rw",  # /dev/video*, /dev/v4l-subdev*
        "char-media rw",  # /dev/media*
        "char-dma_heap rw",  # /dev/dma_heap/*
        "/dev/fb0 rw",
    }
    assert values(unit, "PrivateDevices") == []  # it would hide the devices above


def test_kit_unit_explains_every_setting():
    """Each [Service] setting sits in a block of lines that carries a comment (the why)."""
    lines = (UNITS / KIT).read_text().splitlines()
    section = ""
    block_has_comment = False
    for line in lines:
        stripped = line.strip()
        if not stripped:
            block_has_comment = False
        elif stripped.startswith("#"):
            block_has_comment = True
        elif stripped.startswith("["):
            section = stripped
        elif section == "[Service]":
            assert block_has_comment, f"tps-kit.service: no comment says why: {line}"


def test_hub_units():
    hub = UNITS / HUB
    assert value(hub, "Type") in ("exec", "notify")
    assert value(hub, "ExecStart") == "/opt/tps-hub/bin/tps-hub run --config /etc/tps-hub/hub.toml"
    assert values(hub, "ReadWritePaths") == ["/var/lib/tps-hub"]
    assert value(hub, "PrivateDevices") == "yes"
    template = UNITS / HUB_TEMPLATE
    assert value(template, "ExecStart") == (
        "/opt/tps-hub/bin/tps-hub run --config /etc/tps-hub/%i/hub.toml"
    )
    # Several workers share PostgreSQL: no writable state of their own.
    assert values(template, "ReadWritePaths") == []
    assert values(template, "StateDirectory") == []
    api = UNITS / HUB_API
    assert value(api, "ExecStart") == (
        "/opt/tps-hub/bin/tps-hub serve --config /etc/tps-hub/hub.toml"
    )
    # The same user and database directory as the worker it reads after.
    assert value(api, "User") == value(hub, "User")
    assert values(api, "ReadWritePaths") == ["/var/lib/tps-hub"]


def test_mosquitto_dropin_runs_the_projects_configuration():
    assert values(MOSQUITTO_DROPIN, "ExecStart") == [
        "",
        "/usr/sbin/mosquitto -c /etc/mosquitto/tps-hub/tps-hub.conf",
    ]
    assert value(MOSQUITTO_DROPIN, "Restart") == "always"
    assert int(value(MOSQUITTO_DROPIN, "LimitNOFILE")) >= 10000
