"""Timestamps: unix seconds and ISO strings of the same instant give the same UTC output."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from tap_calltracker.streams import CallsStream
from tap_calltracker.tap import TapCallTracker
from tap_common.messages.conform import SchemaConformer
from tap_common.messages.timestamps import to_iso_utc

INSTANT_UNIX = 1_757_941_777  # 2025-09-15T13:09:37Z
# One fixed-width form: ISO-8601 UTC with microseconds.
EXPECTED = "2025-09-15T13:09:37.000000+00:00"


@pytest.mark.parametrize(
    "value",
    [INSTANT_UNIX, "2025-09-15T13:09:37.000Z", "2025-09-15T13:09:37Z", "2025-09-15T15:09:37+02:00"],
    ids=["unix", "iso-millis", "iso", "iso-offset"],
)
def test_every_form_of_one_instant_gives_the_same_string(value):
    assert to_iso_utc(value) == EXPECTED


@pytest.fixture
def new_york_time(monkeypatch):
    """The process time zone set to America/New_York (UTC-4 in September)."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_conversion_is_utc_whatever_the_local_time_zone(new_york_time):
    assert time.localtime(INSTANT_UNIX).tm_hour == 9  # the zone really is in effect
    assert to_iso_utc(INSTANT_UNIX) == EXPECTED
    assert to_iso_utc("2025-09-15T13:09:37.000Z") == EXPECTED


def test_calls_convert_nested_timestamps_and_skip_null_elements(new_york_time):
    stream = CallsStream(
        tap=TapCallTracker(config={"api_id": "i", "api_token": "t"}, parse_env_config=False)
    )
    call = {
        "started_at": INSTANT_UNIX,
        "answered_at": None,
        "comments": [
            {"posted_at": INSTANT_UNIX, "posted_by": {"created_at": "2025-09-15T13:09:37Z"}}
        ],
        "tags": [None, {"created_at": INSTANT_UNIX, "tagged_by": None}],
        "number": {"created_at": "2025-09-15T13:09:37.000Z"},
        "teams": [{"created_at": "2025-09-15T13:09:37.000Z"}],
        "contact": {"created_at": INSTANT_UNIX, "updated_at": INSTANT_UNIX},
    }
    row, problems = SchemaConformer(stream.schema).conform(call, stream.name, stream.logger)

    assert problems == []

    assert row["started_at"] == EXPECTED
    assert row["answered_at"] is None
    assert row["comments"][0]["posted_at"] == EXPECTED
    assert row["comments"][0]["posted_by"]["created_at"] == EXPECTED
    assert row["tags"] == [None, {"created_at": EXPECTED, "tagged_by": None}]
    assert row["number"]["created_at"] == EXPECTED
    assert row["teams"][0]["created_at"] == EXPECTED
    assert row["contact"] == {"created_at": EXPECTED, "updated_at": EXPECTED}


def test_missing_and_null_objects_are_left_alone():
    stream = CallsStream(
        tap=TapCallTracker(config={"api_id": "i", "api_token": "t"}, parse_env_config=False)
    )
    record = {"id": 1, "user": None}
    row, problems = SchemaConformer(stream.schema).conform(record, stream.name, stream.logger)
    assert row == {"id": 1, "user": None}
    assert problems == []


def test_fractional_unix_seconds_parsed_as_decimal_convert_too():
    assert to_iso_utc(Decimal("1700000000.5")) == "2023-11-14T22:13:20.500000+00:00"
