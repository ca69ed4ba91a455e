"""Canonical JSON: the one serialisation that is signed and hashed.

The form is RFC 8785 (JSON Canonicalization Scheme) restricted to what a result document
holds: objects, arrays, strings and integers within ±(2**53 - 1). No floats (a probability
travels as an integer per ten thousand), no booleans, no null: any language reproduces the
exact bytes with its standard JSON writer, sorted keys and no whitespace. Inside that subset
JCS is exactly: keys sorted by UTF-16 code units, separators ``,`` and ``:``, non-ASCII
written as UTF-8, and the short escapes of ECMAScript for control characters, which is what
Python's json module writes with ``ensure_ascii=False``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from protocol.errors import CanonicalError

MAX_SAFE_INT = 2**53 - 1


def _check(value: Any, path: str) -> None:
    # bool is a subclass of int: test it first so True never passes as 1.
    if isinstance(value, bool) or value is None or isinstance(value, float):
        raise CanonicalError(f"{path}: {value!r} is not allowed (integers and strings only)")
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INT:
            raise CanonicalError(f"{path}: integer {value} is outside ±(2**53 - 1)")
    elif isinstance(value, str):
        _check_string(value, path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalError(f"{path}: object key {key!r} is not a string")
            _check_string(key, path)
            _check(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]")
    else:
        raise CanonicalError(f"{path}: {type(value).__name__} cannot be serialised")


def _check_string(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise CanonicalError(f"{path}: string holds a lone surrogate") from e


def _utf16_key(item: tuple[str, Any]) -> bytes:
    return item[0].encode("utf-16-be")


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(v) for k, v in sorted(value.items(), key=_utf16_key)}
    if isinstance(value, list | tuple):
        return [_sorted(v) for v in value]
    return value


def canonical_bytes(value: Any) -> bytes:
    """The canonical UTF-8 bytes of ``value``; raise :class:`CanonicalError` if it has no form."""
    _check(value, "$")
    text = json.dumps(_sorted(value), ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


def parse_canonical(data: bytes) -> Any:
    """Parse JSON bytes that must already be canonical (the signed payload of a document).

    Refusing non-canonical bytes means two different byte strings can never carry the same
    document, so the document hash identifies it exactly.
    """
    try:
        value = json.loads(data.decode("utf-8"), parse_float=_refuse_float, parse_constant=_refuse)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CanonicalError(f"not JSON: {e}") from e
    if canonical_bytes(value) != data:
        raise CanonicalError("JSON is not in canonical form (sorted keys, no whitespace)")
    return value


def _refuse_float(text: str) -> float:
    raise CanonicalError(f"{text} is a number with a fraction or exponent (integers only)")


def _refuse(text: str) -> float:
    raise CanonicalError(f"{text} is not allowed")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def document_hash(value: Any) -> str:
    """SHA-256 (hex) of a value's canonical bytes: the identity of a result document."""
    return sha256_hex(canonical_bytes(value))
