"""tap-calltracker incremental sync: request filters, lookback, bookmarks, second runs, resumption."""

from __future__ import annotations

import functools
import math
from collections import Counter
from datetime import datetime, timezone

import pytest
from singer_sdk.streams.rest import PageContext

from sandbox_api import CallTrackerAPI
from tap_calltracker.tap import TapCallTracker
from tests.singer_io import catalog_selecting, sync

CONFIG = {"api_id": "i", "api_token": "t", "api_url": "http://127.0.0.1:9/v1"}
DAY = 86_400
MARK = "2025-01-02T03:04:05+00:00"
MARK_UNIX = 1_735_787_045
INCREMENTAL = ["calls", "contacts"]  # users, numbers, teams: full table (test_calltracker_records)
FETCH = {"fetch_contact": "true", "fetch_short_urls": "true", "fetch_call_timeline": "true"}
REPLICATION_KEYS = {"calls": "started_at", "contacts": "updated_at"}

# select(config, streams): the discovered catalog with only ``streams`` selected.
select = functools.partial(catalog_selecting, TapCallTracker)


def url_params(stream_name: str, *, state: dict | None = None, **config) -> dict:
    """The query parameters the stream would send for its first page."""
    tap = TapCallTracker(config={**CONFIG, **config}, state=state, parse_env_config=False)
    stream = tap.streams[stream_name]
    stream._write_starting_replication_value(None)  # what the SDK does when a sync starts
    return stream.get_url_params(None, None)


def bookmark(stream: str, value: str = MARK) -> dict:
    key = REPLICATION_KEYS.get(stream, "created_at")
    return {"bookmarks": {stream: {"replication_key": key, "replication_key_value": value}}}


def unix(value: str) -> int:
    return int(datetime.fromisoformat(value).timestamp())


def bookmark_value(state: dict, stream: str) -> str | None:
    return state["bookmarks"].get(stream, {}).get("replication_key_value")


# -- request parameters for a given state and start_date --------------------------------


def test_calls_first_run_reads_everything_oldest_first():
    assert url_params("calls") == {"page": 1, "per_page": 50, "order": "asc", **FETCH}


def test_calls_start_date_bounds_the_first_run_without_lookback():
    params = url_params("calls", start_date="2024-03-01T00:00:00Z")
    # One second early: the API's ``from`` is exclusive on calls (a live account).
    assert params == {"page": 1, "per_page": 50, "from": 1_709_251_199, "order": "asc", **FETCH}


def test_calls_resume_from_bookmark_minus_the_lookback():
    assert url_params("calls", state=bookmark("calls"))["from"] == MARK_UNIX - 2 * DAY - 1
    state = bookmark("calls")
    assert url_params("calls", state=state, calls_lookback_days=0)["from"] == MARK_UNIX - 1
    assert (
        url_params("calls", state=state, calls_lookback_days=7)["from"] == MARK_UNIX - 7 * DAY - 1
    )


def test_calls_lookback_never_reaches_before_start_date():
    params = url_params("calls", state=bookmark("calls"), start_date="2025-01-01T12:00:00Z")
    assert params["from"] == 1_735_732_800 - 1


def test_calls_request_carries_the_window_and_basic_auth():
    tap = TapCallTracker(config=CONFIG, state=bookmark("calls"), parse_env_config=False)
    stream = tap.streams["calls"]
    stream._write_starting_replication_value(None)
    request = stream.get_http_request(page=PageContext(stream_context=None, next_page_token=None))

    assert request.url == "http://127.0.0.1:9/v1/calls"
    assert request.params["from"] == MARK_UNIX - 2 * DAY - 1
    assert stream.authenticator.username == "i"


@pytest.mark.parametrize("stream", ["users", "numbers"])
def test_full_table_streams_ignore_an_old_bookmark_and_start_date(stream):
    params = url_params(stream, state=bookmark(stream), start_date="2025-06-01")
    assert params == {"page": 1, "per_page": 50, "order": "asc"}


def test_bookmark_wins_over_an_older_start_date_and_loses_to_a_newer_one():
    state = bookmark("calls")
    params = url_params("calls", state=state, start_date="2024-01-01", calls_lookback_days=0)
    assert params["from"] == MARK_UNIX - 1
    params = url_params("calls", state=state, start_date="2025-06-01", calls_lookback_days=0)
    assert params["from"] == 1_748_736_000 - 1


def test_contacts_first_run_reads_by_creation_then_newest_updates_first():
    first = url_params("contacts")
    assert first == {"page": 1, "per_page": 50, "order_by": "created_at", "order": "asc"}
    later = url_params("contacts", state=bookmark("contacts"))
    assert later == {"page": 1, "per_page": 50, "order_by": "updated_at", "order": "desc"}
    # from/to filter creation time: never sent for an updated_at bookmark.
    assert "from" not in url_params("contacts", start_date="2024-03-01T00:00:00Z")


@pytest.mark.parametrize("stream", ["teams", "tags", "webhooks", "user_availability"])
def test_streams_without_a_server_filter_send_none(stream):
    state = bookmark(stream) if stream == "teams" else None
    params = url_params(stream, state=state, start_date="2024-03-01T00:00:00Z")
    assert params == {"page": 1, "per_page": 50}


def test_company_is_one_request_without_paging():
    assert url_params("company") == {}


# -- over HTTP -----------------------------------------------------------------------------


def test_second_run_emits_only_changed_and_new_records_with_minimal_requests(make_sandbox):
    api = CallTrackerAPI(size=120, sizes={"users": 30, "numbers": 30, "teams": 30})
    sandbox = make_sandbox(calltracker_api=api)
    config = sandbox.calltracker_config()
    catalog = select(config, set(INCREMENTAL))

    first = sync(TapCallTracker, config, catalog=catalog)
    for stream in INCREMENTAL:
        assert len(first.records[stream]) == len(api.records[stream]), stream
    old_marks = {s: bookmark_value(first.final_state, s) for s in INCREMENTAL}
    assert unix(old_marks["calls"]) == max(c["started_at"] for c in api.records["calls"])

    # Calls: the latest one changes (inside the lookback), an old one too (outside it).
    latest = max(range(120), key=lambda i: api.records["calls"][i]["started_at"])
    recent_call = api.modify("calls", latest, status="done", tags=[], comments=[])
    old_call = api.modify("calls", 3, status="done", archived=True)
    changed = {
        "calls": {recent_call["id"], api.add("calls", status="initial")["id"]},
        "contacts": {
            api.modify("contacts", 5)["id"],
            api.modify("contacts", 77)["id"],
            api.add("contacts")["id"],
        },
    }
    sandbox.clear_log()

    second = sync(TapCallTracker, config, catalog=catalog, state=first.final_state)
    for stream in INCREMENTAL:
        key = REPLICATION_KEYS.get(stream, "created_at")
        emitted = set(second.ids(stream))
        assert changed[stream] <= emitted, stream
        assert second.duplicates(stream) == [], stream
        assert len(sandbox.requests_to("calltracker", f"/{stream}")) == 1, stream
        extra = [r for r in second.records[stream] if r["id"] in emitted - changed[stream]]
        if stream == "calls":
            # The lookback window re-reads calls started up to 2 days before the bookmark.
            floor = unix(old_marks["calls"]) - 2 * DAY
            assert all(unix(r[key]) >= floor for r in extra)
        else:
            # At most the inclusive boundary: records sharing the old bookmark's second.
            assert all(r[key] == old_marks[stream] for r in extra), stream
    assert old_call["id"] not in second.ids("calls")
    (calls_request,) = sandbox.requests_to("calltracker", "/calls")
    assert int(calls_request.arg("from")) == unix(old_marks["calls"]) - 2 * DAY - 1
    assert int(calls_request.arg("from")) > old_call["started_at"]  # never asked for it

    # Bookmarks only move forward, in every STATE message of the run.
    for state in second.states:
        for stream in INCREMENTAL:
            mark = bookmark_value(state, stream)
            assert mark is None or mark >= old_marks[stream], (stream, mark)

    sandbox.clear_log()
    third = sync(TapCallTracker, config, catalog=catalog, state=second.final_state)
    for stream in INCREMENTAL:
        assert len(sandbox.requests_to("calltracker", f"/{stream}")) == 1, stream
        key = REPLICATION_KEYS.get(stream, "created_at")
        mark = bookmark_value(second.final_state, stream)
        if stream == "calls":
            floor = unix(mark) - 2 * DAY  # the lookback, honestly re-read every run
            assert all(unix(r[key]) >= floor for r in third.records.get(stream, []))
        elif stream == "contacts":
            # The overlap: from the second run's start (the first run's final bookmark).
            start = old_marks["contacts"]
            assert all(r[key] >= start for r in third.records.get(stream, [])), stream
        else:
            assert {r[key] for r in third.records.get(stream, [])} <= {mark}, stream
        assert bookmark_value(third.final_state, stream) == mark, stream


def test_call_updated_inside_the_lookback_is_reemitted_with_its_change(make_sandbox):
    api = CallTrackerAPI(size=3, sizes={"calls": 0})
    sandbox = make_sandbox(calltracker_api=api)
    config = sandbox.calltracker_config()
    catalog = select(config, {"calls"})
    call = api.add("calls", status="answered")
    api.records["calls"][0]["started_at"] -= DAY  # started yesterday
    newest = api.add("calls")
    first = sync(TapCallTracker, config, catalog=catalog)
    assert bookmark_value(first.final_state, "calls") == as_iso(newest["started_at"])

    api.modify("calls", 0, status="done", comments=[])  # ended and commented on today
    second = sync(TapCallTracker, config, catalog=catalog, state=first.final_state)

    reemitted = {r["id"]: r for r in second.records["calls"]}
    assert reemitted[call["id"]]["status"] == "done"
    assert bookmark_value(second.final_state, "calls") == as_iso(newest["started_at"])


def as_iso(unix_seconds: int) -> str:
    return datetime.fromtimestamp(unix_seconds, tz=timezone.utc).isoformat(timespec="microseconds")


def test_bookmark_survives_a_run_that_returns_nothing(make_sandbox):
    sandbox = make_sandbox(calltracker_api=CallTrackerAPI(size=5))
    config = sandbox.calltracker_config()
    future = "2030-01-01T00:00:00+00:00"
    state = {"bookmarks": {}}
    for stream in INCREMENTAL:
        state["bookmarks"].update(bookmark(stream, future)["bookmarks"])

    out = sync(TapCallTracker, config, catalog=select(config, set(INCREMENTAL)), state=state)

    assert out.records == {}
    for stream in INCREMENTAL:
        assert bookmark_value(out.final_state, stream) == future, stream


def test_interrupted_calls_run_resumes_from_the_last_state_without_losing_records(
    make_sandbox,
):
    api = CallTrackerAPI(size=3, sizes={"calls": 95})
    sandbox = make_sandbox(calltracker_api=api)
    config = sandbox.calltracker_config(page_size=10, max_retries=0)
    catalog = select(config, {"calls"})
    # calls fail on their 4th page, with no retry left.
    sandbox.faults.fail(500, api="calltracker", path="/calls", after=3)
    first = sync(TapCallTracker, config, catalog=catalog, expect_error=True)
    # 10, then 9 new per page: each query re-anchors on the last page's newest second.
    assert len(first.records["calls"]) == 28
    mark = bookmark_value(first.final_state, "calls")
    assert mark == max(r["started_at"] for r in first.records["calls"])

    sandbox.clear_log()
    second = sync(TapCallTracker, config, catalog=catalog, state=first.final_state)
    union = set(first.ids("calls")) | set(second.ids("calls"))
    assert union == {r["id"] for r in api.records["calls"]}
    # Resumed at the bookmark minus the lookback, not from the start.
    floor = unix(mark) - 2 * DAY
    reread = [r for r in api.records["calls"] if r["started_at"] >= floor]
    assert len(second.records["calls"]) == len(reread)
    assert len(sandbox.requests_to("calltracker", "/calls")) == 1 + math.ceil(
        (len(reread) - 10) / 9
    )


def test_contacts_first_run_gets_past_the_cap_in_creation_windows(make_sandbox):
    api = CallTrackerAPI(size=3, sizes={"contacts": 10_500})
    sandbox = make_sandbox(calltracker_api=api)
    config = sandbox.calltracker_config()
    first = sync(TapCallTracker, config, catalog=select(config, {"contacts"}))

    assert len(first.records["contacts"]) == 10_500
    assert first.duplicates("contacts") == []
    statuses = Counter(r.status for r in sandbox.requests_to("calltracker"))
    assert statuses == {200: sum(statuses.values())}
    assert bookmark_value(first.final_state, "contacts") == as_iso(
        max(c["updated_at"] for c in api.records["contacts"])
    )

    changed = api.modify("contacts", 42)
    sandbox.clear_log()
    second = sync(
        TapCallTracker, config, catalog=select(config, {"contacts"}), state=first.final_state
    )
    assert changed["id"] in second.ids("contacts")
    assert len(second.records["contacts"]) <= 2  # the change, plus the inclusive boundary
    assert len(sandbox.requests_to("calltracker")) == 1  # newest first: one page suffices


def test_incremental_calls_window_from_the_bookmark_past_the_cap(make_sandbox):
    api = CallTrackerAPI(size=3, sizes={"calls": 10_500})
    sandbox = make_sandbox(calltracker_api=api)
    config = sandbox.calltracker_config(calls_lookback_days=0)
    calls = sorted(api.records["calls"], key=lambda c: c["started_at"])
    state = bookmark("calls", as_iso(calls[200]["started_at"]))

    out = sync(TapCallTracker, config, catalog=select(config, {"calls"}), state=state)

    assert len(out.records["calls"]) == 10_500 - 200
    assert out.duplicates("calls") == []
    requests_made = sandbox.requests_to("calltracker", "/calls")
    assert all(r.status == 200 for r in requests_made)
    assert min(int(r.arg("from")) for r in requests_made) == calls[200]["started_at"] - 1


def test_more_than_10000_contacts_changed_since_the_bookmark_all_arrive_once(make_sandbox):
    api = CallTrackerAPI(size=3, sizes={"contacts": 10_300})
    sandbox = make_sandbox(calltracker_api=api)
    config = sandbox.calltracker_config()
    state = bookmark("contacts", "2026-01-01T00:00:00+00:00")
    for index in range(10_100):
        api.modify("contacts", index)

    out = sync(TapCallTracker, config, catalog=select(config, {"contacts"}), state=state)

    assert set(out.ids("contacts")) == {c["id"] for c in api.records["contacts"][:10_100]}
    assert out.duplicates("contacts") == []
    requests_made = sandbox.requests_to("calltracker")
    assert all(r.status == 200 for r in requests_made)
    # The cost of finding out late: 200 pages up to the cap, then windows sized up front.
    assert len(requests_made) < 200 + 2 * math.ceil(10_100 / 50)
