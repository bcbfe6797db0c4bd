"""Errors a user can act on, each with a one-line message the CLI prints without a traceback."""

from __future__ import annotations

import re

import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError


class TapError(FatalAPIError):
    """A failure explained in one line: the sync stops and the tap exits non-zero."""


class AuthenticationError(TapError):
    """The API refused the credentials: retrying cannot help."""


class UnexpectedResponseError(TapError):
    """The API answered with a shape the tap does not know (a missing envelope key, ...)."""


class PaginationError(TapError):
    """Paging went wrong: a page repeated, or the paginator would never end."""


class MalformedResponseError(RetriableAPIError):
    """A body that is not JSON (truncated, or an HTML error page): worth a retry."""


class WrongPageError(RetriableAPIError):
    """An answer for another page or page size than asked (e.g. after a redirect that
    dropped the query string): asked again, never taken as the list's end."""


class WaitAskedError(RetriableAPIError):
    """The API asked to come back later (a throttle, a Retry-After): waited out by
    ``APIStream.waiting_as_asked`` before the retry budget is touched."""

    def __init__(self, seconds: float, why: str, response: requests.Response) -> None:
        super().__init__(
            f"{response.status_code} {response.reason}: wait {seconds:.1f} s", response
        )
        self.seconds = seconds
        self.why = why
        self.answer = response


class RateLimitExhaustedError(TapError):
    """The API kept answering 'rate limited' after every wait the tap is allowed."""


def explain(exc: BaseException) -> str:
    """One line for the user: what failed and which setting to look at."""
    if isinstance(exc, requests.Timeout):
        return (
            "the API did not answer within 'request_timeout' seconds, even after "
            "'max_retries' retries."
        )
    if isinstance(exc, requests.ConnectionError):
        reason = re.search(r"\[Errno -?\d+\] [^'\")]+", str(exc))
        detail = reason.group(0) if reason else type(exc).__name__
        return f"could not connect to the API ({detail}); check 'api_url' and the network."
    return str(exc)
