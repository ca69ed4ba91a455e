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
    # The hub parses every payload it receives: orjson reads one in a third of json's time.
    # Its value is returned only when _plainly_canonical proves the bytes canonical, and
    # then json reads the same value from them; anything else (orjson refused the bytes,
    # or they are not plainly canonical) is read by json as it always was, so the value or
    # the error is json's. Only bytes take this path: json's reading refuses other types.
    if type(data) is bytes:
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
        else:
            if _plainly_canonical(data, value):
                return value
    return _parse_canonical_by_json(data)


def _parse_canonical_by_json(data: bytes) -> Any:
    """``parse_canonical`` by the json module alone: whatever this returns or raises is
    what ``parse_canonical`` returns or raises."""
    try:
        value = _DECODER.decode(data.decode("utf-8"))
    except CanonicalError:
        raise  # a float or constant, refused by the decoder's hooks
    except (ValueError, RecursionError) as e:
        # ValueError: not UTF-8, not JSON, or an integer of more digits than json converts;
        # RecursionError: nested deeper than the stack. A payload, not a crash.
        raise CanonicalError(f"not JSON: {e}") from e
    if _plainly_canonical(data, value):
        return value
    if canonical_bytes(value) != data:
        raise CanonicalError("JSON is not in canonical form (sorted keys, no whitespace)")
    return value


# orjson writes ASCII text exactly as json.dumps(sort_keys=True, separators=(",", ":"),
# ensure_ascii=False) does (the same escapes for all 128 characters, keys in code-point
# order), in a sixth of the time; OPT_STRICT_INTEGER makes it refuse an integer beyond
# ±(2**53 - 1), as _check does.
_CANONICAL_DUMPS = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER
# What a canonical value holds besides objects and arrays (exact types: no bool).
_CANONICAL_LEAVES = frozenset((str, int))


def _plainly_canonical(data: bytes, value: Any) -> bool:
    """True if ``value`` was parsed from ``data`` (by json or by orjson), ``data`` is
    canonical and every value in it has a canonical form, shown at a fraction of the cost
    of the full check (the hub does this for every document it receives).

    False means "not shown here", never "not canonical": the caller then runs the full
    check, which finds the same faults in the same order.

    Once orjson writes ``value`` as exactly ``data`` (ASCII) and ``value`` holds only
    objects, arrays, strings and integers within ±(2**53 - 1), the full check passes:
    ``_check`` finds nothing to refuse, no key can leave the BMP (it would be written as
    non-ASCII), no string holds a lone surrogate (orjson refuses to write one), and
    ``_dump`` writes what orjson wrote. That also makes orjson's value json's: json reads
    those bytes as the same objects, arrays, strings and integers (at most 255 levels deep,
    as orjson writes no deeper, well within json's reach). The leaf walk is what refuses a
    float, a bool or a null; orjson's own value holds a float for a number with a fraction
    or exponent (which orjson may write back byte for byte: ``1.5``) and for an integer
    beyond 64 bits, where json's reading refuses the one and keeps the other an int.
    """
    if type(value) is not dict or not data.isascii():
        return False
    try:
        if orjson.dumps(value, option=_CANONICAL_DUMPS) != data:
            return False
    except orjson.JSONEncodeError:  # an integer out of range, a lone surrogate, deep nesting
        return False
    # Last, as the costliest check; orjson has just refused anything nested deeper than
    # 255 levels, and the walk holds no recursion anyway.
    return _leaves_within(value, _CANONICAL_LEAVES)


def _leaves_within(value: Any, kinds: frozenset[type]) -> bool:
    """True if every value in ``value`` (parsed JSON) that is not an object or array is
    exactly of one of ``kinds``."""
    # A loop over a stack, not recursion: orjson parses up to 1024 levels deep.
    stack: list[Any] = [[value]]
    while stack:
        node = stack.pop()
        for item in node.values() if type(node) is dict else node:
            kind = type(item)
            if kind in kinds:
                continue
            if kind is dict or kind is list:
                stack.append(item)
            else:
                return False
    return True


# What json.loads gives besides objects, arrays and floats: a value orjson reads with no
# float in it is the value json.loads reads.
_JSON_NON_FLOAT_LEAVES = frozenset((str, int, bool, type(None)))


def parse_json(data: bytes) -> Any:
    """``json.loads(data)``, read by orjson (three times faster) where the two agree.

    Raises ``ValueError`` (``json.JSONDecodeError``, ``UnicodeDecodeError``, or json's
    refusal of an integer of more than 4300 digits) for what is not JSON it reads, and for
    nesting too deep to read, which json.loads would answer with ``RecursionError``: to a
    reader of messages from the network that is not JSON, never a crash.
    """
    # orjson refuses some of what json takes (UTF-16 and UTF-32 text, a byte order mark,
    # lone surrogates, NaN and Infinity, numbers beyond a double), and it reads an integer
    # beyond 64 bits as a float where json keeps an int; nor is its rounding of a fraction
    # or exponent to be taken on trust. So when orjson refuses the bytes or reads any float,
    # json reads them as it always has. Types other than bytes go to json too: orjson takes
    # a memoryview that json refuses.
    refusal: ValueError | None = None
    if type(data) is bytes:
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError as e:
            refusal = e
        else:
            if _leaves_within(value, _JSON_NON_FLOAT_LEAVES):
                return value
    try:
        return json.loads(data)
    except RecursionError:
        # json's C reader recurses once per level, as deep as the stack allows; orjson
        # stops at 1024 levels and says where. Either way the bytes are not read.
        if refusal is not None:
            raise refusal from None
        raise ValueError("nested too deeply to read") from None


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
