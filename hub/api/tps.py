"""One TPS: the numbers that count and how each was decided, its pages, every version.

Also the stored documents by hash (their summary and signed bytes) and page images.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from hub.api.anomalies import Anomaly, AnomalyFilter, anomaly_page
from hub.api.context import Context, Store
from hub.api.documents import (
    API,
    DocumentSummary,
    PageImage,
    check_sha256,
    counting_sha256,
    page_frame,
    pages,
    signed_document,
    summary,
)
from hub.api.errors import ERRORS, ApiError, ErrorBody, bad_parameter, not_found
from hub.api.forms import FormInfo, form_info
from hub.api.recap import VoteShare, chart_url, shares
from hub.api.rectify import RectifyError
from hub.manifests import candidate_names
from hub.recap.anomalies import changed_fields
from hub.recap.hold import is_held
from hub.store import ResultStore, StoredDocument
from protocol import tps as tps_codes
from protocol.document import ResultDocument
from protocol.errors import FieldError
from protocol.ids import is_training

router = APIRouter(tags=["tps"], responses=ERRORS)

_IMMUTABLE = "public, max-age=31536000, immutable"  # named by their hash: never change


class DecidedField(BaseModel):
    id: str = Field(description="the field id on the form")
    value: int = Field(description="the number that counts")
    decision: str = Field(
        description="read: confident and consistent; corrected: a rule or the bubbles "
        "changed the reading; confirmed: doubtful, the KPPS kept it; chosen: doubtful, the "
        "KPPS chose another reading the rules allow; entered: the KPPS changed it"
    )
    confidence: int = Field(description="the reading's probability, per ten thousand")
    read_as: int | None = Field(description="what was read before a correction, choice or entry")
    changed_since_first: bool = Field(
        description="differs from the first version the hub received for this TPS"
    )


class Version(DocumentSummary):
    changes: list[str] = Field(
        description="'field old->new' for each number that differs from the version before"
    )


class TpsView(BaseModel):
    election: str
    form: str
    training: bool = Field(description="a training election's numbers: never a real result")
    tps: str
    counting: Version = Field(description="the version that counts")
    fields: list[DecidedField] = Field(description="the counting version's numbers")
    pages: list[PageImage] = Field(description="the counting version's page images")
    versions: list[Version] = Field(description="every version the hub holds, oldest first")
    anomalies: list[Anomaly] = Field(description="open anomalies of this TPS")
    held: bool = Field(
        description="the counting version breaks a hard limit of its form: 'perlu "
        "verifikasi', held out of every total until an operator decides (its signed "
        "numbers are shown here, never summed)"
    )
    form_info: FormInfo
    shares: list[VoteShare] = Field(description="each option's votes and share at this TPS")
    chart_url: str = Field(description="those shares as a bar chart (SVG)")
    names: dict[str, str] = Field(
        default_factory=dict,
        description="provinsi, kabkota, kecamatan, desa -> name, from the signed manifest",
    )
    candidates: dict[int, str] = Field(
        default_factory=dict, description="each option's names by ballot number"
    )
    dpt: int | None = Field(None, description="registered voters (DPT) as the manifest says")


@router.get(
    "/contests/{election}/{form}/tps/{tps}",
    response_model=TpsView,
    summary="One TPS: its numbers, pages and version history",
)
def tps_view(election: str, form: str, tps: str, ctx: Context, store: Store) -> TpsView:
    try:
        code = str(tps_codes.parse(tps))
    except FieldError as e:
        raise bad_parameter("tps", e.reason) from e
    # The version that counts first, then the versions: documents are only ever added, so
    # every version read after it includes it, even if a rescan arrives in between.
    current = store.current(election, code, form)
    if current is None:
        raise not_found(f"the hub holds no {election} {form} result for TPS {code}")
    counting = signed_document(current)
    versions = _versions(store.versions(election, code, form), current.document_sha256)
    first_id = store.first_document_id(election, code, form)
    first = (
        counting.fields
        if first_id in (None, current.id)
        else signed_document(store.document(first_id)).fields
    )
    held = is_held(store, store.document_fields(current.id))
    verified = ctx.manifests.get(election)
    manifest = None if verified is None else verified.manifest
    known = manifest is not None and code in manifest.tps
    voters = manifest.tps[code] if manifest is not None and known else None
    return TpsView(
        election=election,
        form=form,
        training=is_training(election),
        tps=code,
        counting=_counting(versions, current),
        fields=_decided(counting, first),
        pages=pages(store, counting, current.document_sha256),
        versions=versions,
        anomalies=_anomalies(store, election, code),
        held=held,
        form_info=form_info(form, counting.fields),
        shares=shares(form, {} if held else counting.fields),
        chart_url=chart_url(election, form, code),
        names=manifest.names_of(code) if manifest is not None and known else {},
        candidates={} if manifest is None else candidate_names(manifest, form, code),
        dpt=None if voters is None else voters.dpt_l + voters.dpt_p,
    )


def _versions(stored: list[StoredDocument], counting: str) -> list[Version]:
    out, before = [], None
    for doc in stored:
        fields = signed_document(doc).fields
        changes = [] if before is None else changed_fields(before, fields)
        out.append(Version(**summary(doc, counting).model_dump(), changes=changes))
        before = fields
    return out


def _counting(versions: list[Version], current: StoredDocument) -> Version:
    found = next((v for v in versions if v.counts), None)
    # Not reachable while documents are never deleted; an answer, not a 500, if ever so.
    return found or Version(**summary(current, current.document_sha256).model_dump(), changes=[])


def _decided(document: ResultDocument, first: dict[str, int]) -> list[DecidedField]:
    return [
        DecidedField(
            id=field,
            value=value,
            decision=document.evidence[field]["decision"],
            confidence=document.evidence[field]["confidence"],
            read_as=document.evidence[field].get("read_as"),
            changed_since_first=first.get(field) != value,
        )
        for field, value in document.fields.items()
    ]


def _anomalies(store: ResultStore, election: str, tps: str) -> list[Anomaly]:
    return anomaly_page(store, AnomalyFilter(election=election, tps=tps))[0]


@router.get(
    "/documents/{sha256}",
    response_model=DocumentSummary,
    summary="A stored document by its hash",
)
def document(sha256: str, store: Store) -> DocumentSummary:
    doc = _find(store, sha256)
    return summary(doc, counting_sha256(store, doc))


@router.get(
    "/documents/{sha256}/signed",
    response_class=Response,
    summary="The signed result's bytes, as the kit published them",
    responses={200: {"content": {"application/json": {}}, "description": "the signed result"}},
)
def signed(sha256: str, store: Store) -> Response:
    """Exactly the bytes the kit signed and published (``tps-signed-result/1``): check them
    with ``tps-verify`` and the region's CA certificate."""
    doc = _find(store, sha256)
    name = f"{doc.tps}-seq{doc.seq}-{doc.document_sha256[:12]}.tps-result.json"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": _IMMUTABLE}
    return Response(doc.signed, media_type="application/json", headers=headers)


@router.get(
    "/images/{sha256}",
    response_class=Response,
    summary="A page image by its hash",
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}, "description": "the image"}},
)
def image(sha256: str, store: Store) -> Response:
    data = store.image(check_sha256(sha256))
    if data is None:
        raise not_found(f"the hub holds no page image {sha256}")
    return Response(data, media_type=media_type(data), headers={"Cache-Control": _IMMUTABLE})


@router.get(
    "/images/{sha256}/rectified",
    response_class=Response,
    summary="A page image rectified to its form's page, upright, by the kit's signed corners",
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "the rectified page"},
        409: {
            "model": ErrorBody,
            "description": "the document gives no corners for this page (signed by a kit "
            "from before they were), or the hub lacks that version of the form template: "
            "the photo as taken is at /images/{sha256}",
        },
    },
)
def rectified_image(sha256: str, document: str, ctx: Context, store: Store) -> Response:
    """The photo warped so that the page corners the kit signed in ``document`` (a result
    naming this image; protocol/pageframe.py) become the template page's: upright, its long
    side 2,400 px (at most 8 px per mm), white outside the photo. The header
    ``X-Px-Per-Mm`` gives the scale, so that template boxes (mm) can be drawn over it."""
    image_sha = check_sha256(sha256)
    doc = _find(store, check_sha256(document, "document"))
    signed_doc = signed_document(doc)
    ref = next((p for p in signed_doc.pages if p.sha256 == image_sha), None)
    if ref is None:
        raise not_found(f"document {doc.document_sha256} names no page image {image_sha}")
    if ref.corners is None:
        raise ApiError(
            409,
            f"document {doc.document_sha256} gives no corners for page {ref.page} (a kit "
            f"from before they were signed): see the photo as taken at {API}/images/{image_sha}",
        )
    frame = page_frame(signed_doc, ref.page)
    if frame is None:
        raise ApiError(
            409,
            f"the hub holds no {signed_doc.form} template version {signed_doc.form_version} "
            f"to rectify page {ref.page} to: see the photo as taken at {API}/images/{image_sha}",
        )

    def load() -> bytes:
        data = store.image(image_sha)
        if data is None:
            raise not_found(f"the hub holds no page image {image_sha}")
        return data

    try:
        page = ctx.rectified.page(image_sha, load, ref.corners, frame)
    except RectifyError as e:
        raise ApiError(409, f"page image {image_sha}: {e}") from e
    headers = {"Cache-Control": _IMMUTABLE, "X-Px-Per-Mm": f"{frame.px_per_mm:.4f}"}
    return Response(page, media_type="image/jpeg", headers=headers)


def media_type(data: bytes) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return "application/octet-stream"  # never let a browser guess what stored bytes are


def _find(store: ResultStore, sha256: str) -> StoredDocument:
    doc = store.find_document(check_sha256(sha256))
    if doc is None:
        raise not_found(f"the hub holds no document {sha256}")
    return doc
