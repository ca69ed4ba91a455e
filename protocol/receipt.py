"""The receipt a kit shows after signing, which saksi and Bawaslu photograph.

Its QR code holds one line of text::

    TPSR1|<tps>|<seq>|<sha256>            a real kit
    TPSR1|<tps>|<seq>|<sha256>|LATIHAN    a training kit

``sha256`` is the signed document's hash (the hub's and the transparency log's key for it),
so a photographed receipt can later be checked against what the hub published for that TPS:
the same TPS, that version (seq) and exactly that document. The kit writes it, the hub and
anyone holding a photo read it, so it lives in the protocol.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from protocol import tps as tps_codes
from protocol.errors import FieldError

PREFIX = "TPSR1"
TRAINING_MARK = "LATIHAN"
# ASCII classes and fullmatch, never str.isdigit() or \d: those accept "²" or "١", which
# int() then refuses or reads as another number than the one printed.
_HEX64 = re.compile(r"[0-9a-f]{64}")
_SEQ = re.compile(r"[1-9][0-9]{0,15}")  # below 2**63: a BIGINT in the hub's store
_MAX_TEXT = 200  # a real receipt is under 100 characters; longer is not worth echoing back


class ReceiptFormatError(FieldError):
    """The text is not a receipt; ``field`` names the part that is wrong (receipt.seq...)."""


@dataclass(frozen=True)
class Receipt:
    tps: str
    seq: int
    sha256: str
    training: bool = False

    def text(self) -> str:
        fields = [PREFIX, self.tps, str(self.seq), self.sha256]
        if self.training:
            fields.append(TRAINING_MARK)
        return "|".join(fields)


def parse_receipt(text: str) -> Receipt:
    """Parse a receipt's QR text; :class:`ReceiptFormatError` names the part that is wrong."""
    shown = text.strip()[:_MAX_TEXT]
    parts = shown.split("|")
    if parts[0] != PREFIX:
        raise ReceiptFormatError(
            "receipt.prefix", f"{parts[0][:20]!r} is not {PREFIX}: not a TPS kit receipt"
        )
    if len(parts) not in (4, 5):
        raise ReceiptFormatError(
            "receipt",
            f"has {len(parts)} parts separated by '|'; a receipt has 4 "
            f"({PREFIX}|tps|seq|sha256) or 5 (with {TRAINING_MARK})",
        )
    if len(parts) == 5 and parts[4] != TRAINING_MARK:
        raise ReceiptFormatError("receipt.mark", f"unknown mark {parts[4]!r}; only {TRAINING_MARK}")
    _, tps, seq, sha = parts[:4]
    try:
        code = str(tps_codes.parse(tps, field="receipt.tps"))
    except FieldError as e:
        raise ReceiptFormatError(e.field, e.reason) from e
    if not _SEQ.fullmatch(seq):
        raise ReceiptFormatError("receipt.seq", f"{seq!r} is not a sequence number (1, 2, ...)")
    if not _HEX64.fullmatch(sha):
        raise ReceiptFormatError(
            "receipt.sha256", f"{sha!r} is not a document hash (64 lower-case hex digits)"
        )
    return Receipt(code, int(seq), sha, training=len(parts) == 5)


# The hub's page that answers a receipt (hub/web/pages.py): a kit's QR may carry this URL,
# so any phone camera opens the answer; the fields are the receipt's own.
RECEIPT_PAGE = "/tanda-terima"


_PUBLIC_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~%/-]*)?")
MAX_PUBLIC_URL = 100  # the QR code grows with it: a longer address needs a larger screen


def check_public_url(text: str, field: str = "hub.public_url") -> str:
    """A hub's public web address as a receipt's QR code may name it: http(s), a host, an
    optional port and path, nothing else (no query, fragment, user or space, which would
    change what the receipt's own query says). FieldError otherwise."""
    if len(text) > MAX_PUBLIC_URL:
        raise FieldError(field, f"longer than {MAX_PUBLIC_URL} characters")
    if not _PUBLIC_URL.fullmatch(text):
        raise FieldError(
            field,
            f"{text[:40]!r} is not a web address like https://hasil.kpu-3171.example "
            "(http or https, a host, optionally a port and a path; no query or fragment)",
        )
    return text


def receipt_url(hub: str, receipt: Receipt) -> str:
    """The address of ``hub``'s page answering ``receipt`` (its fields in the query)."""
    from urllib.parse import urlencode

    query = {"tps": receipt.tps, "seq": str(receipt.seq), "sha256": receipt.sha256}
    if receipt.training:
        query["latihan"] = "1"
    return f"{hub.rstrip('/')}{RECEIPT_PAGE}?{urlencode(query)}"
