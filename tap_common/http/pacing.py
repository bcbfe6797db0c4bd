"""Client-side pacing: stay under an API's request budget instead of running into 429s.

One ``RequestPacer`` is shared by all streams of a tap, because both APIs count
requests per account (or per IP), not per endpoint.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

from tap_common.http.rate_control import RateController
from tap_common.messages import signals

logger = logging.getLogger(__name__)

# Waits at or above this length are announced once at INFO; shorter ones are routine.
NOTABLE_WAIT_SECONDS = 3.0


def sleep(seconds: float) -> None:
    """Sleep; a module-level indirection so tests can make waits instant. A termination
    signal already received stops the run first (``tap_common.messages.signals``)."""
    signals.GUARD.check()
    if seconds > 0:
        time.sleep(seconds)


def now() -> float:
    """Wall-clock time in seconds (rate-limit reset headers are wall-clock)."""
    return time.time()


def _clock() -> float:
    # Looked up at each call, so a test's replacement of ``now`` applies to the controller.
    return now()


@dataclass
class Budget:
    """What the API last said about its rate-limit window."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None  # unix seconds


class RequestPacer:
    """Space requests out so a sync stays within the API's budget.

    Three sources of pace, whichever asks for the longer wait:
    * ``max_requests_per_second`` (a setting): a hard ceiling on the rate.
    * a ``RateController`` (``learn_rate``), for an API that publishes no budget: the
      rate is learned from accepted and throttled answers (see ``rate_control``).
    * the budget headers the API sends: when ``remaining`` runs low the rest of the
      window's requests are spread over the time left, and at zero the pacer waits for
      the reset. When the headers come on throttle answers only, the limit and window
      they reveal are carried forward: once two resets have shown the window's length,
      each new window is assumed to hold ``limit`` requests, so a long sync runs at the
      limit without meeting the throttle at every window.
    """

    # Below this share of the window's limit, the pacer starts spreading requests.
    LOW_BUDGET_SHARE = 0.1

    def __init__(
        self,
        max_requests_per_second: float | None,
        max_wait: float,
        *,
        learn_rate: bool = False,
        initial_rate: float = 5.0,
    ) -> None:
        self.ceiling = max_requests_per_second or None
        self.min_interval = 1.0 / max_requests_per_second if max_requests_per_second else 0.0
        self.max_wait = max_wait
        self.controller = RateController(initial_rate, self.ceiling, _clock) if learn_rate else None
        self.budget = Budget()
        self.window: float | None = None  # seconds per budget window, once two resets show it
        self._last_reset: float | None = None
        self._last_request_at: float | None = None
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds spent pacing, over the whole run

    def observe(self, budget: Budget) -> None:
        """Record the budget the API reported on its latest response."""
        if budget.remaining is None:
            return
        with self._lock:
            if budget.limit is None:
                budget.limit = self.budget.limit
            reset = budget.reset_at
            if reset is not None and self._last_reset is not None:
                step = reset - self._last_reset
                if step >= 0.5 and (self.window is None or step < self.window - 0.25):
                    # Resets read as "seconds from now" carry the answer's latency;
                    # windows are whole seconds in practice (the call API's is a minute).
                    whole = round(step)
                    self.window = whole if abs(step - whole) < 0.05 else step
            if reset is not None:
                self._last_reset = reset
            self.budget = budget

    def accepted(self) -> None:
        """The API accepted the last request (for the learned rate)."""
        if self.controller is not None:
            self.controller.accepted()

    def throttled(self) -> float | None:
        """The API refused a request for its rate: the pause before trying again, if the
        learned rate has one (about one request interval at the new, lower rate)."""
        if self.controller is None:
            return None
        self.controller.throttled()
        return self.controller.interval

    def _roll_window(self, current: float) -> None:
        """Past the reset with no fresh headers: assume the next window's full budget."""
        budget = self.budget
        if (
            self.window
            and budget.limit
            and budget.reset_at is not None
            and current >= budget.reset_at
        ):
            windows = math.floor((current - budget.reset_at) / self.window) + 1
            self.budget = Budget(
                limit=budget.limit,
                remaining=budget.limit,
                reset_at=budget.reset_at + windows * self.window,
            )

    def wait_before_request(self) -> float:
        """How long to wait before the next request, in seconds (0 for none)."""
        current = now()
        self._roll_window(current)
        interval = self.min_interval
        if self.controller is not None:
            interval = max(interval, self.controller.interval)
        wait = 0.0
        if self._last_request_at is not None and interval:
            wait = self._last_request_at + interval - current
        budget = self.budget
        if budget.remaining is not None and budget.reset_at is not None:
            until_reset = budget.reset_at - current
            if until_reset > 0:
                if budget.remaining <= 0:
                    wait = max(wait, until_reset)
                elif budget.limit and budget.remaining < budget.limit * self.LOW_BUDGET_SHARE:
                    wait = max(wait, until_reset / (budget.remaining + 1))
        return min(max(wait, 0.0), self.max_wait)

    def before_request(self) -> float:
        """Block until the next request may go out; returns the seconds waited."""
        with self._lock:
            wait = self.wait_before_request()
            if wait >= NOTABLE_WAIT_SECONDS:
                logger.info(
                    "Pacing requests: waiting %.1f s for the API's rate-limit window to reset "
                    "(%s of %s requests left).",
                    wait,
                    self.budget.remaining,
                    self.budget.limit,
                )
            sleep(wait)
            self.waited += max(wait, 0.0)
            self._count_request()
            return max(wait, 0.0)

    def due_now(self) -> bool:
        """Whether a request may go out now without waiting (a request sent ahead of its
        turn, ``tap_common.http.fetch_ahead``, goes only then)."""
        with self._lock:
            return self.wait_before_request() <= 0

    def sent_ahead(self) -> None:
        """Count a request that went out ahead of its turn (``due_now`` said it could)."""
        with self._lock:
            self._count_request()

    def _count_request(self) -> None:
        if self.budget.remaining is not None:
            # Count our own request so a burst between responses cannot overrun.
            self.budget.remaining -= 1
        self._last_request_at = now()
        if self.controller is not None:
            self.controller.sent()

    def summary(self) -> str | None:
        """One line about the rate, for the end of the run (None when nothing to say)."""
        if self.controller is not None:
            return f"Request rate: {self.controller.summary()}."
        if self.budget.limit and self.window:
            return (
                f"Request rate: paced to the API's budget of {self.budget.limit} requests "
                f"per {self.window:.1f} s."
            )
        return None
