"""What the uplink tells the firmware, which turns it into lights, sound and screen lines."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass


class EventKind(enum.StrEnum):
    ONLINE = "online"  # the broker accepted the connection (CONNACK success)
    OFFLINE = "offline"  # the connection is gone or was refused; results wait in the outbox
    DELIVERED = "delivered"  # the hub's verified ack: the result is accepted and logged
    REJECTED = "rejected"  # the hub's verified ack: the result is refused (detail: why)
    REFUSED = "refused"  # the broker refused a publish (PUBACK failure code): misconfigured kit


@dataclass(frozen=True)
class UplinkEvent:
    kind: EventKind
    seq: int | None = None
    detail: str | None = None


EventSink = Callable[[UplinkEvent], None]
