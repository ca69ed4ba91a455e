"""Form C.Hasil templates as data: schema, loading, page geometry, rules and the QR payload.

The public API the reader, the printer, the synthesizer and the hub use::

    from protocol.forms import load_template, template_sha256, evaluate, qr_payload
"""

from protocol.forms.errors import QrPayloadError, TemplateError
from protocol.forms.loader import (
    LoadedTemplate,
    find_page_by_tag,
    load,
    load_all,
    load_template,
    template_ids,
    template_sha256,
)
from protocol.forms.qr import QrPayload, parse_qr_payload, qr_payload
from protocol.forms.rules import Relation, RuleReport, Violation, compile_rules, evaluate
from protocol.forms.schema import TAG_DICTIONARIES, FieldSpec, Page, Rect, Template

__all__ = [
    "TAG_DICTIONARIES",
    "FieldSpec",
    "LoadedTemplate",
    "Page",
    "QrPayload",
    "QrPayloadError",
    "Rect",
    "Relation",
    "RuleReport",
    "Template",
    "TemplateError",
    "Violation",
    "compile_rules",
    "evaluate",
    "find_page_by_tag",
    "load",
    "load_all",
    "load_template",
    "parse_qr_payload",
    "qr_payload",
    "template_ids",
    "template_sha256",
]
