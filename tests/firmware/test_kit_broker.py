"""Acceptance: a kit scans synthesized pages, KONFIRMASI is pressed through MockFactory, and
the envelope crosses a real Mosquitto (the hub site's configuration) to a fake hub that
verifies it and acknowledges; the kit lights green when the hub's ack arrives."""

from __future__ import annotations

import datetime as dt
import time

from edge.outbox import State as OutboxState
from firmware.hardware.patterns import Signal
from firmware.kit import State
from protocol.certs import load_certificate
from protocol.result import verify_result
from tests.edge.test_uplink import FakeHub
from tests.firmware.conftest import write_kit_config
from tests.firmware.kits import AMBER, CONFIRM, GREEN, RED, SCAN, build, led, press

FAST = {"backoff_initial_s": 0.05, "backoff_max_s": 0.5, "poll_s": 0.1}


def step_until(kit, condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the kit did not get there in time"
        kit.step(timeout=0.05)


def test_confirmed_result_reaches_the_hub_and_lights_green(mosquitto_broker, forms, mock_pins):
    identity = mosquitto_broker.kits[0]
    config = write_kit_config(
        identity.cert.parent,
        mosquitto_broker.site.ca_cert,
        broker={"host": mosquitto_broker.host, "port": mosquitto_broker.port},
    )
    hub = FakeHub(mosquitto_broker)
    assembled = build(config, forms["good"].pages, uplink=True, uplink_timers=FAST)
    kit = assembled.kit
    try:
        assembled.uplink.start()
        step_until(kit, lambda: kit.online)
        assert kit.signal == Signal.IDLE  # online now: the plain ready pattern
        for _ in range(3):
            press(mock_pins, SCAN, kit)
        assert kit.state == State.REVIEW
        press(mock_pins, CONFIRM, kit)  # the hub may answer before this returns
        assert Signal.QUEUED in kit.recent_signals
        step_until(kit, lambda: kit.state == State.DELIVERED)
        (entry,) = assembled.outbox.documents()
        assert entry.state == OutboxState.ACKNOWLEDGED
        assert hub.results == [entry.signed]  # exactly the stored bytes
        ca = load_certificate(mosquitto_broker.site.ca_cert.read_bytes())
        verified = verify_result(hub.results[0], ca, at=dt.datetime.now(dt.UTC))
        assert verified.document_sha256 == kit.receipt.sha256
        assert kit.signal == Signal.DELIVERED
        assert led(mock_pins, GREEN) and not led(mock_pins, RED) and not led(mock_pins, AMBER)
        assert "Diterima server" in assembled.screen.display.last.text
    finally:
        assembled.close()
        hub.close()
