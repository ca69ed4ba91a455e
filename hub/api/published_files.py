"""The files a hub publishes for anyone to check it, as hub.toml names them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class PublishedFiles:
    """None (or no manifest): not configured, and so not served."""

    ca_certificate: Path | None = None
    crl: Path | None = None
    registry: Path | None = None
    manifests: dict[str, Path] = field(default_factory=dict)  # by election id
