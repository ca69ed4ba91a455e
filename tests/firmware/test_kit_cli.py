"""`tps-kit scan`, `status`, `run --validate-config`, `patterns`, and the systemd notify loop."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from firmware.cli import main
from firmware.notify import Notifier
from protocol.receipt import parse_receipt
from tests.firmware.conftest import TRAINING


def kit(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_scan_reads_judges_and_with_yes_signs_and_prints_the_receipt(kit_config, forms):
    config = kit_config()
    images = [x for page in forms["good"].pages for x in ("--image", page)]
    looked = kit("scan", *images, "--config", config)
    assert looked.exit_code == 1, looked.output  # read and judged, not confirmed
    assert "Semua cocok: periksa, lalu KONFIRMASI" in looked.output and "--yes" in looked.output
    signed = kit("scan", *images, "--config", config, "--yes")
    assert signed.exit_code == 0, signed.output
    receipt = parse_receipt(signed.output.split("receipt: ")[1].splitlines()[0])
    assert receipt.seq == 1 and not receipt.training
    status = kit("status", "--config", config)
    assert status.exit_code == 0, status.output
    assert "last seq 1, 1 waiting for the hub" in status.output
    assert "delivered none yet" in status.output and "(real)" in status.output


def test_scan_of_a_missing_page_and_of_a_paper_mistake(kit_config, forms):
    config = kit_config()
    one = kit("scan", "--image", forms["good"].pages[0], "--config", config, "--yes")
    assert one.exit_code == 2 and "halaman 2 dari 3" in one.output
    images = [x for page in forms["mistake"].pages for x in ("--image", page)]
    wrong = kit("scan", *images, "--config", config, "--yes")
    assert wrong.exit_code == 3 and "receipt" not in wrong.output


def test_validate_config_checks_every_named_file(kit_config):
    config = kit_config(TRAINING, camera={"backend": "files", "files": ["page.jpg"]})
    done = kit("run", "--config", config, "--validate-config")
    assert done.exit_code == 1
    assert "TRAINING (LATIHAN)" in done.output and "certificate chains" in done.output
    assert "camera.files: missing" in done.output
    assert "receipt QR code: the receipt's text (no hub.public_url)" in done.output
    (config.parent / "page.jpg").write_bytes(b"\xff\xd8")
    assert kit("run", "--config", config, "--validate-config").exit_code == 0
    public = kit_config(hub={"public_url": "https://hasil.kpu-3171.example"})
    shown = kit("run", "--config", public, "--validate-config").output
    assert "receipt QR code: opens https://hasil.kpu-3171.example/tanda-terima?tps=" in shown


def test_patterns_prints_the_trainers_table():
    done = kit("patterns")
    assert done.exit_code == 0 and "| salah di kertas (paper-mistake) |" in done.output
    readme = Path(__file__).resolve().parents[2] / "README.md"
    assert done.output.strip() in readme.read_text()  # the README prints the same table


@pytest.fixture
def notify_socket(tmp_path):
    path = tmp_path / "notify.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(5)
    yield path, server
    server.close()


def test_notify_speaks_systemds_datagram_protocol(notify_socket):
    path, server = notify_socket
    assert not Notifier({}).ready("x")  # not under systemd: nothing sent
    notifier = Notifier(
        {"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "4000000", "WATCHDOG_PID": str(os.getpid())}
    )
    assert notifier.watchdog_s == 4.0
    assert notifier.ready("serving")
    assert server.recv(256) == b"READY=1\nSTATUS=serving"
    assert notifier.ping() and server.recv(64) == b"WATCHDOG=1"


def test_daemon_loop_says_ready_and_pings_the_watchdog(kit_config, notify_socket, mock_pins):
    from firmware.daemon import serve
    from tests.firmware.kits import build

    path, server = notify_socket
    assembled = build(kit_config(), [])
    stop = threading.Event()
    notifier = Notifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "200000"})
    loop = threading.Thread(target=serve, args=(assembled, stop, notifier))
    loop.start()
    try:
        received = [server.recv(256) for _ in range(4)]
    finally:
        stop.set()
        loop.join(5)
        assembled.close()
    assert received[0].startswith(b"READY=1")
    assert received[1:] == [b"WATCHDOG=1"] * 3
