"""The Indonesian words on the kit's screen that carry numbers: values, pages and rules.

Numbers are written as Indonesians write them (1.204: a dot between thousands). A rule is
shown with the form's own names and the numbers of one reading, the sum first and then the
total it must equal ("Paslon 1 + Paslon 2 + Paslon 3 = 1.204", "Suara sah = 1.240"), so the
KPPS can add it up on the paper.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from edge.decode.names import field_name
from protocol.forms.rules import Relation, compile_rules
from protocol.forms.schema import Template

TOTALS = ("V.A", "V.B", "V.C")  # the votes' totals, shown after the options' votes


def number(value: int | None) -> str:
    """1204 -> "1.204"; None (an empty field) -> "kosong"."""
    if value is None:
        return "kosong"
    return f"{value:,}".replace(",", ".")


def pages(numbers: Sequence[int]) -> str:
    """[3] -> "halaman 3"; [2, 3] -> "halaman 2 dan 3"; [1, 2, 3] -> "halaman 1, 2 dan 3"."""
    shown = [str(n) for n in sorted(set(numbers))]
    if len(shown) <= 1:
        return f"halaman {''.join(shown)}"
    return f"halaman {', '.join(shown[:-1])} dan {shown[-1]}"


def side(
    template: Template,
    ids: Sequence[str],
    values: Mapping[str, int | None],
    shared: tuple[str, str] | None = None,
) -> str:
    """ "Paslon 1 + Paslon 2 = 1.204" or "Suara sah = 1.240"; with ``shared`` (see
    :func:`shared_part`) only what differs between the fields ("L + P = 52")."""
    names = " + ".join(_short(template, f, shared) for f in ids)
    known = [values.get(f) for f in ids]
    total = None if any(v is None for v in known) else sum(v for v in known if v is not None)
    return f"{names} = {number(total)}"


def compact_sum(line: str) -> str:
    """ "Paslon 1 + Paslon 2 + Paslon 3 = 220," -> "Paslon 1 + 2 + 3 = 220,": the name the
    terms share written once, for a line too long for the screen at its smallest text."""
    terms = line.split(" + ")
    head = terms[0].rpartition(" ")[0]
    if len(terms) < 2 or not head:
        return line
    tails = [t.removeprefix(f"{head} ") for t in terms[1:]]
    # only a name that differs by one word (a number): "Suara sah + Suara tidak sah" stays
    if any(
        t == s or len(t.split(" = ")[0].split()) != 1 for t, s in zip(tails, terms[1:], strict=True)
    ):
        return line
    return " + ".join([terms[0], *tails])


def _split(name: str) -> tuple[str, str] | None:
    """ "Pengguna DPT (L)" -> ("Pengguna DPT", "L"); None for a name without a column."""
    row, sep, column = name.rpartition(" (")
    column = column.rstrip(")")
    return (row, column) if sep and column in ("L", "P", "JML") else None


def _short(template: Template, field_id: str, shared: tuple[str, str] | None) -> str:
    name = field_name(template, field_id)
    if shared is None:
        return name
    kind, common = shared
    if kind == "words":
        return name[len(common) :].strip()
    parts = _split(name)
    if parts is None:
        return name
    return parts[1] if kind == "row" else parts[0]


def shared_part(template: Template, ids: Sequence[str]) -> tuple[str, str] | None:
    """What every field of ``ids`` has in common, so a rule names it once: the row
    (("row", "Pemilih disabilitas") for its L, P and JML: "Pemilih disabilitas: L + P = 3"),
    the column (("column", "L") for the L of several rows: "Kolom L: ...") or the first
    words (("words", "Surat suara"): "Surat suara: digunakan + ... = 306, diterima = 306")."""
    names = [field_name(template, f) for f in ids]
    parts = [_split(n) for n in names]
    if len(parts) < 2:
        return None
    if any(p is None for p in parts):
        words = [n.split(" ") for n in names]
        common = 0
        while all(len(w) > common + 1 and w[common] == words[0][common] for w in words):
            common += 1
        return ("words", " ".join(words[0][:common])) if common else None
    rows = {p[0] for p in parts if p is not None}
    columns = {p[1] for p in parts if p is not None}
    if len(rows) == 1:
        return "row", rows.pop()
    if len(columns) == 1:
        return "column", columns.pop()
    return None


def _prefix(shared: tuple[str, str] | None) -> str:
    if shared is None:
        return ""
    kind, name = shared
    return f"Kolom {name}: " if kind == "column" else f"{name}: "


def relations_of(template: Template, field_id: str) -> list[Relation]:
    """The rules that involve a field: equations first, then inequalities, caps last."""
    involved = [r for r in compile_rules(template) if field_id in r.fields]
    return sorted(involved, key=lambda r: (r.limit is not None, r.op != "="))


def rule_parts(
    template: Template,
    relation: Relation,
    values: Mapping[str, int | None],
    *,
    broken: bool,
) -> tuple[str, str]:
    """A rule in two parts, with the numbers of ``values``: the sum side first.

    ``broken`` says the numbers break it (a paper mistake: "..., tetapi Suara sah = 150");
    otherwise it is shown as the reading on screen satisfies it."""
    if relation.limit is not None:
        cap = number(relation.limit)
        lhs = side(template, relation.lhs, values)
        return lhs, f"lebih dari batas {cap}" if broken else f"batas {cap}"
    shared = shared_part(template, relation.fields)
    lhs = side(template, relation.lhs, values, shared)
    rhs = side(template, relation.rhs, values, shared)
    if relation.op == "<=":
        first, second = lhs, f"lebih dari {rhs}" if broken else f"tidak lebih dari {rhs}"
    else:
        first, second = (lhs, rhs) if len(relation.lhs) >= len(relation.rhs) else (rhs, lhs)
        second = f"tetapi {second}" if broken else second
    return _prefix(shared) + first, second


def rule_line(template: Template, relation: Relation, values: Mapping[str, int | None]) -> str:
    """The rule as one line, as the look shows it for the reading on screen."""
    first, second = rule_parts(template, relation, values, broken=False)
    return f"{first}, {second}"


def key_numbers(template: Template, values: Mapping[str, int | None]) -> list[tuple[str, str]]:
    """What the result says, for the screen before signing: each option's votes, then the
    totals (a form without options, the legislative ones, shows its totals only)."""
    ids = [o.field for o in template.options] + [t for t in TOTALS if t in values]
    if not ids:  # a form of other fields: all of them (the screen counts what it cannot show)
        ids = [f.id for _, f in template.fields()]
    return [(field_name(template, f), number(values.get(f))) for f in ids if f in values]
