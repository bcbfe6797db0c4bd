"""Paging past the API's 10,000-item cap: page numbers inside ``from``/``to`` time windows.

The API serves only the first 10,000 items of a query (a later page is a 400,
https://developer.aircall.io/api-references/#pagination). On endpoints that filter by
creation time (``from``/``to``, unix seconds) a query whose first page
announces ``meta.total >= 10,000`` is split in two halves, [a, m] and [m + 1, b], until
every window fits under the cap. ``meta.total`` and ``next_page_link`` are not trusted
at the cap (other clients see the total stop at 10,000 and the link null there): a
window whose pages would reach item 10,000 is split, so a query of exactly 10,000 is
split too. The earlier half is read first, so an ascending stream stays ascending.

No read depends on a bound's inclusivity. A live account's ``/calls`` keeps
``started_at > from`` and ``started_at <= to``; the reference says neither, and other
lists may differ (a live account's ``/contacts`` keeps both ends). So a window [a, b] asks
``from=a-1&to=b+1``, which holds a and b under either convention of either bound, and
drops what lies outside [a, b]. Whether another page exists is decided
from ``meta.total``, ``current_page`` and ``per_page`` (and an empty page), never from
``next_page_link`` alone: ``/webhooks`` sends no link keys at all.

One paginator per way of reading a list, each deciding once per answer, in ``accept``,
which of the page's records to emit and which request comes next (a ``Decision``):

* ``WindowedPaginator``: page numbers, in windows split up front at the cap.
* ``CreationAnchoredPaginator`` (ascending streams) re-anchors instead of paging deep:
  after each page the window restarts at page 1 from the page's newest creation second,
  dropping items of that second already emitted, so a deletion during the sync shifts
  nothing past them and no query nears the cap. A page wholly inside its anchor second
  (more items in one second than a page holds, in an order that may change on every
  request) is read as a one-second window, in passes, until the distinct ids it answers
  (whatever their second: under inclusive bounds the window also holds the seconds
  either side) equal that window's total, counted since the window's members last
  changed. A record's timestamp may move later while the run reads (a call's
  ``started_at`` moves when it is finalized): ids emitted in the last ``MOVE_MEMORY``
  seconds read are remembered, so a moved record is not emitted twice, and a pass that
  sees its count change, or an id emitted at another second, counts afresh. Two changes
  between two answers that leave the count the same and show no moved id (a record
  leaving as an unseen one is added) cannot be told from none.
* ``NewestFirstPaginator`` (newest first, down to a bound such as the bookmark) stops at
  the first page reaching records older than the bound. It usually needs only a few
  pages of a large query, so it splits lazily: only when the next page it needs lies
  past the cap (and from then on up front). The halves then re-read what the first
  pages gave; records already emitted are dropped.

The SDK's loop (``RESTStream.request_records``) hands each answer to the stream's
``parse_response``, which reads it (``tap_calltracker.pages``) and asks ``accept``; the
loop's later ``has_more``/``get_next`` return what ``accept`` decided.
"""

from __future__ import annotations

import collections
import time
import typing as t

from singer_sdk.pagination import BaseAPIPaginator
from typing_extensions import override

from tap_common.http.errors import PaginationError
from tap_common.messages.timestamps import to_instant, unix_seconds
from tap_common.state.paging import PageGuard

if t.TYPE_CHECKING:
    from datetime import datetime

    import requests

    from tap_calltracker.pages import Page

# Items one query can page through (https://developer.aircall.io/api-references/#pagination).
ITEM_CAP = 10_000
# Passes over one crowded second before the run gives up on it.
MAX_PASSES = 40
# Seconds behind the newest one read whose emitted ids are remembered: a record whose
# creation time moves later by up to this while the run reads is emitted once.
MOVE_MEMORY = 3_600


class Window(t.NamedTuple):
    """One request's position: a creation-time window (None: unbounded) and a page in it."""

    start: int | None
    end: int | None
    page: int = 1
    pass_number: int = 0  # >0: a one-second window read in passes (see module docstring)

    def query(self) -> dict[str, int]:
        """``from``/``to`` parameters for this window (only the bounds it has), each one
        second wide: the window's first and last seconds are asked for whether the API's
        bounds are exclusive (``from`` on ``/calls``, as a live account answered) or
        inclusive (``to`` there, both on ``/contacts``); the reference
        (https://developer.aircall.io/api-references/#list-all-calls) says neither. What
        lies outside the window is dropped by the paginator."""
        params = {
            "from": None if self.start is None else self.start - 1,
            "to": None if self.end is None else self.end + 1,
        }
        return {name: value for name, value in params.items() if value is not None}


# A cache miss (None is a value: an unreadable timestamp).
_UNREAD = object()


class Decision(t.NamedTuple):
    """What one answer leads to: the records to emit, and the next request (None: done)."""

    records: list[t.Any]
    next: Window | None


def created_second(item: dict[str, t.Any], key: str) -> int | None:
    """Whole unix seconds of a raw item's timestamp (unix seconds or ISO text); None when
    missing or unreadable."""
    instant = to_instant(item.get(key))
    return None if instant is None else unix_seconds(instant)


def at_or_after(value: t.Any, bound: datetime) -> bool:
    """Whether a raw API timestamp (unix seconds or ISO text) is at or after ``bound``;
    True when unreadable (an odd value is emitted, never dropped)."""
    instant = to_instant(value)
    return instant is None or instant >= bound


class WindowedPaginator(BaseAPIPaginator[Window]):
    """Page numbers within time windows, split when a window holds too many items.

    ``windowed=False`` (endpoints without ``from``/``to``) pages one unbounded query.
    ``split_lazily``: split a window only once a page past the cap is needed, not when
    its first page announces the cap. ``PageGuard`` vets each window's pages.
    """

    def __init__(
        self,
        first: Window,
        *,
        stream_name: str,
        page_size: int,
        windowed: bool,
        split_lazily: bool = False,
    ) -> None:
        super().__init__(first)
        self._stream_name = stream_name
        self._page_size = page_size
        self._windowed = windowed
        self._split_lazily = split_lazily
        self._pending: list[Window] = []  # a stack: the next window to read is last
        self._guard = PageGuard(stream_name)
        self._next: Window | None = None
        self._emitted_ids: set[t.Any] = set()

    def accept(self, page: Page) -> Decision:
        """Vet the answer to the current request and decide what it leads to.

        Raises ``PaginationError`` when paging went wrong, or when a one-second window
        still holds more items than the API will page through.
        """
        window = self.current_value
        self._guard.vet(page.path, page.number, page.items, window.page, page.announced_pages)
        if window.pass_number and window.page == 1 and page.total > ITEM_CAP:
            self._split(window, page.total)  # one second: fails clearly
        first_page = window.page == 1 and not window.pass_number
        # A capped total says 10,000: split at it, not only above it.
        if first_page and self._splits_first_pages() and page.total >= ITEM_CAP:
            self._split(window, page.total)
            return self._decide([], self._next_window())  # read again in the halves
        # The next page would start at item 10,000 or beyond: refused, or (with a capped
        # total and a null link) silently missing.
        more = page.more_follow(self._page_size, ITEM_CAP)
        next_refused = window.page * self._page_size >= ITEM_CAP
        split = self._windowed and more and next_refused and not window.pass_number
        if split:
            self._split(window, page.total)
            # The query is large after all: size the halves up front from now on.
            self._split_lazily = False
        records = self.select(page)
        return self._decide(records, self._next_window() if split else self.follow(page))

    # -- what differs between the ways of reading a list ---------------------------------

    def select(self, page: Page) -> list[t.Any]:
        """The page's records to emit: all of them, but in windows (which overlap by a
        second under an inclusive ``from``) each id once."""
        if not self._windowed:
            return list(page.items)
        records = []
        for item in page.items:
            item_id = item.get("id") if isinstance(item, dict) else None
            if item_id is None or item_id not in self._emitted_ids:
                self._emitted_ids.add(item_id)
                records.append(item)
        return records

    def more_pages(self, page: Page) -> bool:
        """Whether the window holds a page after this one (by the counts, ``Page``)."""
        return page.more_follow(self._page_size, ITEM_CAP)

    def follow(self, page: Page) -> Window | None:
        """The next request after an accepted page: the next page, else the next window."""
        if self.more_pages(page):
            return self.current_value._replace(page=self.current_value.page + 1)
        return self._next_window()

    def _splits_first_pages(self) -> bool:
        """Whether a window is split as soon as its first page announces the cap."""
        return self._windowed and not self._split_lazily

    # -- windows ---------------------------------------------------------------------------

    def _decide(self, records: list[t.Any], next_window: Window | None) -> Decision:
        self._next = next_window
        return Decision(records, next_window)

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

    def _next_window(self) -> Window | None:
        self._guard.restart()
        return self._pending.pop() if self._pending else None

    # -- the SDK's loop: what ``accept`` decided ---------------------------------------------

    @override
    def has_more(self, response: requests.Response) -> bool:
        """Another page of this window, or another window, remains."""
        return self._next is not None

    @override
    def get_next(self, response: requests.Response) -> Window | None:
        return self._next

    @override
    def continue_if_empty(self, response: requests.Response) -> bool:
        """An empty (or skipped) page ends its window, not the stream."""
        return self._next is not None


class CreationAnchoredPaginator(WindowedPaginator):
    """Ascending by creation time, re-anchored on the newest creation second read.

    ``anchor_key`` names the creation timestamp the API's ``from``/``to`` filter on.
    An item without a readable timestamp is emitted once and anchors nothing.
    """

    def __init__(self, first: Window, *, anchor_key: str, stream_name: str, page_size: int) -> None:
        super().__init__(first, stream_name=stream_name, page_size=page_size, windowed=True)
        self._anchor_key = anchor_key
        self._undated_ids: set[t.Any] = set()
        self._newest: int | None = None
        # Ids emitted in the last MOVE_MEMORY seconds read, and (second, id) oldest first.
        self._recent: dict[t.Any, int] = {}  # id -> the second it was emitted at
        self._recent_order: collections.deque[tuple[int, t.Any]] = collections.deque()
        self._second_ids: set[t.Any] = set()  # ids answered in the current one-second window
        self._second_total: int | None = None  # its count when those ids were answered
        self._outer_end: int | None = None
        self._page_seconds: dict[int, int | None] = {}

    def _second(self, item: dict[str, t.Any]) -> int | None:
        # Read once per item of a page (``select`` fills the cache, ``follow`` uses it).
        cached = self._page_seconds.get(id(item), _UNREAD)
        if cached is _UNREAD:
            return created_second(item, self._anchor_key)
        return t.cast("int | None", cached)

    @override
    def _splits_first_pages(self) -> bool:
        return False  # re-anchoring keeps every query at page 1, far from the cap

    @override
    def accept(self, page: Page) -> Decision:
        # Each item's creation second, read once for the page (keyed by the item's identity:
        # the page's items stay alive until the decision is made, and the cache goes then).
        self._page_seconds = {
            id(item): created_second(item, self._anchor_key)
            for item in page.items
            if isinstance(item, dict)
        }
        try:
            return super().accept(page)
        finally:
            self._page_seconds = {}

    @override
    def select(self, page: Page) -> list[t.Any]:
        # Oldest second first within the page: the API's order is only a hint.
        ordered = sorted(page.items, key=lambda item: self._second(item) or 0)
        return [item for item in ordered if self._is_new(item, item.get("id"))]

    def _is_new(self, item: dict[str, t.Any], item_id: t.Any) -> bool:
        """Whether ``item`` is new in this run (and remember it)."""
        window = self.current_value
        second = self._second(item)
        if second is not None and window.start is not None and second < window.start:
            if second == window.start - 1:
                return False  # asked for only to hold the window's start (``Window.query``)
            second = None  # earlier than asked although the API filtered it in: odd
        if second is None:
            # Unreadable, or an odd value: nothing to place it by, so it is emitted once.
            if item_id in self._undated_ids:
                return False
            self._undated_ids.add(item_id)
            return True
        if window.pass_number and second != window.start:
            return False
        if window.end is not None and second > window.end:
            return False  # asked for only to hold the window's end: the next window's
        if self._newest is not None and second < self._newest:
            return False  # behind what this run already passed (re-read at the anchor)
        if item_id in self._recent:
            return False  # emitted already, at this second or (moved since) an earlier one
        self._remember(second, item_id)
        return True

    def _remember(self, second: int, item_id: t.Any) -> None:
        self._newest = second if self._newest is None else max(self._newest, second)
        self._recent[item_id] = second
        self._recent_order.append((second, item_id))
        horizon = self._newest - MOVE_MEMORY
        while self._recent_order and self._recent_order[0][0] < horizon:
            old_second, old_id = self._recent_order.popleft()
            if self._recent.get(old_id) == old_second:
                del self._recent[old_id]

    @override
    def follow(self, page: Page) -> Window | None:
        window = self.current_value
        if window.pass_number:
            return self._next_in_second(page, window)
        items = [item for item in page.items if isinstance(item, dict)]
        if not items or not self.more_pages(page):
            return self._next_window()
        seconds = [s for s in map(self._second, items) if s is not None]
        if window.end is not None and any(second > window.end for second in seconds):
            # Past the window's end (asked for one second wide): ascending, so the window
            # has shown all it holds.
            return self._next_window()
        if not seconds:
            # A page without one readable timestamp: nothing to re-anchor on.
            return window._replace(page=window.page + 1)
        last = max(seconds)
        self._guard.restart()
        if window.start is not None and last <= window.start:
            # A whole page at the window's first second (or the one before, under an
            # inclusive ``from``): read that second on its own, in counted passes.
            self._second_ids, self._second_total = set(), None
            self._outer_end = window.end
            return Window(window.start, window.start, 1, 1)
        return Window(last, window.end, 1)

    def _moved_in(self, page: Page) -> bool:
        """Whether the page answers an id emitted at another second than it reads now
        (remembered at its new second, so each move is seen once)."""
        moved = False
        for item in page.items:
            if isinstance(item, dict):
                item_id, second = item.get("id"), self._second(item)
                emitted_at = self._recent.get(item_id)
                if emitted_at is not None and second is not None and emitted_at != second:
                    self._recent[item_id] = second
                    self._recent_order.append((second, item_id))
                    moved = True
        return moved

    def _next_in_second(self, page: Page, window: Window) -> Window | None:
        second = window.start
        assert second is not None
        # Every id the window answers counts, whatever its second: the window's total is
        # the API's count of what ``from=second-1&to=second`` holds under its convention
        # (recounted every pass).
        answered = {item.get("id") for item in page.items if isinstance(item, dict)}
        if page.total != self._second_total or self._moved_in(page):
            # The window's members changed between two answers: its count changed (a call's
            # start moved later, a deletion), or a record emitted at an earlier second
            # answers here now (it moved in, perhaps as another moved out, the count the
            # same). Ids answered before may be gone, so only what is answered from now on
            # counts against the total.
            self._second_ids = answered
            self._second_total = page.total
        else:
            self._second_ids |= answered
        if page.items and window.page * (page.per_page or self._page_size) < page.total:
            # Ties in a new order on every request may repeat a page by chance: the pages
            # of a pass are bounded by the total, the passes by MAX_PASSES.
            self._guard.restart()
            return window._replace(page=window.page + 1)
        self._guard.restart()
        if len(self._second_ids) < page.total:
            if window.pass_number >= MAX_PASSES:
                msg = (
                    f"Stream '{self._stream_name}': the second {second} holds {page.total} "
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


class NewestFirstPaginator(WindowedPaginator):
    """Newest first by ``key``, down to ``bound``: records older than it are not emitted,
    and no page follows one that reached them. Splits lazily (module docstring); an id
    emitted once is not emitted again when a split window re-reads it."""

    def __init__(
        self, first: Window, *, key: str, bound: datetime, stream_name: str, page_size: int
    ) -> None:
        super().__init__(
            first, stream_name=stream_name, page_size=page_size, windowed=True, split_lazily=True
        )
        self._key = key
        self._bound = bound
        self._emitted: set[t.Any] = set()

    @override
    def more_pages(self, page: Page) -> bool:
        reached_old = any(
            item is not None and not at_or_after(item.get(self._key), self._bound)
            for item in page.items
        )
        return page.more_follow(self._page_size, ITEM_CAP) and not reached_old

    @override
    def select(self, page: Page) -> list[t.Any]:
        records = []
        for item in page.items:
            if at_or_after(item.get(self._key), self._bound) and item["id"] not in self._emitted:
                self._emitted.add(item["id"])
                records.append(item)
        return records
