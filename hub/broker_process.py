"""Running a Mosquitto with a hub site's rendered configuration, on this machine.

The demo and the tests start the site's broker this way; in production systemd runs it
(systemd/mosquitto.service.d/). Readiness is a real TLS handshake with a client identity,
because Mosquitto opens its socket before it has loaded the certificates.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT = 10.0


def mosquitto_binary() -> str | None:
    """TPS_MOSQUITTO, else mosquitto on PATH, else Debian's /usr/sbin/mosquitto."""
    for candidate in (os.environ.get("TPS_MOSQUITTO"), shutil.which("mosquitto")):
        if candidate:
            return candidate
    return "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class TlsIdentity:
    """The files a TLS client needs: its certificate and key, and the CA to trust."""

    cert: Path
    key: Path
    ca: Path


def tls_handshake_ok(host: str, port: int, identity: TlsIdentity) -> bool:
    context = ssl.create_default_context(cafile=str(identity.ca))
    context.load_cert_chain(str(identity.cert), str(identity.key))
    try:
        with (
            socket.create_connection((host, port), timeout=1) as raw,
            context.wrap_socket(raw, server_hostname=host),
        ):
            return True
    except OSError:
        return False


class BrokerProcess:
    """A mosquitto process for one configuration file; restartable, keeps persistence."""

    def __init__(
        self, binary: str, conf: Path, log: Path, host: str, port: int, probe: TlsIdentity
    ) -> None:
        self.binary, self.conf, self.log = binary, conf, log
        self.host, self.port, self.probe = host, port, probe
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start mosquitto and return once a TLS handshake with ``probe`` succeeds."""
        if self.process is not None:
            raise RuntimeError("mosquitto is already running")
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [self.binary, "-c", str(self.conf)], stdout=out, stderr=subprocess.STDOUT
            )
        self._wait_ready()

    def stop(self) -> None:
        """SIGTERM, so mosquitto saves its persistence database before it exits."""
        if self.process is None:
            return
        process, self.process = self.process, None
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self) -> None:
        """SIGKILL, as a crash or a power cut: nothing is saved since the last autosave
        (benchmarks/faults.py's broker fault)."""
        if self.process is None:
            return
        process, self.process = self.process, None
        process.kill()
        process.wait()

    @property
    def pid(self) -> int:
        """The running mosquitto's process id (for measuring its CPU)."""
        if self.process is None:
            raise RuntimeError("mosquitto is not running")
        return self.process.pid

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                self.process = None
                raise RuntimeError(f"mosquitto exited at start:\n{self.log_text()}")
            if tls_handshake_ok(self.host, self.port, self.probe):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mosquitto did not accept TLS in {START_TIMEOUT} s:\n{self.log_text()}")
