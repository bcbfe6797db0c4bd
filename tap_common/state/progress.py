"""Progress lines a user can plan by: how far a stream is, how fast it goes, how long is left.

A first sync of a large account can take hours at the API's rate limit. Each stream logs
one INFO line when its first page arrives, one every ``INTERVAL_SECONDS`` after that, and
one when it ends.
"""

from __future__ import annotations

import logging
import time

# Seconds between two progress lines of a stream (tests shorten it).
INTERVAL_SECONDS = 30.0


def clock() -> float:
    """Monotonic seconds; a module-level indirection so tests can move time."""
    return time.monotonic()


class StreamProgress:
    """Counters of one stream's sync and the lines that report them."""

    def __init__(self, stream: str, logger: logging.Logger | logging.LoggerAdapter) -> None:
        self.stream = stream
        self.logger = logger
        self.started = clock()
        self.records = 0
        self.requests = 0
        self.throttles = 0
        self.seconds_waited = 0.0
        self.total: int | None = None
        self.total_is_lower_bound = False
        self.announced = False
        self._last_line_at = self.started
        self._last_line_requests = 0
        self._last_line_records = 0

    # -- counting --------------------------------------------------------------------

    def requested(self) -> None:
        self.requests += 1

    def throttled(self) -> None:
        self.throttles += 1

    def waited(self, seconds: float) -> None:
        self.seconds_waited += max(seconds, 0.0)

    def first_page(self, total: int | None, lower_bound: bool = False) -> None:
        """The stream's first answer: the total it announces (if any), and the first line."""
        if self.announced:
            return
        self.announced = True
        self.total = total
        self.total_is_lower_bound = lower_bound
        self._log_line()

    def record(self) -> None:
        self.records += 1
        if self.announced and clock() - self._last_line_at >= INTERVAL_SECONDS:
            self._log_line()

    # -- lines -----------------------------------------------------------------------

    def _log_line(self) -> None:
        at = clock()
        span = at - self._last_line_at
        if span > 0 and self.requests > self._last_line_requests:
            request_rate = (self.requests - self._last_line_requests) / span
            record_rate = (self.records - self._last_line_records) / span
        else:  # the first line: the rate so far
            elapsed = max(at - self.started, 1e-9)
            request_rate = self.requests / elapsed
            record_rate = self.records / elapsed
        self.logger.info(
            "Progress of '%s': %s records so far%s; %.1f requests/s%s.",
            self.stream,
            f"{self.records:,}",
            self._total_phrase(),
            request_rate,
            self._time_left_phrase(record_rate),
        )
        self._last_line_at = at
        self._last_line_requests = self.requests
        self._last_line_records = self.records

    def _total_phrase(self) -> str:
        if self.total is None:
            return " (the API announced no total)"
        prefix = "at least " if self.total_is_lower_bound else ""
        return f" of {prefix}{self.total:,} announced"

    def _time_left_phrase(self, record_rate: float) -> str:
        if self.total is None or self.records == 0 or record_rate <= 0:
            return ""
        left = max(self.total - self.records, 0) / record_rate
        prefix = "at least " if self.total_is_lower_bound else "about "
        return f", {prefix}{format_duration(left)} left at this rate"

    def finish(self) -> None:
        """The stream's last line: what it took."""
        self.logger.info(
            "Finished '%s': %s records in %s requests, %d throttled answers, %.1f s waited, "
            "%.1f s in all.",
            self.stream,
            f"{self.records:,}",
            f"{self.requests:,}",
            self.throttles,
            self.seconds_waited,
            clock() - self.started,
        )


def format_duration(seconds: float) -> str:
    """``42 s``, ``12 min``, ``5 h 30 min``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
