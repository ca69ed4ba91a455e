"""Deciding each field of a whole form, and the form's verdict, from readings and rules.

Each field ends as one of:

- ``read``: the reading is the most probable consistent one, no other consistent reading
  comes within the margin (``search.MARGIN_NATS``, a factor of 100), and the paper supports
  it: every box read clearly, or a sum computes it from fields that are (``support.py``);
- ``corrected``: the bubbles, or the rules, changed what the boxes said, and the change was
  cheap: the corrected value's reading cost at most ``FIX_NATS`` (ln 3) more than the value
  read, i.e. the reader itself gave it at least a third of the probability of its first
  choice. ``before`` keeps what the boxes said;
- ``doubtful``: a person must look. Either two consistent readings are within the margin
  (the fields where they differ), or the rules need a value the reader gave much less
  weight (a change costing between ``FIX_NATS`` and ``PAPER_NATS``), or a bubble disagrees
  with a box that was not read confidently, or the search hit a limit.

Where the kit has the TPS's official voter list (``official.py``), rows I.A read as the
list has them are confirmed by it and readings that contradict it are dismissed; a row
read otherwise is doubtful. The list never supplies a value itself.

Telling a misread from a paper mistake. The KPPS may add up wrongly or blacken a bubble
other than the digit written. The kit must report what the paper says, not "fix" it. So:

- A rule is a paper mistake when no reading satisfies every rule with each field taking a
  value within ``PAPER_NATS`` (ln 100) of its own best reading: making the form consistent
  would mean overruling a reading the reader was at least 100 times surer of. The verdict
  is ``paper mistake``; the failing rules are named with the numbers as read and the KPPS is
  asked to correct the form and rescan. Nothing is corrected.
- A bubble is a paper mistake when a clearly blackened bubble disagrees with the decided
  value's digit in a box read confidently (digit alone >= ``BOX_CONFIDENT``): both marks
  are on the paper and disagree.
- Between the two thresholds (a change costing ln 3 .. ln 100) the kit cannot tell a misread
  from a wrong number on the paper: the field is doubtful and a person decides.

The thresholds come from measurement: on synthesized plano forms read by the shipped model,
fields read wrong had their true value within 2.8 nats (10 of 700 fields), while the value a
mis-added sum would need (the written value +-1, +-2, +-10) was within ln 3 of a correct
reading in 0.27 % of cases and within ln 100 in 7.9 %. The model's probabilities are soft,
so a correction by the rules alone is kept small; bubbles, an independent reading, are what
let the kit correct a confident misread of a vote.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from edge.decode import names, official, support
from edge.decode.evidence import FieldEvidence, bubble_clear, field_evidence, model_probs
from edge.decode.search import DEFAULT_LIMITS, Limits, SearchResult, search
from edge.read.form import FormReading
from edge.read.page import FieldReading
from protocol.forms.rules import Relation, compile_rules
from protocol.forms.schema import Template

FIX_NATS = math.log(3)
PAPER_NATS = math.log(100)
BOX_CONFIDENT = 0.9

Decision = Literal["read", "corrected", "doubtful"]
Verdict = Literal["accept", "needs a look", "paper mistake", "incomplete"]


@dataclass(frozen=True)
class FieldDecision:
    field_id: str
    page: int
    name: str  # short Indonesian name for the screen
    value: int | None  # None only when the field was left empty (never signed)
    decision: Decision
    p: float  # probability of value given the readings and the rules (see consistent_p)
    p_read: float  # the reading's own probability of value (boxes and bubbles, no rules)
    reason: str
    before: int | None = None  # the boxes' own reading, where it differs from value

    @property
    def changed(self) -> bool:
        return self.before is not None and self.before != self.value


@dataclass(frozen=True)
class Problem:
    """A mistake on the paper: a broken rule, a bubble against its digit, an empty field."""

    kind: Literal["rule", "bubble", "empty"]
    rule_id: str
    fields: tuple[str, ...]
    message: str  # English, for the technician
    pesan: str  # Indonesian, for the screen


@dataclass(frozen=True)
class DecodedForm:
    template: Template
    verdict: Verdict
    fields: dict[str, FieldDecision]
    problems: tuple[Problem, ...]
    summary: str
    search: SearchResult

    @property
    def doubtful(self) -> list[str]:
        return [f for f, d in self.fields.items() if d.decision == "doubtful"]

    @property
    def corrected(self) -> list[str]:
        return [f for f, d in self.fields.items() if d.decision == "corrected"]


def decode_form(
    form: FormReading,
    *,
    limits: Limits = DEFAULT_LIMITS,
    dpt: official.OfficialDpt | None = None,
) -> DecodedForm:
    """Decide every field read so far; the verdict waits for all pages (``incomplete``).

    ``dpt``: the TPS's official voter list, when the kit has it (``official.py``)."""
    template = form.template
    if template is None:
        raise ValueError("no page was read")
    return decode_fields(
        template, form.fields(), missing_pages=form.missing, limits=limits, dpt=dpt
    )


def decode_fields(
    template: Template,
    readings: Mapping[str, tuple[int, FieldReading]],
    *,
    missing_pages: Sequence[int] = (),
    limits: Limits = DEFAULT_LIMITS,
    dpt: official.OfficialDpt | None = None,
) -> DecodedForm:
    rows = official.listed_rows(dpt) if dpt else {}
    listed = {f: v for f, v in rows.items() if f in readings}
    relations = [r for r in compile_rules(template) if all(f in readings for f in r.fields)]
    joint = [r for r in relations if not _unary(r)]
    evidence, result = _search(readings, relations, joint, PAPER_NATS, limits)
    if result.best is not None and result.best[0] + limits.margin > PAPER_NATS:
        # A rival within the margin of a reading that already costs something may use a
        # value outside every field's window: widen the windows to the margin's reach so
        # that rival is seen (and doubted) instead of silently missing. Widening can only
        # lower the best cost, so one more search covers the margin of its answer too.
        window = result.best[0] + limits.margin
        evidence, result = _search(readings, relations, joint, window, limits)
    if result.best is None:
        fields, problems = _inconsistent(template, relations, evidence, result)
    else:
        confirmed = official.agrees(result.solutions[0][1], listed)
        if confirmed and listed:
            kept = [(c, s) for c, s in result.solutions if official.agrees(s, listed)]
            result = dataclasses.replace(result, solutions=kept)
        fields, problems = _consistent(
            template, evidence, result, limits.margin, joint, listed, confirmed=confirmed
        )
    problems += _bubble_problems(template, readings, fields)
    return _judge(template, fields, problems, result, missing_pages)


def _search(
    readings: Mapping[str, tuple[int, FieldReading]],
    relations: Sequence[Relation],
    joint: Sequence[Relation],
    window: float,
    limits: Limits,
) -> tuple[dict[str, FieldEvidence], SearchResult]:
    """Candidates within ``window`` nats of each field's best reading, then the search."""
    caps = _caps(relations)
    evidence = {
        fid: field_evidence(fid, page, r, window=window, allowed=caps.get(fid))
        for fid, (page, r) in readings.items()
    }
    result = search({f: e.candidates for f, e in evidence.items()}, joint, limits)
    return evidence, result


def _unary(r: Relation) -> bool:
    return r.limit is not None and len(r.fields) == 1


def _caps(relations: Sequence[Relation]) -> dict[str, int]:
    caps: dict[str, int] = {}
    for r in relations:
        if _unary(r) and r.op == "<=" and r.limit is not None:
            caps[r.lhs[0]] = min(caps.get(r.lhs[0], r.limit), r.limit)
    return caps


def _consistent(
    template: Template,
    evidence: Mapping[str, FieldEvidence],
    result: SearchResult,
    margin: float,
    relations: Sequence[Relation],
    listed: Mapping[str, int],
    *,
    confirmed: bool,
) -> tuple[dict[str, FieldDecision], list[Problem]]:
    """``listed``: the official voter list's rows; ``confirmed``: the best reading has them
    all as listed (and ``result`` holds only readings that do)."""
    best = result.solutions[0][1]
    rivals = _rivals(evidence, result, margin, fixed=tuple(listed) if confirmed else ())
    p = consistent_p(result)
    out = {}
    for fid, ev in evidence.items():
        value = best[fid]
        out[fid] = _field(template, ev, value, p[fid], rivals.get(fid, set()))
        if fid in listed and value != listed[fid]:
            why = f"the official DPT lists {listed[fid]}, the paper was read as {value}"
            out[fid] = _doubt(out[fid], why)
        elif fid in listed and out[fid].decision == "read":
            out[fid] = dataclasses.replace(out[fid], reason="as the official DPT lists it")
    weakest = {f: support.weakest_box(e.box_probs, best[f]) for f, e in evidence.items()}
    clear = {
        f: (w >= support.BOX_CLEAR or (confirmed and f in listed)) and out[f].decision != "doubtful"
        for f, w in weakest.items()
    }
    agrees = support.reserve_confirms(best, template.reserve_permille)
    for fid in support.unsupported(clear, relations, reserve_agrees=agrees):
        if out[fid].decision != "doubtful":
            why = f"a box was read unclearly (p {weakest[fid]:.2f}) and no rule confirms it"
            out[fid] = _doubt(out[fid], why)
    return out, []


def _rivals(
    evidence: Mapping[str, FieldEvidence],
    result: SearchResult,
    margin: float,
    fixed: Collection[str] = (),
) -> dict[str, set[int]]:
    """Other values each field takes in a consistent reading within the margin.

    The search lists them all unless a limit cut it short or a field's candidate list was
    truncated (``MAX_CANDIDATES``) below best + margin. Then a reading it never saw may exist,
    and the bound says where: every field costs >= 0, so a field can differ only through a
    candidate whose own cost is within best + margin, less (for a truncated list) the cost
    of the cheapest value the other field's list dropped, which that unseen reading must use.
    A value the search never tried is shown as -1.
    """
    best_cost, best = result.solutions[0]
    rivals: dict[str, set[int]] = {}
    for _, solution in result.solutions[1:]:
        for fid, v in solution.items():
            if v != best[fid]:
                rivals.setdefault(fid, set()).add(v)
    reach = best_cost + margin
    # A field the official list settles has no unseen reading: one would contradict the list.
    cut = {
        f: e.dropped_cost
        for f, e in evidence.items()
        if e.dropped_cost is not None and e.dropped_cost <= reach and f not in fixed
    }
    if result.complete and not cut:
        return rivals
    for fid, ev in evidence.items():
        if fid in fixed:
            continue
        near: set[int] = {-1} if fid in cut else set()
        others = [c for f, c in cut.items() if f != fid]
        limit = reach if not result.complete else reach - min(others, default=math.inf)
        near |= {v for v, c in ev.candidates if c <= limit and v != best[fid]}
        if near:
            rivals.setdefault(fid, set()).update(near)
    return rivals


def consistent_p(result: SearchResult) -> dict[str, float]:
    """P(each field's chosen value) over the consistent readings found within the margin,
    each weighted by its probability: 1.0 when the rules leave one reading in the margin."""
    best_cost, best = result.solutions[0]
    weights = [(math.exp(best_cost - c), s) for c, s in result.solutions]
    total = sum(w for w, _ in weights)
    return {f: sum(w for w, s in weights if s[f] == v) / total for f, v in best.items()}


def look_readings(decoded: DecodedForm) -> list[dict[str, int]]:
    """The readings a person may choose among when looking at the doubtful fields.

    Every consistent reading the search found within the margin that keeps each field not
    doubtful at its decided value, most probable first (the decided reading is the first).
    Empty for a paper mistake or an incomplete form, and when the search found no consistent
    reading at all (it stopped at a limit first): then nothing may be confirmed, only
    rescanned. Choosing among these never signs a number that breaks a rule.
    """
    if decoded.verdict not in ("accept", "needs a look"):
        return []
    fixed = {f: d.value for f, d in decoded.fields.items() if d.decision != "doubtful"}
    return [
        dict(solution)
        for _, solution in decoded.search.solutions
        if all(solution.get(f) == v for f, v in fixed.items())
    ]


def value_p(decoded: DecodedForm, field_id: str, value: int) -> float:
    """P(``field_id`` = ``value``) over the consistent readings found within the margin, each
    weighted by its probability (as :func:`consistent_p` does for the decided values); 0.0
    when no consistent reading was found."""
    solutions = decoded.search.solutions
    if not solutions:
        return 0.0
    best_cost = solutions[0][0]
    weights = [(math.exp(best_cost - c), s) for c, s in solutions]
    total = sum(w for w, _ in weights)
    return sum(w for w, s in weights if s.get(field_id) == value) / total


def _field(
    template: Template, ev: FieldEvidence, value: int, p: float, rivals: set[int]
) -> FieldDecision:
    change = ev.cost(value)
    before = ev.digits_value if ev.digits_value != value else None
    common = {
        "field_id": ev.field_id,
        "page": ev.page,
        "name": names.field_name(template, ev.field_id),
        "value": value,
        "p": p,
        "p_read": ev.p(value),
        "before": before,
    }
    if rivals:
        shown = ", ".join(str(v) for v in sorted(rivals) if v >= 0) or "a value not searched"
        why = f"another consistent reading is within the margin: {shown}"
        return FieldDecision(decision="doubtful", reason=why, **common)
    if change > FIX_NATS:
        why = (
            f"the rules need {value} but it was read as {_show(ev.best)} "
            f"({change:.1f} nats apart: misread or a mistake on the paper?)"
        )
        return FieldDecision(decision="doubtful", reason=why, **common)
    if before is None:
        return FieldDecision(decision="read", reason="confident and consistent", **common)
    if ev.best == value:
        why = "the bubbles"
    elif ev.bubbles_value == value:
        why = "the rules and the bubbles"
    else:
        why = "the rules"
    reason = f"{why} changed {_show(ev.digits_value)} to {value}"
    return FieldDecision(decision="corrected", reason=reason, **common)


def _show(value: int | None) -> str:
    return "empty" if value is None else str(value)


def _inconsistent(
    template: Template,
    relations: Sequence[Relation],
    evidence: Mapping[str, FieldEvidence],
    result: SearchResult,
) -> tuple[dict[str, FieldDecision], list[Problem]]:
    """No consistent reading was found: a paper mistake if the search was complete,
    otherwise (a limit hit) every field that could be involved is doubtful."""
    as_read = {f: e.best for f, e in evidence.items()}
    problems = _rule_problems(template, relations, as_read) if result.complete else []
    involved = {f for p in problems for f in p.fields}
    if not result.complete:
        broken = [r for r in relations if not _holds(r, as_read)]
        involved = {f for r in broken for f in r.fields}
        involved |= {f for f, e in evidence.items() if len(e.candidates) != 1}
    out = {}
    for fid, ev in evidence.items():
        value = ev.best
        if fid in involved:
            decision: Decision = "doubtful"
            reason = (
                "part of a rule the paper breaks"
                if result.complete
                else f"the search stopped at its {result.stopped_by} limit"
            )
        else:
            decision, reason = "read", "not part of a broken rule"
        out[fid] = FieldDecision(
            field_id=fid,
            page=ev.page,
            name=names.field_name(template, fid),
            value=value,
            decision=decision,
            p=ev.p(value),
            p_read=ev.p(value),
            reason=reason,
            before=ev.digits_value if ev.digits_value != value else None,
        )
    return out, problems


def _holds(r: Relation, values: Mapping[str, int | None]) -> bool:
    known = {f: v for f, v in values.items() if v is not None}
    return all(f in known for f in r.fields) and r.holds(known)


def _rule_problems(
    template: Template, relations: Sequence[Relation], as_read: Mapping[str, int | None]
) -> list[Problem]:
    problems = []
    for fid, v in as_read.items():
        if v is None:
            pesan = names.empty_line(template, fid)
            problems.append(Problem("empty", "empty", (fid,), f"{fid} is empty", pesan))
    known = {f: v for f, v in as_read.items() if v is not None}
    for r in relations:
        if all(f in known for f in r.fields) and not r.holds(known):
            left, right = r.sides(known)
            message = f"{r.rule_id}: {r.text()} fails ({left} vs {right})"
            pesan = names.rule_line(template, r, known)
            problems.append(Problem("rule", r.rule_id, r.fields, message, pesan))
    if not problems:  # cannot happen (the reading as read would be consistent): stay safe
        problems.append(
            Problem("rule", "?", tuple(as_read), "no consistent reading", "Jumlah tidak cocok")
        )
    return problems


def _bubble_problems(
    template: Template,
    readings: Mapping[str, tuple[int, FieldReading]],
    fields: dict[str, FieldDecision],
) -> list[Problem]:
    """Bubbles clearly blackened against the decided digit: a paper mistake where the box
    was read confidently, else the field is doubtful (``fields`` is updated)."""
    problems = []
    for fid, (_, reading) in readings.items():
        decided = fields[fid]
        if not reading.bubbles or decided.value is None:
            continue
        digits = support.box_digits(decided.value, len(reading.bubbles))
        for index, (column, digit) in enumerate(zip(reading.bubbles, digits, strict=True)):
            expected = 0 if digit is None else digit
            if not bubble_clear(column) or column.digit == expected:
                continue
            assert column.digit is not None
            if _box_p(reading, index, digit) >= BOX_CONFIDENT:
                pesan = names.bubble_line(template, fid, digit, column.digit)
                message = (
                    f"{fid}: box {index + 1} reads {digit} but bubble {column.digit} is filled"
                )
                problems.append(Problem("bubble", "bubble", (fid,), message, pesan))
                reason = "the bubble disagrees with the digit on the paper"
            else:
                reason = f"bubble {column.digit} disagrees with box {index + 1}"
            fields[fid] = _doubt(decided, reason)
            break
    return problems


def _box_p(reading: FieldReading, index: int, digit: int | None) -> float:
    """The digit model's own probability (no bubbles) that box ``index`` holds ``digit``."""
    return support.digit_p(model_probs(reading)[index], digit)


def _doubt(decided: FieldDecision, reason: str) -> FieldDecision:
    return FieldDecision(
        field_id=decided.field_id,
        page=decided.page,
        name=decided.name,
        value=decided.value,
        decision="doubtful",
        p=decided.p,
        p_read=decided.p_read,
        reason=reason,
        before=decided.before,
    )


def _judge(
    template: Template,
    fields: dict[str, FieldDecision],
    problems: Sequence[Problem],
    result: SearchResult,
    missing_pages: Sequence[int],
) -> DecodedForm:
    order = [f.id for _, f in template.fields() if f.id in fields]
    doubtful = [f for f in order if fields[f].decision == "doubtful"]
    verdict: Verdict
    if problems:
        verdict, summary = "paper mistake", names.paper_mistake_line([p.pesan for p in problems])
    elif missing_pages:
        verdict, summary = "incomplete", names.missing_pages_line(missing_pages)
    elif doubtful:
        verdict, summary = "needs a look", names.doubtful_line(template, doubtful)
    else:
        verdict, summary = "accept", names.ACCEPT_LINE
    ordered = {f: fields[f] for f in order}
    return DecodedForm(template, verdict, ordered, tuple(problems), summary, result)
