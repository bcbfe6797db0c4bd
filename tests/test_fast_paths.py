"""The per-record fast paths (issue 17) give the generic paths' results.

The conformer hands back an object or list whose values all fit as they are instead of a
copy, so it must never modify what it was given; timestamps in the usual forms (UTC ISO
text, unix seconds) are written without ``datetime.isoformat`` and must read exactly as
every other form does.
"""

from __future__ import annotations

import copy
import decimal
import json
import logging
import sys
import typing as t
from datetime import datetime, timedelta, timezone

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from tap_common.http.responses import json_body
from tap_common.messages import timestamps
from tap_common.messages.conform import SchemaConformer
from tap_common.messages.timestamps import iso_utc, to_instant, to_iso_utc
from tests.test_conform import CASES, SCHEMA

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

ODD_RECORDS: list[dict[str, t.Any]] = [
    # Values that are converted, dropped or nulled next to values that pass unchanged, at
    # every depth: the conformer copies only what changes.
    {
        "id": "1",
        "flag": "false",
        "amount": "12.5",
        "owner": {"id": "7", "active": True, "extra": 1},
        "loose": {"anything": [1, {"x": None}]},
        "tags": ["a", 2, None],
        "flags": [True, "0"],
        "phones": [{"value": "+1"}, {"value": 3, "kind": "work"}],
        "undeclared": {"deep": [1]},
    },
    {"id": "2", "owner": {"id": 1, "active": False}, "tags": ["a"], "phones": [{"value": None}]},
    {"id": "3", "owner": None, "tags": [], "phones": [], "flags": None},
]


def test_conforming_never_modifies_the_record_it_is_given():
    conformer = SchemaConformer(SCHEMA)
    for record in ODD_RECORDS:
        before = copy.deepcopy(record)
        output, _ = conformer.conform(record, "things", _logger())
        assert record == before
        # The same output as from a record nobody else holds.
        assert output == conformer.conform(copy.deepcopy(record), "things", _logger())[0]
    odd = ODD_RECORDS[0]
    output, problems = conformer.conform(odd, "things", _logger())
    assert output["flag"] is False
    assert output["owner"] == {"id": 7, "active": True}
    assert output["tags"] == ["a", "2", None]
    assert output["phones"] == [{"value": "+1"}, {"value": "3"}]
    assert "undeclared" not in output
    assert problems == []


def test_sandbox_records_of_both_taps_are_left_as_they_were():
    assert len(CASES) > 500
    for schema, record in CASES:
        before = copy.deepcopy(record)
        SchemaConformer(schema).conform(record, "stream", _logger())
        assert record == before


FORMS = {
    "Z": lambda moment: _naive(moment).isoformat(timespec="seconds") + "Z",
    "+00:00": lambda moment: moment.isoformat(timespec="seconds"),
    "milliseconds Z": lambda moment: _naive(moment).isoformat(timespec="milliseconds") + "Z",
    "microseconds": lambda moment: moment.isoformat(timespec="microseconds"),
    "offset": lambda moment: moment.astimezone(timezone(timedelta(hours=-5))).isoformat(),
    "space": lambda moment: _naive(moment).isoformat(sep=" ", timespec="seconds") + "Z",
}
PRECISION = {"Z": 0, "+00:00": 0, "milliseconds Z": 3, "space": 0}


@settings(deadline=None, derandomize=True, max_examples=50)
@given(
    moment=st.datetimes(
        min_value=datetime(1, 1, 2),  # made aware in the test
        max_value=datetime(9999, 12, 30),
    ),
    form=st.sampled_from(sorted(FORMS)),
)
def test_iso_text_is_written_as_the_instant_it_stands_for(moment: datetime, form: str):
    moment = moment.replace(tzinfo=timezone.utc)
    text = FORMS[form](moment)
    digits = PRECISION.get(form, 6)
    expected = moment.replace(
        microsecond=moment.microsecond // 10 ** (6 - digits) * 10 ** (6 - digits)
    )
    assert to_iso_utc(text) == iso_utc(expected)
    assert to_instant(text) == expected


@settings(deadline=None, derandomize=True, max_examples=50)
@given(seconds=st.integers(min_value=-62_135_596_800, max_value=99_999_999_999).filter(bool))
def test_unix_seconds_are_written_as_the_instant_they_stand_for(seconds: int):
    expected = EPOCH + timedelta(seconds=seconds)
    assert to_iso_utc(seconds) == iso_utc(expected)
    assert to_instant(seconds) == expected


def test_unix_seconds_before_the_year_1_are_unreadable_not_an_error():
    assert to_iso_utc(-62_135_596_801) is None
    assert to_instant(-62_135_596_801) is None


@pytest.mark.skipif(sys.version_info < (3, 11), reason="week dates: fromisoformat of 3.11")
def test_text_shaped_like_the_usual_form_is_still_read_as_what_it_says():
    # An ISO week date has "T" and ":" where the usual form has them; it must not be
    # copied as if it were YYYY-MM-DD.
    assert to_iso_utc("2024-W18-3T10:11:12Z") == "2024-05-01T10:11:12.000000+00:00"


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def _logger() -> logging.Logger:
    return logging.getLogger("test_fast_paths")


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
ODD_BODIES = [
    b"[NaN, Infinity, -Infinity]",  # json.loads reads these, msgspec does not
    b'"\\ud800 lone surrogate"',
    b'\xef\xbb\xbf{"bom": 1}',
    '{"utf16": 1.25}'.encode("utf-16"),
    b'{"a": 1, "a": 2.50}',
    b"1e400",
    b"123456789012345678901234567890",
]


def _body(content: bytes) -> object:
    response = requests.Response()
    response._content = content
    return json_body(response)


def _typed(value: object) -> object:
    """The value with every type spelled out (1 == 1.0 == True would hide a change)."""
    if isinstance(value, dict):
        return ("dict", [(key, _typed(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(item) for item in value])
    return (type(value).__name__, repr(value))


def _same(left: object, right: object) -> bool:
    return _typed(left) == _typed(right)


@settings(deadline=None, derandomize=True, max_examples=50)
@given(value=JSON_VALUES, indent=st.sampled_from([None, 1]))
def test_response_bodies_read_as_json_loads_reads_them(value: object, indent: int | None):
    content = json.dumps(value, indent=indent, ensure_ascii=indent is None).encode()
    assert _same(_body(content), json.loads(content, parse_float=decimal.Decimal))


@pytest.mark.parametrize("content", ODD_BODIES)
def test_bodies_the_fast_decoder_refuses_read_as_before(content: bytes):
    assert _same(_body(content), json.loads(content, parse_float=decimal.Decimal))


def test_a_body_that_is_not_json_is_still_a_value_error():
    with pytest.raises(json.JSONDecodeError, match="Expecting value"):
        _body(b"<html>busy</html>")


def test_written_forms_remembered_for_one_value_are_not_given_to_an_equal_one():
    """The cache of written forms is keyed by value: ``True == 1`` and ``1.0 == 1`` in a
    dict, but True is no timestamp and each value reads as it always did."""
    assert to_iso_utc(1) == "1970-01-01T00:00:01.000000+00:00"
    assert to_iso_utc(True) is None
    assert to_iso_utc(False) is None
    assert to_iso_utc(1.0) == to_iso_utc(1)
    assert to_iso_utc("1") == to_iso_utc(1)
    assert to_iso_utc("0000-00-00") is None
    assert to_iso_utc("0000-00-00") is None  # an unreadable value remembered as None


def test_remembered_written_forms_stay_bounded():
    for seconds in range(1_000_000_000, 1_000_000_000 + 3 * timestamps._WRITTEN_MAX):
        assert to_iso_utc(seconds) == iso_utc(EPOCH + timedelta(seconds=seconds))
    assert len(timestamps._WRITTEN) <= timestamps._WRITTEN_MAX
