"""Stored documents as the API shows them: identity, where they sit in the log, links.

The signed bytes are what a kit published (a DSSE envelope and its certificate); their
signature was checked when the hub accepted them, so here the payload is only read back.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from hub.api.errors import bad_parameter
from hub.api.rectify import Frame
from hub.store import ResultStore, StoredDocument
from protocol.document import ResultDocument
from protocol.errors import FieldError
from protocol.ids import check_hex64
from protocol.limits import template_for
from protocol.result import parse_bundle, parse_payload

API = "/api/v1"  # every JSON endpoint is under it; a v2 would live beside it


class PageImage(BaseModel):
    page: int = Field(description="the page number on the form")
    sha256: str = Field(description="SHA-256 of the page image the kit signed")
    stored: bool = Field(description="whether the hub holds the image (it may arrive later)")
    url: str | None = Field(description="where to fetch it (the photo as taken), if stored")
    rectified_url: str | None = Field(
        None,
        description="the page rectified to its form template's page, upright (JPEG), where "
        "the hub holds the image and the kit signed the page's corners in it",
    )
    width_mm: float | None = Field(
        None, description="the template page's width (mm): the rectified image's frame"
    )
    height_mm: float | None = Field(None, description="the template page's height (mm)")


class DocumentSummary(BaseModel):
    document_sha256: str = Field(description="SHA-256 of the signed payload: the receipt's hash")
    election: str
    form: str
    training: bool
    tps: str
    kit: str = Field(description="the kit that signed it")
    seq: int = Field(description="the kit's sequence number; a rescan has a higher one")
    captured_at: str = Field(description="when the kit captured the form (UTC, signed)")
    received_at: str = Field(description="when the hub received it (UTC)")
    chain_status: str = Field(description="ok, gap or fork in the kit's hash chain")
    log_id: str = Field(description="the transparency log it was appended to")
    log_index: int = Field(description="its leaf index in that log")
    source: str = Field(description="mqtt, or usb for results carried by hand")
    counts: bool = Field(description="whether this is the version that counts for its TPS")
    signed_url: str = Field(description="the signed result's bytes, for tps-verify")
    inclusion_url: str = Field(description="its inclusion proof in the transparency log")


def check_sha256(value: str, parameter: str = "sha256") -> str:
    try:
        return check_hex64(value, parameter)
    except FieldError as e:
        raise bad_parameter(parameter, e.reason) from e


def signed_document(stored: StoredDocument) -> ResultDocument:
    envelope, _ = parse_bundle(stored.signed)
    return parse_payload(envelope.payload)


def summary(doc: StoredDocument, counting_sha256: str | None) -> DocumentSummary:
    sha = doc.document_sha256
    return DocumentSummary(
        document_sha256=sha,
        election=doc.election,
        form=doc.form,
        training=doc.is_training,
        tps=doc.tps,
        kit=doc.kit,
        seq=doc.seq,
        captured_at=doc.captured_at,
        received_at=doc.received_at,
        chain_status=doc.chain_status,
        log_id=doc.log_name,
        log_index=doc.log_index,
        source=doc.source,
        counts=sha == counting_sha256,
        signed_url=f"{API}/documents/{sha}/signed",
        inclusion_url=f"{API}/documents/{sha}/inclusion",
    )


def counting_sha256(store: ResultStore, doc: StoredDocument) -> str | None:
    current = store.current(doc.election, doc.tps, doc.form)
    return None if current is None else current.document_sha256


def pages(store: ResultStore, document: ResultDocument, document_sha256: str) -> list[PageImage]:
    found = []
    for ref in document.pages:
        stored = store.has_image(ref.sha256)
        url = f"{API}/images/{ref.sha256}" if stored else None
        frame = page_frame(document, ref.page)
        rectified = None
        if stored and frame is not None and ref.corners is not None:
            rectified = f"{url}/rectified?document={document_sha256}"
        found.append(
            PageImage(
                page=ref.page,
                sha256=ref.sha256,
                stored=stored,
                url=url,
                rectified_url=rectified,
                width_mm=None if frame is None else frame.width_mm,
                height_mm=None if frame is None else frame.height_mm,
            )
        )
    return found


def page_frame(document: ResultDocument, page: int) -> Frame | None:
    """The template page a photo of ``document``'s ``page`` is rectified to: from the hub's
    copy of the form template, only of the version the kit read with (another version may
    place its page differently)."""
    template = template_for(document.form)
    if template is None or template.version != document.form_version:
        return None
    found = next((p for p in template.pages if p.number == page), None)
    return None if found is None else Frame(found.width, found.height)
