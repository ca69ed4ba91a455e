"""Paging for the lists that grow with the region (kits, anomalies): a page at a time.

A page is at most ``limit`` items after the cursor ``after`` (the last item's key of the
page before, which the answer gives as ``next_after``; null when there is no more), so a
request's work is bounded by its page, and the totals are still given for the whole list.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

DEFAULT_LIMIT = 200
MAX_LIMIT = 1000

Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"at most this many items (up to {MAX_LIMIT})")
]
