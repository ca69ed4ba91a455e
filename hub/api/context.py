"""What the API's endpoints share: the stores, the registry's view, the hub's settings.

Built once by :func:`hub.api.app.create_app` from what its caller passes in (nothing is
read from files or the environment here), and handed to endpoints as FastAPI dependencies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Annotated

from fastapi import Depends, Request

from hub.api.published_files import PublishedFiles
from hub.api.rectify import RectifiedCache
from hub.api.stores import StorePool
from hub.recap.completeness import Expected
from hub.recap.kitstates import RegistryIndex
from hub.recap.oddities import stray_tps
from hub.reports import ReportStore
from hub.store import ResultStore
from hub.translog.cosigning import WitnessPolicy
from hub.trust import RegistryKit
from protocol.manifest_sign import VerifiedManifest

STRAYS_FOR = dt.timedelta(seconds=60)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class ApiContext:
    stores: StorePool
    log_id: str  # the real results' transparency log
    training_log_id: str  # the training results' log, kept apart
    region: str = ""  # its CA's: times of no TPS (its clock, its log) are in that zone
    registry: tuple[RegistryKit, ...] = ()  # empty: no registry, so nothing is "expected"
    expected: Expected | None = None
    silent_after: dt.timedelta = dt.timedelta(minutes=60)
    images_after: dt.timedelta = dt.timedelta(minutes=60)
    hub_certificate: bytes | None = None  # PEM: what its tree heads and acks are signed with
    manifests: dict[str, VerifiedManifest] = field(default_factory=dict)  # by election id
    # What the hub publishes for anyone to check it (hub/api/published.py).
    published: PublishedFiles = field(default_factory=PublishedFiles)
    witnesses: WitnessPolicy = field(default_factory=WitnessPolicy)  # hub.toml [witnesses]
    # Citizens' reports, stored apart from the results (hub/reports.py); None: not taken.
    citizen_reports: ReportStore | None = None
    now: Callable[[], dt.datetime] = field(default=utcnow)
    rectified: RectifiedCache = field(default_factory=RectifiedCache)  # page views, cached

    _strays: tuple[dt.datetime, dict[str, frozenset[str]]] | None = field(
        default=None, init=False, repr=False
    )

    def strays(self, store: ResultStore) -> dict[str, frozenset[str]]:
        """Reported TPS nothing expects, per election (hub.recap.oddities.stray_tps): read
        again at most once every ``STRAYS_FOR``, since it reads a row per kit heard from and
        changes only when a kit the registry does not know reports."""
        now = self.now()
        cached = self._strays
        if cached is None or now - cached[0] > STRAYS_FOR or now < cached[0]:
            cached = (now, stray_tps(store.db, self.registry, self.expected))
            self._strays = cached  # one assignment: serving threads see old or new, whole
        return cached[1]

    @cached_property
    def registry_index(self) -> RegistryIndex:
        # Built on first use, once: every /kits and /anomalies request reads it.
        return RegistryIndex.of(self.registry)

    @property
    def logs(self) -> dict[str, bool]:
        """Each log this hub keeps, and whether it is the training one."""
        return {self.log_id: False, self.training_log_id: True}


def context(request: Request) -> ApiContext:
    value = request.app.state.context
    assert isinstance(value, ApiContext)
    return value


async def store(request: Request) -> AsyncIterator[ResultStore]:
    """A store for this request alone, given back to the pool when the request ends.

    Async so the wait for a free store is in the event loop: a sync dependency would wait
    on a worker thread, and run on another thread than the endpoint that uses the store.
    """
    async with context(request).stores.checkout() as checked_out:
        yield checked_out


Context = Annotated[ApiContext, Depends(context)]
Store = Annotated[ResultStore, Depends(store)]
