"""The vote-share chart of a region or a TPS, as SVG (drawn by hub/web/chart.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from hub.api.context import ApiContext, Context, Store
from hub.api.errors import ERRORS, bad_parameter, not_found
from hub.api.recap import MAX_REGION
from hub.manifests import candidate_names
from hub.recap import RecapError, RecapReader
from hub.recap.levels import level_of
from hub.recap.shares import Share, vote_shares
from hub.store import ResultStore
from hub.web.chart import bar_chart
from protocol.limits import template_for

router = APIRouter(tags=["recapitulation"], responses=ERRORS)


@router.get(
    "/contests/{election}/{form}/chart.svg",
    response_class=Response,
    summary="A region's (or a TPS's) vote shares as a bar chart",
    responses={200: {"content": {"image/svg+xml": {}}, "description": "the chart"}},
)
def chart(
    election: str,
    form: str,
    ctx: Context,
    store: Store,
    region: Annotated[
        str, Query(max_length=MAX_REGION, description="a region or TPS code; '' for all")
    ] = "",
) -> Response:
    """Each option's share of the votes the options got there, with the candidates' names
    from the signed manifest; a held TPS ('perlu verifikasi') shows no votes."""
    found, names = contest_shares(ctx, store, election, form, region)
    # Short: the numbers move all night, and a reader reloads to see them move.
    headers = {"Cache-Control": "public, max-age=15"}
    return Response(bar_chart(found, names), media_type="image/svg+xml", headers=headers)


def contest_shares(
    ctx: ApiContext, store: ResultStore, election: str, form: str, region: str
) -> tuple[list[Share], dict[int, str]]:
    """The shares of ``region`` and the options' names; 404 when nothing is there."""
    try:
        level_of(region)
    except RecapError as e:
        raise bad_parameter("region", str(e)) from e
    totals = RecapReader(store, ctx.expected).region(election, form, region)
    if totals is None:
        raise not_found(f"no results in {region or 'the election'} for {election} {form}")
    verified = ctx.manifests.get(election)
    names = {} if verified is None else candidate_names(verified.manifest, form, region)
    return vote_shares(template_for(form), totals.totals), names
