"""scripts/install-kit: the plan it prints, the files it lays down, the errors it gives.

The bundle is made by the real provisioning code (region CA, kit enrolment, bundle). Two
ways of running the script without a Raspberry Pi:
- ``--dry-run`` against this machine: the exact commands a fresh kit would run;
- ``INSTALL_ROOT=DIR``: the files really land under DIR (modes checked), while apt, users,
  pip, chown and systemctl start are reported as skipped.
TPS_INSTALL_ARCH / TPS_INSTALL_OS_RELEASE let the platform check pass on x86 Debian 12.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from provisioning import authority as ca
from provisioning import enrol
from provisioning.bundle import write_bundle

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "install-kit"
UNIT = REPO / "systemd" / "tps-kit.service"
BOOKWORM = (
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
    "VERSION_CODENAME=bookworm\n"
)
TRIXIE = 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nID=debian\nVERSION_CODENAME=trixie\n'


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> ca.Authority:
    root = tmp_path_factory.mktemp("region")
    return ca.init_ca(
        root / "ca", region="31.71", name="KPU Kota Uji", passphrase=b"correct horse", days=30
    )


def make_bundle(authority: ca.Authority, out: Path, tps: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    kit = enrol.enrol_kit(authority, tps=tps, election="pemilu-2024", out=out)
    assert kit.directory is not None
    write_bundle(authority, kit.directory, broker="hub.kpu-3171.example:8883", forms=["ppwp-plano"])
    return kit.directory


@pytest.fixture(scope="module")
def bundle(region, tmp_path_factory) -> Path:
    return make_bundle(region, tmp_path_factory.mktemp("kits"), "31.71.01.1001.001")


@pytest.fixture
def bundle_copy(bundle, tmp_path) -> Path:
    """A copy to spoil; copytree keeps the key's 0600."""
    return Path(shutil.copytree(bundle, tmp_path / "bundle"))


@pytest.fixture
def os_release(tmp_path) -> Path:
    path = tmp_path / "os-release"
    path.write_text(BOOKWORM)
    return path


@pytest.fixture
def root(tmp_path) -> Path:
    path = tmp_path / "root"
    (path / "etc").mkdir(parents=True)
    (path / "etc/os-release").write_text(BOOKWORM)
    return path


def install(*args, env=None, os_release=None, root=None, user=None):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TPS_", "INSTALL_"))}
    environment["TPS_INSTALL_ARCH"] = "arm64"
    if os_release is not None:
        environment["TPS_INSTALL_OS_RELEASE"] = str(os_release)
    if root is not None:
        environment["INSTALL_ROOT"] = str(root)
    environment.update(env or {})
    command = [str(SCRIPT), *map(str, args)]
    return subprocess.run(
        [*(user or []), *command], capture_output=True, text=True, env=environment, timeout=60
    )


def plan(result) -> list[str]:
    """The commands the script ran or would run (`+ `) or skipped (`- skipped ...: `)."""
    lines = []
    for line in result.stdout.splitlines():
        if line.startswith("+ "):
            lines.append(line[2:])
        elif line.startswith("- skipped (INSTALL_ROOT): "):
            lines.append(line.removeprefix("- skipped (INSTALL_ROOT): "))
    return lines


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


# --- The plan for a fresh kit ------------------------------------------------------------


def test_dry_run_plans_a_fresh_kit(bundle, os_release):
    already = [p for p in ("/opt/tps-kit", "/var/lib/tps-kit", "/etc/tps-kit") if Path(p).exists()]
    host_user = subprocess.run(["getent", "passwd", "tps-kit"], capture_output=True).returncode
    if already or host_user == 0:
        pytest.skip("this machine has a tps-kit installation; the fresh-kit plan differs")
    result = install(bundle, "--dry-run", os_release=os_release)
    assert result.returncode == 0, result.stderr
    steps = plan(result)
    key = f"{bundle}/kit.key.pem"
    expected_in_order = [
        "apt-get update",
        "env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "
        "python3-venv python3-pip python3-picamera2 python3-libcamera python3-lgpio",
        "groupadd --system tps-kit",
        "useradd --system --gid tps-kit --groups gpio,video --no-create-home "
        "--home-dir /var/lib/tps-kit --shell /usr/sbin/nologin --comment 'TPS kit daemon' "
        "tps-kit",
        "python3 -m venv --system-site-packages /opt/tps-kit",
        f"/opt/tps-kit/bin/pip install --disable-pip-version-check --upgrade '{REPO}[kit]'",
        f"/opt/tps-kit/bin/pip install --disable-pip-version-check --force-reinstall "
        f"--no-deps {REPO}",
        "install -d -m 0750 -o root -g tps-kit /etc/tps-kit",
        f"install -D -m 0640 -o root -g tps-kit {bundle}/kit.toml /etc/tps-kit/kit.toml",
        f"install -D -m 0600 -o tps-kit -g tps-kit {key} /etc/tps-kit/kit.key.pem",
        "install -d -m 0700 -o tps-kit -g tps-kit /var/lib/tps-kit",
        "ln -sfn /var/lib/tps-kit /etc/tps-kit/state",
        f"install -D -m 0644 -o root -g root {UNIT} /etc/systemd/system/tps-kit.service",
        "systemctl daemon-reload",
        "systemctl enable tps-kit.service",
        "systemctl restart tps-kit.service",
        "systemctl disable getty@tty1.service",
    ]
    positions = []
    for step in expected_in_order:
        assert step in steps, f"missing: {step}\nplan:\n" + "\n".join(steps)
        positions.append(steps.index(step))
    assert positions == sorted(positions), "\n".join(steps)
    # The state directory is created once, never emptied, moved or re-owned by the script.
    touching_state = [s for s in steps if "/var/lib/tps-kit" in s]
    assert all(s.startswith(("install -d", "ln -sfn", "useradd")) for s in touching_state), (
        touching_state
    )
    assert not any(s.split()[0] in ("rm", "mv", "chown", "chmod") for s in steps), steps
    # A dry run changes nothing.
    assert not Path("/etc/tps-kit").exists()
    assert "nothing was changed" in result.stdout


def test_dry_run_with_a_wheel_installs_the_wheel(bundle, os_release, tmp_path):
    wheel = tmp_path / "tps_kit-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    result = install(bundle, "--wheel", wheel, "--dry-run", os_release=os_release)
    assert result.returncode == 0, result.stderr
    pip = [s for s in plan(result) if "/bin/pip install" in s]
    assert f"'{wheel}[kit]'" in pip[0]
    assert pip[1].endswith(f"--no-deps {wheel}")


# --- A real run into INSTALL_ROOT, and re-runs -----------------------------------------


def test_files_land_with_their_modes(bundle, root):
    result = install(bundle, root=root)
    assert result.returncode == 0, result.stderr
    conf = root / "etc/tps-kit"
    assert mode(conf) == 0o750
    for name, expected in [
        ("kit.toml", 0o640),
        ("kit.key.pem", 0o600),
        ("kit.cert.pem", 0o644),
        ("ca.cert.pem", 0o644),
    ]:
        assert mode(conf / name) == expected, name
        assert (conf / name).read_bytes() == (bundle / name).read_bytes(), name
    assert not (conf / "kit.csr.pem").exists()  # the kit has no use for its CSR
    assert os.readlink(conf / "state") == "/var/lib/tps-kit"
    assert mode(root / "var/lib/tps-kit") == 0o700
    unit = root / "etc/systemd/system/tps-kit.service"
    assert unit.read_bytes() == UNIT.read_bytes()
    assert mode(unit) == 0o644
    wants = root / "etc/systemd/system/multi-user.target.wants/tps-kit.service"
    assert os.readlink(wants) == "/etc/systemd/system/tps-kit.service"
    # What needs the real system was reported, not done.
    skipped = result.stdout
    for step in ("apt-get install", "useradd", "python3 -m venv", "chown tps-kit:tps-kit"):
        assert f"skipped (INSTALL_ROOT): {step}" in skipped or step in skipped, step
    assert not (root / "opt").exists()


def installed_state(root: Path) -> None:
    """What a first real install leaves that INSTALL_ROOT cannot: the user and the venv."""
    (root / "etc/passwd").write_text(
        "tps-kit:x:998:998:TPS kit daemon:/var/lib/tps-kit:/usr/sbin/nologin\n"
    )
    (root / "etc/group").write_text("tps-kit:x:998:\n")
    venv = root / "opt/tps-kit"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin/python").write_text("")
    (venv / "bin/python").chmod(0o755)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\ninclude-system-site-packages = true\n")


def test_rerun_upgrades_in_place_and_keeps_the_outbox(bundle, root):
    first = install(bundle, "--dry-run", root=root)
    assert first.returncode == 0, first.stderr
    assert "groupadd --system tps-kit" in plan(first)
    assert "python3 -m venv --system-site-packages /opt/tps-kit" in plan(first)
    assert any(s.startswith("install -d -m 0700") for s in plan(first))

    assert install(bundle, root=root).returncode == 0
    installed_state(root)
    outbox = root / "var/lib/tps-kit/outbox.sqlite3"
    outbox.write_bytes(b"SQLite format 3\x00 results not yet acknowledged")
    (root / "var/lib/tps-kit").chmod(0o700)

    again = install(bundle, "--dry-run", root=root)
    assert again.returncode == 0, again.stderr
    steps = plan(again)
    # Reuse the user and the venv; still upgrade the package.
    assert not any(s.startswith(("groupadd", "useradd", "python3 -m venv")) for s in steps)
    assert "usermod --append --groups gpio,video tps-kit" in steps
    assert any("--force-reinstall --no-deps" in s for s in steps)
    assert "venv /opt/tps-kit exists: upgrading in place" in again.stdout
    # The outbox directory: neither re-created nor touched.
    assert "keeping /var/lib/tps-kit (the outbox) as it is" in again.stdout
    assert not any("var/lib/tps-kit" in s and not s.startswith("ln -sfn") for s in steps)

    for _ in range(2):
        rerun = install(bundle, root=root)
        assert rerun.returncode == 0, rerun.stderr
        assert plan(rerun) == steps  # the same plan every time: idempotent
    assert outbox.read_bytes() == b"SQLite format 3\x00 results not yet acknowledged"
    assert mode(root / "var/lib/tps-kit") == 0o700
    assert mode(root / "etc/tps-kit/kit.key.pem") == 0o600
    assert os.readlink(root / "etc/tps-kit/state") == "/var/lib/tps-kit"


def test_the_panel_is_kept_for_the_kit_no_login_prompt_no_cursor(bundle, root):
    cmdline = root / "boot/firmware/cmdline.txt"
    cmdline.parent.mkdir(parents=True)
    boot = "console=serial0,115200 console=tty1 root=PARTUUID=1-02 rootfstype=ext4 rootwait quiet"
    cmdline.write_text(boot + "\n")
    first = install(bundle, root=root)
    assert first.returncode == 0, first.stderr
    assert "systemctl disable getty@tty1.service" in plan(first)
    assert cmdline.read_text() == boot + " vt.global_cursor_default=0\n"
    again = install(bundle, root=root)
    assert again.returncode == 0, again.stderr
    assert not any(s.startswith("sed") for s in plan(again))
    assert cmdline.read_text() == boot + " vt.global_cursor_default=0\n"  # added once


# --- Errors ------------------------------------------------------------------------------


def assert_refused(result, *phrases):
    assert result.returncode != 0, result.stdout
    assert "install-kit: error:" in result.stderr, result.stderr
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr
    assert not any(line.startswith("+ ") for line in result.stdout.splitlines()), result.stdout


def test_refuses_without_root(bundle, os_release):
    if os.geteuid() == 0:
        # The script must be readable by the unprivileged user: a world-readable copy.
        scratch = Path(tempfile.mkdtemp(prefix="install-kit-"))
        try:
            scratch.chmod(0o755)
            script = scratch / "install-kit"
            shutil.copy(SCRIPT, script)
            script.chmod(0o755)
            result = subprocess.run(
                [
                    "setpriv",
                    "--reuid=65534",
                    "--regid=65534",
                    "--clear-groups",
                    str(script),
                    str(bundle),
                ],
                capture_output=True,
                text=True,
                env={"PATH": os.environ["PATH"], "TPS_INSTALL_ARCH": "arm64"},
                timeout=60,
            )
        finally:
            shutil.rmtree(scratch)
    else:
        result = install(bundle, os_release=os_release)
    assert_refused(result, "run as root: sudo")


def test_refuses_a_bundle_missing_a_file(bundle_copy, root):
    (bundle_copy / "kit.cert.pem").unlink()
    (bundle_copy / "ca.cert.pem").unlink()
    assert_refused(install(bundle_copy, root=root), "missing kit.cert.pem ca.cert.pem")
    assert not (root / "etc/tps-kit").exists()


def test_refuses_a_directory_without_kit_toml(bundle_copy, root):
    (bundle_copy / "kit.toml").unlink()
    assert_refused(install(bundle_copy, root=root), "has no kit.toml")


def test_refuses_a_missing_bundle(tmp_path, root):
    assert_refused(install(tmp_path / "nowhere", root=root), "does not exist")


def test_refuses_kit_toml_that_is_not_toml(bundle_copy, root):
    (bundle_copy / "kit.toml").write_text("[kit\nid = ")
    assert_refused(install(bundle_copy, root=root), "is not valid TOML")


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o604])
def test_refuses_a_key_others_could_read(bundle_copy, root, loose):
    (bundle_copy / "kit.key.pem").chmod(loose)
    assert_refused(
        install(bundle_copy, root=root), f"has mode {loose:o}", "must be 0600", "tar -cpf"
    )
    assert not (root / "etc/tps-kit").exists()


def test_refuses_a_key_that_is_a_symlink(bundle_copy, root, tmp_path):
    real = tmp_path / "elsewhere.pem"
    shutil.move(bundle_copy / "kit.key.pem", real)
    (bundle_copy / "kit.key.pem").symlink_to(real)
    assert_refused(install(bundle_copy, root=root), "is a symlink")


def test_refuses_another_release(bundle, tmp_path):
    other = tmp_path / "os-release"
    other.write_text(TRIXIE)
    assert_refused(
        install(bundle, "--dry-run", os_release=other), "Debian GNU/Linux 13 (trixie)", "Bookworm"
    )


def test_refuses_another_architecture(bundle, os_release):
    result = install(bundle, "--dry-run", os_release=os_release, env={"TPS_INSTALL_ARCH": "armhf"})
    assert_refused(result, "(armhf)", "64-bit (arm64) only")


def test_refuses_another_kits_bundle_over_an_outbox(region, bundle, root, tmp_path):
    assert install(bundle, root=root).returncode == 0
    (root / "var/lib/tps-kit/outbox.sqlite3").write_bytes(b"kit 1's results")
    other = make_bundle(region, tmp_path / "other", "31.71.01.1001.002")
    assert_refused(
        install(other, root=root), "installed as kit-3171011001001-1", "tps-kit outbox export"
    )
    # The same kit's bundle again is an upgrade, not a conflict.
    assert install(bundle, root=root).returncode == 0


def test_refuses_a_state_dir_the_service_cannot_write(bundle_copy, root):
    toml = bundle_copy / "kit.toml"
    toml.write_text(toml.read_text().replace('state_dir = "state"', 'state_dir = "/srv/outbox"'))
    assert_refused(install(bundle_copy, root=root), "the service may write only /var/lib/tps-kit")


def test_refuses_to_hide_an_outbox_behind_the_state_link(bundle, root):
    (root / "etc/tps-kit/state").mkdir(parents=True)
    assert_refused(install(bundle, root=root), "/etc/tps-kit/state is a real directory")


def test_refuses_bad_arguments(bundle, root, tmp_path):
    assert_refused(
        install(bundle, "--wheel", "x.whl", "--from-source", REPO, root=root), "not both"
    )
    assert_refused(install(bundle, "--frobnicate", root=root), "unknown option --frobnicate")
    assert_refused(install(bundle, "--wheel", tmp_path / "nope.whl", root=root), "not a wheel")
    assert_refused(install(bundle, "--from-source", tmp_path, root=root), "no pyproject.toml")
    usage = install(root=root)
    assert usage.returncode == 2 and "BUNDLE_DIR" in usage.stderr


# --- The script itself -----------------------------------------------------------------


def test_script_is_strict_bash():
    text = SCRIPT.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert os.access(SCRIPT, os.X_OK)
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
def test_script_is_shellcheck_clean():
    result = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_refuses_a_venv_that_cannot_see_picamera2(bundle, root):
    installed_state(root)
    (root / "opt/tps-kit/pyvenv.cfg").write_text("include-system-site-packages = false\n")
    assert_refused(install(bundle, root=root), "made without --system-site-packages")
    assert not (root / "etc/tps-kit").exists()
