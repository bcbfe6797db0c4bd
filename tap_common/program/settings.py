"""Settings both taps share, and checks the JSON schema alone cannot express.

Every check runs before the first request and names the setting at fault.
"""

from __future__ import annotations

import logging
import typing as t
from urllib.parse import urlparse

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from tap_common.messages.timestamps import parse_datetime

logger = logging.getLogger(__name__)


def credential_properties(user: tuple[str, str], secret: tuple[str, str]) -> list[th.Property]:
    """The basic-auth pair, both required and secret: ``(setting name, description)`` each."""
    return [
        th.Property(name, th.StringType, required=True, secret=True, description=description)
        for name, description in (user, secret)
    ]


def common_properties(
    *,
    default_api_url: str,
    max_page_size: int,
) -> list[th.Property]:
    """Settings beyond the credentials: where the API is, where to start, how hard to push."""
    return [
        th.Property(
            "api_url",
            th.StringType,
            default=default_api_url,
            description="Base URL of the API, including the version segment.",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            description=(
                "Earliest record to sync on the first run (ISO-8601). Later runs start from "
                "the saved bookmark. Omit to sync everything."
            ),
        ),
        th.Property(
            "end_date",
            th.DateTimeType,
            description=(
                "Exclusive upper bound (ISO-8601) on incremental streams' replication key: "
                "records at or after it are not synced and no bookmark moves past it. "
                "Full-table streams are read whole. For backfills in windows."
            ),
        ),
        th.Property(
            "page_size",
            th.IntegerType(minimum=1, maximum=max_page_size),
            default=max_page_size,
            description=f"Records per page (1-{max_page_size}; the API's maximum is the fastest).",
        ),
        th.Property(
            "request_timeout",
            th.IntegerType(minimum=1),
            default=60,
            description="Seconds a whole response (headers and body) may take before the request is retried.",
        ),
        th.Property(
            "max_retries",
            th.IntegerType(minimum=0),
            default=3,
            description=(
                "Retries of a request after a 5xx, a timeout, a connection error or a "
                "malformed body, with exponential backoff."
            ),
        ),
        th.Property(
            "backoff_factor",
            th.NumberType(minimum=0),
            default=2,
            description="Exponential backoff: the n-th retry waits backoff_factor * 2^(n-1) s.",
        ),
        th.Property(
            "max_rate_limit_wait",
            th.IntegerType(minimum=1),
            default=300,
            description=(
                "Longest single wait, in seconds, when the API says it is rate limiting "
                "(Retry-After or its reset header)."
            ),
        ),
        th.Property(
            "max_rate_limit_wait_total",
            th.IntegerType(minimum=1),
            default=900,
            description=(
                "Longest total wait, in seconds, for one request across consecutive answers "
                "that ask to wait (rate limits, or a 5xx/408/425 with Retry-After): a "
                "maintenance window shorter than this is ridden out. These waits do not "
                "use up max_retries."
            ),
        ),
        th.Property(
            "max_rate_limit_retries",
            th.IntegerType(minimum=0),
            description=(
                "Deprecated and ignored since 0.2.0: waits are bounded by time "
                "(max_rate_limit_wait_total), not by a count of answers."
            ),
        ),
        th.Property(
            "max_requests_per_second",
            th.NumberType(minimum=0),
            description=(
                "Hard ceiling on the request rate (requests/s); unset: none. tap-crm learns "
                "the CRM's rate from its throttle answers below this ceiling. 0: no pacing "
                "at all (no ceiling, no learned rate); the API's rate-limit headers still "
                "pace tap-calltracker."
            ),
        ),
    ]


def check_common_config(config: t.Mapping[str, t.Any]) -> None:
    """Reject settings that are well-typed but unusable, naming the setting."""
    if config.get("max_rate_limit_retries") is not None:
        logger.warning(
            "Setting 'max_rate_limit_retries' is deprecated and ignored: waits are bounded "
            "by 'max_rate_limit_wait_total' (seconds) instead. Remove it from the config."
        )
    errors = []
    api_url = config.get("api_url")
    if api_url is not None:
        parsed = urlparse(str(api_url))
        if parsed.scheme not in {"http", "https"} or not parsed.netloc:
            errors.append(
                "Setting 'api_url' must be an http(s) URL such as https://host/api/v3, "
                "got a value without that form."
            )
        elif parsed.username or parsed.password:
            errors.append(
                "Setting 'api_url' must not carry credentials; use the credential settings."
            )
    errors.extend(_window_errors(config.get("start_date"), config.get("end_date")))
    if errors:
        raise ConfigValidationError(errors[0], errors=errors)


def _window_errors(start_date: t.Any, end_date: t.Any) -> list[str]:
    """``start_date`` and ``end_date`` readable, and the window they make not empty."""
    errors, bounds = [], {}
    for name, value in (("start_date", start_date), ("end_date", end_date)):
        if value is None:
            continue
        try:
            bounds[name] = parse_datetime(str(value))
        except ValueError:
            errors.append(f"Setting '{name}' must be an ISO-8601 date or date-time, got {value!r}.")
    if len(bounds) == 2 and bounds["end_date"] <= bounds["start_date"]:
        errors.append(
            f"Setting 'end_date' ({end_date}) must be later than 'start_date' ({start_date}): "
            "records are synced from start_date up to, not including, end_date."
        )
    return errors
