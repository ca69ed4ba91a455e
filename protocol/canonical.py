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

import orjson

from protocol.errors import CanonicalError

MAX_SAFE_INT = 2**53 - 1


def _check(value: Any, path: str) -> bool:
    """Refuse what has no canonical form; True if an object key holds a character beyond
    the Basic Multilingual Plane (only then does UTF-16 key order differ from Python's)."""
    # bool is a subclass of int: test it first so True never passes as 1.
    if isinstance(value, bool) or value is None or isinstance(value, float):
        raise CanonicalError(f"{path}: {value!r} is not allowed (integers and strings only)")
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INT:
            raise CanonicalError(f"{path}: integer {value} is outside ±(2**53 - 1)")
        return False
    if isinstance(value, str):
        return False  # a lone surrogate is found when the text is encoded
    beyond = False
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalError(f"{path}: object key {key!r} is not a string")
            if not key.isascii() and max(key) > "\uffff":
                beyond = True
            beyond = _check(item, f"{path}.{key}") or beyond
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            beyond = _check(item, f"{path}[{index}]") or beyond
    else:
        raise CanonicalError(f"{path}: {type(value).__name__} cannot be serialised")
    return beyond


def _find_surrogate(value: Any, path: str) -> None:
    """Raise for the first string holding a lone surrogate (which UTF-8 cannot encode)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise CanonicalError(f"{path}: string holds a lone surrogate") from e
    elif isinstance(value, dict):
        for key, item in value.items():
            _find_surrogate(key, path)
            _find_surrogate(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _find_surrogate(item, f"{path}[{index}]")


def _utf16_key(item: tuple[str, Any]) -> bytes:
    return item[0].encode("utf-16-be")


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(v) for k, v in sorted(value.items(), key=_utf16_key)}
    if isinstance(value, list | tuple):
        return [_sorted(v) for v in value]
    return value


class _Refused(Exception):
    """The fast scan met something it does not take; the full check says what and where."""


def _scan(value: Any) -> bool:
    """``_check`` for the plain values parsed JSON holds, without building a path per node
    (the hub runs this on every document it receives). Raises ``_Refused`` for anything
    else, including what ``_check`` might still accept (subclasses of int or str)."""
    kind = type(value)
    if kind is str:
        return False
    if kind is int:
        if -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
            return False
        raise _Refused
    beyond = False
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise _Refused
            if not key.isascii() and max(key) > "\uffff":
                beyond = True
            if type(item) is not str and _scan(item):
                beyond = True
    elif kind is list or kind is tuple:
        for item in value:
            if type(item) is not str and _scan(item):
                beyond = True
    else:
        raise _Refused
    return beyond


def _beyond_bmp_keys(value: Any) -> bool:
    try:
        return _scan(value)
    except _Refused:
        return _check(value, "$")  # raises with the path, or accepts a subclass


def canonical_bytes(value: Any) -> bytes:
    """The canonical UTF-8 bytes of ``value``; raise :class:`CanonicalError` if it has no form."""
    if _beyond_bmp_keys(value):
        text = json.dumps(_sorted(value), ensure_ascii=False, separators=(",", ":"))
        return _encode(text, value)
    return _dump(value)


def _dump(value: Any) -> bytes:
    """The canonical bytes of a value whose keys are all within the BMP."""
    # The hub checks every document it receives this way: json's own key sort (code
    # points, the same order as UTF-16 within the BMP) keeps it a C loop.
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return _encode(text, value)


def _encode(text: str, value: Any) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        _find_surrogate(value, "$")
        raise  # unreachable: the walk finds what the encoder refused


def parse_canonical(data: bytes) -> Any:
    """Parse JSON bytes that must already be canonical (the signed payload of a document).

    Refusing non-canonical bytes means two different byte strings can never carry the same
    document, so the document hash identifies it exactly.
    """
    try:
        value = _DECODER.decode(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CanonicalError(f"not JSON: {e}") from e
    if _plainly_canonical(data, value):
        return value
    if canonical_bytes(value) != data:
        raise CanonicalError("JSON is not in canonical form (sorted keys, no whitespace)")
    return value


# Every digit mapped to "0", so a run of 16 or more digits is one substring search.
_DIGITS_TO_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
# 2**53 - 1 has 16 digits: any integer beyond it has at least as many, and in compact JSON
# its token follows one of these.
_LONG_NUMBERS = tuple(mark + b"0" * 16 for mark in (b":", b",", b"[", b"-"))


def _plainly_canonical(data: bytes, value: Any) -> bool:
    """True if ``data`` is canonical and every value in it has a canonical form, found
    without walking the value (the hub does this for every document it receives).

    False means "not shown here", never "not canonical": the caller then runs the full
    check, which finds the same faults in the same order. The walk (``_scan``) can only
    refuse a bool or null, an integer beyond 2**53 - 1, or find a key beyond the BMP; none
    can hide in text without "true", "false", "null", a \\u escape or a non-ASCII byte,
    and, once the text is the compact canonical form, an integer token is a digit run
    right after ``:``, ``,``, ``[`` or ``-``.
    """
    if type(value) is not dict or not data.isascii():
        return False
    if b"true" in data or b"false" in data or b"null" in data or b"\\u" in data:
        return False
    # orjson writes ASCII text exactly as json.dumps(sort_keys=True, separators=(",", ":"))
    # does (the same escapes, keys in code-point order) at a sixth of the cost; and "not
    # equal" only sends the value to the full check.
    try:
        if orjson.dumps(value, option=orjson.OPT_SORT_KEYS) != data:
            return False
    except orjson.JSONEncodeError:  # an integer beyond 64 bits: the full check names it
        return False
    zeros = data.translate(_DIGITS_TO_ZERO)
    after_colon, after_comma, after_bracket, after_minus = _LONG_NUMBERS
    return not (
        after_colon in zeros
        or after_comma in zeros
        or after_bracket in zeros
        or after_minus in zeros
    )


def _refuse_float(text: str) -> float:
    raise CanonicalError(f"{text} is a number with a fraction or exponent (integers only)")


def _refuse(text: str) -> float:
    raise CanonicalError(f"{text} is not allowed")


# json.loads(text, parse_float=..., parse_constant=...) builds this decoder on every call;
# it holds no state between documents, so one serves them all.
_DECODER = json.JSONDecoder(parse_float=_refuse_float, parse_constant=_refuse)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def document_hash(value: Any) -> str:
    """SHA-256 (hex) of a value's canonical bytes: the identity of a result document."""
    return sha256_hex(canonical_bytes(value))
