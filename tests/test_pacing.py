"""The request pacer: a fixed rate cap, and spreading the budget the API reports."""

from __future__ import annotations

import pytest

from tap_common.http import pacing
from tap_common.http.pacing import Budget, RequestPacer


@pytest.fixture
def clock(monkeypatch):
    """A fake clock that advances only when the pacer sleeps."""
    state = {"now": 1_000_000.0, "slept": []}

    def sleep(seconds: float) -> None:
        state["slept"].append(seconds)
        state["now"] += seconds

    monkeypatch.setattr(pacing, "now", lambda: state["now"])
    monkeypatch.setattr(pacing, "sleep", sleep)
    return state


def test_rate_cap_spaces_requests_evenly(clock):
    pacer = RequestPacer(max_requests_per_second=4, max_wait=60)
    for _ in range(5):
        pacer.before_request()

    assert clock["slept"] == [0.0, 0.25, 0.25, 0.25, 0.25]


def test_no_cap_and_no_headers_never_waits(clock):
    pacer = RequestPacer(max_requests_per_second=None, max_wait=60)
    for _ in range(100):
        pacer.before_request()

    assert set(clock["slept"]) == {0.0}


def test_exhausted_budget_waits_until_the_window_resets(clock):
    pacer = RequestPacer(max_requests_per_second=None, max_wait=60)
    pacer.observe(Budget(limit=60, remaining=0, reset_at=clock["now"] + 42))
    pacer.before_request()

    assert clock["slept"] == [42]


def test_low_budget_is_spread_over_the_time_left(clock):
    pacer = RequestPacer(max_requests_per_second=None, max_wait=60)
    pacer.observe(Budget(limit=100, remaining=3, reset_at=clock["now"] + 8))
    pacer.before_request()

    assert clock["slept"] == [2.0]  # 8 s left for 3 requests: one every 2 s


def test_plenty_of_budget_does_not_slow_down(clock):
    pacer = RequestPacer(max_requests_per_second=None, max_wait=60)
    pacer.observe(Budget(limit=100, remaining=50, reset_at=clock["now"] + 30))
    pacer.before_request()

    assert clock["slept"] == [0.0]


def test_requests_between_responses_count_against_the_budget(clock):
    pacer = RequestPacer(max_requests_per_second=None, max_wait=60)
    pacer.observe(Budget(limit=10, remaining=1, reset_at=clock["now"] + 5))
    pacer.before_request()  # uses the last request of the window
    pacer.before_request()  # no response seen since: must wait for the reset

    assert clock["slept"][-1] == pytest.approx(5 - clock["slept"][0])


def test_waits_are_capped(clock):
    pacer = RequestPacer(max_requests_per_second=None, max_wait=10)
    pacer.observe(Budget(limit=60, remaining=0, reset_at=clock["now"] + 3600))
    pacer.before_request()

    assert clock["slept"] == [10]
