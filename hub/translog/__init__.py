"""The hub's transparency log (RFC 9162 Merkle tree, signed tree heads); see log.py."""

from hub.translog.log import TransparencyLog
from hub.translog.storage import (
    LogConflictError,
    LogRangeError,
    LogStorage,
    MemoryStorage,
    TranslogError,
)

__all__ = [
    "LogConflictError",
    "LogRangeError",
    "LogStorage",
    "MemoryStorage",
    "TranslogError",
    "TransparencyLog",
]
