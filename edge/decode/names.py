"""The words on the kit's screen and card: short Indonesian names of fields and rules.

Every line is plain ASCII (the card's font has no other glyphs) and short enough to read at
midnight: the summary says what to do in one line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from protocol.forms.rules import Relation
from protocol.forms.schema import Template

ACCEPT_LINE = "SEMUA JUMLAH COCOK - tekan KONFIRMASI"
RESCAN = "perbaiki formulir lalu pindai ulang"

_ROWS = {
    "I.A": "DPT",
    "I.B.1": "Pengguna DPT",
    "I.B.2": "Pengguna DPTb",
    "I.B.3": "Pengguna DPK",
    "I.B.4": "Jumlah pengguna",
    "II.1": "Surat suara diterima",
    "II.2": "Surat suara digunakan",
    "II.3": "Surat suara dikembalikan",
    "II.4": "Surat suara tidak digunakan",
    "III": "Pemilih disabilitas",
    "V.A": "Suara sah",
    "V.B": "Suara tidak sah",
    "V.C": "Jumlah suara",
}


def field_name(template: Template, field_id: str) -> str:
    """ "Paslon 2", "Suara tidak sah", "Pengguna DPT (L)"; the id for fields we do not know."""
    for option in template.options:
        if option.field == field_id:
            return "Kolom kosong" if option.kolom_kosong else f"Paslon {option.number}"
    if field_id in _ROWS:
        return _ROWS[field_id]
    row, _, sex = field_id.rpartition(".")
    if row in _ROWS and sex in ("L", "P", "JML"):
        return f"{_ROWS[row]} ({sex})"
    return field_id


def doubtful_line(template: Template, field_ids: Sequence[str]) -> str:
    names = ", ".join(field_name(template, f) for f in field_ids)
    return f"{len(field_ids)} angka perlu dicek: {names}"


def _side(template: Template, ids: Sequence[str], values: Mapping[str, int]) -> str:
    if len(ids) == 1:
        return f"{field_name(template, ids[0])} {values[ids[0]]}"
    parts = " + ".join(field_name(template, f) for f in ids)
    return f"{parts} = {sum(values[f] for f in ids)}"


def rule_line(template: Template, relation: Relation, values: Mapping[str, int]) -> str:
    """A broken rule with the numbers as read, e.g. "Suara sah 150, tetapi Paslon 1 + ...
    = 151"; "Pengguna DPT (L) 120 melebihi DPT (L) 110"; "Paslon 1 400 melebihi batas 306"."""
    left = _side(template, relation.lhs, values)
    if relation.limit is not None:
        return f"{left} melebihi batas {relation.limit}"
    right = _side(template, relation.rhs, values)
    if relation.op == "<=":
        return f"{left} melebihi {right}"
    return f"{left}, tetapi {right}"


def bubble_line(template: Template, field_id: str, digit: int | None, bubble: int) -> str:
    shown = "X" if digit is None else str(digit)
    return (
        f"Bulatan {field_name(template, field_id)} tidak sama dengan angka "
        f"(angka {shown}, bulatan {bubble})"
    )


def empty_line(template: Template, field_id: str) -> str:
    return f"{field_name(template, field_id)} belum diisi (tulis X X 0 untuk nol)"


def paper_mistake_line(problems: Sequence[str]) -> str:
    """One line for the screen: the first problem, how many more, and what to do."""
    more = f" (+{len(problems) - 1} lagi)" if len(problems) > 1 else ""
    return f"SALAH DI KERTAS: {problems[0]}{more} - {RESCAN}"


def missing_pages_line(pages: Sequence[int]) -> str:
    return "Pindai halaman " + ", ".join(str(p) for p in pages) + " dulu"
