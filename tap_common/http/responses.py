"""Parse each HTTP response body once, however many hooks look at it."""

from __future__ import annotations

import decimal
import json
import re
import typing as t
from urllib.parse import urlparse

import msgspec

if t.TYPE_CHECKING:
    import requests

_BODY_ATTR = "_tap_json_body"
# msgspec reads a page 3-4x faster than ``json.loads`` (the decode was 6-9% of a profiled
# sync) and gives the same values for any body it accepts (https://jcristharif.com/msgspec/
# usage.html: JSON objects, arrays, strings, ints of any size; floats passed to the hook).
# What it refuses (NaN, lone surrogate escapes, a BOM, non-UTF-8) goes to ``json.loads``,
# which accepts or rejects it exactly as before.
_DECODER = msgspec.json.Decoder(float_hook=decimal.Decimal)
# Nesting kept of a value too deep for the decoders (msgspec and ``json`` both recurse per
# level and raise RecursionError some thousand levels down). Below it, a placeholder:
# the field that holds it is then written as null and reported (``null_too_deep``).
MAX_DEPTH = 100
TOO_DEEP = "\u0000tap: nested too deep\u0000"
_TOO_DEEP_JSON = json.dumps(TOO_DEEP).encode()
_TOO_DEEP_ATTR = "_tap_too_deep"
_STRUCTURE = re.compile(rb'[\[\]{}"]')
_STRING_REST = re.compile(rb'(?:[^"\\]|\\.)*"', re.DOTALL)


def json_body(response: requests.Response) -> t.Any:
    """Return the response's JSON body, parsed on first use and cached on the response.

    Floats become ``Decimal`` as in the SDK's own ``parse_response``, so amounts keep
    their exact digits. Raises ``ValueError`` on a body that is not JSON.
    """
    cached = response.__dict__.get(_BODY_ATTR, _BODY_ATTR)
    if cached is _BODY_ATTR:
        content = response.content
        try:
            cached = _decode(content)
        except RecursionError:
            cached = _decode(cap_depth(content, MAX_DEPTH))
            response.__dict__[_TOO_DEEP_ATTR] = True
        response.__dict__[_BODY_ATTR] = cached
    return cached


def _decode(content: bytes) -> t.Any:
    try:
        return _DECODER.decode(content)
    except ValueError:  # msgspec.DecodeError and UnicodeDecodeError are ValueErrors
        return json.loads(content, parse_float=decimal.Decimal)


def cap_depth(content: bytes, limit: int) -> bytes:
    """``content`` with every array or object more than ``limit`` levels deep replaced by
    the ``TOO_DEEP`` placeholder (strings skipped, so brackets inside them do not count)."""
    parts: list[bytes] = []
    depth = 0
    copied = 0  # content[:copied] is in parts
    cut_at: int | None = None
    at = 0
    while (match := _STRUCTURE.search(content, at)) is not None:
        char, at = match.group(), match.start()
        if char == b'"':
            rest = _STRING_REST.match(content, at + 1)
            at = rest.end() if rest else len(content)
            continue
        if char in b"[{":
            depth += 1
            if depth == limit + 1:
                cut_at = at
        else:
            if depth == limit + 1 and cut_at is not None:
                parts += [content[copied:cut_at], _TOO_DEEP_JSON]
                copied, cut_at = at + 1, None
            depth -= 1
        at += 1
    parts.append(content[copied:])
    return b"".join(parts)


def had_too_deep(response: requests.Response) -> bool:
    """Whether the body held a value nested deeper than ``MAX_DEPTH`` (then replaced)."""
    return bool(response.__dict__.get(_TOO_DEEP_ATTR))


def holds_too_deep(value: t.Any) -> bool:
    """Whether ``value`` holds the ``TOO_DEEP`` placeholder, at any depth (iteratively)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if item == TOO_DEEP and isinstance(item, str):
            return True
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def api_path(response: requests.Response) -> str:
    """The URL path of a response: safe to log (credentials travel in a header, not the URL)."""
    return urlparse(response.url).path
