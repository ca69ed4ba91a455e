"""Citizens' reports over the API: anyone may say a TPS's photo and numbers disagree
(which field, what they read); rate-limited, stored apart (hub/reports.py), never changing
a count; listed on the TPS page and, open ones, beside the anomalies for an operator."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from hub.api.context import ApiContext, Context, Store
from hub.api.errors import ERRORS, ApiError, bad_parameter, not_found
from hub.api.forms import form_info
from hub.reports import MAX_NOTE, MAX_VALUE, CitizenReport, ReportStore, TooManyReports
from protocol import tps as tps_codes
from protocol.errors import FieldError

router = APIRouter(tags=["citizen reports"], responses=ERRORS)


class NewReport(BaseModel):
    field: str = Field(max_length=32, description="the form's field the photo shows otherwise")
    read_value: int = Field(ge=0, le=MAX_VALUE, description="the number read on the photo")
    note: str = Field("", max_length=MAX_NOTE, description="anything else, in a few words")


class Report(BaseModel):
    id: int
    election: str
    form: str
    tps: str
    field: str
    read_value: int = Field(description="what the reporter read on the photo")
    shown_value: int | None = Field(description="what the hub showed for that field then")
    note: str
    created_at: str
    resolved_at: str | None = Field(description="when an operator resolved it; null: open")
    resolution: str | None = Field(description="the operator's words")


class ReportList(BaseModel):
    reports: list[Report]
    accepting: bool = Field(description="whether this hub takes citizens' reports")


def _out(r: CitizenReport) -> Report:
    return Report(**r.__dict__)


def _store(ctx: ApiContext) -> ReportStore:
    if ctx.citizen_reports is None:
        raise not_found(
            "hub ini tidak menerima laporan warga (hub.toml [paths] citizen_reports tidak diisi)"
        )
    return ctx.citizen_reports


_PATH = "/contests/{election}/{form}/tps/{tps}/reports"


@router.post(
    _PATH,
    response_model=Report,
    status_code=201,
    summary="Report that a TPS's photo and numbers disagree",
    responses={429: {"description": "too many reports: the detail says when to try again"}},
)
def add_report(
    election: str,
    form: str,
    tps: str,
    body: NewReport,
    request: Request,
    ctx: Context,
    store: Store,
) -> Report | JSONResponse:
    """Stored apart from the results and never counted: an operator looks at the photo."""
    reports = _store(ctx)
    code = _tps(tps)
    current = store.current(election, code, form)
    if current is None:
        raise not_found(f"hub tidak menyimpan hasil {election} {form} untuk TPS {code}")
    known = {f.id for f in form_info(form).fields}
    if body.field not in known:
        raise bad_parameter("field", f"{body.field!r} bukan kolom formulir {form}")
    shown = store.document_fields(current.id).fields.get(body.field)
    address = request.client.host if request.client else "unknown"
    try:
        added = reports.add(
            election=election,
            form=form,
            tps=code,
            field=body.field,
            read_value=body.read_value,
            shown_value=shown,
            note=body.note.strip(),
            address=address,
        )
    except TooManyReports as e:
        return JSONResponse({"detail": str(e), "parameter": None}, status_code=429)
    return _out(added)


@router.get(_PATH, response_model=ReportList, summary="Citizens' reports on a TPS")
def tps_reports(election: str, form: str, tps: str, ctx: Context) -> ReportList:
    if ctx.citizen_reports is None:
        return ReportList(reports=[], accepting=False)
    found = ctx.citizen_reports.for_tps(election, form, _tps(tps))
    return ReportList(reports=[_out(r) for r in found], accepting=True)


@router.get("/reports", response_model=ReportList, summary="Citizens' reports, open ones first")
def all_reports(
    ctx: Context,
    resolved: Annotated[bool, Query(description="include resolved reports too")] = False,
) -> ReportList:
    if ctx.citizen_reports is None:
        return ReportList(reports=[], accepting=False)
    found = ctx.citizen_reports.listed(open_only=not resolved)
    return ReportList(reports=[_out(r) for r in found], accepting=True)


def _tps(tps: str) -> str:
    try:
        return str(tps_codes.parse(tps))
    except FieldError as e:
        raise bad_parameter("tps", e.reason) from e


__all__ = ["ApiError", "router"]
