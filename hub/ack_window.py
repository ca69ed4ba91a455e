"""How many of the worker's acks the broker has not yet acknowledged, kept within its
Receive Maximum.

The worker publishes each batch's signed acks at once, as QoS 1. MQTT 5 lets a client have
at most the broker's CONNACK Receive Maximum of those unacknowledged (section 4.9; a broker
may drop a client that sends more). paho 2.x does not apply that value, and its own window
(``max_inflight_messages``) rescans every message in flight on each PUBACK: with a window
of a thousand that was a measurable share of the storing process. So paho's window is off
and the worker keeps this count instead: sent minus acknowledged, waiting for room before a
publish when it is full (rare: the broker acknowledges within milliseconds).
"""

from __future__ import annotations

import threading
from typing import Any

# MQTT 5 section 3.2.2.3.3: a CONNACK without Receive Maximum means 65,535.
DEFAULT_RECEIVE_MAXIMUM = 65535
# Message ids are 16 bits: with nearly all of them in flight paho would reuse one and
# refuse the publish. A hub needs two batches in flight, never thousands.
MOST_IN_FLIGHT = 10_000


def receive_maximum(connack_properties: Any) -> int:
    """The broker's Receive Maximum from its CONNACK properties, at most MOST_IN_FLIGHT."""
    value = getattr(connack_properties, "ReceiveMaximum", DEFAULT_RECEIVE_MAXIMUM)
    return min(int(value), MOST_IN_FLIGHT)


class AckWindow:
    """Counts QoS 1 publishes in flight; :meth:`wait_for_room` blocks while it is full."""

    def __init__(self, limit: int = MOST_IN_FLIGHT) -> None:
        self._limit = limit
        self._in_flight = 0
        self._changed = threading.Condition()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def set_limit(self, limit: int) -> None:
        """The broker's Receive Maximum for this connection (on every CONNACK)."""
        with self._changed:
            self._limit = max(1, limit)
            self._changed.notify_all()

    def sent(self) -> None:
        with self._changed:
            self._in_flight += 1

    def acknowledged(self) -> None:
        """A PUBACK for one of our publishes (paho's on_publish, in its network thread)."""
        with self._changed:
            self._in_flight = max(0, self._in_flight - 1)
            self._changed.notify_all()

    def wait_for_room(self, stop: threading.Event, poll: float = 0.5) -> bool:
        """Wait until one more publish fits; False if ``stop`` was set first."""
        with self._changed:
            while self._in_flight >= self._limit:
                if stop.is_set():
                    return False
                self._changed.wait(poll)
            return True
