"""Which version of a TPS's result counts: the rule the hub applies as results arrive
(hub/ledger.py) and a recount applies to the hub's log (protocol/recount.py), owned here so
both apply the same rule.
"""

from __future__ import annotations

from typing import Protocol


class Version(Protocol):
    """What the version rule reads of a version of one TPS's form."""

    @property
    def kit(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def document_id(self) -> int:
        """Where the hub logged it, in order: the hub's document id, which grows in the
        order of the log's leaves (a recount uses the leaf index itself)."""
        ...


def supersedes(candidate: Version, current: Version) -> bool:
    """Whether ``candidate`` replaces ``current`` as the version of a TPS's form that counts.

    A higher seq from the same kit is a rescan (a late old version of a kit never replaces
    its newer one). Between two kits (a replacement kit enrolled for the same TPS) the one
    the hub logged later counts: the order of the log, which the hub vouches for and anyone
    can read. The signed capture time does not decide: it is the kit's clock, and a kit
    dating its result 2099 would otherwise outrank every kit after it.
    """
    if candidate.kit == current.kit:
        return candidate.seq > current.seq
    return candidate.document_id > current.document_id
