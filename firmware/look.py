"""The look: the KPPS checks each doubtful field against the paper with the two buttons.

One screen per doubtful field, in the form's order, shows the field's handwriting cut from
the photo, large, and one value at a time:

- first the kit's value (or, once an earlier choice fixed it, the value that choice needs);
- each press of PINDAI ("tidak sama": not what the paper says) shows the next value the
  form's rules allow for this field (the decoder's consistent readings, most probable
  first), then "pindai ulang" (none of them: rescan the page), then the first again;
- KONFIRMASI ("sama": what the paper says) takes the value shown and moves to the next
  field; on "pindai ulang" it leaves the look and asks for the page.

So the same button always means the same judgement: KONFIRMASI "this is what the paper
says", PINDAI "it is not". Only readings that keep every rule are ever offered, and a
choice narrows the next field's values to the readings it allows: the values confirmed
always make one consistent reading, and nothing is signed until every doubtful field has
been confirmed. Holding PINDAI cancels the form, as anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from edge.decode.decide import DecodedForm, look_readings
from edge.decode.names import field_name
from firmware.screen.base import Buttons
from firmware.screen.crop import FieldPhoto
from firmware.screen.look import LookView
from firmware.screen.words import number, pages, relations_of, rule_parts


@dataclass(frozen=True)
class Option:
    """One value the look can show for its field; None: rescan (none of them is right)."""

    value: int | None
    reading: Mapping[str, int] | None = None  # the most probable whole reading with it


class Look:
    def __init__(self, decoded: DecodedForm) -> None:
        self.decoded = decoded
        self.fields = list(decoded.doubtful)
        self.readings = look_readings(decoded)
        self.index = 0
        self.option = 0
        self.choices: dict[str, int] = {}
        self.rescan = False  # the KPPS asked to scan the field's page again

    @property
    def field(self) -> str:
        return self.fields[self.index]

    @property
    def page(self) -> int:
        return self.decoded.fields[self.field].page

    @property
    def finished(self) -> bool:
        return self.index >= len(self.fields)

    def options(self) -> list[Option]:
        """The values the rules allow for the field, given the choices made so far (the
        kit's own value first), then the rescan option."""
        fid = self.field
        kit = self.decoded.fields[fid].value
        fitting = [r for r in self.readings if all(r[f] == v for f, v in self.choices.items())]
        out: list[Option] = []
        for reading in sorted(fitting, key=lambda r: r[fid] != kit):  # stable: by probability
            if all(o.value != reading[fid] for o in out):
                out.append(Option(reading[fid], reading))
        return [*out, Option(None)]

    @property
    def shown(self) -> Option:
        return self.options()[self.option]

    def next(self) -> None:
        """PINDAI: the next value, or the rescan option, or back to the first."""
        self.option = (self.option + 1) % len(self.options())

    def confirm(self) -> Option:
        """KONFIRMASI: take the value shown (or ask for the rescan) and go on."""
        shown = self.shown
        if shown.value is None:
            self.rescan = True
            return shown
        self.choices[self.field] = shown.value
        self.index += 1
        self.option = 0
        return shown

    def values(self) -> dict[str, int]:
        """The whole reading the choices make (the look must be finished)."""
        if not self.finished:
            raise ValueError("the look is not finished")
        for reading in self.readings:
            if all(reading[f] == v for f, v in self.choices.items()):
                return dict(reading)
        raise ValueError("no reading fits the choices")  # cannot happen: choices come from them

    def view(self, photo: FieldPhoto) -> LookView:
        """The screen for the field and value shown now."""
        decoded, fid = self.decoded, self.field
        template = decoded.template
        decided = decoded.fields[fid]
        title = f"Cek {self.index + 1} dari {len(self.fields)}: {field_name(template, fid)}"
        where = pages([self.page])
        options = self.options()
        shown = options[self.option]
        if shown.value is None:
            return self._rescan_view(title, photo, where, only=len(options) == 1)
        assert shown.reading is not None
        kit_fits = any(o.value == decided.value for o in options)
        if shown.value == decided.value:
            label = "Kit membaca"
        elif kit_fits or self.option > 0:
            label = "Bacaan lain"
        else:
            label = "Sesuai pilihan tadi"  # an earlier choice needs this value
        relations = [r for r in relations_of(template, fid) if r.limit is None]
        lines = ["Bandingkan dengan angka di kertas."]
        if relations:  # the sum on one line, what it must equal on the next
            first, second = rule_parts(template, relations[0], shown.reading, broken=False)
            lines = [f"{first},", second]
        buttons = Buttons(scan="tidak sama", confirm="sama")
        return LookView(title, photo, label, number(shown.value), where, lines, buttons)

    def _rescan_view(self, title: str, photo: FieldPhoto, where: str, *, only: bool) -> LookView:
        question = f"Pindai ulang {where}?"
        if only:  # no reading keeps the rules: nothing can be confirmed here
            # Each line fits the panel's width at the smallest text, and the keys one row
            # (the title asks the question, so KONFIRMASI answers "ya"), whichever OpenCV
            # measures the font: the Pi's 4.11 draws Hershey text wider than 5.x.
            lines = ["Jumlahnya tidak cocok.", "Angka di kertas salah? Perbaiki dulu."]
            return LookView(title, photo, "", question, where, lines, Buttons(confirm="ya"))
        lines = ["Tidak ada yang sama dengan kertas?", "Angka di kertas salah? Perbaiki dulu."]
        buttons = Buttons(scan="kembali", confirm="ya")
        return LookView(title, photo, "", question, where, lines, buttons)
