"""The C2SP tlog-witness ``add-checkpoint`` request (c2sp.org/tlog-witness): what a log sends
a witness to have its checkpoint cosigned, and how a reader counts the cosignatures.

The request body is ``old <size>\\n``, one base64 consistency-proof hash per line (from the
size the witness last cosigned to the checkpoint's), an empty line, then the signed
checkpoint. The witness answers with its cosignature lines (protocol/note.py, type 0x04);
the log appends them to its checkpoint.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from protocol import checkpoint, merkle, note
from protocol.errors import VerificationError

MAX_PROOF = 63
SIZE_TYPE = "text/x.tlog.size"  # the content type of a 409's body: the witness's size


class WitnessRequestError(VerificationError):
    """An add-checkpoint request that is not the spec's."""


class QuorumError(VerificationError):
    """A checkpoint without the cosignatures a reader requires."""


@dataclass(frozen=True)
class Quorum:
    """The witnesses a reader names, and how many of them must have cosigned."""

    witnesses: tuple[note.Verifier, ...]
    required: int

    @classmethod
    def of(cls, vkeys: Sequence[str], required: int | None) -> Quorum | None:
        """From verifier keys as ``tps-hub witness --print-vkey`` prints them; all of them
        required unless ``required`` says how many. None when no key is named. Raises
        ValueError for what a reader can fix: a key malformed or not a witness's, a count
        of more than the keys named, or a count without keys."""
        if not vkeys:
            if required is not None:
                raise ValueError("--witnesses-required counts the --witness keys: name them")
            return None
        try:
            witnesses = tuple(note.parse_vkey(k) for k in vkeys)
        except note.NoteError as e:
            raise ValueError(f"--witness: {e}") from e
        if any(w.kind != note.COSIGNATURE for w in witnesses):
            raise ValueError("a --witness key is a cosignature key (type 0x04)")
        k = len(witnesses) if required is None else required
        if not 1 <= k <= len(witnesses):
            raise ValueError(
                f"--witnesses-required {k} is not between 1 and the {len(witnesses)} named"
            )
        return cls(witnesses, k)


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: tuple[bytes, ...]
    signed_checkpoint: bytes


def request_body(old_size: int, proof: Sequence[bytes], signed_checkpoint: bytes) -> bytes:
    lines = [f"old {old_size}\n"] + [base64.b64encode(h).decode() + "\n" for h in proof]
    return ("".join(lines) + "\n").encode() + signed_checkpoint


def parse_request(body: bytes) -> AddCheckpoint:
    head, blank, signed = body.partition(b"\n\n")
    if not blank:
        raise WitnessRequestError("the request has no empty line before its checkpoint")
    try:
        lines = head.decode("ascii").split("\n")
    except UnicodeDecodeError as e:
        raise WitnessRequestError("the request's first lines are not ASCII") from e
    first = lines[0]
    size_text = first[4:]
    if (
        not first.startswith("old ")
        or not size_text.isdigit()
        or (size_text != "0" and size_text.startswith("0"))
    ):
        raise WitnessRequestError(f"the first line {first[:40]!r} is not 'old <size>'")
    if len(lines) - 1 > MAX_PROOF:
        raise WitnessRequestError(f"{len(lines) - 1} proof lines, over {MAX_PROOF}")
    proof = []
    for line in lines[1:]:
        try:
            value = base64.b64decode(line, validate=True)
        except binascii.Error as e:
            raise WitnessRequestError(f"proof line {line[:50]!r} is not base64") from e
        if len(value) != merkle.HASH_SIZE:
            raise WitnessRequestError(f"proof line {line[:50]!r} is not a 32-byte hash")
        proof.append(value)
    return AddCheckpoint(int(size_text), tuple(proof), signed)


def with_cosignatures(signed_checkpoint: bytes, lines: bytes) -> bytes:
    """The checkpoint with a witness's answer (signature lines) appended, each line once."""
    kept = note.parse(signed_checkpoint)
    added = note.parse(kept.text.encode() + b"\n" + lines)
    known = {s.line() for s in kept.signatures}
    fresh = [s for s in added.signatures if s.line() not in known]
    return note.Note(kept.text, kept.signatures + tuple(fresh)).to_bytes()


def cosigners(signed_checkpoint: bytes, witnesses: Iterable[note.Verifier]) -> list[note.Verifier]:
    """The named witnesses whose cosignatures on the checkpoint hold. A cosignature of a
    named witness that fails makes the whole checkpoint fail (signed-note's rule)."""
    wanted = list(witnesses)
    parsed = note.parse(signed_checkpoint)
    ids = {(w.name, w.key_id) for w in wanted}
    if not any((s.name, s.key_id) in ids for s in parsed.signatures):
        return []
    _, verified = note.open_note(signed_checkpoint, wanted)
    return verified


def require(
    signed_checkpoint: bytes, witnesses: Sequence[note.Verifier], k: int
) -> list[note.Verifier]:
    """Raise :class:`QuorumError` unless at least ``k`` of ``witnesses`` cosigned."""
    found = cosigners(signed_checkpoint, witnesses)
    if len(found) < k:
        names = ", ".join(w.name for w in found) or "none"
        raise QuorumError(
            f"the checkpoint carries {len(found)} of the {k} witness cosignatures required "
            f"(of {len(witnesses)} named; cosigned by: {names})"
        )
    return found


def check_checkpoint_text(signed_checkpoint: bytes) -> checkpoint.Checkpoint:
    return checkpoint.parse_text(note.parse(signed_checkpoint).text)
