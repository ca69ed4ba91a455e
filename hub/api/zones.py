"""Which time zone each province keeps (protocol/timezones.py), for the dashboard to write
a TPS's times in its own zone rather than in UTC."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hub.api.errors import ERRORS
from protocol import timezones

router = APIRouter(tags=["elections"], responses=ERRORS)


class TimeZones(BaseModel):
    offsets: dict[str, int] = Field(description="WIB, WITA, WIT -> hours ahead of UTC")
    provinces: dict[str, str] = Field(
        description="province code -> its zone, for every province not on the default"
    )
    default: str = Field(description="the zone of every other province (WIB)")


@router.get("/time-zones", response_model=TimeZones, summary="Each province's time zone")
def time_zones() -> TimeZones:
    return TimeZones(
        offsets=dict(timezones.OFFSETS),
        provinces=dict(timezones.provinces()),
        default=timezones.DEFAULT,
    )
