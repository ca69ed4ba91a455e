"""The worker's count of acks in flight, kept within the broker's Receive Maximum."""

from __future__ import annotations

import threading
import time

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hub.ack_window import MOST_IN_FLIGHT, AckWindow, receive_maximum


def test_receive_maximum_is_the_connacks_or_the_protocols_default():
    connack = Properties(PacketTypes.CONNACK)
    # Absent means 65,535 (MQTT 5 section 3.2.2.3.3), capped below the 16-bit message ids.
    assert receive_maximum(connack) == MOST_IN_FLIGHT < 65535
    connack.ReceiveMaximum = 20  # mosquitto's default max_inflight_messages
    assert receive_maximum(connack) == 20


def test_rejects_exceeding_the_brokers_receive_maximum():
    # A broker may drop a client that has more QoS 1 publishes unacknowledged than it
    # announced (MQTT 5 section 4.9): the third ack must wait for a PUBACK.
    window = AckWindow()
    window.set_limit(2)
    stop = threading.Event()
    for _ in range(2):
        assert window.wait_for_room(stop)
        window.sent()
    waited: list[float] = []

    def third() -> None:
        started = time.monotonic()
        assert window.wait_for_room(stop)
        waited.append(time.monotonic() - started)

    publisher = threading.Thread(target=third)
    publisher.start()
    time.sleep(0.3)
    assert publisher.is_alive(), "the third publish did not wait"
    window.acknowledged()
    publisher.join(5)
    assert not publisher.is_alive() and waited and waited[0] >= 0.25


def test_a_full_window_gives_way_to_stopping():
    window = AckWindow(limit=1)
    window.sent()
    stop = threading.Event()
    threading.Timer(0.1, stop.set).start()
    assert window.wait_for_room(stop, poll=0.02) is False
    assert window.in_flight == 1
