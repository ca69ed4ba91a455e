"""The elections as their signed manifests describe them: names of regions and candidates,
the TPS expected, each TPS's registered voters, so the dashboard shows names, not codes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from hub.api.context import ApiContext, Context
from hub.api.errors import ERRORS, not_found
from hub.api.recap import MAX_REGION
from protocol.manifest_sign import VerifiedManifest

router = APIRouter(tags=["elections"], responses=ERRORS)


class OptionInfo(BaseModel):
    number: int = Field(description="ballot number (nomor urut)")
    names: list[str] = Field(description="the pair's names, or KOLOM KOSONG")
    kolom_kosong: bool = Field(description="the empty box of a single-candidate race")


class ContestInfo(BaseModel):
    form: str = Field(description="the form template id")
    region: str = Field(description="the region it covers ('' nationwide)")
    region_name: str = Field(description="that region's name")
    options: list[OptionInfo]


class ElectionInfo(BaseModel):
    id: str
    name: str = Field(description="the election's name")
    date: str = Field(description="voting day, YYYY-MM-DD")
    training: bool = Field(description="a training (bimtek) election")
    region: str = Field(description="the region of the CA that signed the manifest")
    region_name: str
    region_source: str = Field(description="where the region names come from")
    contests: list[ContestInfo]
    tps_expected: int = Field(description="TPS in the manifest")
    dpt: int = Field(description="registered voters (DPT) over every TPS")
    manifest_sha256: str = Field(description="the signed manifest's payload hash")


class ElectionList(BaseModel):
    elections: list[ElectionInfo]


class RegionNames(BaseModel):
    election: str
    names: dict[str, str] = Field(description="region code -> name, under the prefix asked")


class TpsInfo(BaseModel):
    election: str
    tps: str
    names: dict[str, str] = Field(description="provinsi, kabkota, kecamatan, desa -> name")
    dpt_l: int = Field(description="registered men")
    dpt_p: int = Field(description="registered women")
    dpt: int = Field(description="L + P")
    forms: list[str] = Field(description="the forms of the contests it votes in")


@router.get("/elections", response_model=ElectionList, summary="Elections and their names")
def elections(ctx: Context) -> ElectionList:
    """Every election the hub holds a signed manifest for."""
    return ElectionList(elections=[_info(v) for _, v in sorted(ctx.manifests.items())])


@router.get("/elections/{election}", response_model=ElectionInfo, summary="One election")
def election_info(election: str, ctx: Context) -> ElectionInfo:
    return _info(_manifest(ctx, election))


@router.get("/elections/{election}/names", response_model=RegionNames, summary="Region names")
def region_names(
    election: str,
    ctx: Context,
    region: Annotated[
        str, Query(max_length=MAX_REGION, description="only regions under this code")
    ] = "",
) -> RegionNames:
    regions = _manifest(ctx, election).manifest.regions
    chosen = {
        c: n for c, n in regions.items() if not region or c == region or c.startswith(region + ".")
    }
    return RegionNames(election=election, names=chosen)


@router.get("/elections/{election}/tps/{tps}", response_model=TpsInfo, summary="One TPS")
def tps_info(election: str, tps: str, ctx: Context) -> TpsInfo:
    m = _manifest(ctx, election).manifest
    if tps not in m.tps:
        raise not_found(f"TPS {tps!r} is not in the manifest of {election}")
    voters = m.tps[tps]
    return TpsInfo(
        election=election,
        tps=tps,
        names=m.names_of(tps),
        dpt_l=voters.dpt_l,
        dpt_p=voters.dpt_p,
        dpt=voters.dpt_l + voters.dpt_p,
        forms=[c.form for c in m.contests_for(tps)],
    )


def _manifest(ctx: ApiContext, election: str) -> VerifiedManifest:
    found = ctx.manifests.get(election)
    if found is None:
        raise not_found(f"the hub holds no manifest of election {election!r}")
    return found


def _info(verified: VerifiedManifest) -> ElectionInfo:
    m = verified.manifest
    return ElectionInfo(
        id=m.election.id,
        name=m.election.name,
        date=m.election.date,
        training=m.election.kind == "training",
        region=m.region,
        region_name=m.regions.get(m.region, ""),
        region_source=m.region_source,
        contests=[
            ContestInfo(
                form=c.form,
                region=c.region,
                region_name=m.regions.get(c.region, "Indonesia"),
                options=[
                    OptionInfo(number=o.number, names=o.names, kolom_kosong=o.kolom_kosong)
                    for o in c.options
                ],
            )
            for c in m.contests
        ],
        tps_expected=len(m.tps),
        dpt=sum(v.dpt_l + v.dpt_p for v in m.tps.values()),
        manifest_sha256=verified.sha256,
    )
