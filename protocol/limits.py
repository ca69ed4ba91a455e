"""What is wrong with one version's numbers on their own, and which of it holds a result out
of the totals ("perlu verifikasi"): judged from the signed document and the form templates
alone, so the hub (hub/recap/anomalies.py, hub/recap/hold.py) and a monitor's recount
(protocol/recount.py) reach the same verdict without either taking the other's word.

A kit never signs numbers that break its form's hard limits (a broken sum, a number above
the TPS's size, more votes than registered voters and reserve ballots), so a document that
does is a tampered template, a bug or an attack: it is held until an operator releases it.
Kinds:

- ``rule-broken``: a rule of the form's template fails on the numbers;
- ``no-template``: no template is known for the document's form id (nothing checked);
- ``template-mismatch``: the document carries fields its template does not have;
- ``votes-above-registered``: V.C above the DPT (I.A.JML) plus its reserve ballots. Not
  above the bare DPT: DPTb and DPK voters legitimately vote on the reserve ballots, so a
  total up to DPT + reserve is lawful, and beyond it there were no ballots to cast;
- ``votes-above-cap``: V.C above the TPS's size plus reserve, where the DPT is not given.

The hard limits are ``rule-broken``, ``votes-above-registered`` and ``votes-above-cap``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache

from protocol.forms import loader
from protocol.forms.errors import TemplateError
from protocol.forms.rules import Relation, Violation, broken, compile_rules
from protocol.forms.schema import Template
from protocol.manifest import DPT_TOTAL

RULE_BROKEN = "rule-broken"
NO_TEMPLATE = "no-template"
TEMPLATE_MISMATCH = "template-mismatch"
VOTES_ABOVE_REGISTERED = "votes-above-registered"
VOTES_ABOVE_CAP = "votes-above-cap"
HARD_LIMITS = frozenset({RULE_BROKEN, VOTES_ABOVE_CAP, VOTES_ABOVE_REGISTERED})
TOTAL, DPT = "V.C", DPT_TOTAL


@cache
def template_for(form: str) -> Template | None:
    # Cached, misses included: the loader scans the template directory for a form it does
    # not hold, once per document otherwise. Templates ship with the package, so a reader
    # picks up a new one on restart.
    try:
        return loader.load_template(form)
    except TemplateError:
        return None


@cache
def _relations(form: str) -> tuple[Relation, ...]:
    # Compiled once per form: evaluate() would parse every rule again for every document,
    # which on the ingest path costs more than all the recap's SQL.
    template = template_for(form)
    return () if template is None else tuple(compile_rules(template))


@cache
def _known_fields(form: str) -> frozenset[str]:
    template = template_for(form)
    return frozenset() if template is None else frozenset(f.id for _, f in template.fields())


def broken_rules(form: str, fields: Mapping[str, int]) -> list[Violation]:
    """What protocol.forms.rules.evaluate reports as violations, from cached relations."""
    return broken(_relations(form), fields)


def with_reserve(dpt: int, permille: int) -> int:
    """The ballots a TPS of ``dpt`` registered voters holds: the DPT plus its reserve."""
    return dpt + math.ceil(dpt * permille / 1000)


def check_numbers(form: str, fields: Mapping[str, int]) -> list[tuple[str, str]]:
    """(kind, detail) of everything wrong with one version's numbers on their own."""
    template = template_for(form)
    found: list[tuple[str, str]] = []
    if template is None:
        found.append((NO_TEMPLATE, f"no template is known for form {form!r}: not checked"))
    else:
        extra = sorted(set(fields) - _known_fields(form))
        if extra:
            found.append((TEMPLATE_MISMATCH, f"fields not on {form}: {', '.join(extra)}"))
        # Rules over missing fields stay unchecked (as evaluate() leaves them): a missing
        # number is not a broken rule.
        found.extend((RULE_BROKEN, v.message) for v in broken_rules(form, fields))
    if TOTAL in fields:
        total = fields[TOTAL]
        permille = template.reserve_permille if template is not None else 0
        if DPT in fields:
            dpt = fields[DPT]
            bound = with_reserve(dpt, permille)
            if total > bound:
                found.append(
                    (
                        VOTES_ABOVE_REGISTERED,
                        f"{TOTAL}={total} votes above {DPT}={dpt} registered voters plus "
                        f"{bound - dpt} reserve ballots",
                    )
                )
        elif template is not None and total > template.cap:
            found.append((VOTES_ABOVE_CAP, f"{TOTAL}={total} above the TPS cap of {template.cap}"))
    return found


def hard_limits_broken(form: str, fields: Mapping[str, int]) -> list[str]:
    """What of a version's numbers breaks a hard limit (empty: nothing): such a version is
    held out of the totals until an operator releases it."""
    return [detail for kind, detail in check_numbers(form, fields) if kind in HARD_LIMITS]
