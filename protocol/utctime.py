"""The one time format of everything signed or published: UTC to the second, ``Z``-suffixed.

A result's capture time, an ack's time, a tree head's timestamp, the kit's status and the
exports all use it, so one reader parses them all and they sort as text.
"""

from __future__ import annotations

import datetime as dt
import re

TEXT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
SHAPE = "YYYY-MM-DDTHH:MM:SSZ"  # the format as messages name it


def format_utc(moment: dt.datetime) -> str:
    """``moment`` in the format (a naive time is taken as local time, as astimezone does)."""
    return moment.astimezone(dt.UTC).strftime(TEXT_FORMAT)


def format_epoch(timestamp: float) -> str:
    """A POSIX timestamp in the format."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime(TEXT_FORMAT)


def is_utc(text: str) -> bool:
    return PATTERN.match(text) is not None


def parse_utc(text: str) -> dt.datetime:
    """The aware time a text in the format names; ValueError if it is not in the format."""
    if not is_utc(text):
        raise ValueError(f"{text!r} is not {SHAPE}")
    return dt.datetime.strptime(text, TEXT_FORMAT).replace(tzinfo=dt.UTC)
