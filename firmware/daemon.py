"""``tps-kit run``: the appliance's main loop under systemd.

The kit's state machine runs on the main thread; the uplink on its own; gpiozero calls the
buttons from its threads into the kit's queue. The watchdog is pinged from the main loop
between events, so a scan that hangs stops the pings and systemd restarts the kit (the
outbox keeps everything signed; a form half-scanned is simply scanned again).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path
from types import FrameType

from firmware.assemble import AssembledKit, assemble
from firmware.notify import Notifier

log = logging.getLogger(__name__)

DEFAULT_TICK_S = 1.0


def serve(assembled: AssembledKit, stop: threading.Event, notifier: Notifier | None = None) -> None:
    """Start the kit and its uplink, tell systemd, and loop until ``stop`` is set."""
    notifier = notifier or Notifier()
    kit = assembled.kit
    if assembled.uplink is not None:
        assembled.uplink.start()
    kit.start()
    notifier.ready(f"serving TPS {assembled.identity.tps} as {assembled.identity.kit_id}")
    tick = DEFAULT_TICK_S
    if notifier.watchdog_s:
        tick = min(tick, notifier.watchdog_s / 2)  # systemd's advice: ping at half the period
    next_ping = 0.0
    while not stop.is_set():
        now = time.monotonic()
        if now >= next_ping:
            notifier.ping()
            next_ping = now + tick
        kit.step(timeout=max(0.01, next_ping - time.monotonic()))
    notifier.stopping()


def run(config_path: Path) -> None:
    """Assemble the kit from kit.toml (warming the model up), serve until SIGTERM/SIGINT."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    assembled = assemble(config_path)
    try:
        serve(assembled, stop)
    finally:
        assembled.close()
