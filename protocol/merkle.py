"""Merkle tree hashing and proofs of RFC 9162 (Certificate Transparency v2), section 2.1.

The hub appends every accepted envelope to a log whose shape is fixed by its size alone:

* the hash of an empty tree is SHA-256 of the empty string;
* a leaf is ``SHA-256(0x00 || entry)``, an inner node ``SHA-256(0x01 || left || right)``
  (the distinct prefixes keep a leaf from ever passing for a node: second-preimage resistance);
* a tree of n > 1 leaves splits at k, the largest power of two below n: left holds [0, k),
  right [k, n).

Everything here is a pure function of bytes and integers. The verifiers follow RFC 9162
§2.1.3.2 and §2.1.4.2 step by step and fail closed: each cause of failure raises its own
message (and ``reason`` code) so a verdict can say why. The generators are the recursive
definitions of §2.1.3.1 and §2.1.4.1, read literally: a reference for tests and small trees;
the hub's log (hub/translog) builds the same proofs from stored subtree hashes instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from protocol.errors import VerificationError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class ProofError(VerificationError):
    """A Merkle proof does not prove what it claims; ``reason`` is a short stable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class InclusionProofError(ProofError):
    """An inclusion proof does not place the entry at that index in that tree."""


class ConsistencyProofError(ProofError):
    """A consistency proof does not show the newer tree extends the older one."""


def leaf_hash(entry: bytes) -> bytes:
    """The hash of one log entry (for the hub: the signed envelope's bytes as published)."""
    return hashlib.sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly below ``n`` (n >= 2): where RFC 9162 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of a list of leaf hashes (RFC 9162 §2.1.2: one pass, a stack).

    Leaves are merged as soon as they complete a power-of-two subtree, then what is left on
    the stack is folded right to left, which yields exactly the recursive definition.
    """
    stack: list[bytes] = []
    for index, current in enumerate(leaf_hashes):
        if not isinstance(current, bytes) or len(current) != HASH_SIZE:
            raise ValueError(f"leaf hash {index} is not {HASH_SIZE} bytes")
        stack.append(current)
        merges = _trailing_ones(index)
        for _ in range(merges):
            right = stack.pop()
            stack.append(node_hash(stack.pop(), right))
    if not stack:
        return EMPTY_ROOT
    result = stack.pop()
    while stack:
        result = node_hash(stack.pop(), result)
    return result


def root_of_entries(entries: Iterable[bytes]) -> bytes:
    """The Merkle Tree Hash of raw entries (each hashed as a leaf first)."""
    return root([leaf_hash(entry) for entry in entries])


def inclusion_proof(leaf_index: int, tree_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D_n) of RFC 9162 §2.1.3.1 over the first ``tree_size`` leaf hashes.

    Reference generation: it rehashes the tree, O(n). Proof order is leaf to root.
    """
    _check_size(tree_size, len(leaf_hashes))
    if not 0 <= leaf_index < tree_size:
        raise ValueError(f"leaf index {leaf_index} is not in a tree of {tree_size} leaves")
    return _path(leaf_index, list(leaf_hashes[:tree_size]))


def _path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = split_point(n)
    if m < k:
        return [*_path(m, leaves[:k]), root(leaves[k:])]
    return [*_path(m - k, leaves[k:]), root(leaves[:k])]


def consistency_proof(old_size: int, new_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D_n) of RFC 9162 §2.1.4.1; empty when ``old_size`` is 0 or equals ``new_size``.

    Reference generation over the first ``new_size`` leaf hashes, O(n).
    """
    _check_size(new_size, len(leaf_hashes))
    if not 0 <= old_size <= new_size:
        raise ValueError(f"old size {old_size} is not between 0 and the new size {new_size}")
    if old_size in (0, new_size):
        return []
    return _subproof(old_size, list(leaf_hashes[:new_size]), True)


def _subproof(m: int, leaves: list[bytes], known: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if known else [root(leaves)]
    k = split_point(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], known), root(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), root(leaves[:k])]


def root_from_inclusion_proof(
    leaf: bytes, leaf_index: int, tree_size: int, proof: Sequence[bytes]
) -> bytes:
    """Steps 1-4 of RFC 9162 §2.1.3.2 plus the ``sn == 0`` check: the root the proof implies."""
    _check_int(leaf_index, "leaf index", InclusionProofError)
    _check_int(tree_size, "tree size", InclusionProofError)
    _check_hash(leaf, "leaf hash", InclusionProofError)
    _check_proof(proof, InclusionProofError)
    if leaf_index >= tree_size:
        raise InclusionProofError(
            "index-out-of-range",
            f"leaf index {leaf_index} is not in a tree of {tree_size} leaves",
        )
    fn, sn = leaf_index, tree_size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise InclusionProofError(
                "proof-too-long",
                f"the proof has more than the hashes a tree of {tree_size} leaves needs "
                f"for leaf {leaf_index} ({len(proof)} given)",
            )
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # A right-border node with no right sibling climbs without hashing.
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise InclusionProofError(
            "proof-too-short",
            f"the proof stops before the root of a tree of {tree_size} leaves "
            f"({len(proof)} hashes given for leaf {leaf_index})",
        )
    return r


def verify_inclusion(
    leaf: bytes, leaf_index: int, tree_size: int, proof: Sequence[bytes], root_hash: bytes
) -> None:
    """RFC 9162 §2.1.3.2: raise :class:`InclusionProofError` unless ``leaf`` is at ``leaf_index``
    in the tree of ``tree_size`` leaves whose root is ``root_hash``. ``leaf`` is a leaf hash."""
    _check_hash(root_hash, "root hash", InclusionProofError)
    computed = root_from_inclusion_proof(leaf, leaf_index, tree_size, proof)
    if computed != root_hash:
        raise InclusionProofError(
            "root-mismatch",
            f"the proof for leaf {leaf_index} leads to root {computed.hex()[:16]}…, "
            f"not the tree head's {root_hash.hex()[:16]}… (size {tree_size})",
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: raise :class:`ConsistencyProofError` unless the tree of ``new_size``
    leaves with ``new_root`` extends the tree of ``old_size`` leaves with ``old_root``.

    The RFC covers 0 < old < new. Outside it: equal sizes need an empty proof and equal
    roots; an old size of 0 needs an empty proof and the empty tree's root (every tree
    extends the empty one); an old size above the new one is never consistent.
    """
    _check_int(old_size, "old size", ConsistencyProofError)
    _check_int(new_size, "new size", ConsistencyProofError)
    _check_hash(old_root, "old root", ConsistencyProofError)
    _check_hash(new_root, "new root", ConsistencyProofError)
    _check_proof(proof, ConsistencyProofError)
    if old_size > new_size:
        raise ConsistencyProofError(
            "size-decreased", f"the log shrank from {old_size} to {new_size} leaves"
        )
    if old_size == 0 or old_size == new_size:
        _check_trivial(old_size, new_size, old_root, new_root, proof)
        return
    fr, sr, sn = _consistency_roots(old_size, new_size, old_root, proof)
    if sn != 0:
        raise ConsistencyProofError(
            "proof-too-short",
            f"the proof from size {old_size} to {new_size} stops before the new root "
            f"({len(proof)} hashes given)",
        )
    if fr != old_root:
        raise ConsistencyProofError(
            "old-root-mismatch",
            f"the proof rebuilds root {fr.hex()[:16]}… for size {old_size}, "
            f"not the old tree head's {old_root.hex()[:16]}…",
        )
    if sr != new_root:
        raise ConsistencyProofError(
            "new-root-mismatch",
            f"the proof rebuilds root {sr.hex()[:16]}… for size {new_size}, "
            f"not the new tree head's {new_root.hex()[:16]}…",
        )


def _consistency_roots(
    first: int, second: int, first_hash: bytes, proof: Sequence[bytes]
) -> tuple[bytes, bytes, int]:
    """Steps 1-6 of RFC 9162 §2.1.4.2; return (fr, sr, sn) for step 7."""
    if not proof:
        raise ConsistencyProofError(
            "proof-empty", f"sizes {first} and {second} differ, so the proof cannot be empty"
        )
    path = list(proof)
    # The old tree is then a complete subtree of the new one: its root is the first node.
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ConsistencyProofError(
                "proof-too-long",
                f"the proof from size {first} to {second} has more hashes than it needs "
                f"({len(proof)} given)",
            )
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr, sr, sn


def _check_trivial(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    if proof:
        raise ConsistencyProofError(
            "proof-too-long",
            f"from size {old_size} to {new_size} the proof must be empty ({len(proof)} given)",
        )
    if old_size == 0 and old_root != EMPTY_ROOT:
        raise ConsistencyProofError(
            "old-root-mismatch", "an empty tree's root is SHA-256 of nothing (e3b0c442…)"
        )
    if old_size == new_size and old_root != new_root:
        raise ConsistencyProofError(
            "root-fork",
            f"two different roots for the same size {old_size}: the log has forked",
        )


def _trailing_ones(value: int) -> int:
    return (value ^ (value + 1)).bit_length() - 1


def _check_int(value: object, what: str, error: type[ProofError]) -> None:
    # bool is an int: refuse it so a True never passes as a size of 1.
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise error("malformed", f"{what} {value!r} is not a non-negative integer")


def _check_hash(value: object, what: str, error: type[ProofError]) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise error("malformed", f"{what} is not {HASH_SIZE} bytes")


def _check_proof(proof: object, error: type[ProofError]) -> None:
    if isinstance(proof, bytes | str) or not isinstance(proof, Sequence):
        raise error("malformed", "the proof is not a list of hashes")
    for index, item in enumerate(proof):
        _check_hash(item, f"proof hash {index}", error)


def _check_size(tree_size: int, available: int) -> None:
    if not 0 <= tree_size <= available:
        raise ValueError(f"tree size {tree_size} is not between 0 and the {available} leaves given")
