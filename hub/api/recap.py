"""The region tree: each contest's totals and completeness, one level at a time.

A contest is one election's form (``pemilu-2024`` / ``ppwp-plano``). Training elections
(``latihan-...``) are contests of their own, marked ``training``, and every read filters on
that flag (hub/recap/read.py), so a training number never reaches a real total.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from hub.api.context import ApiContext, Context, Store
from hub.api.documents import API
from hub.api.errors import ERRORS, bad_parameter, not_found
from hub.api.forms import FormInfo, form_info
from hub.manifests import candidate_names
from hub.recap import RecapError, RecapReader, RegionTotals
from hub.recap.completeness import ratio
from hub.recap.hold import held_tps
from hub.recap.levels import LEVEL_NAMES, RecapLevel, child_level, level_of, parent_of, within
from hub.recap.shares import vote_shares
from hub.recap.voters import counted_tps, voters_by_region
from protocol.ids import is_training
from protocol.limits import template_for
from protocol.manifest import Manifest

# The longest region code is a desa's, PP.KK.CC.DDDD (13 characters); TPS codes add 4.
MAX_REGION = 32

router = APIRouter(tags=["recapitulation"], responses=ERRORS)


class Contest(BaseModel):
    election: str = Field(description="the election id; latihan-... is a training election")
    form: str = Field(description="the form template id, e.g. ppwp-plano")
    title: str | None = Field(description="the form's printed name")
    training: bool = Field(description="a training (bimtek) election: never a real result")
    tps_reported: int = Field(description="TPS whose result the hub holds")
    tps_expected: int | None = Field(
        description="TPS the registry and the election's manifest expect; null: unknown"
    )
    tps_unexpected: int = Field(
        0, description="reported TPS nothing expects: in the totals, not in completeness"
    )
    completeness: float | None = Field(
        description="expected TPS that reported / tps_expected (0..1, never above 1)"
    )


class ContestList(BaseModel):
    contests: list[Contest]


class VoteShare(BaseModel):
    number: int = Field(description="ballot number (nomor urut)")
    field: str = Field(description="the form's field holding its votes")
    votes: int | None = Field(description="its votes here; null: no TPS gave them yet")
    share: float | None = Field(
        description="its part (0..1) of the votes all the options got here; null: none yet"
    )


class VotersIn(BaseModel):
    dpt_in: int = Field(description="registered voters (DPT) of the TPS whose numbers count")
    dpt: int = Field(description="registered voters of every TPS here, as the manifest says")
    share: float | None = Field(description="dpt_in / dpt (0..1); null: no TPS here")


class Region(BaseModel):
    region: str = Field(description="region code (PP, PP.KK, ...) or TPS code; '' is all")
    level: RecapLevel = Field(description="nasional, provinsi, kabkota, kecamatan, desa, tps")
    level_name: str = Field(description="the level's name on the recapitulation forms")
    name: str | None = Field(
        None, description="the region's name, from the election's signed manifest; null: none"
    )
    tps_reported: int = Field(description="TPS inside that reported")
    tps_expected: int | None = Field(
        description="TPS inside the registry and the election's manifest expect; null: unknown"
    )
    tps_unexpected: int = Field(
        0,
        description="reported TPS inside that nothing expects (a kit enrolled after the "
        "registry export, a TPS missing from the manifest): in the totals, flagged in the "
        "anomalies, never in completeness",
    )
    completeness: float | None = Field(
        description="expected TPS that reported / tps_expected (0..1, never above 1)"
    )
    totals: dict[str, int] = Field(description="each field's sum over the counting versions")
    updated_at: str = Field(description="when these totals last changed (UTC)")
    held: bool = Field(
        False,
        description="a TPS whose counting result breaks a hard limit of its form (a broken "
        "sum, above its size or its registered voters): 'perlu verifikasi', held out of "
        "every total, shown with no numbers, until an operator decides",
    )
    shares: list[VoteShare] = Field(
        default_factory=list, description="each option's votes and share, in ballot order"
    )
    voters: VotersIn | None = Field(
        None, description="the registered voters the TPS in hold; null: no manifest"
    )


class RegionView(BaseModel):
    election: str
    form: str
    training: bool = Field(description="a training election's numbers: never a real result")
    region: Region = Field(description="the region asked for")
    path: list[Region] = Field(description="the regions above it, from the whole election down")
    children_level: RecapLevel | None = Field(description="the level of the children")
    children: list[Region] = Field(
        description="the regions (or, under a desa, the TPS) one level down: those that "
        "reported, and those the registry expects that have not (0 reported)"
    )
    form_info: FormInfo = Field(description="the form's fields, labels and headline fields")
    held_tps: list[str] = Field(
        description="TPS inside whose counting result is held out of the totals "
        "('perlu verifikasi') until an operator decides"
    )
    candidates: dict[int, str] = Field(
        default_factory=dict,
        description="each option's names by ballot number, from the signed manifest",
    )
    chart_url: str = Field(description="the region's vote shares as a bar chart (SVG)")


@router.get("/contests", response_model=ContestList, summary="Contests with results")
def contests(
    ctx: Context,
    store: Store,
    training: Annotated[
        bool | None, Query(description="only training (true) or only real (false) contests")
    ] = None,
) -> ContestList:
    """Every election's form the hub holds results for, real and training kept apart."""
    reader = RecapReader(store, ctx.expected, ctx.strays(store))
    found = []
    for c in reader.contests(training=training):
        expected = None if ctx.expected is None else ctx.expected.count(c.election)
        unexpected = reader.unexpected(c.election, c.form)
        found.append(
            Contest(
                election=c.election,
                form=c.form,
                title=form_info(c.form).title,
                training=c.is_training,
                tps_reported=c.tps_reported,
                tps_expected=expected,
                tps_unexpected=unexpected,
                completeness=ratio(c.tps_reported - unexpected, expected),
            )
        )
    return ContestList(contests=found)


@router.get(
    "/contests/{election}/{form}/regions",
    response_model=RegionView,
    summary="A region's totals, completeness and children",
)
def region_view(
    election: str,
    form: str,
    ctx: Context,
    store: Store,
    region: Annotated[
        str,
        Query(
            max_length=MAX_REGION, description="PP, PP.KK, PP.KK.CC, PP.KK.CC.DDDD, or '' for all"
        ),
    ] = "",
) -> RegionView:
    reader = RecapReader(store, ctx.expected, ctx.strays(store))
    if not any(c.election == election and c.form == form for c in reader.contests()):
        raise not_found(f"no results for election {election!r}, form {form!r}")
    try:
        level = level_of(region)
    except RecapError as e:
        raise bad_parameter("region", str(e)) from e
    if level == "tps":
        raise bad_parameter("region", f"{region} is a TPS: ask /contests/{{e}}/{{f}}/tps/{region}")
    totals = reader.region(election, form, region)
    if totals is None or not (totals.tps_reported or totals.tps_expected):
        raise not_found(f"no results in region {region!r} for {election} {form}")
    children = reader.children(election, form, region)
    below = child_level(level)
    held = held_tps(store, election, form)  # the election's: the voters' sums need them all
    view = RegionView(
        election=election,
        form=form,
        training=is_training(election),
        region=_region(totals),
        path=_path(reader, election, form, region),
        children_level=below,
        children=_with_expected(ctx, election, region, below, children),
        form_info=form_info(form, totals.totals),
        held_tps=[t for t in held if within(region, t)],
        chart_url=chart_url(election, form, region),
    )
    verified = ctx.manifests.get(election)
    if verified is None:
        return view
    return _named(view, verified.manifest, counted_tps(store, election, form, held))


def chart_url(election: str, form: str, region: str) -> str:
    """Where the vote-share chart of ``region`` (or a TPS) is served (hub/api/charts.py)."""
    return f"{API}/contests/{quote(election)}/{quote(form)}/chart.svg?region={quote(region)}"


def _named(view: RegionView, manifest: Manifest, counted: list[str]) -> RegionView:
    """Names from the manifest, and the voters the counted TPS hold, at every region."""
    names = manifest.regions
    shown = [view.region, *view.path, *view.children]
    voters = voters_by_region(manifest, counted, {r.region for r in shown})

    def named(r: Region) -> Region:
        return r.model_copy(
            update={"name": names.get(r.region), "voters": VotersIn(**voters[r.region].__dict__)}
        )

    return view.model_copy(
        update={
            "region": named(view.region),
            "path": [named(r) for r in view.path],
            "children": [named(r) for r in view.children],
            "candidates": candidate_names(manifest, view.form, view.region.region),
        }
    )


def _region(t: RegionTotals) -> Region:
    return Region(
        region=t.region,
        level=t.level,
        level_name=LEVEL_NAMES[t.level],
        tps_reported=t.tps_reported,
        tps_expected=t.tps_expected,
        tps_unexpected=t.tps_unexpected,
        completeness=t.completeness,
        totals=t.totals,
        updated_at=t.updated_at,
        held=t.held,
        shares=shares(t.form, t.totals),
    )


def shares(form: str, totals: dict[str, int]) -> list[VoteShare]:
    return [VoteShare(**s.__dict__) for s in vote_shares(template_for(form), totals)]


def _empty(ctx: ApiContext, election: str, code: str, level: RecapLevel) -> Region:
    expected = None if ctx.expected is None else ctx.expected.count(election, code)
    return Region(
        region=code,
        level=level,
        level_name=LEVEL_NAMES[level],
        tps_reported=0,
        tps_expected=expected,
        completeness=ratio(0, expected),
        totals={},
        updated_at="",
    )


def _path(reader: RecapReader, election: str, form: str, region: str) -> list[Region]:
    above: list[Region] = []
    parent = parent_of(region)
    while parent is not None:
        totals = reader.region(election, form, parent)
        if totals is not None:
            above.insert(0, _region(totals))
        parent = parent_of(parent)
    return above


def _with_expected(
    ctx: ApiContext,
    election: str,
    region: str,
    below: RecapLevel | None,
    reported: list[RegionTotals],
) -> list[Region]:
    """The children that reported, and those the registry expects that have not yet."""
    found = {t.region: _region(t) for t in reported}
    if ctx.expected is not None and below is not None:
        for child in ctx.expected.children(election, region):
            if child not in found:
                found[child] = _empty(ctx, election, child, below)
    return [found[code] for code in sorted(found)]
