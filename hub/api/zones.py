"""Which time zone each province keeps (protocol/timezones.py), for the dashboard to write
a TPS's times in its own zone rather than in UTC, and the hub's own times (its clock, its
log's heads) in the zone of its region."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hub.api.context import Context
from hub.api.errors import ERRORS
from protocol import timezones

router = APIRouter(tags=["elections"], responses=ERRORS)


class TimeZones(BaseModel):
    offsets: dict[str, int] = Field(description="WIB, WITA, WIT -> hours ahead of UTC")
    provinces: dict[str, str] = Field(
        description="province code -> its zone, for every province not on the default"
    )
    default: str = Field(description="the zone of every other province (WIB)")
    hub_region: str = Field(
        description="the region of the hub's CA ('' unknown): the hub's own times, which "
        "belong to no TPS, are written in its zone"
    )
    hub_zone: str = Field(description="that region's zone")


@router.get("/time-zones", response_model=TimeZones, summary="Each province's time zone")
def time_zones(ctx: Context) -> TimeZones:
    return TimeZones(
        offsets=dict(timezones.OFFSETS),
        provinces=dict(timezones.provinces()),
        default=timezones.DEFAULT,
        hub_region=ctx.region,
        hub_zone=timezones.zone_of(ctx.region),
    )
