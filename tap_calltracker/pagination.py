"""Paging past the API's 10,000-item cap: page numbers inside ``from``/``to`` time windows.

The API serves only the first 10,000 items of a query (a later page is a 400,
https://developer.aircall.io/api-references/#pagination). On endpoints that filter by
creation time (``from``/``to``, unix seconds, both inclusive) a query whose first page
announces ``meta.total >= 10,000`` is split in two halves, [a, m] and [m + 1, b], until
every window fits under the cap. ``meta.total`` and ``next_page_link`` are not trusted
at the cap (other clients see the total stop at 10,000 and the link null there): a
window whose pages would reach item 10,000 is split, so a query of exactly 10,000 is
split too. The earlier half is read first, so an ascending stream stays ascending.

Ascending streams re-anchor instead of paging deep (``anchor_of``): after each page the
window restarts at page 1 from the page's newest creation second, dropping items of
that second already emitted, so a deletion during the sync shifts nothing past them
and no query nears the cap. A page wholly inside its anchor second (more items in one
second than a page holds, in an order that may change on every request) is read as a
one-second window, in passes, until the distinct ids equal that window's total.

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

# Items one query can page through (https://developer.aircall.io/api-references/#pagination).
ITEM_CAP = 10_000
# Passes over one crowded second before the run gives up on it.
MAX_PASSES = 40


class Window(t.NamedTuple):
    """One request's position: a creation-time window (None: unbounded) and a page in it."""

    start: int | None
    end: int | None
    page: int = 1
    pass_number: int = 0  # >0: a one-second window read in passes (see module docstring)

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
        # Re-anchoring (ascending streams): item -> creation second; None: page numbers.
        # An item without a readable timestamp (None) is emitted once and anchors nothing.
        self.anchor_of: t.Callable[[dict], int | None] | None = None
        self._undated_ids: set[t.Any] = set()
        self._newest: int | None = None
        self._newest_ids: set[t.Any] = set()
        self._second_ids: set[t.Any] = set()  # ids read in the current one-second window
        self._accepted = True
        self._outer_end: int | None = None

    def accept(self, response: requests.Response) -> bool:
        """Vet a page before its records are emitted; False: skip it, its window is split.

        Raises ``PaginationError`` when paging went wrong, or when a one-second window
        still holds more items than the API will page through.
        """
        window = self.current_value
        page = self._read_page(response)
        self._guard.check(response, page, window.page, self._announced_pages)
        self._accepted = True
        anchored = self.anchor_of is not None
        if window.pass_number and window.page == 1 and self._read_total(response) > ITEM_CAP:
            self._split(window, self._read_total(response))  # one second: fails clearly
        if window.page == 1 and not window.pass_number:
            eager = self._windowed and not self._split_lazily and not anchored
            # A capped total says 10,000: split at it, not only above it.
            if eager and self._read_total(response) >= ITEM_CAP:
                self._split(window, self._read_total(response))
                self._accepted = False
                return False
        # The next page would start at item 10,000 or beyond: refused, or (with a capped
        # total and a null link) silently missing. A full page says more may follow.
        more = page.has_next or len(page.items) >= self._page_size
        next_refused = window.page * self._page_size >= ITEM_CAP
        if self._windowed and more and next_refused and not window.pass_number:
            self._split(window, self._read_total(response))
            # The query is large after all: size the halves up front from now on.
            self._split_lazily = False
        return True

    def should_emit(self, item: dict, item_id: t.Any) -> bool:
        """For re-anchored streams: whether ``item`` is new in this run (and remember it)."""
        if self.anchor_of is None:
            return True
        window = self.current_value
        second = self.anchor_of(item)
        if second is None or (window.start is not None and second < window.start):
            # Unreadable, or earlier than the query asked for although the API filtered
            # it in (an odd value): nothing to place it by, so it is emitted once.
            if item_id in self._undated_ids:
                return False
            self._undated_ids.add(item_id)
            return True
        if window.pass_number:
            if second != window.start:
                return False
            self._second_ids.add(item_id)
        if window.start is not None and second < window.start:
            return False
        if self._newest is not None and second < self._newest:
            return False  # behind what this run already passed (re-read at the anchor)
        if second == self._newest:
            if item_id in self._newest_ids:
                return False
            self._newest_ids.add(item_id)
        else:
            self._newest, self._newest_ids = second, {item_id}
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
        if self.anchor_of is not None and self._accepted:
            return True  # ``get_next`` decides (a full page, a crowded second)
        return bool(self._pending)

    def get_next(self, response: requests.Response) -> Window | None:
        page = self._read_page(response)
        if self.anchor_of is not None and not self._split_current:
            return self._next_anchored(response, page)
        if self._split_current or not page.has_next:
            return self._next_window()
        return self.current_value._replace(page=self.current_value.page + 1)

    def _next_window(self) -> Window | None:
        self._split_current = False
        self._guard.restart()
        return self._pending.pop() if self._pending else None

    def _next_anchored(self, response: requests.Response, page: PageInfo) -> Window | None:
        window = self.current_value
        items = [item for item in page.items if isinstance(item, dict)]
        full = len(page.items) >= self._page_size
        if window.pass_number:
            return self._next_in_second(response, window, full)
        if not items or not (page.has_next or full):
            return self._next_window()
        seconds = [s for s in map(self.anchor_of, items) if s is not None]  # type: ignore[arg-type]
        if not seconds:
            # A page without one readable timestamp: nothing to re-anchor on.
            return window._replace(page=window.page + 1)
        last = max(seconds)
        self._guard.restart()
        if window.start is not None and last <= window.start:
            # A whole page inside the anchor second: read that second on its own.
            self._second_ids = set(self._newest_ids) if self._newest == last else set()
            self._outer_end = window.end
            return Window(last, last, 1, 1)
        return Window(last, window.end, 1)

    def _next_in_second(
        self, response: requests.Response, window: Window, full: bool
    ) -> Window | None:
        second = window.start
        assert second is not None
        if full and window.page * self._page_size < self._read_total(response):
            return window._replace(page=window.page + 1)
        # The window's total is the API's count of this second (recounted every pass).
        total = self._read_total(response)
        self._guard.restart()
        if len(self._second_ids) < total:
            if window.pass_number >= MAX_PASSES:
                msg = (
                    f"Stream '{self._stream_name}': the second {second} holds {total} "
                    f"items by the API's count but {MAX_PASSES} passes read "
                    f"{len(self._second_ids)}; stopping rather than losing records."
                )
                raise PaginationError(msg)
            return Window(second, second, 1, window.pass_number + 1)
        # The second is complete: continue after it, up to the end the query had.
        end = self._outer_end
        if end is not None and second + 1 > end:
            return self._next_window()
        return Window(second + 1, end, 1)

    def continue_if_empty(self, response: requests.Response) -> bool:
        """An empty (or skipped) page ends its window, not the stream."""
        return self.has_more(response)
