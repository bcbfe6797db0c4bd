"""Learn an API's request rate from its answers, for an API that publishes no budget headers.

OnePageCRM throttles per client IP with a sliding window (a leaky bucket: an average of
5 requests/s with bursts of 10) and answers a throttled request with a plain-text 403 and
no hint of how long to wait (https://developer.onepagecrm.com/api/ "Rate limiting", and
the improved-rack-throttle middleware it names, ``limiters/sliding_window.rb``). Several
jobs on one account share that budget, so the rate a tap may use is not known in advance.

``RateController`` finds it the way TCP finds a path's capacity:

* slow start: from the documented average, the rate grows by half with every accepted
  request until the first throttle answer (or the ceiling);
* on a throttle answer the rate is cut gently (x ``DECREASE``), and the rate at which the
  throttle came is remembered as the limit's estimate;
* then it grows back along a cubic curve (RFC 9438, CUBIC): quickly while far below the
  estimate, flat near it for a while, and faster again past it, probing for more room
  (the limit may have risen when another job stopped).

Plain halving (AIMD) averages about 75% of the limit; CUBIC's gentle cut and flat top
average over 90% with one throttle answer every ``RECOVERY_SECONDS`` or so.
"""

from __future__ import annotations

import threading
import typing as t

# Multiplier on a throttle answer (CUBIC's beta; RFC 9438 section 4.6 uses 0.7 for TCP,
# where a loss is costlier than a 403 that is simply retried).
DECREASE = 0.85
# Seconds to climb back to the rate of the last throttle (CUBIC's K). 12 s gave throttle
# answers in 5 of 42 s at 3 requests/s (benchmarks/limits.py); 20 s gave 3 of 42 there and
# the same wall times at 3, 10 and 20 requests/s.
RECOVERY_SECONDS = 20.0
# Slow start: each accepted request multiplies the rate by this (TCP doubles its window
# every round trip; here a request is the round trip). From 5/s, a few dozen requests
# reach hundreds per second, so an unthrottled sync loses well under a second.
SLOW_START_GROWTH = 1.5
# Never slower than this (requests/s): a stuck controller must still make progress.
FLOOR = 0.2
# Without a throttle the rate may grow, but not beyond this multiple of the rate the tap
# actually achieves (its requests may be slower than the pace): an estimate that was never
# tested is not evidence of room.
MAX_LEAD = 2.0
# Smoothing of the achieved rate (exponential moving average of request gaps).
GAP_SMOOTHING = 0.2


class RateController:
    """Requests per second to aim for, learned from accepted and throttled answers."""

    def __init__(self, initial: float, ceiling: float | None, clock: t.Callable[[], float]) -> None:
        self.ceiling = ceiling or None
        self._clock = clock
        self.rate = self._bounded(initial)
        self.slow_start = True
        self.limit_estimate: float | None = None  # CUBIC's W_max
        self._epoch_start: float | None = None  # time of the last cut
        self._gap: float | None = None  # smoothed seconds between requests
        self._last_sent: float | None = None
        self.throttles = 0
        self._lock = threading.Lock()

    # -- what the pacer asks ---------------------------------------------------------

    @property
    def interval(self) -> float:
        """Seconds between request starts at the current rate."""
        return 1.0 / self.rate

    def sent(self) -> None:
        """A request went out now: track the rate actually achieved."""
        at = self._clock()
        with self._lock:
            if self._last_sent is not None:
                gap = max(at - self._last_sent, 1e-6)
                self._gap = (
                    gap if self._gap is None else (self._gap + GAP_SMOOTHING * (gap - self._gap))
                )
            self._last_sent = at

    @property
    def achieved(self) -> float | None:
        """Requests per second actually sent lately, if measured."""
        return None if self._gap is None else 1.0 / self._gap

    # -- what the answers say ----------------------------------------------------------

    def accepted(self) -> None:
        """The API accepted a request: grow."""
        with self._lock:
            growing = self.rate * SLOW_START_GROWTH if self.slow_start else None
            rate = growing if growing is not None else self._cubic(self._clock())
            achieved = self.achieved
            if achieved is not None:
                rate = min(rate, max(self.rate, achieved * MAX_LEAD))
            self.rate = self._bounded(rate)

    def throttled(self) -> None:
        """The API refused a request for its rate: cut, and remember where the limit is."""
        with self._lock:
            self.throttles += 1
            # The rate the limit was met at: what was really sent, if slower than the aim.
            at_rate = self.rate
            if self.achieved is not None:
                at_rate = min(at_rate, self.achieved)
            if self.limit_estimate is not None and at_rate < self.limit_estimate:
                # Fast convergence (RFC 9438 section 4.7): the limit fell; let go of it.
                self.limit_estimate = at_rate * (1 + DECREASE) / 2
            else:
                self.limit_estimate = at_rate
            self.slow_start = False
            self.rate = self._bounded(at_rate * DECREASE)
            self._epoch_start = self._clock()

    # -- internals ---------------------------------------------------------------------

    def _cubic(self, at: float) -> float:
        """CUBIC's window curve, in requests/s: W(t) = C (t - K)^3 + W_max."""
        w_max = self.limit_estimate or self.rate
        start = self._epoch_start if self._epoch_start is not None else at
        k = RECOVERY_SECONDS
        c = w_max * (1 - DECREASE) / k**3
        return c * (at - start - k) ** 3 + w_max

    def _bounded(self, rate: float) -> float:
        rate = max(rate, FLOOR)
        if self.ceiling:
            rate = min(rate, self.ceiling)
        return rate

    def summary(self) -> str:
        """One phrase for the end-of-run log line."""
        if self.throttles == 0:
            return f"no throttle answer; last rate {self.rate:.1f} requests/s" + (
                f" (ceiling {self.ceiling:g})" if self.ceiling else ""
            )
        return (
            f"learned rate {self.rate:.1f} requests/s (throttled at about "
            f"{self.limit_estimate or 0:.1f}/s; {self.throttles} throttle answers)"
        )
