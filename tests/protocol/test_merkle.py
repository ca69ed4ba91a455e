"""protocol.merkle against published RFC 6962/9162 test vectors and their corruptions.

Vectors from github.com/transparency-dev/merkle (Google's Go Merkle library, used by
Trillian and the CT Go code; Apache-2.0):

* rfc6962/rfc6962_test.go (commit 78493b07): empty root, empty leaf, leaf "L123456",
  node("N123", "N456");
* proof/verify_test.go (commit 02194e9a): the 8-leaf reference tree (leaves "", 00, 10,
  2021, 3031, 40414243, 5051525354555657, 606162636465666768696a6b6c6d6e6f), the roots of
  its prefixes of size 1..8, inclusion proofs and consistency proofs, and the corruption
  probes of corruptInclusionProof / corruptConsistencyProof;
* proof/proof_test.go (commit 02a3e202): which nodes make up proofs in the 7-leaf tree,
  the same tree as RFC 9162 §2.1.5's example.
"""

from __future__ import annotations

import hashlib

import pytest

from protocol import merkle
from protocol.errors import ProtocolError, VerificationError
from protocol.merkle import ConsistencyProofError, InclusionProofError


def dh(text: str) -> bytes:
    return bytes.fromhex(text)


LEAVES = [
    dh(x)
    for x in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
LEAF_HASHES = [merkle.leaf_hash(x) for x in LEAVES]

# roots[n - 1] is the root of the first n leaves.
ROOTS = [
    dh("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    dh("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    dh("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    dh("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    dh("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    dh("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    dh("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    dh("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]

# (1-based leaf number, tree size, proof), as in verify_test.go's inclusionProofs.
INCLUSION = [
    (1, 1, []),
    (
        1,
        8,
        [
            dh("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            dh("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            dh("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            dh("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            dh("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            dh("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (3, 3, [dh("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        2,
        5,
        [
            dh("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            dh("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            dh("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]

# (size1, size2, proof), as in verify_test.go's consistencyProofs.
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            dh("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            dh("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            dh("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            dh("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            dh("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            dh("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            dh("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            dh("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            dh("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            dh("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            dh("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]

SOME_HASH = dh("abacaba000000000000000000000000000000000000000000060061e00123456")
EMPTY_TREE = dh("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def test_hashes_match_rfc6962_vectors():
    assert merkle.EMPTY_ROOT == EMPTY_TREE
    assert merkle.root([]) == EMPTY_TREE
    assert merkle.leaf_hash(b"") == ROOTS[0]
    assert merkle.leaf_hash(b"L123456") == dh(
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )
    assert merkle.node_hash(b"N123", b"N456") == dh(
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


def test_leaf_and_node_are_domain_separated():
    a, b = merkle.leaf_hash(b"Hello"), merkle.leaf_hash(b"World")
    assert merkle.node_hash(a, b) != merkle.leaf_hash(a + b)
    assert merkle.node_hash(a, b) != merkle.node_hash(b, a)


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_of_reference_tree(size):
    assert merkle.root(LEAF_HASHES[:size]) == ROOTS[size - 1]
    assert merkle.root_of_entries(LEAVES[:size]) == ROOTS[size - 1]


def test_split_point_is_largest_power_of_two_below():
    assert [merkle.split_point(n) for n in range(2, 10)] == [1, 2, 2, 4, 4, 4, 4, 8]


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION)
def test_published_inclusion_proofs(leaf, size, proof):
    assert merkle.inclusion_proof(leaf - 1, size, LEAF_HASHES) == proof
    merkle.verify_inclusion(LEAF_HASHES[leaf - 1], leaf - 1, size, proof, ROOTS[size - 1])
    assert (
        merkle.root_from_inclusion_proof(LEAF_HASHES[leaf - 1], leaf - 1, size, proof)
        == (ROOTS[size - 1])
    )


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY)
def test_published_consistency_proofs(size1, size2, proof):
    assert merkle.consistency_proof(size1, size2, LEAF_HASHES) == proof
    merkle.verify_consistency(size1, size2, ROOTS[size1 - 1], ROOTS[size2 - 1], proof)


def _flip(proof: list[bytes], i: int, mask: int) -> list[bytes]:
    changed = list(proof)
    changed[i] = bytes([changed[i][0] ^ mask]) + changed[i][1:]
    return changed


def _inclusion_probes(index, size, proof, root, leaf):
    """corruptInclusionProof of verify_test.go (garbage of the wrong length included)."""
    probes = [
        ("index - 1", (leaf, index - 1, size, proof, root)),
        ("index + 1", (leaf, index + 1, size, proof, root)),
        ("index ^ 2", (leaf, index ^ 2, size, proof, root)),
        ("size * 2", (leaf, index, size * 2, proof, root)),
        ("size / 2", (leaf, index, size // 2, proof, root)),
        ("wrong leaf", (b"WrongLeaf", index, size, proof, root)),
        ("empty root", (leaf, index, size, proof, EMPTY_TREE)),
        ("random root", (leaf, index, size, proof, SOME_HASH)),
        ("trailing garbage", (leaf, index, size, [*proof, b""], root)),
        ("trailing root", (leaf, index, size, [*proof, root], root)),
        ("preceding garbage", (leaf, index, size, [b"", *proof], root)),
        ("preceding root", (leaf, index, size, [root, *proof], root)),
    ]
    probes += [
        (f"flip proof[{i}]", (leaf, index, size, _flip(proof, i, 8), root))
        for i in range(len(proof))
    ]
    if proof:
        probes.append(("removed component", (leaf, index, size, proof[:-1], root)))
    if len(proof) > 1:
        inserted = [proof[0], SOME_HASH, *proof[1:]]
        probes.append(("inserted component", (leaf, index, size, inserted, root)))
    return probes


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION[1:])
def test_corrupted_inclusion_proofs_fail(leaf, size, proof):
    index = leaf - 1
    for desc, args in _inclusion_probes(index, size, proof, ROOTS[size - 1], LEAF_HASHES[index]):
        if args[1] < 0:
            continue  # index - 1 of leaf 0: not an integer a caller can pass
        with pytest.raises(InclusionProofError):
            merkle.verify_inclusion(*args)
            pytest.fail(f"accepted: {desc}")


def _consistency_probes(size1, size2, root1, root2, proof):
    """corruptConsistencyProof of verify_test.go."""
    probes = [
        ("size1 - 1", (size1 - 1, size2, root1, root2, proof)),
        ("size1 + 1", (size1 + 1, size2, root1, root2, proof)),
        ("size1 ^ 2", (size1 ^ 2, size2, root1, root2, proof)),
        ("size2 * 2", (size1, size2 * 2, root1, root2, proof)),
        ("size2 / 2", (size1, size2 // 2, root1, root2, proof)),
        ("wrong root1", (size1, size2, b"WrongRoot", root2, proof)),
        ("wrong root2", (size1, size2, root1, b"WrongRoot", proof)),
        ("swapped roots", (size1, size2, root2, root1, proof)),
        ("empty proof", (size1, size2, root1, root2, [])),
        ("trailing garbage", (size1, size2, root1, root2, [*proof, b""])),
        ("trailing root1", (size1, size2, root1, root2, [*proof, root1])),
        ("trailing root2", (size1, size2, root1, root2, [*proof, root2])),
        ("preceding garbage", (size1, size2, root1, root2, [b"", *proof])),
        ("preceding root1", (size1, size2, root1, root2, [root1, *proof])),
        ("preceding root2", (size1, size2, root1, root2, [root2, *proof])),
        ("preceding proof[0]", (size1, size2, root1, root2, [proof[0], *proof])),
        ("truncated proof", (size1, size2, root1, root2, proof[:-1])),
    ]
    probes += [
        (f"flip proof[{i}]", (size1, size2, root1, root2, _flip(proof, i, 16)))
        for i in range(len(proof))
    ]
    return probes


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY[1:])
def test_corrupted_consistency_proofs_fail(size1, size2, proof):
    root1, root2 = ROOTS[size1 - 1], ROOTS[size2 - 1]
    for desc, args in _consistency_probes(size1, size2, root1, root2, proof):
        with pytest.raises(ConsistencyProofError):
            merkle.verify_consistency(*args)
            pytest.fail(f"accepted: {desc}")


def test_single_entry_tree():
    # A one-leaf tree's root is its leaf hash, its proof empty (TestVerifyInclusionSingleEntry).
    h = merkle.leaf_hash(b"data")
    merkle.verify_inclusion(h, 0, 1, [], h)
    for leaf, root in [(h, b""), (b"", h), (b"", b"")]:
        with pytest.raises(InclusionProofError):
            merkle.verify_inclusion(leaf, 0, 1, [], root)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (2, 1), (1, 1)])
def test_inclusion_index_out_of_range(index, size):
    with pytest.raises(InclusionProofError) as caught:
        merkle.verify_inclusion(SOME_HASH, index, size, [], EMPTY_TREE)
    assert caught.value.reason == "index-out-of-range"


# TestVerifyConsistency's table, with this module's stricter rule for size 0 (the old root
# must be the empty tree's) noted where it differs.
@pytest.mark.parametrize(
    ("size1", "size2", "root1", "root2", "proof", "ok"),
    [
        (0, 0, b"1" * 32, b"2" * 32, [], False),
        (1, 1, b"1" * 32, b"2" * 32, [], False),
        (0, 0, EMPTY_TREE, EMPTY_TREE, [], True),
        (0, 1, EMPTY_TREE, b"2" * 32, [], True),
        (0, 1, b"1" * 32, b"2" * 32, [], False),  # Go accepts any root for size 0
        (1, 1, b"2" * 32, b"2" * 32, [], True),
        (1, 0, b"1" * 32, b"2" * 32, [], False),
        (2, 1, b"1" * 32, b"2" * 32, [], False),
        (1, 2, b"1" * 32, b"2" * 32, [], False),
        (0, 0, EMPTY_TREE, b"2" * 32, [], False),
        (1, 1, EMPTY_TREE, b"2" * 32, [], False),
        (0, 0, EMPTY_TREE, EMPTY_TREE, [EMPTY_TREE], False),
        (0, 1, EMPTY_TREE, EMPTY_TREE, [EMPTY_TREE], False),
        (1, 1, EMPTY_TREE, EMPTY_TREE, [EMPTY_TREE], False),
    ],
)
def test_consistency_edge_cases(size1, size2, root1, root2, proof, ok):
    if ok:
        merkle.verify_consistency(size1, size2, root1, root2, proof)
    else:
        with pytest.raises(ConsistencyProofError):
            merkle.verify_consistency(size1, size2, root1, root2, proof)


def test_each_cause_has_its_own_reason():
    proof = INCLUSION[1][2]
    cases = {
        "index-out-of-range": (LEAF_HASHES[0], 8, 8, proof, ROOTS[7]),
        "proof-too-long": (LEAF_HASHES[0], 0, 8, [*proof, SOME_HASH], ROOTS[7]),
        "proof-too-short": (LEAF_HASHES[0], 0, 8, proof[:-1], ROOTS[7]),
        "root-mismatch": (LEAF_HASHES[0], 0, 8, proof, ROOTS[6]),
        "malformed": (LEAF_HASHES[0], 0, 8, [*proof[:-1], b"short"], ROOTS[7]),
    }
    for reason, args in cases.items():
        with pytest.raises(InclusionProofError) as caught:
            merkle.verify_inclusion(*args)
        assert caught.value.reason == reason, reason
    old, new, cproof = CONSISTENCY[2]
    r1, r2 = ROOTS[old - 1], ROOTS[new - 1]
    ccases = {
        "size-decreased": (new, old, r2, r1, cproof),
        "proof-empty": (old, new, r1, r2, []),
        "proof-too-long": (old, new, r1, r2, [*cproof, SOME_HASH]),
        "proof-too-short": (old, new, r1, r2, cproof[:-1]),
        "old-root-mismatch": (old, new, ROOTS[0], r2, cproof),
        "new-root-mismatch": (old, new, r1, ROOTS[0], cproof),
        "root-fork": (old, old, r1, ROOTS[0], []),
        "malformed": (True, new, r1, r2, cproof),
    }
    for reason, args in ccases.items():
        with pytest.raises(ConsistencyProofError) as caught:
            merkle.verify_consistency(*args)
        assert caught.value.reason == reason, reason


def test_errors_sit_in_the_protocol_tree():
    assert issubclass(InclusionProofError, VerificationError)
    assert issubclass(ConsistencyProofError, VerificationError)
    assert issubclass(InclusionProofError, ProtocolError)


def test_proof_must_be_a_list_of_hashes():
    with pytest.raises(InclusionProofError, match="not a list"):
        merkle.verify_inclusion(LEAF_HASHES[0], 0, 2, LEAF_HASHES[1], ROOTS[1])
    with pytest.raises(ConsistencyProofError, match="not a list"):
        merkle.verify_consistency(1, 2, ROOTS[0], ROOTS[1], "00" * 32)


# RFC 9162 §2.1.5 (and proof_test.go): the 7-leaf tree, its named nodes and proofs.
def _rfc_example():
    d = [hashlib.sha256(bytes([i])).digest() for i in range(7)]
    a, b, c, dd, e, f, j = (merkle.leaf_hash(x) for x in d)
    g, h, i = merkle.node_hash(a, b), merkle.node_hash(c, dd), merkle.node_hash(e, f)
    k, l_ = merkle.node_hash(g, h), merkle.node_hash(i, j)
    return [a, b, c, dd, e, f, j], dict(
        a=a, b=b, c=c, d=dd, e=e, f=f, g=g, h=h, i=i, j=j, k=k, l=l_
    )


def test_rfc9162_example_tree():
    leaves, n = _rfc_example()
    assert merkle.inclusion_proof(0, 7, leaves) == [n["b"], n["h"], n["l"]]
    assert merkle.inclusion_proof(3, 7, leaves) == [n["c"], n["g"], n["l"]]
    assert merkle.inclusion_proof(4, 7, leaves) == [n["f"], n["j"], n["k"]]
    assert merkle.inclusion_proof(6, 7, leaves) == [n["i"], n["k"]]
    assert merkle.consistency_proof(3, 7, leaves) == [n["c"], n["d"], n["g"], n["l"]]
    assert merkle.consistency_proof(4, 7, leaves) == [n["l"]]
    assert merkle.consistency_proof(6, 7, leaves) == [n["i"], n["j"], n["k"]]
    # proof_test.go: 5 -> 7 is e f j k (j stands in for its missing parent).
    assert merkle.consistency_proof(5, 7, leaves) == [n["e"], n["f"], n["j"], n["k"]]
    root7 = merkle.root(leaves)
    for old in range(1, 7):
        proof = merkle.consistency_proof(old, 7, leaves)
        merkle.verify_consistency(old, 7, merkle.root(leaves[:old]), root7, proof)


def test_reference_generators_refuse_bad_arguments():
    with pytest.raises(ValueError):
        merkle.inclusion_proof(3, 3, LEAF_HASHES)
    with pytest.raises(ValueError):
        merkle.inclusion_proof(0, 9, LEAF_HASHES)
    with pytest.raises(ValueError):
        merkle.consistency_proof(5, 4, LEAF_HASHES)
    with pytest.raises(ValueError):
        merkle.root([b"short"])
