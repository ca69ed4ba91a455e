"""Numbers a TPS could really report: every rule of the form holds.

The story is built the way the day goes: the voter list (DPT) by sex, turnout from it, a few
movers (DPTb) and KTP-only voters (DPK), ballots received with the reserve, some spoiled and
returned, the rest unused; then the count, split among the options with some invalid votes.
Field ids follow the templates' shared scheme (I.A.L ... V.C), so one story fills the
presidential form and every Pilkada form alike. Given the TPS's official register (its
election manifest's DPT), the story starts from it, as the KPPS copies it onto rows I.A.
"""

from __future__ import annotations

import math

import numpy as np

from protocol.forms.rules import evaluate
from protocol.forms.schema import Template
from protocol.manifest import OfficialDpt

SEXES = ("L", "P")


def _split(rng: np.random.Generator, total: int) -> tuple[int, int]:
    men = int(rng.binomial(total, rng.uniform(0.45, 0.55)))
    return men, total - men


def _voters(
    rng: np.random.Generator, template: Template, official: OfficialDpt | None
) -> dict[str, int]:
    values: dict[str, int] = {}
    if official is None:
        dpt_total = int(rng.integers(int(template.max_voters * 0.45), template.max_voters + 1))
    elif official.total > template.max_voters:
        raise ValueError(
            f"{template.id}: a DPT of {official.total} is above the form's "
            f"{template.max_voters} voters per TPS"
        )
    else:
        dpt_total = official.total
    turnout = rng.uniform(0.55, 0.95)
    # Drawn in this order since the first sets were made: a seed gives the same form still.
    split = _split(rng, dpt_total) if official is None else (official.men, official.women)
    dpt = dict(zip(SEXES, split, strict=True))
    reserve = math.ceil(dpt_total * template.reserve_permille / 1000)
    room = reserve  # movers and KTP voters vote on the reserve ballots
    for sex in SEXES:
        values[f"I.A.{sex}"] = dpt[sex]
        values[f"I.B.1.{sex}"] = int(rng.binomial(dpt[sex], turnout))
    for row in ("2", "3"):
        for sex in SEXES:
            extra = int(rng.integers(0, min(4, room) + 1))
            room -= extra
            values[f"I.B.{row}.{sex}"] = extra
    for sex in SEXES:
        values[f"I.B.4.{sex}"] = sum(values[f"I.B.{r}.{sex}"] for r in "123")
        voted = values[f"I.B.4.{sex}"]
        values[f"III.{sex}"] = int(rng.binomial(voted, rng.uniform(0.0, 0.03)))
    for row in ("I.A", "I.B.1", "I.B.2", "I.B.3", "I.B.4", "III"):
        values[f"{row}.JML"] = values[f"{row}.L"] + values[f"{row}.P"]
    used = values["I.B.4.JML"]
    received = dpt_total + reserve
    returned = int(rng.integers(0, min(5, received - used) + 1))
    values.update({"II.1": received, "II.2": used, "II.3": returned})
    values["II.4"] = received - used - returned
    return values


def _votes(rng: np.random.Generator, template: Template, total: int) -> dict[str, int]:
    invalid = int(rng.integers(0, max(1, total // 25) + 1))
    valid = total - invalid
    options = template.options
    shares = rng.dirichlet(np.full(len(options), 1.2))
    counts = np.floor(shares * valid).astype(int)
    counts[int(rng.integers(len(options)))] += valid - int(counts.sum())
    values = {o.field: int(c) for o, c in zip(options, counts, strict=True)}
    values.update({"V.A": valid, "V.B": invalid, "V.C": total})
    return values


def consistent_values(
    template: Template, rng: np.random.Generator, dpt: OfficialDpt | None = None
) -> dict[str, int]:
    """One TPS's numbers for every field of ``template``, its rows I.A the official ``dpt``
    where given (else drawn); raises if any rule would break."""
    values = _voters(rng, template, dpt)
    values.update(_votes(rng, template, values["II.2"]))
    wanted = {f.id for _, f in template.fields()}
    missing = wanted - set(values)
    if missing:
        raise ValueError(f"{template.id}: the synthesizer does not know fields {sorted(missing)}")
    values = {k: v for k, v in values.items() if k in wanted}
    report = evaluate(template, values)
    if not report.ok:  # a bug here would poison every benchmark built on it
        raise AssertionError(f"{template.id}: synthesized values break {report.failed_rules()}")
    return values
