"""Page-number paging that trusts the API's metadata but never loops or repeats a page."""

from __future__ import annotations

import typing as t

from singer_sdk.pagination import BaseAPIPaginator, PageNumberPaginator

from tap_common.errors import PaginationError
from tap_common.responses import api_path

if t.TYPE_CHECKING:
    import requests


class PageInfo(t.NamedTuple):
    """What one page says about paging, in API-neutral terms."""

    current_page: int
    has_next: bool
    items: list  # the page's raw items, to spot a page that repeats the previous one
    # The next page lies past the last page the API announced (a probe, see below).
    past_announced: bool = False


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
    """Page numbers from 1; ``read_page`` (each API's client) reads the page metadata.

    A page asked for beyond the last page the API announced (``read_page`` asks for one
    when the last announced page is full, as a stale page count would end a list early)
    is a probe: what an API answers past the end is not documented, so an empty page, a
    page other than the one asked (e.g. the last page again), a repeat of the previous
    page or a 4xx (``end_of_list``) all end the list there, without emitting anything.
    """

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
        self.probing = False  # the current request is past the last announced page
        self._ended = False

    def end_of_list(self) -> None:
        """The probe past the last announced page was refused: the list ended before it."""
        self._ended = True

    @property
    def page_number(self) -> int:
        """The page number of the current token (subclasses may use richer tokens)."""
        return self.current_value

    def check(self, response: requests.Response) -> bool:
        """Refuse a page before any of its records is emitted, if paging went wrong.

        False: the page is past the end of the list (see the class docstring); skip it.
        """
        if self._ended:
            return False
        page = self._read_page(response)
        if self.probing and (
            not page.items
            or page.current_page != self.page_number
            or page.items == self.guard._previous_items
        ):
            self._ended = True
            return False
        self.guard.check(response, page, self.page_number, self._announced_pages)
        return True

    def has_more(self, response: requests.Response) -> bool:
        """Whether the API's own metadata announces another page (or one more probe)."""
        if self._ended:
            return False
        page = self._read_page(response)
        self.probing = page.past_announced
        return page.has_next

    def continue_if_empty(self, response: requests.Response) -> bool:
        """An empty page ends the list (the SDK's default), a skipped one too."""
        return False


class PassToken(t.NamedTuple):
    page: int
    pass_number: int = 1


class CountedPassesPaginator(GuardedPageNumberPaginator):
    """A whole list by page numbers, read again while it misses records by its own count.

    Records sharing a sort value may come back in a new order on every request, so page
    boundaries can skip and repeat them. After each pass the distinct ids read are
    compared with the list's total count (``total_of``, recounted on every page): while
    fewer were read, the list is read again from page 1, up to ``max_passes`` passes,
    then one line ends the run. ``should_emit`` drops ids already read in this run.
    """

    def __init__(
        self,
        read_page: t.Callable[[requests.Response], PageInfo],
        announced_pages: t.Callable[[requests.Response], int | None],
        stream_name: str,
        *,
        total_of: t.Callable[[requests.Response], int],
        max_passes: int = 30,
    ) -> None:
        super().__init__(read_page, announced_pages, stream_name)
        BaseAPIPaginator.__init__(self, start_value=PassToken(1))
        self._total_of = total_of
        self._max_passes = max_passes
        self._stream_name = stream_name
        self._seen: set[t.Any] = set()
        self._total = 0
        self._new_pass = False

    @property
    def page_number(self) -> int:
        return self.current_value.page

    def should_emit(self, record_id: t.Any) -> bool:
        if record_id in self._seen:
            return False
        self._seen.add(record_id)
        return True

    def check(self, response: requests.Response) -> bool:
        accepted = super().check(response)
        if accepted:
            self._total = self._total_of(response)
        return accepted

    def has_more(self, response: requests.Response) -> bool:
        self._new_pass = False
        if super().has_more(response):
            return True
        if len(self._seen) >= self._total:
            return False
        if self.current_value.pass_number >= self._max_passes:
            msg = (
                f"Stream '{self._stream_name}': the list counts {self._total} records but "
                f"{self._max_passes} passes read {len(self._seen)} distinct ones; stopping."
            )
            raise PaginationError(msg)
        self._new_pass = True
        return True

    def get_next(self, response: requests.Response) -> PassToken:
        if self._new_pass:
            self._ended = self.probing = False
            self.guard.restart()
            return PassToken(1, self.current_value.pass_number + 1)
        return self.current_value._replace(page=self.current_value.page + 1)

    def continue_if_empty(self, response: requests.Response) -> bool:
        return self.has_more(response)
