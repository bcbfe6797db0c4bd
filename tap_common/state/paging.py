"""What both APIs' paging shares: a page's metadata, a guard against broken paging, and a
paginator that decides once per page.

Data flows one way: a response is read once into a page (each API's page reader), the
paginator accepts the page (vets it, picks the records to emit, decides the next token),
and the SDK's loop (``RESTStream.request_records``) replays that decision in ``advance``.
The paginator never calls back into the stream.
"""

from __future__ import annotations

import typing as t

from singer_sdk.pagination import BaseAPIPaginator
from typing_extensions import override

from tap_common.http.errors import PaginationError

if t.TYPE_CHECKING:
    import requests

T = t.TypeVar("T")


class PageGuard:
    """Refuses a page, before any of its records is emitted, when paging went wrong.

    The API must answer the page asked for, must not repeat the previous page, and must
    not keep serving pages far past the count the query's first page announced.
    """

    def __init__(self, stream_name: str) -> None:
        self.stream_name = stream_name
        self.restart()

    def restart(self) -> None:
        """Forget the previous page: a new query (e.g. another time window) begins."""
        self._page_limit: int | None = None
        self._previous_items: list | None = None

    @property
    def previous_items(self) -> list | None:
        """The items of the last page vetted since the query began."""
        return self._previous_items

    def vet(
        self, where: str, answered: int | None, items: list, asked: int, announced: int | None
    ) -> None:
        """Raise ``PaginationError`` unless page ``answered`` of ``where`` is page ``asked``,
        new, and within reach of the ``announced`` page count of the query's first page."""
        if answered != asked:
            msg = (
                f"Stream '{self.stream_name}': asked {where} for page {asked}, "
                f"the API answered page {answered}; stopping rather than "
                "emitting a page twice or skipping one."
            )
            raise PaginationError(msg)
        if items and items == self._previous_items:
            msg = (
                f"Stream '{self.stream_name}': page {asked} of {where} "
                "repeats the previous page; the API's pagination is looping."
            )
            raise PaginationError(msg)
        self._previous_items = items
        if self._page_limit is None:
            # Slack for records added during the sync; beyond it the paginator is runaway.
            self._page_limit = None if announced is None else 2 * announced + 10
        if self._page_limit is not None and asked > self._page_limit:
            msg = (
                f"Stream '{self.stream_name}': {where} still serves pages "
                f"at page {asked}, far beyond what its first page announced; stopping."
            )
            raise PaginationError(msg)


class DecidedPaginator(BaseAPIPaginator[T]):
    """A paginator whose next token is decided once, when its stream hands it a page.

    A subclass's ``accept(page)`` vets the page, returns the records to emit and calls
    ``decide`` with the next token (None: the list ends) or ``fail`` with the error that
    ends the run once the page's records are emitted. ``advance`` (the SDK's loop, after
    the page's records) only replays that decision: the response is never read again.
    """

    def __init__(self, start_value: T) -> None:
        super().__init__(start_value)
        self._next: T | None = None
        self._failure: PaginationError | None = None

    def decide(self, next_token: T | None) -> None:
        """Where the next request goes; None: the list ends after this page."""
        self._next, self._failure = next_token, None

    def fail(self, failure: PaginationError) -> None:
        """End the run with ``failure`` once this page's records are emitted."""
        self._next, self._failure = None, failure

    @property
    def decided_next(self) -> T | None:
        """The next request's token once ``accept`` has decided it and no other request
        must come first; None otherwise (and when the list ends)."""
        return None if self._failure is not None else self._next

    @override
    def has_more(self, response: requests.Response) -> bool:
        if self._failure is not None:
            raise self._failure
        return self._next is not None

    @override
    def get_next(self, response: requests.Response) -> T | None:
        return self._next
