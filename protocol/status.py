"""The kit's retained status message on tps/v1/{kit}/status: written by the kit's uplink,
read by the hub's worker and its "kits online" view.

Online: queue depth, age of the oldest unanswered result, free disk of the state directory
and the software and model versions. The last will (set at CONNECT, published by the broker
when the kit vanishes) and the goodbye of a clean stop say offline, with a reason. Integers
and strings only, like everything else the kit publishes. Keys this version does not know
are kept (a later kit's counters reach the hub's store without a change here).
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

FORMAT = "tps-status/1"
MAX_BYTES = 16 << 10  # a status is a few hundred bytes

KitState = Literal["online", "offline"]


class StatusError(ValueError):
    """Bytes that are not a kit status."""


class QueueStatus(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, strict=True)

    pending_documents: int = Field(ge=0)
    unsent_documents: int = Field(ge=0)
    pending_images: int = Field(ge=0)
    pending_bytes: int = Field(ge=0)
    last_seq: int = Field(ge=0)
    oldest_pending_age_s: int | None = Field(None, ge=0)


class KitStatus(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, strict=True)

    format: Literal["tps-status/1"] = FORMAT
    kit: str
    state: KitState
    at: str | None = Field(None, description="UTC; a last will has none (fixed at CONNECT)")
    reason: str | None = Field(None, description="why offline")
    software: str
    model: str = Field(description="the digit model's SHA-256 (or name)")
    queue: QueueStatus | None = None
    disk_free_bytes: int | None = Field(None, ge=0)
    paper_mistakes: int | None = Field(
        None, ge=0, description="forms the kit refused to sign for a paper mistake"
    )

    def to_json_value(self) -> dict[str, object]:
        return self.model_dump(mode="json", exclude_none=True)

    def encode(self) -> bytes:
        return json.dumps(self.to_json_value(), sort_keys=True, separators=(",", ":")).encode()


def parse_status(data: bytes | str) -> KitStatus:
    """A status from its JSON; :class:`StatusError` if it is not one."""
    if len(data) > MAX_BYTES:
        raise StatusError(f"a status of {len(data)} bytes (at most {MAX_BYTES})")
    try:
        return KitStatus.model_validate_json(data)
    except ValidationError as e:
        raise StatusError(str(e.errors()[0]["msg"])) from e
