"""Property tests: on random trees every honest proof verifies and every tampering fails."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import merkle
from protocol.merkle import ConsistencyProofError, InclusionProofError

MAX_LEAVES = 70  # crosses 64 so a tree of height 7 with a ragged right border shows up


@st.composite
def trees(draw, min_size: int = 1) -> list[bytes]:
    size = draw(st.integers(min_size, MAX_LEAVES))
    # Distinct entries: a duplicate leaf would make "wrong index" legitimately verify.
    entries = draw(st.lists(st.binary(max_size=8), min_size=size, max_size=size, unique=True))
    return [merkle.leaf_hash(e) for e in entries]


def _flip(data: bytes, bit: int) -> bytes:
    return bytes([data[0] ^ (1 << (bit % 8))]) + data[1:]


@settings(max_examples=150, deadline=None)
@given(trees(), st.data())
def test_every_inclusion_proof_verifies(leaves, data):
    size = data.draw(st.integers(1, len(leaves)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = merkle.inclusion_proof(index, size, leaves)
    merkle.verify_inclusion(leaves[index], index, size, proof, merkle.root(leaves[:size]))


@settings(max_examples=200, deadline=None)
@given(trees(min_size=2), st.data())
def test_tampered_inclusion_fails(leaves, data):
    size = data.draw(st.integers(2, len(leaves)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    root = merkle.root(leaves[:size])
    proof = merkle.inclusion_proof(index, size, leaves)
    args = {"leaf": leaves[index], "index": index, "size": size, "proof": proof, "root": root}
    kind = data.draw(st.sampled_from(["proof", "index", "size", "root", "leaf", "drop", "add"]))
    if kind == "proof":
        i = data.draw(st.integers(0, len(proof) - 1))
        bit = data.draw(st.integers(0, 255))
        args["proof"] = [
            *proof[:i],
            proof[i][: bit // 8] + _flip(proof[i][bit // 8 :], bit),
            *proof[i + 1 :],
        ]
    elif kind == "index":
        args["index"] = data.draw(st.integers(0, 2 * size).filter(lambda v: v != index))
    elif kind == "size":
        # Size and root travel together in a signed tree head, so a changed size comes with
        # that tree's root (test_size_without_its_root shows why the pair matters).
        new_size = data.draw(st.integers(0, len(leaves)).filter(lambda v: v != size))
        args["size"], args["root"] = new_size, merkle.root(leaves[:new_size])
    elif kind == "root":
        args["root"] = _flip(root, data.draw(st.integers(0, 7)))
    elif kind == "leaf":
        other = data.draw(st.integers(0, size - 1).filter(lambda v: v != index))
        args["leaf"] = leaves[other]
    elif kind == "drop":
        args["proof"] = proof[:-1]
    else:
        args["proof"] = [*proof, data.draw(st.binary(min_size=32, max_size=32))]
    with pytest.raises(InclusionProofError):
        merkle.verify_inclusion(
            args["leaf"], args["index"], args["size"], args["proof"], args["root"]
        )


@settings(max_examples=150, deadline=None)
@given(trees(), st.data())
def test_every_consistency_proof_verifies(leaves, data):
    new = data.draw(st.integers(0, len(leaves)), label="new")
    old = data.draw(st.integers(0, new), label="old")
    proof = merkle.consistency_proof(old, new, leaves)
    merkle.verify_consistency(old, new, merkle.root(leaves[:old]), merkle.root(leaves[:new]), proof)


@settings(max_examples=200, deadline=None)
@given(trees(min_size=2), st.data())
def test_tampered_consistency_fails(leaves, data):
    new = data.draw(st.integers(2, len(leaves)), label="new")
    old = data.draw(st.integers(1, new - 1), label="old")
    old_root, new_root = merkle.root(leaves[:old]), merkle.root(leaves[:new])
    proof = merkle.consistency_proof(old, new, leaves)
    args = [old, new, old_root, new_root, proof]
    kind = data.draw(
        st.sampled_from(["proof", "old", "new", "old_root", "new_root", "drop", "add", "fork"])
    )
    if kind == "proof":
        i = data.draw(st.integers(0, len(proof) - 1))
        bit = data.draw(st.integers(0, 255))
        args[4] = [
            *proof[:i],
            proof[i][: bit // 8] + _flip(proof[i][bit // 8 :], bit),
            *proof[i + 1 :],
        ]
    elif kind == "old":
        args[0] = data.draw(st.integers(0, new).filter(lambda v: v != old))
        args[2] = merkle.root(leaves[: args[0]])
    elif kind == "new":
        args[1] = data.draw(st.integers(old, len(leaves)).filter(lambda v: v != new))
        args[3] = merkle.root(leaves[: args[1]])
    elif kind == "old_root":
        args[2] = _flip(old_root, data.draw(st.integers(0, 7)))
    elif kind == "new_root":
        args[3] = _flip(new_root, data.draw(st.integers(0, 7)))
    elif kind == "drop":
        args[4] = proof[:-1]
    elif kind == "add":
        args[4] = [*proof, data.draw(st.binary(min_size=32, max_size=32))]
    else:
        # A forked log: the same old prefix but one changed entry before ``old``.
        at = data.draw(st.integers(0, old - 1))
        forked = [*leaves[:at], merkle.leaf_hash(b"forged" + leaves[at]), *leaves[at + 1 :]]
        args[3] = merkle.root(forked[:new])
        args[4] = merkle.consistency_proof(old, new, forked)
    with pytest.raises(ConsistencyProofError):
        merkle.verify_consistency(*args)


@given(trees())
def test_root_matches_recursive_definition(leaves):
    def mth(hashes: list[bytes]) -> bytes:
        if len(hashes) == 1:
            return hashes[0]
        k = merkle.split_point(len(hashes))
        return merkle.node_hash(mth(hashes[:k]), mth(hashes[k:]))

    assert merkle.root(leaves) == mth(leaves)


def test_size_without_its_root():
    """Why a verifier takes size and root from the same signed tree head: RFC 9162 proofs
    bind the path's shape, and leaf 0 has the same shape in trees of 5 to 8 leaves. A proof
    for size 8 checked against size 8's root "verifies" at size 5 too; with size 5's own
    root it fails."""
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(8)]
    proof = merkle.inclusion_proof(0, 8, leaves)
    merkle.verify_inclusion(leaves[0], 0, 5, proof, merkle.root(leaves))
    with pytest.raises(InclusionProofError):
        merkle.verify_inclusion(leaves[0], 0, 5, proof, merkle.root(leaves[:5]))
