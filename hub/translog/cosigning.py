"""The hub's side of the witnesses: ask each witness to cosign a log's latest checkpoint
(C2SP tlog-witness ``add-checkpoint``, with a consistency proof from the size that witness
cosigned last) and keep the cosignatures on the checkpoint the hub serves.

The policy is :meth:`WitnessPolicy.statement`, which the hub publishes with the witnesses'
keys (``/api/v1/trust/witnesses``): hub.toml's ``[witnesses]`` is the one list both the
cosigning rounds and that page read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from hub.translog.log import TransparencyLog
from protocol import note, witnessing
from protocol.errors import ProtocolError

# POST url with a body -> (HTTP status, body); raises OSError when the witness is unreachable.
Post = Callable[[str, bytes], tuple[int, bytes]]


@dataclass(frozen=True)
class WitnessEndpoint:
    url: str  # the witness's submission prefix
    verifier: note.Verifier  # its cosignature key (type 0x04), to check what it answers


@dataclass(frozen=True)
class WitnessPolicy:
    """The witnesses the hub asks, how often, and what it does with their answers."""

    witnesses: tuple[WitnessEndpoint, ...] = ()
    every_s: float = 10.0

    def statement(self) -> str:
        return (
            f"Every witness listed is asked every {self.every_s:g} s to cosign the latest "
            "checkpoint of each log (c2sp.org/tlog-witness add-checkpoint, with a consistency "
            "proof from the size it cosigned last). The cosignatures that come back are "
            "checked with the witness's key and kept on that checkpoint; the newest checkpoint "
            "carrying any is served at logs/<log>/checkpoint.witnessed. A listed witness whose "
            "cosignature is missing there was asked and refused or did not answer (it is asked "
            "again next round); a witness not listed was never asked. Readers choose which "
            "witnesses, and how many, they require."
        )


@dataclass
class Round:
    tree_size: int
    cosigned_by: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "<witness>: why"


@dataclass
class Cosigner:
    """Asks witnesses for one log; remembers the size each cosigned last (a witness that
    disagrees says so with a 409, and is asked again from its size)."""

    log: TransparencyLog
    witnesses: Sequence[WitnessEndpoint]
    post: Post
    sizes: dict[str, int] = field(default_factory=dict)

    def round(self) -> Round | None:
        """Ask every witness to cosign the latest checkpoint; keep what comes back."""
        signed = self.log.checkpoint()
        if signed is None:
            return None
        size = witnessing.check_checkpoint_text(signed).tree_size
        done = Round(size)
        for witness in self.witnesses:
            name = witness.verifier.name
            if self.sizes.get(name) == size and witnessing.cosigners(signed, [witness.verifier]):
                done.cosigned_by.append(name)  # this very checkpoint, cosigned already
                continue
            try:
                lines = self._ask(witness, signed, size)
                with_them = witnessing.with_cosignatures(signed, lines)
                if not witnessing.cosigners(with_them, [witness.verifier]):
                    raise witnessing.QuorumError("its answer holds no cosignature of its key")
            except (ProtocolError, OSError, ValueError) as e:
                done.failed.append(f"{name}: {e}")
                continue
            signed = with_them
            self.sizes[name] = size
            done.cosigned_by.append(name)
        if done.cosigned_by:
            self.log.storage.put_checkpoint(size, signed, cosigned=True)
        return done

    def _ask(self, witness: WitnessEndpoint, signed: bytes, size: int) -> bytes:
        old = self.sizes.get(witness.verifier.name, 0)
        for _ in range(2):  # a 409 tells the witness's size: one more try from it
            if old > size:
                raise witnessing.WitnessRequestError(
                    f"it cosigned size {old}, above this checkpoint's {size}"
                )
            proof = self.log.consistency_proof(old, size) if old else []
            body = witnessing.request_body(old, proof, signed)
            status, answer = self.post(witness.url.rstrip("/") + "/add-checkpoint", body)
            if status == 200:
                return answer
            if status == 409:
                old = int(answer.decode().strip())
                continue
            raise witnessing.WitnessRequestError(
                f"HTTP {status}: {answer[:300].decode(errors='replace').strip()}"
            )
        raise witnessing.WitnessRequestError("it keeps answering 409")


def cosigners(signed: bytes | None, origin: str) -> list[str]:
    """The names on a stored checkpoint's signature lines other than the log's own: the
    witnesses whose cosignatures a round kept (each checked then, against its key)."""
    if signed is None:
        return []
    names = [s.name for s in note.parse(signed).signatures if s.name != origin]
    return list(dict.fromkeys(names))
