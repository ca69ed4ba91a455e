"""What the API's endpoints share: the stores, the registry's view, the hub's settings.

Built once by :func:`hub.api.app.create_app` from what its caller passes in (nothing is
read from files or the environment here), and handed to endpoints as FastAPI dependencies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from hub.api.stores import StorePool
from hub.recap.completeness import Expected
from hub.store import ResultStore
from hub.trust import RegistryKit


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class ApiContext:
    stores: StorePool
    log_id: str  # the real results' transparency log
    training_log_id: str  # the training results' log, kept apart
    registry: tuple[RegistryKit, ...] = ()  # empty: no registry, so nothing is "expected"
    expected: Expected | None = None
    silent_after: dt.timedelta = dt.timedelta(minutes=60)
    hub_certificate: bytes | None = None  # PEM: what its tree heads and acks are signed with
    now: Callable[[], dt.datetime] = field(default=utcnow)

    @property
    def logs(self) -> dict[str, bool]:
        """Each log this hub keeps, and whether it is the training one."""
        return {self.log_id: False, self.training_log_id: True}


def context(request: Request) -> ApiContext:
    value = request.app.state.context
    assert isinstance(value, ApiContext)
    return value


def store(request: Request) -> ResultStore:
    return context(request).stores.get()


Context = Annotated[ApiContext, Depends(context)]
Store = Annotated[ResultStore, Depends(store)]
