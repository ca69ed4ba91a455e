"""``tps-kit status``: the outbox, the last delivery and the configuration, in a few lines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from edge.outbox import Outbox, State
from protocol.ids import is_training
from protocol.kitconfig import KitConfig


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def config_lines(config: KitConfig) -> list[str]:
    mode = "LATIHAN (training)" if is_training(config.kit.election) else "real"
    return [
        f"kit       {config.kit.id}  TPS {config.kit.tps}  region {config.kit.region}",
        f"election  {config.kit.election}  ({mode})",
        f"forms     {', '.join(config.forms.ids)}",
        f"broker    {config.broker.host}:{config.broker.port}",
        f"camera    {config.camera.backend}   screen {config.screen.backend}",
    ]


def outbox_lines(path: Path) -> list[str]:
    if not path.exists():
        return [f"outbox    none yet ({path})"]
    with Outbox.open(path, check=False) as outbox:
        stats = outbox.stats()
        entries = outbox.documents()
    delivered = [e for e in entries if e.state == State.ACKNOWLEDGED]
    last = max(delivered, key=lambda e: e.verdict_at or 0.0, default=None)
    lines = [
        f"outbox    last seq {stats.last_seq}, {stats.pending_documents} waiting for the hub "
        f"({stats.unsent_documents} not yet sent), {stats.pending_images} image(s) to send",
    ]
    if last is None:
        lines.append("delivered none yet")
    else:
        lines.append(f"delivered seq {last.seq} ({last.sha256[:12]}) at {_when(last.verdict_at)}")
    rejected = [e for e in entries if e.state == State.REJECTED]
    if rejected:
        lines.append(f"REJECTED  seq {rejected[-1].seq}: {rejected[-1].reason}")
    return lines
