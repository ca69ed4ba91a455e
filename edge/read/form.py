"""Collecting one form's pages: same form, same TPS and election, each page once."""

from __future__ import annotations

from dataclasses import dataclass, field

from edge.errors import ForeignFormError, WrongPageError
from edge.read.page import FieldReading, PageReading
from protocol.forms.schema import Template


@dataclass
class FormReading:
    """The pages of one form read so far. The form is judged once ``complete``."""

    pages: dict[int, PageReading] = field(default_factory=dict)

    @property
    def template(self) -> Template | None:
        first = next(iter(self.pages.values()), None)
        return None if first is None else first.template

    @property
    def missing(self) -> list[int]:
        template = self.template
        if template is None:
            return []
        return [p.number for p in template.pages if p.number not in self.pages]

    @property
    def complete(self) -> bool:
        return self.template is not None and not self.missing

    @property
    def next_page(self) -> int | None:
        missing = self.missing
        return missing[0] if missing else None

    def add(self, reading: PageReading) -> None:
        """Take a page, or refuse it (another form, TPS or election; a page already in)."""
        first = next(iter(self.pages.values()), None)
        if first is not None:
            _same_form(first, reading)
        if reading.page in self.pages:
            raise WrongPageError(
                f"page {reading.page} is already scanned"
                + (f": lay page {self.next_page} next" if self.next_page else ""),
                f"Halaman {reading.page} sudah dipindai"
                + (f": letakkan halaman {self.next_page}" if self.next_page else ""),
            )
        self.pages[reading.page] = reading

    def fields(self) -> dict[str, tuple[int, FieldReading]]:
        """Every field read so far with its page, in the template's order."""
        out = {}
        for number in sorted(self.pages):
            for field_id, reading in self.pages[number].fields.items():
                out[field_id] = (number, reading)
        return out


def _same_form(first: PageReading, page: PageReading) -> None:
    if page.template.id != first.template.id:
        raise WrongPageError(
            f"this page is from {page.template.id}, but this form is {first.template.id}: "
            "finish this form first",
            "Halaman dari formulir lain: selesaikan formulir ini dulu",
        )
    if page.qr is None or first.qr is None:
        return  # the TPS and election come from the kit's certificate, not from the sheet
    if page.qr.tps != first.qr.tps or page.qr.election != first.qr.election:
        raise ForeignFormError(
            f"this page is for TPS {page.qr.tps} ({page.qr.election}), but the form's other "
            f"pages are for TPS {first.qr.tps} ({first.qr.election})",
            "Halaman untuk TPS lain: gunakan halaman formulir TPS ini",
        )
