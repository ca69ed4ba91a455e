"""C2SP signed notes and checkpoints, checked against the specs' own examples and the
reference vectors of golang.org/x/mod/sumdb/note (the Go implementation signed-note grew
from), then against a real hub identity from a real region CA."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol import checkpoint, merkle, note
from protocol.checkpoint import CheckpointError
from protocol.errors import RevokedError, UntrustedIssuerError
from protocol.note import NoteError
from provisioning import authority as ca
from tests.conftest import PASSPHRASE
from tests.protocol.test_merkle_treehead import NOW, make_hub

# c2sp.org/signed-note, "Verifier keys", Example: this key verifies this note.
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n— example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
# golang.org/x/mod/sumdb/note's documented example: its private key (0x01 || Ed25519 seed),
# its verifier key, and the note its Sign writes. Ed25519 is deterministic, so a signer
# that follows the spec writes these bytes exactly.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
# c2sp.org/tlog-checkpoint's example note text.
SPEC_CHECKPOINT = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)


def _go_key() -> Ed25519PrivateKey:
    raw = base64.b64decode(GO_SKEY.split("+", 4)[4])
    assert raw[0] == note.ED25519
    return Ed25519PrivateKey.from_private_bytes(raw[1:])


def test_spec_example_note_verifies_under_its_vkey():
    verifier = note.parse_vkey(SPEC_VKEY)
    assert verifier.name == "example.com/foo" and verifier.key_id.hex() == "530d903a"
    opened, signers = note.open_note(SPEC_NOTE.encode(), [verifier])
    assert opened.text == "This is an example message.\n" and signers == [verifier]
    assert verifier.vkey() == SPEC_VKEY


def test_signing_reproduces_the_go_reference_note_byte_for_byte():
    key = _go_key()
    assert note.Verifier("PeterNeumann", key.public_key()).vkey() == GO_VKEY
    signature = note.sign(GO_TEXT, "PeterNeumann", key)
    assert note.signed_note(GO_TEXT, [signature]).decode() == GO_NOTE
    opened, _ = note.open_note(GO_NOTE.encode(), [note.parse_vkey(GO_VKEY)])
    assert opened.text == GO_TEXT


def test_forged_note_text_is_refused():
    forged = GO_NOTE.replace("cryptography", "cryptographY").encode()
    with pytest.raises(NoteError, match="does not hold"):
        note.open_note(forged, [note.parse_vkey(GO_VKEY)])


def test_note_signed_only_by_unknown_keys_is_refused():
    # Same name, other key: the (name, key ID) pair does not match, so it is ignored, and a
    # note with no trusted signature is refused.
    impostor = note.Verifier("PeterNeumann", Ed25519PrivateKey.generate().public_key())
    with pytest.raises(NoteError, match="no signature by a trusted key"):
        note.open_note(GO_NOTE.encode(), [impostor])


def test_unknown_signatures_beside_a_trusted_one_are_ignored():
    witness = note.sign(GO_TEXT, "witness.example/w1", Ed25519PrivateKey.generate())
    both = note.signed_note(GO_TEXT, [witness, note.sign(GO_TEXT, "PeterNeumann", _go_key())])
    _, signers = note.open_note(both, [note.parse_vkey(GO_VKEY)])
    assert [s.name for s in signers] == ["PeterNeumann"]


# Verifier keys of transparency-dev/formats' note tests: one whose base64 holds a '+', and a
# witness's cosignature key (type 0x04), whose key ID is computed with that type byte.
PLUS_VKEY = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
COSIGNER_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"


def test_independent_verifier_keys_parse_with_their_key_ids():
    plus = note.parse_vkey(PLUS_VKEY)
    assert (plus.name, plus.kind, plus.vkey()) == ("TEST", note.ED25519, PLUS_VKEY)
    cosigner = note.parse_vkey(COSIGNER_VKEY)
    assert (cosigner.name, cosigner.kind) == ("remora.n621.de", note.COSIGNATURE)
    assert cosigner.key_id.hex() == "da77ade7" and cosigner.vkey() == COSIGNER_VKEY


@pytest.mark.parametrize(
    "mangled",
    [
        SPEC_VKEY.replace("530d903a", "530d903b"),  # key ID not of this key
        SPEC_VKEY.replace("+Aeky", "+Aaky"),  # another key under the same ID
        SPEC_VKEY.replace("+Aeky", "+Aky"),  # not 0x01 || 32 bytes
        "example.com/foo+530d903a",
        "exa mple.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    ],
)
def test_mangled_verifier_keys_are_refused(mangled):
    with pytest.raises(NoteError):
        note.parse_vkey(mangled)


@pytest.mark.parametrize(
    "data",
    [
        GO_NOTE.replace("\n\n", "\n"),  # no blank line before the signatures
        GO_NOTE.rstrip("\n"),  # does not end in a newline
        GO_NOTE.replace("— ", "- "),  # not an em dash
        GO_NOTE.replace("problem,", "problem,\x07"),  # a control character
        GO_TEXT + "\n",  # no signature at all
        GO_NOTE.replace("x08go/", "x08go!"),  # not base64
    ],
)
def test_malformed_notes_are_refused(data):
    with pytest.raises(NoteError):
        note.open_note(data.encode(), [note.parse_vkey(GO_VKEY)])


def test_spec_example_checkpoint_text_parses():
    parsed = checkpoint.parse_text(SPEC_CHECKPOINT)
    assert parsed.origin == "example.com/behind-the-sofa" and parsed.tree_size == 20852163
    assert parsed.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert parsed.text() == SPEC_CHECKPOINT


@pytest.mark.parametrize(
    "text",
    [
        SPEC_CHECKPOINT.replace("20852163", "020852163"),  # a leading zero
        SPEC_CHECKPOINT.replace("20852163", "-1"),
        SPEC_CHECKPOINT.replace("2I=", "2"),  # not 32 bytes of base64
        SPEC_CHECKPOINT + "extension\n",  # extension lines: this log writes none
        SPEC_CHECKPOINT.rstrip("\n"),
        "\n" + SPEC_CHECKPOINT.split("\n", 1)[1],  # empty origin
    ],
)
def test_malformed_checkpoint_text_is_refused(text):
    with pytest.raises(CheckpointError):
        checkpoint.parse_text(text)


def test_hub_checkpoint_verifies_with_the_hub_certificate_from_the_ca(region):
    hub = make_hub(region)
    root = merkle.root_of_entries([b"a", b"b", b"c"])
    signed = checkpoint.sign(checkpoint.make("log-31-71", 3, root), hub.key)
    assert signed.decode().startswith(f"log-31-71\n3\n{base64.b64encode(root).decode()}\n\n— ")
    verifier = checkpoint.hub_verifier("log-31-71", hub.cert, hub.ca_cert, NOW)
    verified = checkpoint.verify(signed, [verifier], origin="log-31-71")
    assert verified.checkpoint == checkpoint.Checkpoint("log-31-71", 3, root)
    # The same note read by key name and key ID alone, as a tlog tool given the vkey would.
    assert checkpoint.verify(signed, [note.parse_vkey(verifier.vkey())]).checkpoint.tree_size == 3


def test_checkpoint_of_another_log_is_refused(region):
    hub = make_hub(region)
    signed = checkpoint.sign(checkpoint.make("log-31-71-latihan", 0, merkle.EMPTY_ROOT), hub.key)
    verifier = checkpoint.hub_verifier("log-31-71-latihan", hub.cert, hub.ca_cert, NOW)
    with pytest.raises(CheckpointError, match="not of 'log-31-71'"):
        checkpoint.verify(signed, [verifier], origin="log-31-71")


def test_checkpoint_signed_by_a_hub_of_another_region_is_refused(region, tmp_path):
    other = ca.init_ca(
        tmp_path / "other", region="32.73", name="KPU Lain", passphrase=PASSPHRASE, days=30
    )
    with pytest.raises(UntrustedIssuerError):
        checkpoint.hub_verifier("log-31-71", make_hub(region).cert, other.cert, NOW)


def test_checkpoint_of_a_revoked_hub_is_refused(region):
    hub = make_hub(region)
    ca.revoke(region.authority, "hub-31-71")
    crl = region.authority.crl()
    with pytest.raises(RevokedError):
        checkpoint.hub_verifier("log-31-71", hub.cert, hub.ca_cert, NOW, crl=crl)


def test_rewritten_log_fails_consistency_between_checkpoints():
    entries = [b"r%d" % i for i in range(11)]
    hashes = [merkle.leaf_hash(e) for e in entries]
    old = checkpoint.make("log-31-71", 6, merkle.root(hashes[:6]))
    new = checkpoint.make("log-31-71", 11, merkle.root(hashes))
    proof = merkle.consistency_proof(6, 11, hashes)
    checkpoint.check_consistency(old, new, proof)
    checkpoint.check_inclusion(new, entries[7], 7, merkle.inclusion_proof(7, 11, hashes))
    rewritten = [*hashes[:3], merkle.leaf_hash(b"changed"), *hashes[4:]]
    forked = checkpoint.make("log-31-71", 11, merkle.root(rewritten))
    with pytest.raises(merkle.ConsistencyProofError):
        checkpoint.check_consistency(old, forked, merkle.consistency_proof(6, 11, rewritten))
