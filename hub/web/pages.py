"""The essentials without JavaScript: the recapitulation of any region and a TPS's
numbers as plain HTML pages the hub renders (Jinja2, every value escaped), for old
phones, text browsers, people who turn scripts off, and search engines.

They read the very answers the JSON API gives (hub/api/recap.py, hub/api/tps.py), so a
page and the API never disagree; the chart is the hub's SVG (hub/web/chart.py).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub.api import recap, receipts, tps
from hub.api.context import Context, Store
from hub.api.documents import API
from hub.api.errors import ApiError, bad_parameter
from hub.recap.levels import LEVEL_NAMES
from hub.web.numbers import number, percent
from protocol import timezones
from protocol.receipt import RECEIPT_PAGE

HTML = "/html"  # these pages' prefix: /html/rekap/..., /html/tps/...
_TEMPLATES = Path(__file__).parent / "templates"
_LEVELS = {
    "nasional": "Seluruh wilayah",
    "provinsi": "Provinsi",
    "kabkota": "Kabupaten/Kota",
    "kecamatan": "Kecamatan",
    "desa": "Kelurahan/Desa",
    "tps": "TPS",
}
_DECISIONS = {
    "read": "terbaca",
    "corrected": "dikoreksi aturan/gelembung",
    "confirmed": "diragukan, dikonfirmasi KPPS",
    "chosen": "diragukan, dipilih KPPS",
    "entered": "diragukan, diisi KPPS",
}
# Marked on the form's photo: every number a rule, the bubbles or the KPPS settled.
_MARKED = ("corrected", "confirmed", "chosen", "entered")

router = APIRouter(include_in_schema=False)


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,  # every value from a kit, a manifest or the hub is text, never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(number=number, percent=percent, local=timezones.local)
    env.globals.update(
        levels=_LEVELS,
        level_names=LEVEL_NAMES,
        decisions=_DECISIONS,
        marked=_MARKED,
        html=HTML,
    )
    return env


def render(template: str, status: int = 200, **values: Any) -> HTMLResponse:
    page = _environment().get_template(template).render(**values)
    return HTMLResponse(page, status_code=status)


@router.get(HTML, response_class=HTMLResponse)
@router.get(HTML + "/", response_class=HTMLResponse)
def contests_page(ctx: Context, store: Store) -> HTMLResponse:
    found = recap.contests(ctx, store).contests
    return render("contests.html", contests=found)


@router.get(HTML + "/rekap/{election}/{form}/", response_class=HTMLResponse)
def whole_page(election: str, form: str, ctx: Context, store: Store) -> HTMLResponse:
    return region_page(election, form, "", ctx, store)


@router.get(HTML + "/rekap/{election}/{form}/{region}", response_class=HTMLResponse)
def region_page(election: str, form: str, region: str, ctx: Context, store: Store) -> HTMLResponse:
    try:
        if len(region) > recap.MAX_REGION:
            raise bad_parameter(
                "region", f"a region code has at most {recap.MAX_REGION} characters"
            )
        view = recap.region_view(election, form, ctx, store, region)
    except ApiError as e:
        return error_page(e)
    zone_code = view.region.region or next((c.region for c in view.children), "")
    return render("region.html", view=view, zone_code=zone_code)


@router.get(HTML + "/tps/{election}/{form}/{code}", response_class=HTMLResponse)
def tps_page(election: str, form: str, code: str, ctx: Context, store: Store) -> HTMLResponse:
    try:
        view = tps.tps_view(election, form, code, ctx, store)
    except ApiError as e:
        return error_page(e)
    parts = view.tps.split(".")
    crumbs = [("", "nasional", None)] + [
        (".".join(parts[:i]), level, view.names.get(level))
        for i, level in enumerate(("provinsi", "kabkota", "kecamatan", "desa"), start=1)
    ]
    return render("tps.html", view=view, crumbs=crumbs)


@router.get(RECEIPT_PAGE, response_class=HTMLResponse)
def receipt_page(
    store: Store,
    qr: str | None = None,
    tps: str | None = None,
    seq: str | None = None,
    sha256: str | None = None,
    latihan: bool = False,
) -> HTMLResponse:
    """A kit receipt's answer as a plain page: the address a receipt's QR may carry
    (protocol/receipt.py), so a phone camera opens it; with nothing asked, a form."""
    if qr is None and (tps is None or seq is None or sha256 is None):
        return render("receipt.html", check=None, asked=qr or "", error=None)
    try:
        check = receipts.check_receipt(store, qr, tps, seq, sha256, latihan)
    except ApiError as e:
        return render("receipt.html", status=e.status, check=None, asked=qr or "", error=e.detail)
    return render("receipt.html", check=check, asked=check.receipt.text, error=None)


@router.get(API + "/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """The OpenAPI description as a plain page: every endpoint, its parameters and what it
    answers (Swagger UI would load its scripts from a CDN; hub sites may be offline)."""
    spec = request.app.openapi()
    endpoints = [
        {
            "method": method.upper(),
            "path": path,
            "summary": op.get("summary", ""),
            "description": op.get("description", ""),
            "parameters": op.get("parameters", []),
            "answers": sorted(op.get("responses", {})),
            "schema": _schema_name(op),
            "tag": (op.get("tags") or [""])[0],
        }
        for path, methods in spec["paths"].items()
        for method, op in methods.items()
    ]
    schemas = spec.get("components", {}).get("schemas", {})
    return render("apidocs.html", spec=spec, endpoints=endpoints, schemas=schemas)


def _schema_name(op: dict[str, Any]) -> str:
    content = op.get("responses", {}).get("200", {}).get("content", {})
    for media in content.values():
        ref = media.get("schema", {}).get("$ref", "")
        if ref:
            return str(ref.rsplit("/", 1)[-1])
    return ", ".join(content) or ""


def error_page(error: ApiError) -> HTMLResponse:
    """An API error (404, 400) on one of these pages, as a page."""
    return render("error.html", status=error.status, code=error.status, detail=error.detail)
