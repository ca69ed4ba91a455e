"""A log served as C2SP tlog-tiles (protocol/tiles.py) under ``/api/v1/logs/<log_id>/``:
``checkpoint``, ``tile/<L>/<N>[.p/<W>]`` and ``tile/entries/<N>[.p/<W>]``, so anyone can
mirror the log with plain HTTP GETs and compute every proof without the JSON proof API.
Beside them, ``checkpoint.witnessed``: the newest checkpoint witnesses cosigned, which a
reader who requires witnesses reads the tiles up to.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from hub.api.context import Context, Store
from hub.api.errors import ERRORS, bad_parameter, not_found
from hub.store import DatabaseLogStorage
from hub.translog.tiles import TileNotFoundError, tile_bytes
from protocol import checkpoint, tiles

router = APIRouter(tags=["transparency log (tlog-tiles)"], responses=ERRORS)

# The checkpoint changes with every batch; tiles never change once served.
_MUTABLE = "no-cache, max-age=0"
_IMMUTABLE = "public, max-age=31536000, immutable"


def _storage(ctx: Context, store: Store, log: str) -> DatabaseLogStorage:
    if log not in ctx.logs:
        raise not_found(f"this hub keeps no log {log!r} (its logs: {', '.join(ctx.logs)})")
    return store.log_storage(log)


@router.get(
    "/logs/{log}/checkpoint",
    response_class=Response,
    summary="A log's latest signed checkpoint (C2SP tlog-checkpoint, a signed note)",
    responses={200: {"content": {"text/plain": {}}}},
)
def latest_checkpoint(log: str, ctx: Context, store: Store) -> Response:
    signed = _storage(ctx, store, log).checkpoint()
    if signed is None:
        raise not_found(f"the hub has signed no checkpoint of log {log!r} yet")
    return Response(signed, media_type=checkpoint.MEDIA_TYPE, headers={"Cache-Control": _MUTABLE})


@router.get(
    f"/logs/{{log}}/{tiles.WITNESSED_CHECKPOINT}",
    response_class=Response,
    summary="A log's newest checkpoint that witnesses cosigned (a signed note with their "
    "cosignatures; the latest checkpoint is seldom cosigned yet during ingest)",
    responses={200: {"content": {"text/plain": {}}}},
)
def witnessed_checkpoint(log: str, ctx: Context, store: Store) -> Response:
    signed = _storage(ctx, store, log).cosigned_checkpoint()
    if signed is None:
        raise not_found(f"no witness has cosigned a checkpoint of log {log!r} yet")
    return Response(signed, media_type=checkpoint.MEDIA_TYPE, headers={"Cache-Control": _MUTABLE})


@router.get(
    "/logs/{log}/tile/{path:path}",
    response_class=Response,
    summary="A hash tile (tile/<L>/<N>[.p/<W>]) or entry bundle (tile/entries/<N>[.p/<W>])",
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def tile(log: str, path: str, ctx: Context, store: Store) -> Response:
    try:
        wanted = tiles.parse_path(f"tile/{path}")
    except tiles.TileError as e:
        raise bad_parameter("path", str(e)) from e
    try:
        data = tile_bytes(_storage(ctx, store, log), wanted)
    except TileNotFoundError as e:
        raise not_found(str(e)) from e
    return Response(data, media_type=tiles.MEDIA_TYPE, headers={"Cache-Control": _IMMUTABLE})
