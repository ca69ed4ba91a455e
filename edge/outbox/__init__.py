"""The kit's durable outbox: signed results and page images, kept until the hub answers.

Typical use on the kit::

    outbox = Outbox.open(state_dir / "outbox.sqlite3")
    entry = outbox.seal(decided, page_images, key, cert)  # chained, signed, durable
    for entry in outbox.pending():       # the uplink publishes these, in seq order
        ...; outbox.mark_sent(entry.seq)
    outbox.acknowledge(sha256, accepted=True)

See store.py for the guarantees and schema.py for the file's layout.
"""

from edge.outbox.errors import (
    ChainError,
    CorruptOutboxError,
    InvalidDocumentError,
    OutboxBusyError,
    OutboxError,
    SchemaVersionError,
    UnknownDocumentError,
)
from edge.outbox.records import AckOutcome, ChainHead, Entry, OutboxStats, PendingImage, State
from edge.outbox.store import Outbox

__all__ = [
    "AckOutcome",
    "ChainError",
    "ChainHead",
    "CorruptOutboxError",
    "Entry",
    "InvalidDocumentError",
    "Outbox",
    "OutboxBusyError",
    "OutboxError",
    "OutboxStats",
    "PendingImage",
    "SchemaVersionError",
    "State",
    "UnknownDocumentError",
]
