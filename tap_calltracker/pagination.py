"""Paging past the API's 10,000-item cap: page numbers inside ``from``/``to`` time windows.

The API serves only the first 10,000 items of a query (a later page is a 400, reference
B.2). On endpoints that filter by creation time (``from``/``to``, unix seconds, both
inclusive) a query whose first page announces ``meta.total > 10,000`` is split in two
halves, [a, m] and [m + 1, b], until every window fits under the cap. The earlier half
is read first, so an ascending stream stays ascending.

A stream that stops early (newest first, down to its bookmark) usually needs only a few
pages of a large query, so it splits lazily instead: only when the next page it needs
lies past the cap (and from then on up front). The halves then re-read what the first
pages gave; that stream drops records it already emitted.
"""

from __future__ import annotations

import time
import typing as t

from singer_sdk.pagination import BaseAPIPaginator

from tap_common.errors import PaginationError
from tap_common.paging import PageGuard

if t.TYPE_CHECKING:
    import requests

    from tap_common.paging import PageInfo

# Items one query can page through (reference B.2).
ITEM_CAP = 10_000


class Window(t.NamedTuple):
    """One request's position: a creation-time window (None: unbounded) and a page in it."""

    start: int | None
    end: int | None
    page: int = 1

    def query(self) -> dict[str, int]:
        """``from``/``to`` parameters for this window (only the bounds it has)."""
        params = {"from": self.start, "to": self.end}
        return {name: value for name, value in params.items() if value is not None}


class WindowedPaginator(BaseAPIPaginator[Window]):
    """Page numbers within time windows, split when a window holds too many items.

    ``windowed=False`` (endpoints without ``from``/``to``) pages one unbounded query.
    ``tap_common.paging.PageGuard`` vets each window's pages: the API must answer the
    page asked, never repeat the previous page, and not keep serving pages far beyond
    what the window's first page announced.
    """

    def __init__(
        self,
        first: Window,
        *,
        read_page: t.Callable[[requests.Response], PageInfo],
        read_total: t.Callable[[requests.Response], int],
        announced_pages: t.Callable[[requests.Response], int | None],
        stream_name: str,
        windowed: bool,
        page_size: int,
        split_lazily: bool = False,
    ) -> None:
        super().__init__(first)
        self._read_page = read_page
        self._read_total = read_total
        self._announced_pages = announced_pages
        self._stream_name = stream_name
        self._windowed = windowed
        self._page_size = page_size
        self._split_lazily = split_lazily
        self._pending: list[Window] = []  # a stack: the next window to read is last
        self._split_current = False
        self._guard = PageGuard(stream_name)

    def accept(self, response: requests.Response) -> bool:
        """Vet a page before its records are emitted; False: skip it, its window is split.

        Raises ``PaginationError`` when paging went wrong, or when a one-second window
        still holds more items than the API will page through.
        """
        window = self.current_value
        page = self._read_page(response)
        self._guard.check(response, page, window.page, self._announced_pages)
        if window.page == 1:
            eager = self._windowed and not self._split_lazily
            # Pages start below item 10,000 as long as the query holds at most 10,000.
            if eager and self._read_total(response) > ITEM_CAP:
                self._split(window, self._read_total(response))
                return False
        next_refused = window.page * self._page_size >= ITEM_CAP
        if self._windowed and self._split_lazily and page.has_next and next_refused:
            self._split(window, self._read_total(response))
            # The query is large after all: size the halves up front from now on.
            self._split_lazily = False
        return True

    def _split(self, window: Window, total: int) -> None:
        start = window.start or 0
        end = window.end if window.end is not None else int(time.time())
        if end <= start:
            msg = (
                f"Stream '{self._stream_name}': {total} items were created within one "
                f"second ({start}), more than the {ITEM_CAP:,} the API pages through; "
                "stopping rather than losing records."
            )
            raise PaginationError(msg)
        middle = (start + end) // 2
        self._pending.append(Window(middle + 1, end))
        self._pending.append(Window(start, middle))
        self._split_current = True

    def has_more(self, response: requests.Response) -> bool:
        """Another page of this window, or another window, remains."""
        if self._split_current or self._read_page(response).has_next:
            return True
        return bool(self._pending)

    def get_next(self, response: requests.Response) -> Window | None:
        if self._split_current or not self._read_page(response).has_next:
            self._split_current = False
            self._guard.restart()
            return self._pending.pop() if self._pending else None
        return self.current_value._replace(page=self.current_value.page + 1)

    def continue_if_empty(self, response: requests.Response) -> bool:
        """An empty (or skipped) page ends its window, not the stream."""
        return self.has_more(response)
