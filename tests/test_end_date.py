"""``end_date``: incremental streams sync ``[start_date, end_date)``, bookmarks stop at it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from singer_sdk.exceptions import ConfigValidationError

from sandbox_api import CRMAPI, CallTrackerAPI, Sandbox
from tap_calltracker.tap import TapCallTracker
from tap_common.messages.timestamps import to_instant
from tap_crm.tap import TapCRM
from tests.singer_io import sync

# The sandbox's records lie in 2024-2025 (sandbox_api/fake.py).
SPAN = (datetime(2024, 1, 1, tzinfo=timezone.utc), datetime(2026, 1, 1, tzinfo=timezone.utc))
TAPS = {"tap-crm": (TapCRM, "crm"), "tap-calltracker": (TapCallTracker, "calltracker")}


@pytest.fixture(scope="module")
def sandbox():
    sandbox = Sandbox(crm_api=CRMAPI(size=30), calltracker_api=CallTrackerAPI(size=40))
    sandbox.start()
    yield sandbox
    sandbox.stop()


def incremental_keys(tap_class: type, config: dict) -> dict[str, str]:
    """Stream -> replication key, for the streams ``end_date`` bounds."""
    tap = tap_class(config=config, parse_env_config=False)
    return {
        name: stream.replication_key
        for name, stream in tap.streams.items()
        if stream.replication_method == "INCREMENTAL" and stream.is_timestamp_replication_key
    }


def instants(records: list[dict], key: str) -> list[datetime]:
    return [i for i in (to_instant(r.get(key)) for r in records) if i is not None]


@pytest.mark.parametrize("tap", list(TAPS))
@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(offset=st.integers(min_value=1, max_value=(SPAN[1] - SPAN[0]).days * 86_400))
def test_records_and_bookmarks_stop_before_end_date(sandbox, tap, offset):
    tap_class, api = TAPS[tap]
    end = SPAN[0] + timedelta(seconds=offset)
    config = getattr(sandbox, f"{api}_config")(end_date=end.isoformat(), page_size=10)
    keys = incremental_keys(tap_class, config)
    assert keys  # both taps have incremental streams

    out = sync(tap_class, config)

    assert out.error is None
    for stream, key in keys.items():
        held = getattr(sandbox, api).expected(stream)
        wanted = sorted(r["id"] for r in held if (i := to_instant(r.get(key))) and i < end)
        assert sorted(out.ids(stream)) == wanted, stream
        assert all(i < end for i in instants(out.records.get(stream, []), key)), stream
    for stream, bookmark in out.final_state.get("bookmarks", {}).items():
        value = bookmark.get("replication_key_value")
        if stream in keys and value is not None:
            assert to_instant(value) <= end, stream


def test_calls_ask_the_api_up_to_end_date(sandbox):
    sandbox.clear_log()
    end = "2025-03-01T00:00:00.5Z"  # a fraction: `to` is the next whole second
    config = sandbox.calltracker_config(end_date=end, page_size=50)
    sync(TapCallTracker, config)
    calls = sandbox.requests_to("calltracker", "/calls")
    assert calls
    assert {r.arg("to") for r in calls} == {
        str(int(datetime(2025, 3, 1, tzinfo=timezone.utc).timestamp()) + 1)
    }


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2025-01-01", "2025-01-01", "must be later than 'start_date'"),
        ("2025-02-01", "2025-01-01", "must be later than 'start_date'"),
        (None, "next tuesday", "Setting 'end_date' must be an ISO-8601 date"),
    ],
)
def test_an_empty_or_unreadable_window_is_refused_naming_end_date(sandbox, start, end, message):
    config = sandbox.calltracker_config(end_date=end)
    if start:
        config["start_date"] = start
    with pytest.raises(ConfigValidationError, match=re.escape(message)):
        TapCallTracker(config=config, parse_env_config=False)
