"""The MQTT topics of one kit (DESIGN.md, "Topics"). Ids never hold '/', '+' or '#'."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KitTopics:
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
