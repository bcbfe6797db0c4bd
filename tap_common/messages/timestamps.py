"""Timestamps: one output form (ISO-8601 UTC) from every form the APIs send.

Both APIs mix forms: unix seconds (https://developer.aircall.io/api-references/#call,
``started_at``), ISO-8601 with ``Z`` and milliseconds (Aircall users, webhooks), ISO
with ``Z`` (https://developer.onepagecrm.com/api/ ``modified_at``). Other clients of the
same APIs record 13-digit millisecond values, offsets, date-only values and zero dates.

``to_instant`` reads any of them and returns None, never raises, for a value it cannot
read (a zero date, a year outside 1..9999, text that is not a date): one odd value must
not stop a sync. Everything the taps write uses one fixed-width form,
``YYYY-MM-DDTHH:MM:SS.ffffff+00:00`` (``datetime.isoformat(timespec="microseconds")``
in UTC, the form of the SDK's own replication signpost), so that two written values
compare as strings exactly as they compare as instants.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Above this a unix value is milliseconds: 1e11 seconds is the year 5138, while 13-digit
# millisecond values (1e12..1e13) are the years 2001..2286.
_MILLISECONDS_FROM = 100_000_000_000
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
_ISO = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[Tt ](?P<hour>\d{2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?)?"
    r"\s*(?P<zone>[Zz]|UTC|[+-]\d{2}(?::?\d{2})?)?"
)


def to_instant(value: object) -> datetime | None:
    """The UTC instant a timestamp stands for, or None if it is empty or unreadable.

    Accepts unix seconds (int, Decimal, float or digit text), unix milliseconds
    (13 digits), ISO-8601 date-times with ``Z``, an offset or none (then UTC), with or
    without fractional seconds, and dates (midnight UTC). Zero dates (``0000-00-00``,
    unix 0) and years outside 1..9999 are None.
    """
    if isinstance(value, str):
        return _text_instant(value)
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and 0 < abs(value) < _MILLISECONDS_FROM
    ):
        try:
            return _EPOCH + timedelta(seconds=value)  # unix seconds, the usual int
        except OverflowError:  # before the year 1
            return None
    return _instant(value)


def _instant(value: object) -> datetime | None:
    moment = _read(value)
    if moment is None:
        return None
    try:
        return moment.astimezone(timezone.utc)
    except (OverflowError, ValueError):  # e.g. 0001-01-01T00:00-01:00
        return None


# The same text is read several times per record (paging, ordering and the bookmark each
# look at the replication key), and instants are immutable: a small cache pays. Small, so
# memory stays flat however long the sync.
@functools.lru_cache(maxsize=256)
def _text_instant(text: str) -> datetime | None:
    return _instant(text)


def to_iso_utc(value: object) -> str | None:
    """``to_instant`` written as ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``; None if unreadable."""
    kind = type(value)
    if kind is str or kind is int:  # exact types: True == 1, but True is no timestamp
        # One look-up for a hit (``t.cast`` here cost a function call per value).
        written = _WRITTEN.get(value, _UNSEEN)  # type: ignore[call-overload]  # str or int
        if written is not _UNSEEN:
            return written
        written = _to_iso_utc(value)
        if len(_WRITTEN) >= _WRITTEN_MAX:  # memory stays flat however long the sync
            _WRITTEN.clear()
        _WRITTEN[value] = written  # type: ignore[index]  # str or int
        return written
    return _to_iso_utc(value)


_UNSEEN = object()  # a value not in ``_WRITTEN`` (None is a value there: unreadable)


# Written forms of str and int values seen lately: records repeat timestamps (a call's
# user, number and contact carry theirs; deals share dates): 53% of the values of 5,000
# calls and 62% of 5,000 deals in a row are found here, and a look-up costs a tenth of
# writing one.
_WRITTEN: dict[str | int, str | None] = {}
_WRITTEN_MAX = 4_096


def _to_iso_utc(value: object) -> str | None:
    if isinstance(value, str):
        # Most text is already UTC ISO-8601 (``...Z``): its date and time are copied
        # instead of formatted, a third of the cost (``datetime.isoformat`` dominates).
        if len(value) >= 20 and value[10] == "T":
            fast = _utc_text(value)
            if fast is not None:
                return fast
    elif (
        isinstance(value, int)
        and not isinstance(value, bool)
        and 0 < abs(value) < _MILLISECONDS_FROM
    ):
        return _unix_seconds_text(value)  # unix seconds: the written form of a whole second
    if isinstance(value, (str, int, Decimal, float)):
        return _iso_utc_cached(value)
    return None


def _utc_text(text: str) -> str | None:
    """The written form of ``YYYY-MM-DDTHH:MM:SS[.f]`` + ``Z``/``+00:00``, else None."""
    if text[4] != "-" or text[7] != "-" or text[13] != ":" or text[16] != ":":
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not timezone.utc:
        return None
    # fromisoformat read fixed-width fields in this layout: text[:19] is what isoformat
    # would write for them.
    micro = moment.microsecond
    return text[:19] + (_NO_MICROSECONDS if micro == 0 else f".{micro:06d}+00:00")


def _unix_seconds_text(seconds: int) -> str | None:
    """Unix seconds in the written form: the date looked up, the time of day computed
    (three times faster than ``datetime.isoformat``)."""
    day, second_of_day = divmod(seconds, 86_400)
    date_text = _DAY_TEXTS.get(day)
    if date_text is None:
        try:
            date_text = (_EPOCH + timedelta(days=day)).date().isoformat() + "T"
        except OverflowError:  # before the year 1
            return None
        if len(_DAY_TEXTS) >= _DAY_TEXTS_MAX:  # memory stays flat however long the sync
            _DAY_TEXTS.clear()
        _DAY_TEXTS[day] = date_text
    hours, second_of_hour = divmod(second_of_day, 3_600)
    minutes, secs = divmod(second_of_hour, 60)
    return f"{date_text}{hours:02d}:{minutes:02d}:{secs:02d}{_NO_MICROSECONDS}"


_NO_MICROSECONDS = ".000000+00:00"
# "YYYY-MM-DDT" of unix days (seconds // 86,400) seen lately.
_DAY_TEXTS: dict[int, str] = {}
_DAY_TEXTS_MAX = 4_096


# Records embed the same users, numbers and teams again and again. Small on purpose: the
# unique per-record timestamps would otherwise fill it and grow memory with the sync.
@functools.lru_cache(maxsize=1024, typed=True)
def _iso_utc_cached(value: str | int | Decimal | float) -> str | None:
    moment = _read(value)
    if moment is None:
        return None
    try:
        return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")
    except (OverflowError, ValueError):  # e.g. 0001-01-01T00:00-01:00
        return None


def iso_utc(instant: datetime) -> str:
    """The one written form of an instant (naive values are taken as UTC)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=timezone.utc)
    return instant.astimezone(timezone.utc).isoformat(timespec="microseconds")


def to_date_text(value: object) -> str | None:
    """A ``date`` value as ``YYYY-MM-DD``: the calendar date as written (a date-time keeps
    its own date, whatever its offset; unix values are read in UTC); None if unreadable."""
    moment = _read(value)
    return None if moment is None else moment.date().isoformat()


def parse_datetime(value: str) -> datetime:
    """Parse a timestamp in any form ``to_instant`` reads; ValueError if unreadable."""
    instant = to_instant(value)
    if instant is None:
        msg = f"not a readable timestamp: {value!r}"
        raise ValueError(msg)
    return instant


def unix_seconds(value: datetime) -> int:
    """Whole unix seconds, rounded down (API filters take seconds and are inclusive)."""
    return math.floor(value.timestamp())


def _read(value: object) -> datetime | None:
    """The timestamp as an aware datetime in its own offset, or None."""
    if isinstance(value, str):  # the usual case first
        return _read_text(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    if isinstance(value, (int, float, Decimal)):
        return _from_unix(value)
    return None


def _read_text(value: str) -> datetime | None:
    text = value.strip()
    # ``YYYY-`` cannot be a number: skip the pattern for the usual ISO text.
    if text[4:5] != "-" and _NUMBER.fullmatch(text):
        try:
            return _from_unix(Decimal(text))
        except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
            return None
    try:
        # C-fast for the usual forms (Python 3.11+ reads Z, offsets and fractions); the
        # pattern below reads the rest, and everything on 3.10.
        moment = datetime.fromisoformat(text)
    except ValueError:
        pass
    else:
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    match = _ISO.fullmatch(text)
    if match is None:
        return None
    return _from_parts(match)


def _from_unix(value: int | float | Decimal) -> datetime | None:
    try:
        if type(value) is int:  # the usual case, without Decimal arithmetic
            if value == 0:
                return None
            if abs(value) >= _MILLISECONDS_FROM:
                return _EPOCH + timedelta(milliseconds=value)
            return _EPOCH + timedelta(seconds=value)
        if not math.isfinite(value) or value == 0:  # 0: the APIs' "not set", never 1970
            return None
        number = Decimal(value)
        per_unit = 1_000 if abs(number) >= _MILLISECONDS_FROM else 1_000_000
        return _EPOCH + timedelta(microseconds=int((number * per_unit).to_integral_value()))
    except (OverflowError, ValueError, InvalidOperation):
        return None


def _from_parts(match: re.Match[str]) -> datetime | None:
    parts = match.groupdict()
    zone = parts["zone"]
    if zone in {None, "Z", "z", "UTC"}:
        tz = timezone.utc
    else:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
        if minutes >= 24 * 60:
            return None
        tz = timezone(sign * timedelta(minutes=minutes))
    fraction = (parts["fraction"] or "")[:6].ljust(6, "0")
    try:
        return datetime(
            int(parts["year"]),
            int(parts["month"]),
            int(parts["day"]),
            int(parts["hour"] or 0),
            int(parts["minute"] or 0),
            int(parts["second"] or 0),
            int(fraction),
            tzinfo=tz,
        )
    except ValueError:  # year 0, month 0, day 32, ...
        return None
