"""What ``tps-verify --witness`` adds to a result's inclusion: the result is in a checkpoint
that the witnesses the reader names cosigned, so the log it is in is not the hub's word alone
(a hub showing the reader a log other than the one the witnesses saw is caught here)."""

from __future__ import annotations

from collections.abc import Callable

from protocol import checkpoint, note, proofs, witnessing
from protocol.errors import VerificationError
from protocol.verify_cli import Report


def check_witnessed(
    report: Report,
    entry: bytes,
    leaf_index: int,
    log_id: str,
    hub_key: note.Verifier,
    quorum: witnessing.Quorum,
    signed_checkpoint: bytes | None,
    proof_at: Callable[[int], bytes | None],
) -> None:
    """One check per line: the newest checkpoint the hub says witnesses cosigned
    (``signed_checkpoint``) is the hub's, carries the quorum's cosignatures, and includes
    ``entry`` (logged at ``leaf_index``) by the inclusion proof ``proof_at`` fetches for
    its size."""
    n = len(quorum.witnesses)
    name = f"log {log_id} at a checkpoint {quorum.required} of the {n} named witnesses cosigned"
    if signed_checkpoint is None:
        report.run(name, lambda: _none_yet(log_id))
        return
    verified = report.run(
        f"witnessed checkpoint signed by the hub ({hub_key.name})",
        lambda: checkpoint.verify(signed_checkpoint, [hub_key], origin=log_id),
    )
    if verified is None:
        return
    cosigned = report.run(
        name, lambda: witnessing.require(signed_checkpoint, quorum.witnesses, quorum.required)
    )
    if cosigned is None:
        return
    witnessed = verified.checkpoint
    report.facts["witnessed"] = {
        "tree_size": witnessed.tree_size,
        "cosigned_by": [w.name for w in cosigned],
    }
    report.run(
        f"result included in that checkpoint (size {witnessed.tree_size}, cosigned by "
        f"{', '.join(w.name for w in cosigned)})",
        lambda: _included(witnessed, entry, leaf_index, proof_at),
    )


def _none_yet(log_id: str) -> None:
    raise VerificationError(
        f"the hub publishes no checkpoint of log {log_id} that witnesses cosigned: ask again "
        "once its witnesses have cosigned one"
    )


def _included(
    witnessed: checkpoint.Checkpoint,
    entry: bytes,
    leaf_index: int,
    proof_at: Callable[[int], bytes | None],
) -> None:
    if leaf_index >= witnessed.tree_size:
        raise VerificationError(
            f"the result is leaf {leaf_index}, logged after the newest checkpoint witnesses "
            f"cosigned (size {witnessed.tree_size}): check again once they cosign a later one"
        )
    data = proof_at(witnessed.tree_size)
    if data is None:
        raise VerificationError(f"the hub has no proof of the result at size {witnessed.tree_size}")
    document = proofs.parse_inclusion(data)
    proofs.check_subject(document, entry)
    if document.tree_size != witnessed.tree_size:
        raise VerificationError(
            f"the hub proved the result in a tree of {document.tree_size}, "
            f"not the witnessed {witnessed.tree_size}"
        )
    checkpoint.check_inclusion(witnessed, entry, document.leaf_index, list(document.proof))
