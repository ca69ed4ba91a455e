"""The kit's side of its retained status (protocol/status.py): what it says, and when a
change is worth an immediate heartbeat."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from edge.outbox import OutboxStats
from protocol.status import KitStatus, QueueStatus
from protocol.utctime import format_epoch


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
) -> KitStatus:
    age = stats.oldest_pending_age_s
    return KitStatus(
        kit=kit_id,
        state="online",
        at=format_epoch(now),
        software=versions.software,
        model=versions.model,
        queue=QueueStatus(
            pending_documents=stats.pending_documents,
            unsent_documents=stats.unsent_documents,
            pending_images=stats.pending_images,
            pending_bytes=stats.pending_bytes,
            last_seq=stats.last_seq,
            # integers only, like everything else the kit publishes
            oldest_pending_age_s=None if age is None else int(age),
        ),
        disk_free_bytes=free,
    )


def offline(kit_id: str, versions: Versions, reason: str, now: float | None = None) -> KitStatus:
    """The last will (no time: it is fixed at CONNECT, the hub stamps its arrival) or goodbye."""
    return KitStatus(
        kit=kit_id,
        state="offline",
        reason=reason,
        software=versions.software,
        model=versions.model,
        at=None if now is None else format_epoch(now),
    )


def change_key(status: KitStatus) -> tuple[object, ...]:
    """What counts as a change worth an immediate heartbeat: not the clock, age or disk,
    which move all the time, but the state and the queue's counts."""
    queue = status.queue
    if queue is None:
        return (status.state, None, None, None, None)
    return (
        status.state,
        queue.pending_documents,
        queue.unsent_documents,
        queue.pending_images,
        queue.last_seq,
    )
