"""The QR payload printed on every page: which election, form, page and TPS the sheet is for.

Format (ASCII, one line): ``TPS1|<election id>|<form id>|<page>|<TPS code, dotted>``, e.g.
``TPS1|pemilu-2024|ppwp-plano|2|31.71.01.1001.001``. ``TPS1`` names the format so a later one
can be told apart; the kit refuses a page whose payload names another TPS or election.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol import tps as tps_codes
from protocol.errors import FieldError
from protocol.forms.errors import QrPayloadError
from protocol.ids import check_id

PREFIX = "TPS1"


@dataclass(frozen=True)
class QrPayload:
    """The parsed content of a page's QR code."""

    election: str
    form: str
    page: int
    tps: str

    def text(self) -> str:
        return qr_payload(self.election, self.form, self.page, self.tps)


def qr_payload(election: str, form: str, page: int, tps: str) -> str:
    """The QR text for one page; validates every part (a bad id raises FieldError)."""
    check_id(election, "election")
    check_id(form, "form")
    if not isinstance(page, int) or not 1 <= page <= 99:
        raise FieldError("page", f"{page!r} is not a page number 1-99")
    return "|".join((PREFIX, election, form, str(page), str(tps_codes.parse(tps))))


def parse_qr_payload(text: str) -> QrPayload:
    """Parse a QR text; raise QrPayloadError saying what is wrong."""
    parts = text.strip().split("|")
    if len(parts) != 5 or parts[0] != PREFIX:
        raise QrPayloadError(f"{text!r} is not a TPS page code (expected {PREFIX}|...|...|...|...)")
    _, election, form, page, code = parts
    if not page.isdigit() or not 1 <= int(page) <= 99:
        raise QrPayloadError(f"{text!r}: page {page!r} is not a number 1-99")
    try:
        check_id(election, "election")
        check_id(form, "form")
        tps = str(tps_codes.parse(code))
    except FieldError as e:
        raise QrPayloadError(f"{text!r}: {e}") from e
    return QrPayload(election=election, form=form, page=int(page), tps=tps)
