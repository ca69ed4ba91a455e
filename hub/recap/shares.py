"""Vote shares: each option's votes as a part of the votes all the options got.

The share's base is the sum of the options' own fields (what the chart's bars add up to),
not the form's V.A line: a region's V.A sums the same TPS, but a share must never rest on
a number the bars do not show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from protocol.forms.schema import Template


@dataclass(frozen=True)
class Share:
    number: int  # ballot number (nomor urut)
    field: str  # the form's field holding its votes
    votes: int | None  # None: no TPS gave this field yet
    share: float | None  # 0..1 of the options' votes; None: no votes counted yet


def vote_shares(template: Template | None, totals: Mapping[str, int]) -> list[Share]:
    """Each option of ``template``, in ballot order, with its votes and share."""
    if template is None:
        return []
    votes = {o.field: totals.get(o.field) for o in template.options}
    base = sum(v for v in votes.values() if v is not None)
    return [
        Share(
            number=o.number,
            field=o.field,
            votes=votes[o.field],
            share=None if not base else (votes[o.field] or 0) / base,
        )
        for o in template.options
    ]
