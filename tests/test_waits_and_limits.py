"""Waits and limits: every wait the API asks for, the CRM's learned rate, the call API's
reset header in any form, and the progress lines."""

from __future__ import annotations

import email.utils
import logging
import math
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox_api import CRMAPI, CallTrackerAPI
from sandbox_api.faults import Fault, SlidingWindowLimit
from sandbox_api.rate_headers import RESET_FORMS, RateHeaders
from tap_calltracker.client import reset_to_unix
from tap_calltracker.tap import TapCallTracker
from tap_common.http import pacing, rate_control
from tap_common.http.errors import RateLimitExhaustedError
from tap_common.http.pacing import Budget, RequestPacer
from tap_common.http.rate_control import RateController
from tap_common.state import progress
from tap_common.state.progress import StreamProgress
from tap_crm.tap import TapCRM
from tests.singer_io import catalog_selecting, sync

# -- helpers -------------------------------------------------------------------------------


def crm_sync(sandbox, streams, *, expect_error=False, **settings):
    config = sandbox.crm_config(page_size=10, **settings)
    return sync(
        TapCRM,
        config,
        catalog=catalog_selecting(TapCRM, config, streams),
        expect_error=expect_error,
    )


def calls_sync(sandbox, streams, *, expect_error=False, **settings):
    config = sandbox.calltracker_config(page_size=10, **settings)
    return sync(
        TapCallTracker,
        config,
        catalog=catalog_selecting(TapCallTracker, config, streams),
        expect_error=expect_error,
    )


def statuses(sandbox, api):
    return [r.status for r in sandbox.requests_to(api)]


def assert_every_record_once(out, expected, stream):
    ids = out.ids(stream)
    assert sorted(ids) == sorted(r["id"] for r in expected)
    assert out.duplicates(stream) == []


# -- every wait the API asks for, on any status ---------------------------------------------


@pytest.mark.parametrize("tap", ["crm", "calltracker"])
def test_a_20_s_outage_with_retry_after_is_waited_out_mid_sync(make_sandbox, no_sleep, tap):
    """503 with Retry-After: 20 for 20 s (four answers asking 5 s, then one asking 20 s):
    waited as asked, max_retries untouched (0), every record once."""
    if tap == "crm":
        sandbox = make_sandbox(crm_api=CRMAPI(size=30))
        path, streams, api = "/deals", {"contacts", "deals"}, "crm"
    else:
        sandbox = make_sandbox(calltracker_api=CallTrackerAPI(size=30))
        path, streams, api = "/users", {"calls", "users"}, "calltracker"
    sandbox.faults.add(
        Fault("status", status=503, times=4, api=api, path=path, headers={"Retry-After": "5"})
    )
    sandbox.faults.add(
        Fault("status", status=503, times=1, api=api, path=path, headers={"Retry-After": "20"})
    )
    run = crm_sync if tap == "crm" else calls_sync
    out = run(sandbox, streams, max_retries=0)

    assert no_sleep.count(5.0) == 4
    assert no_sleep.count(20.0) == 1
    assert statuses(sandbox, api).count(503) == 5
    data = sandbox.crm if tap == "crm" else sandbox.calltracker
    for stream in streams:
        assert_every_record_once(out, data.expected(stream), stream)


def test_retry_after_as_an_http_date_on_503_is_honoured(sandbox, no_sleep, monkeypatch):
    monkeypatch.setattr(pacing, "now", lambda: 1_800_000_000.0)
    when = email.utils.formatdate(1_800_000_042, usegmt=True)
    sandbox.faults.add(Fault("status", status=503, times=1, headers={"Retry-After": when}))
    out = crm_sync(sandbox, {"contacts"}, max_retries=0)

    assert len(out.records["contacts"]) == 25
    assert 42.0 in no_sleep


@pytest.mark.parametrize("tap", ["crm", "calltracker"])
def test_408_once_and_425_once_are_retried(make_sandbox, no_sleep, tap):
    sandbox = make_sandbox(crm_api=CRMAPI(size=25), calltracker_api=CallTrackerAPI(size=25))
    api = tap
    sandbox.faults.fail(408, times=1, api=api, body=b"", headers={"Content-Type": "text/html"})
    sandbox.faults.fail(425, times=1, api=api)
    run, stream = (crm_sync, "contacts") if tap == "crm" else (calls_sync, "calls")
    out = run(sandbox, {stream})

    assert statuses(sandbox, api)[:3] == [408, 425, 200]
    assert len(out.records[stream]) == 25


def test_a_wait_longer_than_the_cap_waits_the_cap_then_asks_again(sandbox, no_sleep, caplog):
    sandbox.faults.add(Fault("status", status=503, times=1, headers={"Retry-After": "1000"}))
    with caplog.at_level(logging.INFO):
        out = crm_sync(sandbox, {"contacts"}, max_rate_limit_wait=300, max_retries=0)

    assert len(out.records["contacts"]) == 25
    assert no_sleep.count(300.0) == 1
    assert any("the API asked 1000 s" in r.getMessage() for r in caplog.records)


def test_an_outage_longer_than_the_total_fails_in_one_line_saying_how_long_was_asked(
    sandbox, no_sleep
):
    sandbox.faults.add(Fault("status", status=503, times=None, headers={"Retry-After": "600"}))
    out = crm_sync(sandbox, {"contacts"}, expect_error=True)

    assert isinstance(out.error, RateLimitExhaustedError)
    message = str(out.error)
    assert "asked to wait 600 s more after 900 s" in message
    assert "max_rate_limit_wait_total" in message
    assert no_sleep.count(300.0) == 3  # capped at 300 s each; a 4th would pass 900 s
    assert "\n" not in message


def test_max_rate_limit_retries_is_accepted_ignored_and_warned_about(sandbox, no_sleep, caplog):
    sandbox.faults.add(Fault("status", status=429, times=3, headers={"Retry-After": "1"}))
    with caplog.at_level(logging.WARNING):
        out = crm_sync(sandbox, {"contacts"}, max_rate_limit_retries=1)

    assert len(out.records["contacts"]) == 25  # 3 rate limits in a row: not a count limit
    assert any("max_rate_limit_retries" in r.getMessage() for r in caplog.records)


# -- the call API's reset header in any form -----------------------------------------------


@settings(deadline=None, derandomize=True, max_examples=50)
@given(
    current=st.floats(min_value=1.5e9, max_value=4e9),
    offset=st.floats(min_value=0.0, max_value=3600.0),
)
def test_reset_is_read_as_seconds_milliseconds_or_seconds_from_now(current, offset):
    reset_at = current + offset
    assert reset_to_unix(reset_at, current) == pytest.approx(reset_at)
    assert reset_to_unix(reset_at * 1000, current) == pytest.approx(reset_at)
    assert reset_to_unix(offset, current) == pytest.approx(reset_at)


@pytest.mark.waits
@pytest.mark.parametrize("form", RESET_FORMS)
def test_headers_on_429_only_in_each_reset_form_complete_near_the_limit(make_sandbox, form):
    """20 requests per 2 s, X-AircallApi-* on throttle answers only: complete, close to
    the ideal time, and the window the 429s reveal is used to pace."""
    sandbox = make_sandbox(calltracker_api=CallTrackerAPI(size=5, sizes={"calls": 590}))
    sandbox.calltracker.rate_headers = RateHeaders(on_429_only=True, reset_form=form)
    limit, window = 20, 2.0
    time.sleep(window - time.time() % window)  # start at a window boundary
    sandbox.faults.rate_limit(limit=limit, window=window, api="calltracker")
    started = time.time()
    out = calls_sync(sandbox, {"calls"})
    elapsed = time.time() - started

    assert_every_record_once(out, sandbox.calltracker.expected("calls"), "calls")
    pages = statuses(sandbox, "calltracker").count(200)
    # 59 pages of 10; re-anchoring on creation seconds re-reads a few (tap_calltracker.pagination).
    assert 59 <= pages <= 72
    ideal = math.ceil(pages / limit) * window - window  # the last window is only started
    assert elapsed <= ideal * 1.5 + 1.0  # generous: the machine is shared
    # After two resets the window is known and paced: far fewer 429s than windows.
    assert statuses(sandbox, "calltracker").count(429) <= 3


def test_pacer_carries_the_limit_and_window_that_throttle_answers_reveal(monkeypatch):
    clock = {"now": 1_000.0}
    monkeypatch.setattr(pacing, "now", lambda: clock["now"])
    monkeypatch.setattr(pacing, "sleep", lambda s: clock.__setitem__("now", clock["now"] + s))
    pacer = RequestPacer(max_requests_per_second=None, max_wait=60)
    pacer.observe(Budget(limit=20, remaining=0, reset_at=1_002.0))
    pacer.observe(Budget(limit=20, remaining=0, reset_at=1_004.0))
    assert pacer.window == 2.0

    clock["now"] = 1_004.5
    sent = []
    for _ in range(21):
        pacer.before_request()
        sent.append(clock["now"])
    # 20 requests fit the window that began at 1004 (the last few spread over what is
    # left of it); the 21st waits for the next one, at 1006.
    assert sent[:18] == [pytest.approx(1_004.5)] * 18
    assert all(at < 1_006.0 for at in sent[:20])
    assert sent[20] == pytest.approx(1_006.0)


# -- the CRM's rate, learned ---------------------------------------------------------------


def simulate(limit: float, requests: int, service: float = 0.005) -> tuple[float, int, set]:
    """The controller against the CRM's leaky bucket (burst 2 x average), in virtual time:
    (seconds, throttle answers, seconds that saw one)."""
    clock = [0.0]
    controller = RateController(5.0, None, lambda: clock[0])
    bucket = SlidingWindowLimit(limit, int(2 * limit))
    level, touched = 0.0, 0.0
    done, throttles, seconds = 0, 0, set()
    last_sent = None
    while done < requests:
        if last_sent is not None:
            clock[0] = max(clock[0], last_sent + controller.interval)
        last_sent = clock[0]
        controller.sent()
        # The same arithmetic as SlidingWindowLimit.take, on the virtual clock.
        level = min(max(level - (clock[0] - touched) * limit, 0.0) + 1, bucket.burst)
        touched = clock[0]
        clock[0] += service
        if level < bucket.burst:
            controller.accepted()
            done += 1
        else:
            controller.throttled()
            throttles += 1
            seconds.add(int(clock[0]))
            clock[0] += controller.interval
            last_sent = None
    return clock[0], throttles, seconds


@settings(deadline=None, derandomize=True, max_examples=25)
@given(limit=st.floats(min_value=2.0, max_value=20.0))
def test_learned_rate_meets_the_targets_under_an_unknown_limit(limit):
    requests = int(limit * 120)  # two minutes at the limit
    seconds, _, throttled_seconds = simulate(limit, requests)

    assert seconds <= 1.2 * requests / limit + 2
    assert len(throttled_seconds) <= seconds / 10


def test_controller_grows_without_throttles_and_respects_the_ceiling():
    clock = [0.0]
    free = RateController(5.0, None, lambda: clock[0])
    capped = RateController(5.0, 8.0, lambda: clock[0])
    for _ in range(30):
        clock[0] += 0.01
        for controller in (free, capped):
            controller.sent()
            controller.accepted()
    assert free.rate > 50
    assert capped.rate == 8.0


def test_sandbox_sliding_window_refuses_past_the_burst_and_recovers(monkeypatch):
    clock = {"now": 100.0}
    monkeypatch.setattr("sandbox_api.faults.time.time", lambda: clock["now"])
    bucket = SlidingWindowLimit(average=5, burst=10)
    answers = [bucket.take("crm")[0] for _ in range(10)]
    assert answers == [True] * 9 + [False]  # the request that fills the bucket is refused
    clock["now"] += 0.1  # half a request drained: still full
    assert bucket.take("crm")[0] is False
    clock["now"] += 0.2  # one interval at the average
    assert bucket.take("crm")[0] is True


@pytest.mark.waits
def test_crm_sync_under_its_sliding_window_throttle_learns_the_rate(make_sandbox, caplog):
    sandbox = make_sandbox(crm_api=CRMAPI(size=5, sizes={"contacts": 1500}))
    limit = 20
    sandbox.faults.sliding_window(average=limit, burst=2 * limit, api="crm")
    with caplog.at_level(logging.INFO):
        out = crm_sync(sandbox, {"contacts"}, max_requests_per_second=None)

    assert_every_record_once(out, sandbox.crm.expected("contacts"), "contacts")
    requests = sandbox.requests_to("crm")
    ok = [r for r in requests if r.status == 200]
    assert len(ok) >= 150
    elapsed = requests[-1].at - requests[0].at
    assert elapsed <= 2.0 * len(ok) / limit + 3  # generous: the machine is shared
    throttled = [r for r in requests if r.status == 403]
    assert len({int(r.at) for r in throttled}) <= elapsed / 5 + 1
    assert any("Request rate: learned rate" in r.getMessage() for r in caplog.records)


@pytest.mark.waits
def test_a_short_crm_sync_reaches_an_unknown_10_per_s_throttle_in_its_first_seconds(
    make_sandbox,
):
    """80 pages from a cold start (the rate starts at the documented 5/s): the slow start
    must find the 10/s limit within the first seconds, so the whole sync takes no more
    than 1.2 x pages / limit, with few throttle answers (benchmarks/limits.py
    --first-seconds measures the same with a tap process)."""
    sandbox = make_sandbox(crm_api=CRMAPI(size=5, sizes={"contacts": 800}))
    limit = 10
    sandbox.faults.sliding_window(average=limit, burst=2 * limit, api="crm")
    out = crm_sync(sandbox, {"contacts"}, max_requests_per_second=None)

    assert_every_record_once(out, sandbox.crm.expected("contacts"), "contacts")
    requests = sandbox.requests_to("crm")
    ok = [r for r in requests if r.status == 200]
    assert len(ok) >= 80
    elapsed = requests[-1].at - requests[0].at
    assert elapsed <= 1.2 * len(ok) / limit
    assert len([r for r in requests if r.status == 403]) <= 16


# -- progress lines --------------------------------------------------------------------------


def test_progress_lines_report_records_total_rate_and_the_end(sandbox, monkeypatch, caplog):
    monkeypatch.setattr(progress, "INTERVAL_SECONDS", 0.0)
    sandbox.faults.throttle(times=1, path="/contacts")
    with caplog.at_level(logging.INFO):
        crm_sync(sandbox, {"contacts"})

    lines = [r.getMessage() for r in caplog.records]
    progress_lines = [m for m in lines if m.startswith("Progress of 'contacts'")]
    assert progress_lines[0].startswith("Progress of 'contacts': 0 records so far of 25 announced")
    assert any("10 records so far of 25 announced" in m for m in progress_lines)
    assert all("requests/s" in m for m in progress_lines)
    assert any("left at this rate" in m for m in progress_lines[1:])
    finished = [m for m in lines if m.startswith("Finished 'contacts'")]
    assert len(finished) == 1
    assert "25 records in 4 requests, 1 throttled answers" in finished[0]


def test_a_capped_total_is_said_to_be_a_lower_bound(caplog, monkeypatch):
    monkeypatch.setattr(progress, "INTERVAL_SECONDS", 0.0)
    line = StreamProgress("calls", logging.getLogger("test"))
    with caplog.at_level(logging.INFO):
        line.first_page(10_000, lower_bound=True)
        line.requested()
        line.record()
    assert "of at least 10,000 announced" in caplog.records[0].getMessage()
    assert "at least" in caplog.records[-1].getMessage()
    assert "left at this rate" in caplog.records[-1].getMessage()


def test_progress_interval_is_a_module_constant():
    assert progress.INTERVAL_SECONDS == 30.0
    assert rate_control.DECREASE < 1
