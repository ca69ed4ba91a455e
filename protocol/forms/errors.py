"""Errors of the form templates: a template that does not load, or a rule that does not parse."""

from __future__ import annotations

from protocol.errors import ProtocolError


class TemplateError(ProtocolError, ValueError):
    """A form template is unknown, malformed, or inconsistent (the message names where)."""


class QrPayloadError(ProtocolError, ValueError):
    """A page's QR text is not a TPS page payload (another format, or a malformed part)."""
