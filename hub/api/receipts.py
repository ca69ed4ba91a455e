"""Receipt look-up: does the hub hold exactly the document a kit's receipt names?

A receipt's QR (protocol/receipt.py) names a TPS, the kit's sequence number and the signed
document's hash, but not the election or form: the document found by the hash says those.
The answer says whether the hub holds that document with that TPS and seq, whether it is
the version that counts, which version counts instead, and gives its inclusion proof.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from hub.api.context import Store
from hub.api.documents import DocumentSummary, counting_sha256, summary
from hub.api.errors import ERRORS, ApiError, bad_parameter
from hub.api.translog import InclusionProof
from hub.ledger import supersedes
from hub.recap import RecapReader
from hub.recap.hold import is_held
from hub.store import ResultStore, StoredDocument
from hub.translog.proofs import inclusion_document
from protocol.receipt import (
    PREFIX,
    TRAINING_MARK,
    Receipt,
    ReceiptFormatError,
    parse_receipt,
)

router = APIRouter(tags=["receipts"], responses=ERRORS)

ReceiptVerdict = Literal["counts", "held", "superseded", "not-counting", "mismatch", "unknown"]
_MESSAGES: dict[ReceiptVerdict, str] = {
    "counts": "the hub holds exactly this document, and it is the version that counts",
    "held": "the hub holds exactly this document, the latest version of its TPS, but its "
    "numbers break a hard limit of the form, so it is held out of the totals (perlu "
    "verifikasi) until an operator checks the paper and decides",
    "superseded": "the hub holds exactly this document, but a newer version of this TPS "
    "counts (a rescan)",
    "not-counting": "the hub holds exactly this document, but another version of this TPS counts",
    "mismatch": "the hub holds a document with this hash, but not for the receipt's TPS, "
    "sequence number or mode: the receipt does not describe it",
    "unknown": "the hub holds no document with this hash",
}


# The same verdicts in Indonesian, for the people who hold the receipt (the dashboard and
# the plain receipt page both show these).
PESAN: dict[ReceiptVerdict, str] = {
    "counts": "Hub menyimpan persis dokumen ini, dan inilah versi yang dihitung.",
    "held": "Hub menyimpan persis dokumen ini, versi terakhir TPS ini, tetapi angkanya "
    "melanggar batas formulir: ditahan di luar total (perlu verifikasi) sampai operator "
    "memeriksa kertasnya.",
    "superseded": "Hub menyimpan persis dokumen ini, tetapi versi yang lebih baru (pindai "
    "ulang) yang dihitung.",
    "not-counting": "Hub menyimpan persis dokumen ini, tetapi versi lain TPS ini yang dihitung.",
    "mismatch": "Hub menyimpan dokumen dengan hash ini, tetapi bukan untuk TPS, nomor urut "
    "atau mode pada tanda terima.",
    "unknown": "Hub tidak menyimpan dokumen dengan hash ini.",
}


class ReceiptFields(BaseModel):
    text: str = Field(description="the receipt's QR content, normalized")
    tps: str
    seq: int
    sha256: str = Field(description="the signed document's hash")
    training: bool = Field(description="a training kit's receipt (LATIHAN)")


class ReceiptCheck(BaseModel):
    receipt: ReceiptFields
    verdict: ReceiptVerdict = Field(
        description=" | ".join(f"{k}: {v}" for k, v in _MESSAGES.items())
    )
    message: str
    pesan: str = Field(description="the verdict in Indonesian, for the receipt's holder")
    holds_document: bool = Field(
        description="the hub holds a document with this hash, for this TPS and seq"
    )
    counts: bool = Field(description="that document is the version that counts for its TPS")
    held: bool = Field(
        False,
        description="that document is its TPS's latest version, held out of the totals "
        "(perlu verifikasi) until an operator decides",
    )
    newer_version: bool = Field(description="a newer version of this TPS counts instead")
    mismatches: list[str] = Field(description="where the receipt and the held document differ")
    document: DocumentSummary | None = Field(description="the document with this hash, if held")
    counting: list[DocumentSummary] = Field(
        description="the versions that count for this TPS (one per election's form)"
    )
    inclusion: InclusionProof | None = Field(
        description="the document's inclusion proof in the transparency log"
    )


@router.get("/receipts", response_model=ReceiptCheck, summary="Check a kit's receipt")
def check_receipt(
    store: Store,
    qr: Annotated[
        str | None, Query(description="the receipt's QR content: TPSR1|tps|seq|sha256[|LATIHAN]")
    ] = None,
    tps: Annotated[str | None, Query(description="or: the TPS code")] = None,
    seq: Annotated[str | None, Query(description="and the sequence number")] = None,
    sha256: Annotated[str | None, Query(description="and the document hash")] = None,
    training: Annotated[bool, Query(description="and whether it is a LATIHAN receipt")] = False,
) -> ReceiptCheck:
    receipt = _receipt(qr, tps, seq, sha256, training)
    held = store.find_document(receipt.sha256)
    if held is None:
        return _answer(store, "unknown", receipt, None, _counting_for_tps(store, receipt))
    counting = store.current(held.election, held.tps, held.form)
    mismatches = _mismatches(receipt, held)
    current = [] if counting is None else [counting]
    if mismatches:
        verdict: ReceiptVerdict = "mismatch"
    elif counting is not None and counting.document_sha256 == held.document_sha256:
        verdict = "held" if is_held(store, store.document_fields(held.id)) else "counts"
    elif counting is not None and supersedes(counting, held):
        verdict = "superseded"
    else:
        verdict = "not-counting"
    return _answer(store, verdict, receipt, held, current, mismatches)


def _receipt(
    qr: str | None, tps: str | None, seq: str | None, sha256: str | None, training: bool
) -> Receipt:
    """One parser for both ways of asking; its error names the part that is wrong."""
    if qr is not None:
        text, prefix = qr, "qr"
    elif tps is not None and seq is not None and sha256 is not None:
        text = "|".join([PREFIX, tps, seq, sha256, *([TRAINING_MARK] if training else [])])
        prefix = ""
    else:
        raise bad_parameter("qr", "give the receipt's QR content, or tps, seq and sha256")
    try:
        return parse_receipt(text)
    except ReceiptFormatError as e:
        raise _receipt_error(prefix, e) from e


def _receipt_error(prefix: str, error: ReceiptFormatError) -> ApiError:
    part = error.field.removeprefix("receipt").lstrip(".")
    if prefix:
        return bad_parameter(f"{prefix}.{part}" if part else prefix, error.reason)
    return bad_parameter(part or "qr", error.reason)


def _mismatches(receipt: Receipt, held: StoredDocument) -> list[str]:
    found = []
    for what, said, signed in (
        ("tps", receipt.tps, held.tps),
        ("seq", receipt.seq, held.seq),
        ("training", receipt.training, held.is_training),
    ):
        if said != signed:
            found.append(f"{what}: the receipt says {said}, the signed document says {signed}")
    return found


def _counting_for_tps(store: ResultStore, receipt: Receipt) -> list[StoredDocument]:
    """What counts for the receipt's TPS, in the elections of its mode (real or training)."""
    found = []
    for contest in RecapReader(store).contests(training=receipt.training):
        current = store.current(contest.election, receipt.tps, contest.form)
        if current is not None:
            found.append(current)
    return found


def _answer(
    store: ResultStore,
    verdict: ReceiptVerdict,
    receipt: Receipt,
    held: StoredDocument | None,
    counting: list[StoredDocument],
    mismatches: list[str] | None = None,
) -> ReceiptCheck:
    holds = held is not None and not mismatches
    proof = None if held is None else inclusion_document(store, held.document_sha256)
    return ReceiptCheck(
        receipt=ReceiptFields(
            text=receipt.text(),
            tps=receipt.tps,
            seq=receipt.seq,
            sha256=receipt.sha256,
            training=receipt.training,
        ),
        verdict=verdict,
        message=_MESSAGES[verdict],
        pesan=PESAN[verdict],
        holds_document=holds,
        counts=verdict == "counts",
        held=verdict == "held",
        newer_version=verdict == "superseded",
        mismatches=mismatches or [],
        document=None if held is None else summary(held, counting_sha256(store, held)),
        counting=[summary(c, c.document_sha256) for c in counting],
        inclusion=None if proof is None else InclusionProof(**proof),
    )
