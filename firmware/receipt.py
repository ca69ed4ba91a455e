"""The receipt the kit shows after signing, which saksi and Bawaslu photograph.

Its QR code holds one line of text::

    TPSR1|<tps>|<seq>|<sha256>            a real kit
    TPSR1|<tps>|<seq>|<sha256>|LATIHAN    a training kit

``sha256`` is the signed document's hash (the hub's and the transparency log's key for it),
so a photographed receipt can later be checked against what the hub published for that TPS:
the same TPS, that version (seq) and exactly that document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from protocol import tps as tps_codes

PREFIX = "TPSR1"
TRAINING_MARK = "LATIHAN"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class ReceiptFormatError(ValueError):
    pass


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
    parts = text.strip().split("|")
    if len(parts) not in (4, 5) or parts[0] != PREFIX:
        raise ReceiptFormatError(f"not a {PREFIX} receipt: {text!r}")
    if len(parts) == 5 and parts[4] != TRAINING_MARK:
        raise ReceiptFormatError(f"unknown receipt mark {parts[4]!r}")
    _, tps, seq, sha = parts[:4]
    try:
        code = str(tps_codes.parse(tps))
    except Exception as e:
        raise ReceiptFormatError(f"bad TPS code in receipt: {tps!r}") from e
    if not seq.isdigit() or int(seq) < 1:
        raise ReceiptFormatError(f"bad sequence number in receipt: {seq!r}")
    if not _HEX64.match(sha):
        raise ReceiptFormatError(f"bad document hash in receipt: {sha!r}")
    return Receipt(code, int(seq), sha, training=len(parts) == 5)
