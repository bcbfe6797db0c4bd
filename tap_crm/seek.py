"""Paging that cannot skip a record when records change during the sync.

With plain page numbers over ``sort_by=modified_at&order=asc``, a record edited after
its page was read moves to the end of the result, every later record shifts one place
forward, and the first record of the next page is never seen. Its ``modified_at`` is
older than the final bookmark, so no later run reads it either: it is lost.

So after each page the query is re-anchored: ``modified_since`` becomes the last
record's second and paging restarts at page 1. Records of that second that were
already emitted are skipped. Only when a whole page shares one second (a bulk update)
does the page number advance instead, so paging always makes progress.
"""

from __future__ import annotations

import typing as t

from singer_sdk.pagination import BaseAPIPaginator

from tap_common.paging import GuardedPageNumberPaginator, PageInfo
from tap_common.timestamps import to_instant, unix_seconds

if t.TYPE_CHECKING:
    import requests


class SeekToken(t.NamedTuple):
    since: int | None  # unix seconds for modified_since; None: no lower bound
    page: int


class ModifiedSincePaginator(GuardedPageNumberPaginator):
    """Page tokens are (modified_since, page); see the module docstring."""

    def __init__(
        self,
        read_page: t.Callable[[requests.Response], PageInfo],
        announced_pages: t.Callable[[requests.Response], int | None],
        stream_name: str,
        *,
        since: int | None,
        record_of: t.Callable[[dict], dict],
    ) -> None:
        super().__init__(read_page, announced_pages, stream_name)
        BaseAPIPaginator.__init__(self, start_value=SeekToken(since, 1))
        self._record_of = record_of  # item -> record (unwraps {"contact": {...}})
        self._emitted_at_anchor: set[str] = set()

    @property
    def page_number(self) -> int:
        return self.current_value.page

    def already_emitted(self, record: dict) -> bool:
        """Whether a record at the anchor second was emitted by the previous page."""
        return (
            record.get("id") in self._emitted_at_anchor
            and modified_second(record) == self.current_value.since
        )

    def get_next(self, response: requests.Response) -> SeekToken:
        records = [self._record_of(item) for item in self._read_page(response).items]
        since, page = self.current_value
        last = modified_second(records[-1])
        if last is None or last == since:
            # The whole page shares the anchor second: move on within it.
            self._emitted_at_anchor |= {r.get("id") for r in records}
            return SeekToken(since, page + 1)
        self._emitted_at_anchor = {r.get("id") for r in records if modified_second(r) == last}
        return SeekToken(last, 1)


def modified_second(record: dict) -> int | None:
    """``modified_at`` in unix seconds; None when missing or unreadable."""
    instant = to_instant(record.get("modified_at"))
    return None if instant is None else unix_seconds(instant)
