"""The log as C2SP tlog-tiles (c2sp.org/tlog-tiles): static hash tiles and entry bundles that
anyone can mirror with plain HTTP GETs and compute every root and proof from.

Paths, under a log's prefix (the hub's is ``/api/v1/logs/<log_id>/``)::

    checkpoint                        the latest signed checkpoint (protocol/checkpoint.py)
    checkpoint.witnessed              the hub's own: its newest checkpoint witnesses cosigned
    tile/<L>/<N>[.p/<W>]              hash tile: 256 (or W) Merkle hashes at tree level 8*L
    tile/entries/<N>[.p/<W>]          entry bundle: the leaves of level-0 tile N

``<N>`` is written in 3-digit groups, all but the last prefixed ``x`` (1234067 is
``x001/x234/067``). The hash at offset i of tile (L, N) is the Merkle Tree Hash of leaves
``[(N*256 + i) * 256**L, (N*256 + i + 1) * 256**L)``: in this project's node terms
(protocol/subtrees.py), node ``(8*L, N*256 + i)``. An entry bundle is each entry prefixed
by its length as a big-endian uint16; each entry is a result's signed envelope bytes, as
logged, and hashes (RFC 9162 leaf hash) to its hash in level-0 tile N.

:class:`TileReader` is the reading side: given a function that fetches a path (over HTTP, or
from a directory, or straight from a hub in a test), it computes any complete subtree hash,
root, inclusion or consistency proof of a tree size from tiles alone, with the same range
arithmetic as the hub (protocol/subtrees.py), so its proofs are the hub's proofs. Nothing it
reads is trusted: a root it computes means something only once it equals a verified
checkpoint's, and a proof only once it verifies against one.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from protocol import merkle, subtrees
from protocol.errors import VerificationError

HEIGHT = 8  # tree levels per tile
WIDTH = 1 << HEIGHT  # hashes in a full tile
MAX_ENTRY = 0xFFFF  # an entry bundle's uint16 length prefix
MEDIA_TYPE = "application/octet-stream"
# Not a tlog-tiles path: the hub's newest checkpoint carrying witnesses' cosignatures, beside
# ``checkpoint`` (the latest, which ingest replaces faster than witnesses are asked).
WITNESSED_CHECKPOINT = "checkpoint.witnessed"

Fetch = Callable[[str], bytes]


class TileError(VerificationError):
    """A tile path that is not the spec's, or tile data that is not what the path says."""


@dataclass(frozen=True)
class TileId:
    """A hash tile (``level`` >= 0) or an entry bundle (``level`` None), ``width`` hashes or
    entries wide (256: a full tile)."""

    level: int | None
    index: int
    width: int = WIDTH

    def path(self) -> str:
        kind = "entries" if self.level is None else str(self.level)
        path = f"tile/{kind}/{encode_index(self.index)}"
        return path if self.width == WIDTH else f"{path}.p/{self.width}"

    @property
    def is_bundle(self) -> bool:
        return self.level is None


def encode_index(index: int) -> str:
    if index < 0:
        raise ValueError(f"tile index {index} is negative")
    groups = []
    while True:
        groups.append(index % 1000)
        index //= 1000
        if index == 0:
            break
    groups.reverse()
    return "/".join([*(f"x{g:03d}" for g in groups[:-1]), f"{groups[-1]:03d}"])


_PATH = re.compile(r"tile/(entries|0|[1-9][0-9]?)/((?:x[0-9]{3}/)*[0-9]{3})(?:\.p/([1-9][0-9]*))?")


def parse_path(path: str) -> TileId:
    """The tile a path names; only the spec's own spelling of it is accepted."""
    match = _PATH.fullmatch(path)
    if match is None:
        raise TileError(f"{path!r} is not tile/<L>/<N>[.p/<W>] nor tile/entries/<N>[.p/<W>]")
    kind, index_text, width_text = match.groups()
    level = None if kind == "entries" else int(kind)
    if level is not None and level > 63:
        raise TileError(f"tile level {level} is over 63")
    width = WIDTH if width_text is None else int(width_text)
    if not 1 <= width < WIDTH + (width_text is None):
        raise TileError(f"partial tile width {width} is not between 1 and 255")
    tile = TileId(level, int(index_text.replace("x", "").replace("/", "")), width)
    if tile.path() != path:  # e.g. x000/001: a second spelling of index 1
        raise TileError(f"{path!r} is not the canonical path of its tile ({tile.path()!r})")
    return tile


def hashes_at(level: int, tree_size: int) -> int:
    """How many complete hashes tile level ``level`` has in a tree of ``tree_size`` leaves."""
    return tree_size >> (HEIGHT * level)


def width_of(level: int, index: int, tree_size: int) -> int:
    """The width of tile (``level``, ``index``) in a tree of ``tree_size`` leaves: 256 once
    full, 0 if it does not exist yet."""
    return max(0, min(WIDTH, hashes_at(level, tree_size) - index * WIDTH))


def tile_for(level: int | None, index: int, tree_size: int) -> TileId:
    """The tile (or bundle) a reader of a tree of ``tree_size`` leaves asks for."""
    width = width_of(0 if level is None else level, index, tree_size)
    if width == 0:
        raise TileError(f"tile {index} of level {level} is not in a tree of {tree_size} leaves")
    return TileId(level, index, width)


def encode_bundle(entries: Iterable[bytes]) -> bytes:
    parts = []
    for entry in entries:
        if len(entry) > MAX_ENTRY:
            raise TileError(f"an entry of {len(entry)} bytes does not fit an entry bundle")
        parts.append(struct.pack(">H", len(entry)) + entry)
    return b"".join(parts)


def decode_bundle(data: bytes, count: int) -> list[bytes]:
    entries, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise TileError("entry bundle ends inside a length prefix")
        (length,) = struct.unpack_from(">H", data, at)
        if at + 2 + length > len(data):
            raise TileError("entry bundle ends inside an entry")
        entries.append(data[at + 2 : at + 2 + length])
        at += 2 + length
    if len(entries) != count:
        raise TileError(f"entry bundle holds {len(entries)} entries, not {count}")
    return entries


def split_hashes(data: bytes, width: int) -> list[bytes]:
    size = merkle.HASH_SIZE
    if len(data) != width * size:
        raise TileError(f"tile of {len(data)} bytes is not {width} hashes of {size} bytes")
    return [data[i : i + size] for i in range(0, len(data), size)]


class TileReader:
    """Reads one log's tiles through ``fetch`` (path relative to the log's prefix -> bytes),
    keeping each tile it fetched (tiles are immutable, and a partial tile is a prefix of its
    full one)."""

    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch
        self._tiles: dict[tuple[int, int], list[bytes]] = {}  # (level, index) -> widest seen
        self.fetched = 0

    def checkpoint(self, witnessed: bool = False) -> bytes:
        """The latest checkpoint, or with ``witnessed`` the newest one witnesses cosigned."""
        return self._fetch(WITNESSED_CHECKPOINT if witnessed else "checkpoint")

    def tile(self, level: int, index: int, tree_size: int) -> list[bytes]:
        """The hashes of tile (``level``, ``index``) as a tree of ``tree_size`` has it."""
        wanted = tile_for(level, index, tree_size)
        kept = self._tiles.get((level, index))
        if kept is not None and len(kept) >= wanted.width:
            return kept[: wanted.width]
        hashes = split_hashes(self._fetch(wanted.path()), wanted.width)
        self.fetched += 1
        self._tiles[(level, index)] = hashes
        return hashes

    def bundle(self, index: int, tree_size: int) -> list[bytes]:
        wanted = tile_for(None, index, tree_size)
        self.fetched += 1
        return decode_bundle(self._fetch(wanted.path()), wanted.width)

    def node(self, node: subtrees.NodeId, tree_size: int) -> bytes:
        """The hash of complete subtree ``node`` = (tree level, index) of the tree of
        ``tree_size`` leaves: a tile's hash, or up to 7 levels hashed within one tile."""
        level, index = node
        if (index + 1) << level > tree_size:
            raise TileError(f"subtree {node} is not complete in a tree of {tree_size} leaves")
        tile_level, below = divmod(level, HEIGHT)
        first = index << below  # at tree level HEIGHT * tile_level
        hashes = self.tile(tile_level, first // WIDTH, tree_size)
        layer = hashes[first % WIDTH : first % WIDTH + (1 << below)]
        while len(layer) > 1:
            layer = [merkle.node_hash(layer[i], layer[i + 1]) for i in range(0, len(layer), 2)]
        return layer[0]

    def _ranges(self, ranges: Sequence[subtrees.Range], tree_size: int) -> list[bytes]:
        result = []
        for start, end in ranges:
            nodes = subtrees.range_nodes(start, end)
            hashes = {node: self.node(node, tree_size) for node in nodes}
            result.append(subtrees.fold(nodes, hashes))
        return result

    def root(self, tree_size: int) -> bytes:
        return self._ranges([(0, tree_size)], tree_size)[0]

    def inclusion_proof(self, index: int, tree_size: int) -> list[bytes]:
        return self._ranges(subtrees.inclusion_ranges(index, tree_size), tree_size)

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        return self._ranges(subtrees.consistency_ranges(old_size, new_size), new_size)

    def entries(self, start: int, end: int, tree_size: int) -> list[bytes]:
        """Entries ``[start, end)``, each checked against its leaf hash in the level-0 tiles
        of the tree of ``tree_size`` (whose root the caller checks against a checkpoint)."""
        if not 0 <= start <= end <= tree_size:
            raise TileError(f"entries [{start}, {end}) are not in a tree of {tree_size} leaves")
        found: list[bytes] = []
        for n in range(start // WIDTH, -(-end // WIDTH)):
            bundle = self.bundle(n, tree_size)
            leaves = self.tile(0, n, tree_size)
            for offset, entry in enumerate(bundle):
                index = n * WIDTH + offset
                if merkle.leaf_hash(entry) != leaves[offset]:
                    raise TileError(f"entry {index} does not hash to its leaf in tile 0/{n}")
                if start <= index < end:
                    found.append(entry)
        return found
