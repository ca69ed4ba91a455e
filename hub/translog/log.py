"""The hub's transparency log: an append-only RFC 9162 Merkle tree over accepted envelopes.

Each leaf is the signed envelope's bytes exactly as published, so anyone holding an
envelope, an inclusion proof and a signed tree head can check it with protocol.merkle and
protocol.treehead alone. Appending stores every subtree the new leaf completes; roots and
proofs are then folds of O(log n) stored hashes read in one batch (protocol/subtrees.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.translog.storage import LogConflictError, LogRangeError, LogStorage, TranslogError
from protocol import checkpoint, treehead
from protocol import subtrees as tree
from protocol.merkle import leaf_hash

_RETRIES = 3


class TransparencyLog:
    """One log over a :class:`LogStorage`. Appends may race between processes: the storage
    refuses the loser, which reloads the log's right border and tries again."""

    def __init__(self, storage: LogStorage) -> None:
        self._storage = storage
        self._frontier: list[tuple[tree.NodeId, bytes]] = []
        self._frontier_size = 0
        self._reload()

    @property
    def storage(self) -> LogStorage:
        return self._storage

    @property
    def size(self) -> int:
        return self._storage.size()

    def append(self, entry: bytes) -> int:
        """Append one envelope's bytes; return its leaf index."""
        return self.append_many([entry])[0]

    def append_many(self, entries: Iterable[bytes]) -> list[int]:
        """Append envelopes in one storage transaction (one commit for a batch of acks)."""
        batch = [bytes(e) for e in entries]
        for attempt in range(_RETRIES):
            try:
                return self._append_batch(batch)
            except LogConflictError:
                self._reload()
                if attempt == _RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _append_batch(self, batch: Sequence[bytes]) -> list[int]:
        first = self._frontier_size
        frontier = list(self._frontier)  # kept only once the storage has accepted the batch
        nodes: dict[tree.NodeId, bytes] = {}
        for offset, entry in enumerate(batch):
            nodes.update(tree.completed_nodes(first + offset, leaf_hash(entry), frontier))
        self._storage.append(first, batch, nodes)
        self._frontier, self._frontier_size = frontier, first + len(batch)
        return list(range(first, first + len(batch)))

    def _reload(self) -> None:
        size = self._storage.size()
        ids = tree.range_nodes(0, size)
        hashes = self._read(ids)
        self._frontier = [(node, hashes[node]) for node in ids]
        self._frontier_size = size

    def entry(self, index: int) -> bytes:
        return self._storage.entries(index, index + 1)[0]

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the tree of the first ``size`` leaves (default: all of them)."""
        size = self._check_size(size)
        return self._hashes([(0, size)])[0]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 inclusion proof of leaf ``index`` in the tree of ``size`` leaves."""
        size = self._check_size(size)
        if not 0 <= index < size:
            raise LogRangeError(f"leaf {index} is not in a tree of {size} leaves")
        return self._hashes(tree.inclusion_ranges(index, size))

    def inclusion_proofs(
        self, indexes: Sequence[int], size: int | None = None
    ) -> list[list[bytes]]:
        """:meth:`inclusion_proof` of many leaves, their hashes read in one batch (a batch's
        proofs share most of their nodes)."""
        size = self._check_size(size)
        for index in indexes:
            if not 0 <= index < size:
                raise LogRangeError(f"leaf {index} is not in a tree of {size} leaves")
        per_leaf = tree.inclusion_ranges_many(indexes, size)
        # Neighbouring leaves share most of their proofs' ranges: fold each range once.
        unique = list(dict.fromkeys(r for ranges in per_leaf for r in ranges))
        hashes = dict(zip(unique, self._hashes(unique), strict=True))
        return [[hashes[r] for r in ranges] for ranges in per_leaf]

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        """RFC 9162 consistency proof that the tree of ``new`` leaves extends that of ``old``."""
        new = self._check_size(new)
        if not 0 <= old <= new:
            raise LogRangeError(f"old size {old} is not between 0 and {new}")
        return self._hashes(tree.consistency_ranges(old, new))

    def sign_tree_head(self, key: Ed25519PrivateKey, log_id: str, now: dt.datetime) -> bytes:
        """Sign and keep a head for the log as it is now, in both of its forms: the DSSE tree
        head (returned: the JSON proofs and acks carry it) and the C2SP checkpoint of the
        same size and root, whose origin is ``log_id`` (what tlog tools and witnesses read).
        """
        size = self.size
        root = self.root(size)
        head = treehead.make_tree_head(log_id, size, root, now)
        signed = treehead.sign_tree_head(head, key)
        self._storage.put_tree_head(size, signed)
        self._storage.put_checkpoint(
            size, checkpoint.sign(checkpoint.make(log_id, size, root), key)
        )
        return signed

    def checkpoint(self, size: int | None = None) -> bytes | None:
        """A signed checkpoint kept by :meth:`sign_tree_head` (the latest when None)."""
        return self._storage.checkpoint(size)

    def cosigned_checkpoint(self) -> bytes | None:
        """The newest checkpoint witnesses cosigned: during ingest the latest seldom is,
        since every batch signs a newer one than a cosigning round took to them."""
        return self._storage.cosigned_checkpoint()

    def tree_head(self, size: int | None = None) -> bytes | None:
        """A signed tree head kept by :meth:`sign_tree_head` (the latest when ``size`` is None)."""
        return self._storage.tree_head(size)

    def _check_size(self, size: int | None) -> int:
        current = self._storage.size()
        if size is None:
            return current
        if not 0 <= size <= current:
            raise LogRangeError(f"tree size {size} is not between 0 and the log's {current}")
        return size

    def _hashes(self, ranges: Sequence[tree.Range]) -> list[bytes]:
        # One batched read for the whole proof: a round trip per hash would dominate.
        pieces = [tree.range_nodes(start, end) for start, end in ranges]
        hashes = self._read([node for nodes in pieces for node in nodes])
        return [tree.fold(nodes, hashes) for nodes in pieces]

    def _read(self, ids: list[tree.NodeId]) -> dict[tree.NodeId, bytes]:
        hashes = self._storage.nodes(ids)
        missing = [node for node in ids if node not in hashes]
        if missing:
            # The size says they exist: the storage lost data, which no caller can fix.
            raise TranslogError(f"storage lacks complete subtree hashes {missing[:4]}")
        return hashes
