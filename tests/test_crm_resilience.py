"""tap-crm under faults: retries, rate limits, clear errors, nothing lost, no secret leaked."""

from __future__ import annotations

import json
import logging

import pytest
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from sandbox_api import CRMAPI
from sandbox_api.faults import Fault
from tap_common.http.errors import (
    AuthenticationError,
    PaginationError,
    RateLimitExhaustedError,
    UnexpectedResponseError,
)
from tap_crm.tap import TapCRM
from tests.singer_io import catalog_selecting, sync


def contacts_sync(sandbox, *, expect_error: bool = False, **settings):
    config = sandbox.crm_config(page_size=10, **settings)
    return sync(
        TapCRM,
        config,
        catalog=catalog_selecting(TapCRM, config, {"contacts"}),
        expect_error=expect_error,
    )


def statuses(sandbox) -> list[int]:
    return [r.status for r in sandbox.requests_to("crm")]


# -- retries -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_and_nothing_is_lost(sandbox, status):
    sandbox.faults.fail(status, times=3)
    out = contacts_sync(sandbox)

    assert statuses(sandbox)[:4] == [status, status, status, 200]
    assert sorted(out.ids("contacts")) == sorted(r["id"] for r in sandbox.crm.records["contacts"])


def test_server_errors_past_the_retry_budget_fail_with_the_status_and_path(sandbox):
    sandbox.faults.fail(503, times=None)
    out = contacts_sync(sandbox, max_retries=2, expect_error=True)

    assert isinstance(out.error, RetriableAPIError)
    assert "503" in str(out.error)
    assert "/contacts" in str(out.error)
    assert statuses(sandbox) == [503, 503, 503]  # first try + 2 retries


def test_retry_waits_grow_exponentially_by_the_backoff_factor(sandbox, no_sleep):
    sandbox.faults.fail(500, times=3)
    contacts_sync(sandbox, backoff_factor=2)

    assert no_sleep.retries == [2, 4, 8]


def test_truncated_body_is_retried(sandbox):
    sandbox.faults.truncate(times=2, path="/contacts")
    out = contacts_sync(sandbox)

    assert len(out.records["contacts"]) == 25
    assert out.duplicates("contacts") == []


def test_body_that_is_not_json_is_retried(sandbox):
    sandbox.faults.garbage(times=2)
    out = contacts_sync(sandbox)

    assert len(out.records["contacts"]) == 25


def test_body_that_stays_broken_fails_with_a_clear_message(sandbox):
    sandbox.faults.garbage(times=None)
    out = contacts_sync(sandbox, max_retries=1, expect_error=True)

    assert "not valid JSON" in str(out.error)
    assert "/contacts" in str(out.error)


@pytest.mark.waits
def test_slow_response_past_the_timeout_is_retried(sandbox):
    sandbox.faults.slow(seconds=2.5, times=1)
    out = contacts_sync(sandbox, request_timeout=1)

    assert len(out.records["contacts"]) == 25
    assert out.duplicates("contacts") == []


# -- rate limits -----------------------------------------------------------------------------


def test_429_waits_as_long_as_retry_after_says_without_spending_retries(sandbox, no_sleep):
    sandbox.faults.add(Fault("status", status=429, times=5, headers={"Retry-After": "7"}))
    out = contacts_sync(sandbox, max_retries=0)

    assert len(out.records["contacts"]) == 25
    assert no_sleep.count(7.0) == 5


def test_retry_after_is_capped_by_max_rate_limit_wait(sandbox, no_sleep):
    sandbox.faults.add(Fault("status", status=429, times=1, headers={"Retry-After": "3600"}))
    contacts_sync(sandbox, max_rate_limit_wait=30)

    assert max(no_sleep) == 30


def test_endless_rate_limiting_gives_up_after_the_total_wait_with_a_clear_message(
    sandbox, no_sleep
):
    sandbox.faults.add(Fault("status", status=429, times=None, headers={"Retry-After": "2"}))
    out = contacts_sync(sandbox, max_rate_limit_wait_total=7, expect_error=True)

    assert isinstance(out.error, RateLimitExhaustedError)
    assert "max_rate_limit_wait_total" in str(out.error)
    assert "asked to wait 2 s more after 6 s" in str(out.error)
    assert no_sleep.count(2.0) == 3  # 3 waits of 2 s; a 4th would pass 7 s
    assert len(sandbox.requests_to("crm")) == 4


def test_plain_text_403_is_the_crm_throttle_and_is_waited_out(sandbox, no_sleep):
    sandbox.faults.throttle(times=2)
    out = contacts_sync(sandbox, max_retries=0)

    assert statuses(sandbox)[:3] == [403, 403, 200]
    assert len(out.records["contacts"]) == 25
    # No hint and no learned rate (the sandbox config sets max_requests_per_second: 0):
    # the pause is backoff_factor.
    assert no_sleep.count(0.01) == 2


def test_json_403_is_a_permission_error_not_retried(sandbox):
    body = json.dumps(
        {
            "status": 403,
            "message": "Forbidden",
            "error_name": "forbidden",
            "error_message": "Your plan does not include API access.",
            "errors": {},
        }
    ).encode()
    sandbox.faults.add(
        Fault(
            "status",
            status=403,
            times=None,
            body=body,
            headers={"Content-Type": "application/json"},
        )
    )
    out = contacts_sync(sandbox, expect_error=True)

    assert isinstance(out.error, FatalAPIError)
    assert "Your plan does not include API access." in str(out.error)
    assert len(sandbox.requests_to("crm")) == 1


def test_long_wait_is_logged_once_at_info_not_as_errors(sandbox, no_sleep, caplog):
    sandbox.faults.add(Fault("status", status=429, times=1, headers={"Retry-After": "12"}))
    with caplog.at_level(logging.DEBUG):
        contacts_sync(sandbox)

    waits = [r for r in caplog.records if "waiting 12.0 s" in r.getMessage()]
    assert len(waits) == 1
    assert waits[0].levelno == logging.INFO
    assert "429" in waits[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.waits
def test_pacing_keeps_a_limited_sync_close_to_the_limit_with_few_throttles(make_sandbox):
    sandbox = make_sandbox(crm_api=CRMAPI(size=5, sizes={"filters": 300}))
    window, limit = 0.5, 10
    sandbox.faults.rate_limit(limit=limit, window=window)
    config = sandbox.crm_config(page_size=10, max_requests_per_second=limit / window)
    out = sync(TapCRM, config, catalog=catalog_selecting(TapCRM, config, {"filters"}))

    requests = sandbox.requests_to("crm")
    throttled = [r for r in requests if r.status == 403]
    ok = [r for r in requests if r.status == 200]
    assert len(out.records["filters"]) == 300
    # 30 pages, and one more after the full page at max_page (a stale max_page loses nothing).
    assert len(ok) == 31
    elapsed = requests[-1].at - requests[0].at
    windows = elapsed / window + 1
    assert len(throttled) <= windows  # at most one refusal per window
    assert elapsed <= 1.5 * (31 / limit) * window  # close to the limit's pace


# -- clear errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 404, 422])
def test_other_client_errors_fail_with_status_path_and_api_message(sandbox, status):
    sandbox.faults.fail(status, times=None, path="/contacts")
    out = contacts_sync(sandbox, expect_error=True)

    message = str(out.error)
    assert isinstance(out.error, FatalAPIError)
    assert message.startswith(f"{status} ")
    assert "/api/v3/contacts" in message
    assert "Request failed." in message  # the API's own error_message
    assert len(sandbox.requests_to("crm")) == 1


def test_missing_data_envelope_stops_the_stream_clearly(sandbox):
    sandbox.faults.add(
        Fault(
            "status",
            status=200,
            times=None,
            body=b'{"status":0,"message":"OK"}',
            headers={"Content-Type": "application/json"},
        )
    )
    out = contacts_sync(sandbox, expect_error=True)

    assert isinstance(out.error, UnexpectedResponseError)
    assert "no 'data' key" in str(out.error)
    assert "contacts" not in out.records


def test_a_list_where_an_object_belongs_stops_the_stream_clearly(sandbox):
    body = b'{"status":0,"message":"OK","timestamp":1,"data":[{"user_id":"x"}]}'
    sandbox.faults.add(
        Fault(
            "status",
            status=200,
            times=None,
            body=body,
            path="/bootstrap",
            headers={"Content-Type": "application/json"},
        )
    )
    config = sandbox.crm_config()
    out = sync(
        TapCRM, config, catalog=catalog_selecting(TapCRM, config, {"bootstrap"}), expect_error=True
    )

    assert isinstance(out.error, UnexpectedResponseError)
    assert "expected 'data' to be one object" in str(out.error)


def filters_sync(sandbox, *, expect_error: bool = False):
    """A plainly page-numbered stream (no modified_since to re-anchor on)."""
    config = sandbox.crm_config(page_size=10)
    return sync(
        TapCRM,
        config,
        catalog=catalog_selecting(TapCRM, config, {"filters"}),
        expect_error=expect_error,
    )


def test_a_paginator_that_never_ends_is_stopped(sandbox):
    sandbox.faults.loop_pages(path="/filters")
    out = filters_sync(sandbox, expect_error=True)

    assert isinstance(out.error, PaginationError)
    assert "repeats the previous page" in str(out.error)
    assert len(sandbox.requests_to("crm")) == 2
    assert out.duplicates("filters") == []


def test_a_looping_api_cannot_make_an_incremental_stream_loop_or_repeat(sandbox):
    sandbox.faults.loop_pages(path="/contacts")
    out = contacts_sync(sandbox)

    # Re-anchored paging reaches the newest record, whatever the page metadata claims.
    assert sorted(out.ids("contacts")) == sorted(r["id"] for r in sandbox.crm.records["contacts"])
    assert len(sandbox.requests_to("crm")) <= 5


def test_a_page_answered_for_a_different_page_number_is_refused(sandbox):
    sandbox.faults.edit(set_query={"page": "1"}, api="crm")  # answers page 1 to every ask
    out = filters_sync(sandbox, expect_error=True)

    assert isinstance(out.error, PaginationError)
    assert "asked /api/v3/filters for page 2, the API answered page 1" in str(out.error)
    assert out.duplicates("filters") == []


def test_wrong_credentials_fail_without_retries(sandbox):
    out = contacts_sync(sandbox, password="nope", expect_error=True)

    assert isinstance(out.error, AuthenticationError)
    assert statuses(sandbox) == [401]


def test_a_failing_stream_leaves_finished_streams_state_emitted(sandbox):
    sandbox.faults.fail(500, times=None, path="/deals")
    config = sandbox.crm_config(max_retries=0)
    out = sync(
        TapCRM,
        config,
        catalog=catalog_selecting(TapCRM, config, {"actions", "calls", "deals"}),
        expect_error=True,
    )

    bookmarks = out.final_state["bookmarks"]
    for finished in ("actions", "calls"):
        newest = max(r["modified_at"] for r in sandbox.crm.records[finished])
        # Written as ISO-8601 UTC with microseconds.
        assert bookmarks[finished]["replication_key_value"] == newest.replace("Z", ".000000+00:00")
