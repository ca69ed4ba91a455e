"""The MQTT topics (DESIGN.md, "Topics"): what the kit publishes on and the hub subscribes
to, written once for both ends. Ids never hold '/', '+' or '#'."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

KitTopicKind = Literal["result", "image", "status"]
_KIT_ROOT = ("tps", "v1")


@dataclass(frozen=True)
class KitTopics:
    """One kit's topics."""

    kit_id: str

    @property
    def result(self) -> str:
        return f"tps/v1/{self.kit_id}/result"

    @property
    def status(self) -> str:
        return f"tps/v1/{self.kit_id}/status"

    @property
    def ack(self) -> str:
        return f"hub/v1/{self.kit_id}/ack"

    def image(self, sha256: str) -> str:
        return f"tps/v1/{self.kit_id}/image/{sha256}"


@dataclass(frozen=True)
class KitTopic:
    """A topic a kit published on, as the hub reads it."""

    kind: KitTopicKind
    kit: str
    image_sha256: str | None = None  # the image topic's last level


def parse_kit_topic(topic: str) -> KitTopic | None:
    """The kind and kit of a kit topic, or None for anything else."""
    parts = topic.split("/")
    if len(parts) == 4 and tuple(parts[:2]) == _KIT_ROOT and parts[3] in ("result", "status"):
        return KitTopic(parts[3], parts[2])  # type: ignore[arg-type]
    if len(parts) == 5 and tuple(parts[:2]) == _KIT_ROOT and parts[3] == "image":
        return KitTopic("image", parts[2], parts[4])
    return None


def shared_filters(group: str) -> tuple[str, str, str]:
    """The hub workers' shared subscriptions to every kit's results, images and status."""
    return (
        f"$share/{group}/tps/v1/+/result",
        f"$share/{group}/tps/v1/+/image/+",
        f"$share/{group}/tps/v1/+/status",
    )
