"""Client-side pacing: stay under an API's request budget instead of running into 429s.

One ``RequestPacer`` is shared by all streams of a tap, because both APIs count
requests per account (or per IP), not per endpoint.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

logger = logging.getLogger(__name__)

# Waits at or above this length are announced once at INFO; shorter ones are routine.
NOTABLE_WAIT_SECONDS = 3.0


def sleep(seconds: float) -> None:
    """Sleep; a module-level indirection so tests can make waits instant."""
    if seconds > 0:
        time.sleep(seconds)


def now() -> float:
    """Wall-clock time in seconds (rate-limit reset headers are wall-clock)."""
    return time.time()


@dataclass
class Budget:
    """What the API last said about its rate-limit window."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None  # unix seconds


class RequestPacer:
    """Space requests out so a sync stays within the API's budget.

    Two sources of pace, whichever asks for the longer wait:
    * ``max_requests_per_second`` (a setting): a fixed minimum interval, for APIs that
      publish no rate-limit headers.
    * the budget headers of the last response: when ``remaining`` runs low the rest of
      the window's requests are spread over the time left, and at zero the pacer waits
      for the reset. A long sync then runs close to N requests per window with few or
      no 429s.
    """

    # Below this share of the window's limit, the pacer starts spreading requests.
    LOW_BUDGET_SHARE = 0.1

    def __init__(self, max_requests_per_second: float | None, max_wait: float) -> None:
        self.min_interval = 1.0 / max_requests_per_second if max_requests_per_second else 0.0
        self.max_wait = max_wait
        self.budget = Budget()
        self._last_request_at: float | None = None
        self._lock = threading.Lock()

    def observe(self, budget: Budget) -> None:
        """Record the budget the API reported on its latest response."""
        if budget.remaining is not None:
            self.budget = budget

    def wait_before_request(self) -> float:
        """How long to wait before the next request, in seconds (0 for none)."""
        current = now()
        wait = 0.0
        if self._last_request_at is not None and self.min_interval:
            wait = self._last_request_at + self.min_interval - current
        budget = self.budget
        if budget.remaining is not None and budget.reset_at is not None:
            until_reset = budget.reset_at - current
            if until_reset > 0:
                if budget.remaining <= 0:
                    wait = max(wait, until_reset)
                elif budget.limit and budget.remaining < budget.limit * self.LOW_BUDGET_SHARE:
                    wait = max(wait, until_reset / (budget.remaining + 1))
        return min(max(wait, 0.0), self.max_wait)

    def before_request(self) -> None:
        """Block until the next request may go out."""
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
            if self.budget.remaining is not None:
                # Count our own request so a burst between responses cannot overrun.
                self.budget.remaining -= 1
            self._last_request_at = now()
