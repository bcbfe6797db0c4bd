"""Page-number paging that trusts the API's metadata but never loops or repeats a page."""

from __future__ import annotations

import typing as t

from singer_sdk.pagination import PageNumberPaginator

from tap_common.errors import PaginationError
from tap_common.responses import api_path

if t.TYPE_CHECKING:
    import requests


class PageInfo(t.NamedTuple):
    """What one page says about paging, in API-neutral terms."""

    current_page: int
    has_next: bool
    items: list  # the page's raw items, to spot a page that repeats the previous one


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

    def check(
        self,
        response: requests.Response,
        page: PageInfo,
        asked: int,
        announced_pages: t.Callable[[requests.Response], int | None],
    ) -> None:
        if page.current_page != asked:
            msg = (
                f"Stream '{self.stream_name}': asked {api_path(response)} for page {asked}, "
                f"the API answered page {page.current_page}; stopping rather than "
                "emitting a page twice or skipping one."
            )
            raise PaginationError(msg)
        if page.items and page.items == self._previous_items:
            msg = (
                f"Stream '{self.stream_name}': page {asked} of {api_path(response)} "
                "repeats the previous page; the API's pagination is looping."
            )
            raise PaginationError(msg)
        self._previous_items = page.items
        if self._page_limit is None:
            announced = announced_pages(response)
            # Slack for records added during the sync; beyond it the paginator is runaway.
            self._page_limit = None if announced is None else 2 * announced + 10
        if self._page_limit is not None and asked > self._page_limit:
            msg = (
                f"Stream '{self.stream_name}': {api_path(response)} still serves pages "
                f"at page {asked}, far beyond what its first page announced; stopping."
            )
            raise PaginationError(msg)


class GuardedPageNumberPaginator(PageNumberPaginator):
    """Page numbers from 1; ``read_page`` (each API's client) reads the page metadata."""

    def __init__(
        self,
        read_page: t.Callable[[requests.Response], PageInfo],
        announced_pages: t.Callable[[requests.Response], int | None],
        stream_name: str,
    ) -> None:
        super().__init__(start_value=1)
        self._read_page = read_page
        self._announced_pages = announced_pages
        self.guard = PageGuard(stream_name)

    @property
    def page_number(self) -> int:
        """The page number of the current token (subclasses may use richer tokens)."""
        return self.current_value

    def check(self, response: requests.Response) -> None:
        """Refuse a page before any of its records is emitted, if paging went wrong."""
        page = self._read_page(response)
        self.guard.check(response, page, self.page_number, self._announced_pages)

    def has_more(self, response: requests.Response) -> bool:
        """Whether the API's own metadata announces another page."""
        return self._read_page(response).has_next
