"""Switches for the call API's ``X-AircallApi-*`` rate-limit headers.

https://developer.aircall.io/api-references/#rate-limiting says the headers are available
"when the rate limit has been reached", without saying whether other answers carry them,
and gives ``X-AircallApi-Reset`` no unit: clients read it as unix seconds, unix
milliseconds or seconds from now. Each reading is a switch here; the taps must pass with
every position.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

RESET_FORMS = ("unix", "millis", "relative")


@dataclass
class RateHeaders:
    """``on_429_only``: only throttle answers carry the headers. ``reset_form``: one of
    ``RESET_FORMS`` (``relative`` is seconds from now, to the millisecond)."""

    on_429_only: bool = False
    reset_form: str = "unix"

    def __post_init__(self) -> None:
        if self.reset_form not in RESET_FORMS:
            msg = f"reset_form must be one of {RESET_FORMS}, got {self.reset_form!r}"
            raise ValueError(msg)

    def reset(self, reset_at: float) -> str:
        if self.reset_form == "millis":
            return str(math.ceil(reset_at * 1000))
        if self.reset_form == "relative":
            return f"{max(reset_at - time.time(), 0.0):.3f}"
        return str(math.ceil(reset_at))

    def headers(self, limit: int, remaining: int, reset_at: float, *, refused: bool) -> dict:
        if self.on_429_only and not refused:
            return {}
        return {
            "X-AircallApi-Limit": str(limit),
            "X-AircallApi-Remaining": str(remaining),
            "X-AircallApi-Reset": self.reset(reset_at),
        }
