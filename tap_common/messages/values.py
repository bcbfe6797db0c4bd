"""Converters from what an API sent to what the stream's schema declares.

Each returns the converted value, or ``INVALID`` when the value cannot stand for the
declared type; the conformer (``tap_common.messages.conform``) writes null in its place and
reports it. None of them raises: one odd value must not stop a sync.
"""

from __future__ import annotations

import math
import re
import typing as t
from decimal import Decimal, InvalidOperation

from tap_common.messages.timestamps import to_date_text, to_iso_utc


class _Invalid:
    __slots__ = ()

    def __repr__(self) -> str:
        return "INVALID"


INVALID: t.Final = _Invalid()

_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})
_NUMERIC = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")
_SURROGATE = re.compile("[\ud800-\udfff]")


def to_boolean(value: t.Any) -> t.Any:
    """``"true"``/``"false"``/``"1"``/``"0"`` (any case) and numbers (``!= 0``, as the SDK)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        return INVALID if _not_finite(value) else value != 0
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return INVALID


def to_number(value: t.Any) -> t.Any:
    """A finite number: ints and Decimals as they are, numeric text as a Decimal."""
    if type(value) is float:  # the usual case first (amounts, durations)
        return value if math.isfinite(value) else INVALID
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, (float, Decimal)):
        return INVALID if _not_finite(value) else value
    if isinstance(value, str) and _NUMERIC.fullmatch(value):
        number = Decimal(value.strip())
        return number if number.is_finite() else INVALID
    return INVALID


def to_integer(value: t.Any) -> t.Any:
    """A whole number: integral Decimals and numeric text become ints, fractions are invalid."""
    number = to_number(value)
    if number is INVALID or isinstance(number, int):
        return number
    try:
        whole = int(number)
    except (ValueError, OverflowError, InvalidOperation):  # pragma: no cover - finite already
        return INVALID
    return whole if whole == number else INVALID


def to_text(value: t.Any) -> t.Any:
    """Text: numbers and booleans are written as JSON writes them; containers are invalid."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (float, Decimal)):
        return INVALID if _not_finite(value) else str(value)
    return INVALID


def to_date_time(value: t.Any) -> t.Any:
    """Any timestamp form as ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``."""
    if isinstance(value, bool):
        return INVALID
    text = to_iso_utc(value)
    return INVALID if text is None else text


def to_date(value: t.Any) -> t.Any:
    """A date as ``YYYY-MM-DD``."""
    if isinstance(value, bool):
        return INVALID
    text = to_date_text(value)
    return INVALID if text is None else text


def valid_text(value: str) -> str:
    """``value`` without lone surrogates (``"\\ud800"`` in JSON), which UTF-8 cannot hold:
    each becomes U+FFFD, the replacement character."""
    return _SURROGATE.sub("\ufffd", value)


def _not_finite(value: float | Decimal | int) -> bool:
    try:
        return not math.isfinite(value)
    except (ValueError, OverflowError):  # a signalling NaN; an int too large for a float
        return isinstance(value, Decimal)
