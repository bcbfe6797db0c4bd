"""Errors a user can act on, each with a one-line message the CLI prints without a traceback."""

from __future__ import annotations

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


class RateLimitExhaustedError(TapError):
    """The API kept answering 'rate limited' after every wait the tap is allowed."""
