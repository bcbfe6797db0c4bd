"""tap-calltracker under faults: retries, rate limits, clear errors, nothing lost, no secret leaked.

The mirror of tests/test_crm_resilience.py, against the call API's own answers
(https://developer.aircall.io/api-references/#errors and #rate-limiting).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

import pytest
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from sandbox_api import CallTrackerAPI
from sandbox_api.faults import Fault
from tap_calltracker.tap import TapCallTracker
from tap_common.http import pacing
from tap_common.http.errors import (
    AuthenticationError,
    PaginationError,
    RateLimitExhaustedError,
    UnexpectedResponseError,
    WrongPageError,
)
from tests.singer_io import catalog_selecting, sync

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def sandbox(make_sandbox):
    """A sandbox with 25 calls (and the call API's default sizes for the other lists)."""
    return make_sandbox(calltracker_api=CallTrackerAPI(size=25))


def streams_sync(sandbox, streams, *, expect_error: bool = False, **settings):
    config = sandbox.calltracker_config(**{"page_size": 10, **settings})
    return sync(
        TapCallTracker,
        config,
        catalog=catalog_selecting(TapCallTracker, config, streams),
        expect_error=expect_error,
    )


def calls_sync(sandbox, *, expect_error: bool = False, **settings):
    return streams_sync(sandbox, {"calls"}, expect_error=expect_error, **settings)


def statuses(sandbox) -> list[int]:
    return [r.status for r in sandbox.requests_to("calltracker")]


def all_call_ids(sandbox) -> list:
    return sorted(r["id"] for r in sandbox.calltracker.records["calls"])


# -- retries -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_and_nothing_is_lost(sandbox, status):
    sandbox.faults.fail(status, times=3, api="calltracker")
    out = calls_sync(sandbox)

    assert statuses(sandbox)[:4] == [status, status, status, 200]
    assert sorted(out.ids("calls")) == all_call_ids(sandbox)


def test_server_errors_past_the_retry_budget_fail_with_the_status_and_path(sandbox):
    sandbox.faults.fail(503, times=None, api="calltracker")
    out = calls_sync(sandbox, max_retries=2, expect_error=True)

    assert isinstance(out.error, RetriableAPIError)
    assert "503" in str(out.error)
    assert "/calls" in str(out.error)
    assert statuses(sandbox) == [503, 503, 503]  # first try + 2 retries


def test_retry_waits_grow_exponentially_by_the_backoff_factor(sandbox, no_sleep):
    sandbox.faults.fail(500, times=3, api="calltracker")
    calls_sync(sandbox, backoff_factor=2)

    assert no_sleep.retries == [2, 4, 8]


def test_truncated_body_is_retried(sandbox):
    sandbox.faults.truncate(times=2, api="calltracker", path="/calls")
    out = calls_sync(sandbox)

    assert len(out.records["calls"]) == 25
    assert out.duplicates("calls") == []


def test_body_that_is_not_json_is_retried(sandbox):
    sandbox.faults.garbage(times=2, api="calltracker")
    out = calls_sync(sandbox)

    assert len(out.records["calls"]) == 25


def test_body_that_stays_broken_fails_with_a_clear_message(sandbox):
    sandbox.faults.garbage(times=None, api="calltracker")
    out = calls_sync(sandbox, max_retries=1, expect_error=True)

    assert "not valid JSON" in str(out.error)
    assert "/calls" in str(out.error)


@pytest.mark.waits
def test_slow_response_past_the_timeout_is_retried(sandbox):
    sandbox.faults.slow(seconds=2.5, times=1, api="calltracker")
    out = calls_sync(sandbox, request_timeout=1)

    assert len(out.records["calls"]) == 25
    assert out.duplicates("calls") == []


# -- rate limits -----------------------------------------------------------------------------


def test_429_waits_as_long_as_retry_after_says_without_spending_retries(sandbox, no_sleep):
    sandbox.faults.add(
        Fault("status", status=429, times=5, api="calltracker", headers={"Retry-After": "7"})
    )
    out = calls_sync(sandbox, max_retries=0)

    assert len(out.records["calls"]) == 25
    assert no_sleep.count(7.0) == 5


def test_retry_after_is_capped_by_max_rate_limit_wait(sandbox, no_sleep):
    sandbox.faults.add(
        Fault("status", status=429, times=1, api="calltracker", headers={"Retry-After": "3600"})
    )
    calls_sync(sandbox, max_rate_limit_wait=30)

    assert max(no_sleep) == 30


def test_endless_rate_limiting_gives_up_after_the_total_wait_with_a_clear_message(
    sandbox, no_sleep
):
    sandbox.faults.add(
        Fault("status", status=429, times=None, api="calltracker", headers={"Retry-After": "2"})
    )
    out = calls_sync(sandbox, max_rate_limit_wait_total=7, expect_error=True)

    assert isinstance(out.error, RateLimitExhaustedError)
    assert "max_rate_limit_wait_total" in str(out.error)
    assert "asked to wait 2 s more after 6 s" in str(out.error)
    assert no_sleep.count(2.0) == 3  # 3 waits of 2 s; a 4th would pass 7 s
    assert len(sandbox.requests_to("calltracker")) == 4


def test_rate_limit_waits_until_the_reset_header(make_sandbox, no_sleep, monkeypatch):
    sandbox = make_sandbox(calltracker_api=CallTrackerAPI(size=5))
    monkeypatch.setattr(pacing, "now", lambda: 1_800_000_000.0)
    # The API's own 429: X-AircallApi-Reset 42 s after the tap's clock.
    sandbox.faults.throttle(times=1, api="calltracker", path="/tags", reset_at=1_800_000_042.0)
    out = streams_sync(sandbox, {"tags"}, page_size=50)

    assert len(out.records["tags"]) == 5
    assert 42.0 in no_sleep
    assert [r.status for r in sandbox.requests_to("calltracker")] == [429, 200]


def test_long_wait_is_logged_once_at_info_not_as_errors(sandbox, no_sleep, caplog):
    sandbox.faults.add(
        Fault("status", status=429, times=1, api="calltracker", headers={"Retry-After": "12"})
    )
    with caplog.at_level(logging.DEBUG):
        calls_sync(sandbox)

    waits = [r for r in caplog.records if "waiting 12.0 s" in r.getMessage()]
    assert len(waits) == 1
    assert waits[0].levelno == logging.INFO
    assert "429" in waits[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_budget_headers_pace_requests(make_sandbox, no_sleep):
    sandbox = make_sandbox(calltracker_api=CallTrackerAPI(size=5, sizes={"calls": 60}))
    # Exactly the 15 requests the sync needs (5, then 4 new per re-anchored page): the
    # last ones go out on a nearly spent budget.
    sandbox.faults.rate_limit(limit=15, window=3600, api="calltracker")
    out = calls_sync(sandbox, page_size=5)

    assert len(out.records["calls"]) == 60
    assert len(sandbox.requests_to("calltracker")) == 15
    assert any(wait > 0 for wait in no_sleep)  # X-AircallApi-Remaining ran low: paced
    assert all(r.status == 200 for r in sandbox.requests_to("calltracker"))


# -- clear errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 404, 422])
def test_other_client_errors_fail_with_status_path_and_api_message(sandbox, status):
    sandbox.faults.fail(status, times=None, api="calltracker", path="/calls")
    out = calls_sync(sandbox, expect_error=True)

    message = str(out.error)
    assert isinstance(out.error, FatalAPIError)
    assert message.startswith(f"{status} ")
    assert "/v1/calls" in message
    assert "Check the request." in message  # the API's own troubleshoot text
    assert len(sandbox.requests_to("calltracker")) == 1


def test_app_error_bodies_are_reported_in_one_line(make_sandbox):
    sandbox = make_sandbox(calltracker_api=CallTrackerAPI(size=3))
    sandbox.faults.fail(
        422,
        times=1,
        api="calltracker",
        path="/tags",
        body=json.dumps({"error": "Unprocessable", "troubleshoot": "Check the tag"}).encode(),
        headers=JSON,
    )
    out = streams_sync(sandbox, {"tags"}, expect_error=True)

    assert "422" in str(out.error)
    assert "Unprocessable (troubleshoot: Check the tag)" in str(out.error)


def test_missing_list_key_stops_the_stream_clearly(sandbox):
    meta = {"count": 0, "total": 0, "current_page": 1, "per_page": 10, "next_page_link": None}
    sandbox.faults.fail(
        200,
        times=None,
        api="calltracker",
        path="/calls",
        body=json.dumps({"meta": meta}).encode(),
        headers=JSON,
    )
    out = calls_sync(sandbox, expect_error=True)

    assert isinstance(out.error, UnexpectedResponseError)
    assert "'calls'" in str(out.error)
    assert "calls" not in out.records


def test_a_list_where_an_object_belongs_stops_the_stream_clearly(sandbox):
    sandbox.faults.fail(
        200,
        times=None,
        api="calltracker",
        path="/company",
        body=b'{"company":[{"name":"x"}]}',
        headers=JSON,
    )
    out = streams_sync(sandbox, {"company"}, expect_error=True)

    assert isinstance(out.error, UnexpectedResponseError)
    assert "company" in str(out.error)
    assert "company" not in out.records


def test_a_looping_list_endpoint_stops_with_a_clear_error(make_sandbox):
    sandbox = make_sandbox(calltracker_api=CallTrackerAPI(size=30))
    sandbox.faults.loop_pages(api="calltracker", path="/tags")
    out = streams_sync(sandbox, {"tags"}, page_size=2, expect_error=True)

    assert isinstance(out.error, PaginationError)
    assert "repeats the previous page" in str(out.error)
    assert len(sandbox.requests_to("calltracker", "/tags")) == 2


def test_a_looping_api_cannot_make_an_incremental_stream_loop_or_repeat(sandbox):
    sandbox.faults.loop_pages(api="calltracker", path="/calls")
    out = calls_sync(sandbox)

    # Re-anchored paging reaches the newest call, whatever the next_page_link claims.
    assert sorted(out.ids("calls")) == all_call_ids(sandbox)
    assert out.duplicates("calls") == []
    # Three pages; the link past the third (which only repeats its last second) is checked
    # by one query of that second alone and one from the second after it: then it stops.
    assert len(sandbox.requests_to("calltracker")) <= 6


def test_a_page_other_than_the_one_asked_stops_before_emitting_it(make_sandbox):
    sandbox = make_sandbox(calltracker_api=CallTrackerAPI(size=3, sizes={"users": 30}))
    stream = "user_availability"  # paged by number (users re-anchor on time instead)
    sandbox.faults.edit(set_query={"page": None}, api="calltracker")  # a server ignoring page
    out = streams_sync(sandbox, {stream}, expect_error=True)

    # Asked again (a dropped query string may be a passing redirect), then one line.
    assert isinstance(out.error, WrongPageError)
    assert "answered page 1 at per_page 10, asked page 2 at per_page 10" in str(out.error)
    assert len(out.records[stream]) == 10  # page 1 only, never twice


@pytest.mark.parametrize("status", [403, 401], ids=["wrong-pair", "unauthorized"])
def test_bad_credentials_fail_at_once_naming_the_settings(make_sandbox, status):
    sandbox = make_sandbox(calltracker_api=CallTrackerAPI(size=3))
    config = sandbox.calltracker_config(api_token="wrong-token")
    if status == 401:
        # What the edge answers when the header goes missing on the way
        # (https://developer.aircall.io/api-references/#errors).
        config = sandbox.calltracker_config()
        sandbox.faults.fail(
            401,
            times=None,
            api="calltracker",
            body=b'{"message":"Unauthorized"}',
            headers=JSON,
        )
    out = sync(TapCallTracker, config, expect_error=True)

    assert isinstance(out.error, AuthenticationError)
    assert "'api_id' and 'api_token'" in str(out.error)
    assert f"({status} on /v1/calls)" in str(out.error)
    assert "wrong-token" not in str(out.error)
    assert len(sandbox.requests_to("calltracker")) == 1  # no retries


def test_sandbox_answers_401_without_header_and_403_for_a_wrong_pair(make_sandbox):
    sandbox = make_sandbox(calltracker_api=CallTrackerAPI(size=3))
    url = f"{sandbox.calltracker_url}/ping"
    missing = requests.get(url, timeout=10)
    wrong = requests.get(url, auth=("ct-sandbox-api-id", "nope"), timeout=10)
    right = requests.get(url, auth=("ct-sandbox-api-id", "ct-sandbox-api-token"), timeout=10)

    assert (missing.status_code, missing.json()) == (401, {"message": "Unauthorized"})
    assert (wrong.status_code, wrong.json()) == (403, {"message": "Forbidden"})
    assert right.json() == {"ping": "pong"}


def test_a_failing_stream_leaves_finished_streams_state_emitted(sandbox):
    sandbox.faults.fail(500, times=None, api="calltracker", path="/tags")
    out = streams_sync(sandbox, {"calls", "tags"}, max_retries=0, expect_error=True)

    bookmarks = out.final_state["bookmarks"]
    newest = max(r["started_at"] for r in sandbox.calltracker.records["calls"])
    # Written as ISO-8601 UTC with microseconds.
    assert bookmarks["calls"]["replication_key_value"] == datetime.fromtimestamp(
        newest, tz=timezone.utc
    ).isoformat(timespec="microseconds")
