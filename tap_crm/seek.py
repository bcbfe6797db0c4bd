"""Paging by time that cannot skip a record when records change or ties reorder.

With plain page numbers over ``sort_by=modified_at&order=asc``, a record edited after
its page was read moves to the end of the result, every later record shifts one place
forward, and the first record of the next page is never seen. Its ``modified_at`` is
older than the final bookmark, so no later run reads it either: it is lost.

So after each page the query is re-anchored: it restarts at page 1 from the page's
newest second, and records of that second already emitted in this run are dropped.

Order is only a hint. Records sharing a second (ids are MongoDB ObjectIds; MongoDB
orders ties arbitrarily unless told, https://www.mongodb.com/docs/manual/reference/method/cursor.sort/#sort-consistency)
may come back in a new order on every request, so paging *within* one second can skip
and repeat records. When a whole page shares one second (a bulk edit larger than a
page), that second is read in passes until the API's own count of it is collected:
``total_count`` of the records at or after S minus that at or after S + 1, recounted
on every pass. A second that never completes within ``MAX_PASSES`` ends the run with
one line.

Whether ``modified_since`` is inclusive (>=) or strict (>) is not documented
(https://developer.onepagecrm.com/api/). Queries therefore ask for one second earlier
than they need and drop what is older, which is right either way; only the count of a
second depends on it, so the first bulk second of a run probes it with one request.
"""

from __future__ import annotations

import typing as t

from singer_sdk.pagination import BaseAPIPaginator

from tap_common.errors import PaginationError
from tap_common.paging import GuardedPageNumberPaginator, PageInfo
from tap_common.timestamps import to_instant, unix_seconds

if t.TYPE_CHECKING:
    import requests

# Passes over one bulk-edited second before the run gives up on it.
MAX_PASSES = 40


class SeekToken(t.NamedTuple):
    since: int | None  # unix seconds: records at or after it; None: no lower bound
    page: int
    bulk_pass: int = 0  # >0: reading the bulk second ``since``, in this pass


class ModifiedSincePaginator(GuardedPageNumberPaginator):
    """Page tokens are (since, page, pass); see the module docstring.

    ``count_at_or_after(S)`` is the stream's count of records modified at or after
    second S (a one-record request), used only for bulk seconds.
    """

    def __init__(
        self,
        read_page: t.Callable[[requests.Response], PageInfo],
        announced_pages: t.Callable[[requests.Response], int | None],
        stream_name: str,
        *,
        since: int | None,
        record_of: t.Callable[[dict], dict],
        total_of: t.Callable[[requests.Response], int],
        count_at_or_after: t.Callable[[int], int],
        page_size: int,
    ) -> None:
        super().__init__(read_page, announced_pages, stream_name)
        BaseAPIPaginator.__init__(self, start_value=SeekToken(since, 1))
        self._record_of = record_of  # item -> record (unwraps {"contact": {...}})
        self._total_of = total_of
        self._count_at_or_after = count_at_or_after
        self._stream_name = stream_name
        self._page_size = page_size
        # The newest second emitted so far, and the ids emitted at it.
        self._newest: int | None = None
        self._newest_ids: set[str] = set()
        # Records whose modified_at is missing or unreadable, emitted once each.
        self._undated_ids: set[t.Any] = set()

    @property
    def page_number(self) -> int:
        return self.current_value.page

    # -- which records to emit ----------------------------------------------------

    def should_emit(self, record: dict) -> bool:
        """Whether to emit ``record`` (and remember it): new, and inside the query's range."""
        since, _, bulk_pass = self.current_value
        second = modified_second(record)
        if second is None:
            # No readable modified_at: nothing to place it by, so it is emitted once per run
            # (the values issue: an odd value never stops a sync or loses its record).
            if record.get("id") in self._undated_ids:
                return False
            self._undated_ids.add(record.get("id"))
            return True
        if since is not None and second < since:
            return False  # asked one second early (see module docstring), or older
        if bulk_pass and second != since:
            return False  # a bulk pass collects its second only; later ones come after
        if self._newest is not None and second < self._newest:
            return False  # behind what this run already passed
        if second == self._newest:
            if record.get("id") in self._newest_ids:
                return False
            self._newest_ids.add(record.get("id"))
        else:
            self._newest, self._newest_ids = second, {record.get("id")}
        return True

    # -- where to go next ------------------------------------------------------------

    def has_more(self, response: requests.Response) -> bool:
        if self.current_value.bulk_pass:
            return True  # ``get_next`` decides when the second is complete
        return self._read_page(response).has_next

    def continue_if_empty(self, response: requests.Response) -> bool:
        # A page of records already emitted is not the end of the list.
        return self.has_more(response)

    def get_next(self, response: requests.Response) -> SeekToken | None:
        page = self._read_page(response)
        records = [self._record_of(item) for item in page.items]
        since, number, bulk_pass = self.current_value
        if bulk_pass:
            return self._next_in_bulk(response, page, records)
        seconds = [s for s in map(modified_second, records) if s is not None]
        if not seconds:
            if len(page.items) < self._page_size or not records:
                return None
            # A full page without a readable modified_at: nothing to re-anchor on.
            return SeekToken(since, number + 1, bulk_pass)
        last = max(seconds)
        if since is not None and last <= since:
            if len(page.items) < self._page_size:
                return None  # the query from the anchor second holds less than a page
            # The whole page shares the anchor second: more of it than a page holds.
            self.guard.restart()
            return self._next_in_bulk(response, page, records, SeekToken(since, number, 1))
        self.guard.restart()
        return SeekToken(last, 1)

    def _next_in_bulk(
        self,
        response: requests.Response,
        page: PageInfo,
        records: list[dict],
        token: SeekToken | None = None,
    ) -> SeekToken:
        since, number, bulk_pass = token or self.current_value
        assert since is not None
        pass_over = (
            len(page.items) < self._page_size
            or any((second or since) > since for second in map(modified_second, records))
            or number * self._page_size >= self._total_of(response)
        )
        if not pass_over:
            return SeekToken(since, number + 1, bulk_pass)
        # Recount on every pass: the second may gain or lose records meanwhile.
        expected = self._count_at_or_after(since) - self._count_at_or_after(since + 1)
        collected = len(self._newest_ids) if self._newest == since else 0
        self.guard.restart()
        if collected >= expected:
            return SeekToken(since + 1, 1)
        if bulk_pass >= MAX_PASSES:
            msg = (
                f"Stream '{self._stream_name}': the second {since} holds {expected} records "
                f"by the API's count but {MAX_PASSES} passes collected {collected}; "
                "stopping rather than losing records."
            )
            raise PaginationError(msg)
        return SeekToken(since, 1, bulk_pass + 1)


def modified_second(record: dict) -> int | None:
    """``modified_at`` in unix seconds; None when missing or unreadable."""
    instant = to_instant(record.get("modified_at"))
    return None if instant is None else unix_seconds(instant)
