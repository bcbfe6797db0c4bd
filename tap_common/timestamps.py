"""Timestamps: one output form (ISO-8601 UTC) from the several forms the APIs send."""

from __future__ import annotations

import functools
from datetime import datetime, timezone
from decimal import Decimal


def parse_datetime(value: str) -> datetime:
    """Parse an ISO-8601 date or date-time; a value without offset is taken as UTC."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def unix_seconds(value: datetime) -> int:
    """Whole unix seconds, rounded down (API filters take seconds and are inclusive)."""
    return int(value.timestamp())


# Records embed the same users, numbers and teams again and again. Small on purpose: the
# unique per-record timestamps would otherwise fill it and grow memory with the sync.
@functools.lru_cache(maxsize=1024, typed=True)
def to_iso_utc(value: int | float | Decimal | str | None) -> str | None:
    """Unix seconds or an ISO-8601 string, as ``YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00``.

    Converted in UTC, never in the machine's local time zone.
    """
    if value is None or value == "":
        return None
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        # Fractional unix seconds arrive as Decimal (bodies are parsed with parse_float).
        moment = datetime.fromtimestamp(float(value), tz=timezone.utc)
    else:
        moment = parse_datetime(str(value)).astimezone(timezone.utc)
    return moment.isoformat()
