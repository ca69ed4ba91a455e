"""The API's error answers: 404 names what was not found, 400 names the bad parameter,
409 says what is held but not yet answerable (a result not yet under a signed tree head).

Every error body is ``{"detail": "...", "parameter": "..."}`` (``parameter`` only on a 400),
the shape FastAPI itself uses for ``detail``, so a client reads one shape everywhere.
FastAPI's own 422 for a malformed query becomes a 400 naming the parameter: to a reader of
the API a bad value is a bad request, whichever layer found it.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException


class ErrorBody(BaseModel):
    detail: str = Field(description="what is wrong, in words")
    parameter: str | None = Field(
        None, description="the request parameter (or part of it) that is wrong, on a 400"
    )


class ApiError(Exception):
    def __init__(self, status: int, detail: str, parameter: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.parameter = parameter


def not_found(detail: str) -> ApiError:
    return ApiError(404, detail)


def not_yet(detail: str) -> ApiError:
    # 409, not 404: the hub holds what was asked for, but cannot answer for it yet.
    return ApiError(409, detail)


def bad_parameter(parameter: str, detail: str) -> ApiError:
    return ApiError(400, f"{parameter}: {detail}", parameter)


# For the OpenAPI document: what every endpoint may answer besides its 200.
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "a parameter is malformed (named in `parameter`)"},
    404: {"model": ErrorBody, "description": "what was asked for is not held by this hub"},
}
NOT_YET: dict[int | str, dict[str, object]] = {
    409: {
        "model": ErrorBody,
        "description": "the hub holds the document, but no signed tree head covers it yet: "
        "ask again after the next one (the worker signs one per ingest batch)",
    },
}


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)


# An error names what was asked for; a value longer than any real one (a region code is
# under 20 characters, a hash 64) is cut, so a request cannot make the hub echo megabytes.
MAX_DETAIL = 300


def _body(status: int, detail: str, parameter: str | None = None) -> JSONResponse:
    if len(detail) > MAX_DETAIL:
        detail = detail[: MAX_DETAIL - 1] + "…"
    content = ErrorBody(detail=detail, parameter=parameter).model_dump(exclude_none=True)
    return JSONResponse(content, status_code=status)


async def _api_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return _body(error.status, error.detail, error.parameter)


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0]
    # loc is ("query", "old_size") or ("path", "sha256"): the parameter is its last part.
    parameter = str(first["loc"][-1]) if first.get("loc") else "request"
    return _body(400, f"{parameter}: {first.get('msg', 'invalid')}", parameter)


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    return _body(error.status_code, str(error.detail))
