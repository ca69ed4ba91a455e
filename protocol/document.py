"""The result document a kit signs: one form of one TPS, as the KPPS confirmed it.

Parsing is strict: unknown fields, wrong types, negative or out-of-range numbers, malformed
ids and TPS codes each raise :class:`FieldError` naming the field. The document only holds
integers and strings, so its canonical bytes (protocol.canonical) are reproducible anywhere.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NotRequired

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
    with_config,
)
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from protocol import tps as tps_codes
from protocol.canonical import canonical_bytes, document_hash, parse_canonical
from protocol.errors import CanonicalError, FieldError
from protocol.ids import check_field_id, check_hex64, check_id
from protocol.pageframe import check_corners
from protocol.utctime import SHAPE, format_utc, is_utc

FORMAT = "tps-result/1"
GENESIS = "0" * 64
MAX_VALUE = 99_999  # five boxes: the overseas and postal variants of the form
PER_TEN_THOUSAND = 10_000
# protocol.ids' field id pattern, once per line of the keys joined by newlines, so a
# document's few dozen keys are checked by one match. Only if no key holds a newline itself
# (a field id never does): otherwise the keys are checked one by one.
_FIELD_IDS = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9._-]{0,47}\n)+")

Decision = Literal["read", "corrected", "confirmed", "chosen", "entered"]
FieldValue = Annotated[int, Field(ge=0, le=MAX_VALUE)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# A TypedDict, not a model: a document holds one per field, and validating a hundred plain
# dicts costs half of what building a hundred model objects did (measured: 31 vs 60 us per
# document, on every document the hub receives).
@with_config(ConfigDict(extra="forbid", strict=True))
class Evidence(TypedDict):
    """How one field's value was decided on the kit."""

    confidence: Annotated[
        int,
        Field(ge=0, le=PER_TEN_THOUSAND, description="probability of the value, per ten thousand"),
    ]
    decision: Annotated[
        Decision,
        Field(
            description="read: confident and consistent; corrected: a rule or the bubbles "
            "changed the reading; confirmed: doubtful, and the KPPS confirmed the kit's "
            "value; chosen: doubtful, and the KPPS chose another reading the form's rules "
            "allow; entered: the KPPS changed it"
        ),
    ]
    read_as: NotRequired[
        Annotated[
            FieldValue,
            Field(description="what the kit read before a correction, choice or entry"),
        ]
    ]


def evidence(confidence: int, decision: Decision, read_as: int | None = None) -> Evidence:
    """An :class:`Evidence`, without ``read_as`` when there is none (JSON has no null here)."""
    if read_as is None:
        return Evidence(confidence=confidence, decision=decision)
    return Evidence(confidence=confidence, decision=decision, read_as=read_as)


class PageRef(_Strict):
    page: int = Field(ge=1, le=99, description="page number within the form")
    sha256: str = Field(description="SHA-256 of the page image as captured (JPEG bytes)")
    corners: list[list[int]] | None = Field(
        None,
        description="the page's homography: where the template page's corners (top-left, "
        "top-right, bottom-right, bottom-left) lie in the photo, [x, y] in hundredths of a "
        "pixel (protocol/pageframe.py); absent in documents of kits that did not sign it",
    )

    @field_validator("sha256")
    @classmethod
    def _hex(cls, v: str) -> str:
        return check_hex64(v, "sha256")

    @field_validator("corners")
    @classmethod
    def _corners(cls, v: list[list[int]] | None) -> list[list[int]] | None:
        return None if v is None else check_corners(v)


class ResultDocument(_Strict):
    """One signed version of one form's result at one TPS."""

    format: Literal["tps-result/1"] = Field(description="document format and version")
    election: str = Field(description="election id the kit's certificate binds")
    form: str = Field(description="form template id, e.g. ppwp-plano")
    form_version: int = Field(ge=1, le=10_000, description="form template version")
    tps: str = Field(description="TPS code PP.KK.CC.DDDD.TTT")
    kit: str = Field(description="id of the kit that signed")
    seq: int = Field(ge=1, le=2**53 - 1, description="per-kit sequence number; rescans go up")
    captured_at: str = Field(description="UTC capture time, YYYY-MM-DDTHH:MM:SSZ")
    fields: dict[str, FieldValue] = Field(description="every field's value, by field id")
    evidence: dict[str, Evidence] = Field(description="per-field reading evidence")
    pages: list[PageRef] = Field(min_length=1, description="the page images' hashes")
    model_sha256: str = Field(description="SHA-256 of the digit model used")
    template_sha256: str = Field(description="SHA-256 of the form template used")
    prev_sha256: str = Field(description="hash of this kit's previous document, or 64 zeros")

    @field_validator("election", "form", "kit")
    @classmethod
    def _ids(cls, v: str, info: Any) -> str:
        return check_id(v, info.field_name)

    @field_validator("tps")
    @classmethod
    def _tps(cls, v: str) -> str:
        return str(tps_codes.parse(v))

    @field_validator("captured_at")
    @classmethod
    def _time(cls, v: str) -> str:
        if not is_utc(v):
            raise FieldError("captured_at", f"{v!r} is not {SHAPE} (UTC)")
        return v

    @field_validator("model_sha256", "template_sha256", "prev_sha256")
    @classmethod
    def _hashes(cls, v: str, info: Any) -> str:
        return check_hex64(v, info.field_name)

    @field_validator("fields")
    @classmethod
    def _field_ids(cls, v: dict[str, int]) -> dict[str, int]:
        if not v:
            raise FieldError("fields", "a result has at least one field")
        joined = "\n".join(v) + "\n"
        if joined.count("\n") == len(v) and _FIELD_IDS.fullmatch(joined):
            return v  # every key is a field id (one match for all, not one per key)
        for key in v:
            check_field_id(key, f"fields.{key}")  # names the first that is not
        return v

    @model_validator(mode="after")
    def _consistent(self) -> ResultDocument:
        if set(self.evidence) != set(self.fields):
            missing = sorted(set(self.fields) ^ set(self.evidence))
            raise FieldError("evidence", f"evidence and fields name different fields: {missing}")
        numbers = [p.page for p in self.pages]
        if numbers != sorted(set(numbers)):
            raise FieldError("pages", "page numbers must be unique and ascending")
        return self

    def to_json_value(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    def canonical(self) -> bytes:
        return canonical_bytes(self.to_json_value())

    def sha256(self) -> str:
        return document_hash(self.to_json_value())


@dataclass(frozen=True)
class DecidedResult:
    """A form's result as the kit decided it, before it takes its place in the kit's chain:
    everything a :class:`ResultDocument` holds but the seq and previous hash (the outbox's,
    read and advanced in one transaction) and the page hashes (of the images stored with it).
    """

    election: str
    form: str
    form_version: int
    tps: str
    kit: str
    captured_at: dt.datetime
    fields: Mapping[str, int]
    evidence: Mapping[str, Evidence]
    model_sha256: str
    template_sha256: str
    corners: Mapping[int, list[list[int]]] = dataclasses.field(default_factory=dict)
    """Each page's corners in its photo (protocol.pageframe), by page, where the reader
    found them."""

    def document(
        self, *, seq: int, prev_sha256: str, images: Mapping[int, bytes]
    ) -> ResultDocument:
        """The document at ``seq`` after ``prev_sha256``, over these page images (by page)."""
        return parse_document(
            {
                "format": FORMAT,
                "election": self.election,
                "form": self.form,
                "form_version": self.form_version,
                "tps": self.tps,
                "kit": self.kit,
                "seq": seq,
                "captured_at": format_utc(self.captured_at),
                "fields": dict(self.fields),
                "evidence": dict(self.evidence),
                "pages": [self._page(n, images[n]) for n in sorted(images)],
                "model_sha256": self.model_sha256,
                "template_sha256": self.template_sha256,
                "prev_sha256": prev_sha256,
            }
        )

    def _page(self, number: int, image: bytes) -> dict[str, Any]:
        ref: dict[str, Any] = {"page": number, "sha256": hashlib.sha256(image).hexdigest()}
        if number in self.corners:
            ref["corners"] = [list(point) for point in self.corners[number]]
        return ref


def parse_document(value: Any) -> ResultDocument:
    """Validate a decoded JSON value as a result document."""
    try:
        canonical_bytes(value)
    except CanonicalError as e:
        where, _, reason = str(e).partition(": ")
        raise FieldError(where.removeprefix("$.").removeprefix("$") or "document", reason) from e
    return _validate(value)


def parse_document_bytes(data: bytes) -> ResultDocument:
    """Parse a document from its canonical bytes (the signed payload)."""
    try:
        value = parse_canonical(data)
    except CanonicalError as e:
        raise FieldError("payload", str(e)) from e
    return _validate(value)  # parse_canonical has checked it has a canonical form


def _validate(value: Any) -> ResultDocument:
    try:
        return ResultDocument.model_validate(value)
    except ValidationError as e:
        raise _field_error(e) from e


def _field_error(error: ValidationError) -> FieldError:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "document"
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, FieldError):
        return FieldError(where if where != "document" else cause.field, cause.reason)
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown field (not part of tps-result/1)"
    elif first["type"] == "missing":
        return FieldError(where, "required field is missing")
    return FieldError(where, f"{message} (got {first.get('input')!r})")
