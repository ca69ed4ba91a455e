"""A TPS's times in its own province's zone: WIB, WITA or WIT."""

from __future__ import annotations

import datetime as dt

from protocol.timezones import local, provinces, zone_of


def test_each_island_group_keeps_its_zone():
    assert [zone_of(c) for c in ("11", "31.71.01", "61.01", "62")] == ["WIB"] * 4
    assert [zone_of(c) for c in ("51.71", "53", "64.72", "73.71.01.1001.001")] == ["WITA"] * 4
    assert [zone_of(c) for c in ("81", "82.71", "91.01", "96")] == ["WIT"] * 4
    assert zone_of("") == zone_of(None) == "WIB"  # the whole election of a hub: no province


def test_a_utc_time_is_written_in_the_tps_zone():
    assert local("2024-02-14T13:10:00Z", "31.71.01.1001.001") == "2024-02-14 20:10 WIB"
    assert local("2024-02-14T13:10:00.123456Z", "73.71") == "2024-02-14 21:10 WITA"
    assert local(dt.datetime(2024, 2, 14, 15, 30, tzinfo=dt.UTC), "94") == "2024-02-15 00:30 WIT"
    assert local(None, "31") == "–"


def test_the_published_table_lists_exactly_the_provinces_not_on_wib():
    table = provinces()
    assert table["51"] == "WITA" and table["91"] == "WIT" and "31" not in table
    assert all(zone_of(p) == z for p, z in table.items())
