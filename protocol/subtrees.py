"""Which complete subtree hashes make up a root or a proof: pure arithmetic on tree sizes.

The hub's log (hub/translog) reads them from its database; a reader of the log's tiles
(protocol/tiles.py) computes them from the tiles. One arithmetic for both, so a proof from
the tiles is the hub's proof.

A node ``(level, index)`` is the complete subtree over leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 is the leaf hashes. The log stores
every such node once it is complete, and never changes it again (append-only). Every hash
an RFC 9162 root or proof needs is the Merkle Tree Hash of a leaf range ``[start, end)``
whose start is aligned, which is a right fold of at most log2(n) stored complete nodes.
So a root or a proof costs O(log n) node reads, fetched in one batch, whatever the log's
size, and never a rehash of leaves.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence

from protocol.merkle import EMPTY_ROOT, node_hash, split_point

NodeId = tuple[int, int]  # (level, index)
Range = tuple[int, int]  # leaves [start, end)


def range_nodes(start: int, end: int) -> list[NodeId]:
    """The complete subtrees, left to right, whose right fold is MTH(leaves[start:end]).

    RFC 9162 splits n leaves at the largest power of two below n, so the left part is
    always complete and only the right part recurses: the pieces are the binary digits of
    ``end - start``, largest first. ``start`` must be aligned to the first piece, which
    holds for every range that PATH and PROOF produce.
    """
    nodes: list[NodeId] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start % (1 << level):
            raise ValueError(f"leaf range [{start}, {end}) is not aligned to whole subtrees")
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def fold(nodes: Sequence[NodeId], hashes: Mapping[NodeId, bytes]) -> bytes:
    """The Merkle Tree Hash of the pieces of :func:`range_nodes` (folded right to left)."""
    if not nodes:
        return EMPTY_ROOT
    result = hashes[nodes[-1]]
    for node in reversed(nodes[:-1]):
        result = node_hash(hashes[node], result)
    return result


def inclusion_ranges(leaf_index: int, tree_size: int) -> list[Range]:
    """The leaf ranges whose hashes are PATH(leaf_index, D_tree_size), leaf to root.

    RFC 9162 §2.1.3.1 walked from the root down: at each split the sibling of the side
    holding the leaf is one proof hash.
    """
    if not 0 <= leaf_index < tree_size:
        raise ValueError(f"leaf index {leaf_index} is not in a tree of {tree_size} leaves")
    ranges: list[Range] = []
    start, end = 0, tree_size
    while end - start > 1:
        middle = start + split_point(end - start)
        if leaf_index < middle:
            ranges.append((middle, end))
            end = middle
        else:
            ranges.append((start, middle))
            start = middle
    return ranges[::-1]


def inclusion_ranges_many(leaves: Sequence[int], tree_size: int) -> list[list[Range]]:
    """:func:`inclusion_ranges` of many leaves, in their order, from one walk down the tree.

    A batch of neighbouring leaves shares the top of every path: walking the union of the
    paths once splits each shared node once, not once per leaf, and each leaf's ranges are
    the path it ends on, reversed.
    """
    for leaf in leaves:
        if not 0 <= leaf < tree_size:
            raise ValueError(f"leaf index {leaf} is not in a tree of {tree_size} leaves")
    ordered = sorted(set(leaves))
    found: dict[int, list[Range]] = {}
    # (start, end, the leaves below as a slice of ``ordered``, the siblings from the root)
    stack: list[tuple[int, int, int, int, list[Range]]] = []
    if ordered:
        stack.append((0, tree_size, 0, len(ordered), []))
    while stack:
        start, end, lo, hi, path = stack.pop()
        if end - start == 1:
            found[ordered[lo]] = path[::-1]
            continue
        middle = start + split_point(end - start)
        cut = bisect_left(ordered, middle, lo, hi)
        if lo < cut:
            stack.append((start, middle, lo, cut, [*path, (middle, end)]))
        if cut < hi:
            stack.append((middle, end, cut, hi, [*path, (start, middle)]))
    return [found[leaf] for leaf in leaves]


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """The leaf ranges whose hashes are PROOF(old_size, D_new_size) of RFC 9162 §2.1.4.1.

    Empty when ``old_size`` is 0 or equals ``new_size`` (nothing to prove).
    """
    if not 0 <= old_size <= new_size:
        raise ValueError(f"old size {old_size} is not between 0 and the new size {new_size}")
    if old_size in (0, new_size):
        return []
    ranges: list[Range] = []
    start, end, known = 0, new_size, True
    # SUBPROOF(m, D[start:end], known) with m = old_size - start leaves of the old tree.
    while old_size - start != end - start:
        middle = start + split_point(end - start)
        if old_size <= middle:
            ranges.append((middle, end))
            end = middle
        else:
            ranges.append((start, middle))
            start, known = middle, False
    if not known:
        ranges.append((start, end))
    return ranges[::-1]


def completed_nodes(
    index: int, leaf: bytes, frontier: list[tuple[NodeId, bytes]]
) -> dict[NodeId, bytes]:
    """Add leaf ``index`` to ``frontier`` (in place); return every node it completes.

    The frontier is the log's right border: the complete subtrees, largest first, whose
    concatenation is the whole log (one per set bit of the size). A new leaf merges with
    the border while the border ends in a subtree of its own height, as a binary counter
    carries.
    """
    node, current = (0, index), leaf
    created = {node: current}
    while frontier and frontier[-1][0][0] == node[0]:
        _, left = frontier.pop()
        node, current = (node[0] + 1, node[1] >> 1), node_hash(left, current)
        created[node] = current
    frontier.append((node, current))
    return created
