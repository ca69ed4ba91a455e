"""The kit's retained status on tps/v1/{kit}/status: the hub's "kits online" view.

Online: queue depth, age of the oldest unanswered result, free disk of the state directory
and the software and model versions. The last will (set at CONNECT, published by the broker
when the kit vanishes) and the goodbye of a clean stop say offline. Integers and strings
only, like everything else the kit publishes.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.outbox import OutboxStats
from protocol.utctime import format_epoch

FORMAT = "tps-status/1"


@dataclass(frozen=True)
class Versions:
    software: str
    model: str  # the digit model's SHA-256 (or name), as the signed documents name it


def free_disk_bytes(path: Path) -> int | None:
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None  # a missing state dir is the outbox's problem to report, not ours


def online(
    kit_id: str, versions: Versions, stats: OutboxStats, free: int | None, now: float
) -> dict[str, Any]:
    queue = stats.to_json_value()
    status: dict[str, Any] = {
        "format": FORMAT,
        "kit": kit_id,
        "state": "online",
        "at": format_epoch(now),
        "software": versions.software,
        "model": versions.model,
        "queue": {
            "pending_documents": queue["pending_documents"],
            "unsent_documents": queue["unsent_documents"],
            "pending_images": queue["pending_images"],
            "pending_bytes": queue["pending_bytes"],
            "last_seq": queue["last_seq"],
        },
    }
    if queue["oldest_pending_age_s"] is not None:
        status["queue"]["oldest_pending_age_s"] = queue["oldest_pending_age_s"]
    if free is not None:
        status["disk_free_bytes"] = free
    return status


def offline(
    kit_id: str, versions: Versions, reason: str, now: float | None = None
) -> dict[str, Any]:
    """The last will (no time: it is fixed at CONNECT, the hub stamps its arrival) or goodbye."""
    status: dict[str, Any] = {
        "format": FORMAT,
        "kit": kit_id,
        "state": "offline",
        "reason": reason,
        "software": versions.software,
        "model": versions.model,
    }
    if now is not None:
        status["at"] = format_epoch(now)
    return status


def change_key(status: dict[str, Any]) -> tuple[Any, ...]:
    """What counts as a change worth an immediate heartbeat: not the clock, age or disk,
    which move all the time, but the state and the queue's counts."""
    queue = status.get("queue", {})
    return (
        status["state"],
        queue.get("pending_documents"),
        queue.get("unsent_documents"),
        queue.get("pending_images"),
        queue.get("last_seq"),
    )


def encode(status: dict[str, Any]) -> bytes:
    return json.dumps(status, sort_keys=True, separators=(",", ":")).encode()
