"""Property tests: the timestamp and value converters read every form and never raise."""

from __future__ import annotations

import io
import json
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from singer_sdk.singerlib import RecordMessage

from tap_common.messages import values
from tap_common.messages.timestamps import iso_utc, to_instant, to_iso_utc
from tap_common.messages.writer import FastSingerWriter

FAST = settings(deadline=None, derandomize=True, max_examples=50)

# Instants the APIs write: whole milliseconds, from 2001-09-09 (when unix milliseconds
# reach 13 digits; a number is read as milliseconds from 1e11, which as seconds would be
# the year 5138) to 2200.
instants = st.datetimes(
    min_value=datetime(2001, 9, 10), max_value=datetime(2200, 1, 1), timezones=st.just(timezone.utc)
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)
json_scalars = st.none() | st.booleans() | st.integers() | st.text() | st.decimals()
json_values = st.recursive(
    json_scalars | st.floats(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


def unix_millis(instant: datetime) -> int:
    return (instant - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(milliseconds=1)


def every_form(instant: datetime, offset: timezone) -> list[object]:
    """The forms the APIs (and other clients' saved state) use for one instant."""
    millis = unix_millis(instant)
    local = instant.astimezone(offset)
    forms: list[object] = [
        millis,  # 13-digit unix milliseconds
        str(millis),
        instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z",
        local.isoformat(timespec="milliseconds"),
        local.isoformat(timespec="microseconds"),
        Decimal(millis) / 1000,  # fractional unix seconds, as the taps parse them
    ]
    if instant.microsecond == 0:
        forms += [millis // 1000, instant.strftime("%Y-%m-%dT%H:%M:%SZ"), local.isoformat()]
    return forms


@FAST
@given(instants, offsets)
def test_every_form_of_an_instant_is_written_the_same(instant, offset):
    written = {to_iso_utc(form) for form in every_form(instant, offset)}
    assert written == {instant.isoformat(timespec="microseconds")}


@FAST
@given(instants, instants)
def test_written_timestamps_compare_as_strings_as_they_compare_as_instants(a, b):
    text_a, text_b = to_iso_utc(a.isoformat()), to_iso_utc(unix_millis(b))
    assert len(text_a) == len(text_b) == len("2025-01-02T03:04:05.000000+00:00")
    assert (text_a < text_b) == (a < b)
    assert (text_a == text_b) == (a == b)


@FAST
@given(st.dates(min_value=datetime(1, 1, 1).date(), max_value=datetime(9999, 12, 31).date()))
def test_a_date_only_is_midnight_utc(day):
    assert to_instant(day.isoformat()) == datetime(
        day.year, day.month, day.day, tzinfo=timezone.utc
    )


@FAST
@given(json_values)
def test_to_instant_never_raises_and_returns_utc_or_none(value):
    result = to_instant(value)
    assert result is None or result.utcoffset() == timedelta(0)
    if result is not None:
        assert iso_utc(result) == to_iso_utc(value) or not isinstance(
            value, (str, int, Decimal, float)
        )


@FAST
@given(st.sampled_from(["0000-00-00", "0000-00-00 00:00:00", "0000-00-00T00:00:00Z", 0, "0"]))
def test_zero_dates_are_none(value):
    assert to_instant(value) is None


@FAST
@given(st.integers(min_value=10_000, max_value=99_999), st.integers(1, 12), st.integers(1, 28))
def test_years_outside_1_to_9999_are_none(year, month, day):
    assert to_instant(f"{year}-{month:02d}-{day:02d}T00:00:00Z") is None


@FAST
@given(json_values)
def test_value_converters_never_raise_and_return_their_type_or_invalid(value):
    checks = {
        values.to_boolean: lambda v: isinstance(v, bool),
        values.to_integer: lambda v: type(v) is int,
        values.to_number: lambda v: (
            isinstance(v, (int, Decimal, float)) and not isinstance(v, bool)
        ),
        values.to_text: lambda v: isinstance(v, str),
        values.to_date_time: lambda v: to_instant(v) is not None and len(v) == 32,
        values.to_date: lambda v: isinstance(v, str) and len(v) == 10,
    }
    for convert, is_of_type in checks.items():
        result = convert(value)
        assert result is values.INVALID or is_of_type(result), (convert.__name__, result)


@FAST
@given(
    st.booleans(),
    st.sampled_from(["", " ", "\t"]),
    st.sampled_from([str.lower, str.upper, str.title]),
)
def test_boolean_text_is_read_whatever_its_case_and_spaces(flag, space, case):
    assert values.to_boolean(f"{space}{case(str(flag))}{space}") is flag
    assert values.to_boolean(f"{space}{int(flag)}{space}") is flag


@FAST
@given(st.integers(min_value=-(10**18), max_value=10**18))
def test_numeric_text_becomes_the_number(number):
    assert values.to_integer(str(number)) == number
    assert values.to_number(f"{number}.5") == Decimal(f"{number}.5")
    assert values.to_integer(f"{number}.5") is values.INVALID


# Text with lone surrogates among ordinary characters (st.text() leaves them out).
texts_with_surrogates = st.lists(
    st.text(max_size=4) | st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff"]), max_size=5
).map("".join)


@FAST
@given(texts_with_surrogates)
def test_any_text_is_written_as_valid_utf8_json(text):
    message = RecordMessage(stream="notes", record={"id": "1", "text": text, text: 1})
    lines = []
    for stdout in (io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), io.StringIO()):
        saved, sys.stdout = sys.stdout, stdout
        try:
            FastSingerWriter().write_message(message)
        finally:
            sys.stdout = saved
        if isinstance(stdout, io.TextIOWrapper):
            stdout.flush()
            lines.append(stdout.buffer.getvalue().decode("utf-8"))  # strict: valid UTF-8
        else:
            lines.append(stdout.getvalue())
    assert lines[0] == lines[1]
    record = json.loads(lines[0])["record"]
    assert record["text"] == values.valid_text(text)


def test_a_lone_surrogate_becomes_the_replacement_character():
    assert values.valid_text("a\ud800b\udfff") == "a\ufffdb\ufffd"
    assert values.valid_text("emoji 🎉 stays") == "emoji 🎉 stays"
