"""The hub's side of tlog-tiles (protocol/tiles.py): a log's hash tiles and entry bundles,
read from its stored subtree hashes and documents.

Only what the latest checkpoint covers is served: a reader asks for tiles of a signed
size, and nothing the hub has not yet signed is published ahead of its checkpoint. A tile
never changes once served (the log is append-only), and a partial tile is a prefix of the
full one, so any width up to what the checkpoint covers is served.
"""

from __future__ import annotations

from hub.translog.storage import LogStorage, TranslogError
from protocol import checkpoint, note, tiles


class TileNotFoundError(LookupError):
    """The tile is not (yet) in the log as its latest checkpoint has it."""


def signed_size(storage: LogStorage) -> int | None:
    """The tree size of the latest checkpoint; None when the log has none yet."""
    signed = storage.checkpoint()
    if signed is None:
        return None
    # The hub's own stored note: its signature was made here, so only the text is read.
    return checkpoint.parse_text(note.parse(signed).text).tree_size


def tile_bytes(storage: LogStorage, tile: tiles.TileId) -> bytes:
    """The bytes of a hash tile or entry bundle, or TileNotFoundError."""
    size = signed_size(storage)
    level = 0 if tile.level is None else tile.level
    available = 0 if size is None else tiles.width_of(level, tile.index, size)
    if tile.width > available:
        raise TileNotFoundError(
            f"{tile.path()} is not in this log at its latest checkpoint (size {size or 0})"
        )
    first = tile.index * tiles.WIDTH
    if tile.level is None:
        return tiles.encode_bundle(storage.entries(first, first + tile.width))
    ids = [(tiles.HEIGHT * tile.level, first + i) for i in range(tile.width)]
    hashes = storage.nodes(ids)
    missing = [node for node in ids if node not in hashes]
    if missing:  # the size says they exist: the storage lost data
        raise TranslogError(f"log storage lacks complete subtree hashes {missing[:4]}")
    return b"".join(hashes[node] for node in ids)
