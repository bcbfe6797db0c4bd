"""One paginator per way the CRM's lists are paged; each decides once per page.

A stream reads each response once into a ``tap_crm.pages.Page`` and hands it to its
paginator's ``accept``, which vets it (``tap_common.state.paging.PageGuard``), returns the
records to emit and decides where the next request goes; the SDK's loop then replays
that decision (``tap_common.state.paging.DecidedPaginator``). A paginator never calls back into
its stream: when it needs the API's count of one second (``ModifiedSincePasses``), it
says so in ``count_needed`` and the stream answers with ``counted``.

* ``PageNumbers``: pages 1, 2, ... while the metadata announces more.
* ``PlainPages``: as ``PageNumbers``, for lists whose answers may carry no metadata.
* ``NewestFirstPasses``: a whole list, read again while it misses records by its count.
* ``ModifiedSincePasses``: incremental lists, re-anchored on time after every page.

Paging by time that cannot skip a record when records change or ties reorder
(``ModifiedSincePasses``). With plain page numbers over
``sort_by=modified_at&order=asc``, a record edited after its page was read moves to the
end of the result, every later record shifts one place forward, and the first record of
the next page is never seen. Its ``modified_at`` is older than the final bookmark, so no
later run reads it either: it is lost.

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

import abc
import typing as t

from typing_extensions import override

from tap_common.http.errors import PaginationError
from tap_common.messages.timestamps import to_instant, unix_seconds
from tap_common.state.paging import DecidedPaginator, PageGuard

if t.TYPE_CHECKING:
    import logging
    from datetime import datetime

    import requests

    from tap_crm.pages import Page

T = t.TypeVar("T")

# Passes over one bulk-edited second before the run gives up on it.
MAX_PASSES = 40
# Passes over a whole newest-first list before the run gives up on it.
MAX_LIST_PASSES = 30
# How far behind its change a record's modified_at may read and still be emitted once per
# run, not again: a date-only value reads up to a day early, a clock off by seconds less.
EARLY_HORIZON = 86_400 + 60


class CRMPaginator(DecidedPaginator[T]):
    """Page numbers, vetted by a ``PageGuard``, in whatever token a strategy needs."""

    def __init__(self, start_value: T, stream_name: str) -> None:
        super().__init__(start_value)
        self.stream_name = stream_name
        self.guard = PageGuard(stream_name)
        # The current request lies past the last page the API announced (a probe): what
        # an API answers past the end is not documented, so an empty page, a page other
        # than the one asked (e.g. the last page again), a repeat of the previous page or
        # a 4xx (``end_of_list``) all end the list there, without emitting anything.
        self.probing = False

    @property
    @abc.abstractmethod
    def page_number(self) -> int:
        """The page the current request asks for."""

    @abc.abstractmethod
    def accept(self, page: Page) -> list:
        """Vet ``page``, decide the next request, and return the records to emit."""

    def vet(self, page: Page) -> None:
        """Raise ``PaginationError`` unless ``page`` is the page asked for, new, and within
        reach of what the query's first page announced (``tap_common.state.paging.PageGuard``)."""
        self.guard.vet(page.where, page.number, page.items, self.page_number, page.max_page)

    def end_of_list(self) -> None:
        """The probe past the last announced page was refused: the list ended before it."""
        self.decide(None)

    def admit(self, page: Page) -> bool:
        """Whether ``page`` continues the list: False (the list ended) when it answers a
        probe past the announced pages with nothing new; else it is vetted, and the next
        request is a probe if this page lies past the announced ones."""
        if self.probe_missed(page):
            self.end_of_list()
            return False
        self.vet(page)
        self.probing = page.past_announced
        return True

    def probe_missed(self, page: Page) -> bool:
        """Whether a probe's answer says the list ended before it."""
        return self.probing and (
            not page.items
            or page.number != self.page_number
            or page.items == self.guard.previous_items
        )


class PageNumbers(CRMPaginator[int]):
    """Pages 1, 2, ... while the metadata announces another page (or one more probe:
    the last announced page came full)."""

    def __init__(self, stream_name: str) -> None:
        super().__init__(1, stream_name)

    @property
    @override
    def page_number(self) -> int:
        return self.current_value

    @override
    def accept(self, page: Page) -> list:
        if not self.admit(page):
            return []
        self.decide(self.page_number + 1 if page.has_next else None)
        return page.records


class PlainPages(PageNumbers):
    """Lists paged with ``page``/``per_page`` whose answers may carry no page metadata.

    The OnePageCRM swagger (https://github.com/OnePageCRM/swagger, ``GET /predefined_items``)
    says to "page through with page and per_page" (default 10, maximum 100) but documents
    no ``page``/``max_page`` beside the items; the official Java client also sends
    page/per_page to ``/predefined_actions`` (``Action.listPredefined``), whose documented
    response carries no metadata either. So:

    * a page WITH ``page`` and ``max_page`` is guarded like every CRM list, and followed
      while ``page < max_page``;
    * a page without them is followed while it is full (as many items as asked for);
    * without metadata, a page that repeats the previous one means the API ignores
      ``page``: that page is dropped (its records were emitted once already) and the list
      ends with one WARNING, not an error (``repeated``).
    """

    def __init__(self, stream_name: str, page_size: int, logger: logging.Logger) -> None:
        super().__init__(stream_name)
        self._page_size = page_size
        self._logger = logger
        self._previous_items: list | None = None
        self.repeated = False

    @override
    def accept(self, page: Page) -> list:
        if page.has_metadata:
            self.vet(page)
            has_next = t.cast("int", page.number) < t.cast("int", page.max_page)
        else:
            if page.items and page.items == self._previous_items:
                self.repeated = True
                self._logger.warning(
                    "Stream '%s': page %d of %s repeats page %d, so the API ignores 'page'; "
                    "the %d records of page %d are all there is.",
                    self.stream_name,
                    self.page_number,
                    page.where,
                    self.page_number - 1,
                    len(page.items),
                    self.page_number - 1,
                )
            self._previous_items = page.items
            has_next = len(page.items) >= self._page_size
        if self.repeated:
            self.decide(None)
            return []
        self.decide(self.page_number + 1 if has_next else None)
        return page.records


class _PagedToken(t.Protocol):
    @property
    def page(self) -> int: ...


P = t.TypeVar("P", bound=_PagedToken)


class TokenPages(CRMPaginator[P]):
    """A paginator whose token is a tuple that holds the page number among other things."""

    @property
    @override
    def page_number(self) -> int:
        return self.current_value.page


class PassToken(t.NamedTuple):
    page: int
    pass_number: int = 1


class NewestFirstPasses(TokenPages[PassToken]):
    """A whole list by page numbers, read again while it misses records by its own count.

    Records sharing a sort value may come back in a new order on every request, so page
    boundaries can skip and repeat them. After each pass the distinct ids read are
    compared with the list's ``total_count`` (recounted on every page): while fewer were
    read, the list is read again from page 1, up to ``MAX_LIST_PASSES`` passes, then one
    line ends the run. A record is emitted once per run, and only when its
    ``emit_key`` is at or after ``emit_from`` (or unreadable); with an ``emit_from``, the
    read ends at the first page that reaches an older record.
    """

    def __init__(self, stream_name: str, *, emit_key: str, emit_from: datetime | None) -> None:
        super().__init__(PassToken(1), stream_name)
        self._emit_key = emit_key
        self._emit_from = emit_from
        self._seen: set[t.Any] = set()
        self._total = 0

    @override
    def accept(self, page: Page) -> list:
        if not self.admit(page):
            return []
        self._total = page.total_count or 0
        records = [record for record in page.records if self._emits(record)]
        if self._reached_older(page.records):
            # Newest first: every later page is older still. Whatever a partial read
            # misses (a deletion shifting a record, a tie straddling a page boundary) the
            # next run reads again, from this run's start (``tap_common.state.overlap``).
            self.decide(None)
        else:
            self._decide(has_next=page.has_next)
        return records

    def _reached_older(self, records: list[dict]) -> bool:
        """Whether the page ends with a record older than ``emit_from``."""
        if self._emit_from is None or not records:
            return False
        value = to_instant(records[-1].get(self._emit_key))
        return value is not None and value < self._emit_from

    @override
    def end_of_list(self) -> None:
        self._decide(has_next=False)

    @override
    def continue_if_empty(self, response: requests.Response) -> bool:
        # A page of records already emitted (or a refused probe) ends a pass, not the list.
        return self.has_more(response)

    def _emits(self, record: dict) -> bool:
        if record.get("id") in self._seen:
            return False
        self._seen.add(record.get("id"))
        if self._emit_from is None:
            return True
        value = to_instant(record.get(self._emit_key))
        return value is None or value >= self._emit_from

    def _decide(self, *, has_next: bool) -> None:
        token = self.current_value
        if has_next:
            self.decide(token._replace(page=token.page + 1))
        elif len(self._seen) >= self._total:
            self.decide(None)
        elif token.pass_number >= MAX_LIST_PASSES:
            msg = (
                f"Stream '{self.stream_name}': the list counts {self._total} records but "
                f"{MAX_LIST_PASSES} passes read {len(self._seen)} distinct ones; stopping."
            )
            self.fail(PaginationError(msg))
        else:
            self.probing = False
            self.guard.restart()
            self.decide(PassToken(1, token.pass_number + 1))


class SeekToken(t.NamedTuple):
    since: int | None  # unix seconds: records at or after it; None: no lower bound
    page: int
    bulk_pass: int = 0  # >0: reading the bulk second ``since``, in this pass


class ModifiedSincePasses(TokenPages[SeekToken]):
    """Page tokens are (since, page, pass); see the module docstring.

    After a bulk second's pass, ``count_needed`` is that second: the stream answers
    ``counted`` with the API's count of records modified in it before the next request.
    """

    def __init__(
        self,
        stream_name: str,
        *,
        since: int | None,
        page_size: int,
        asked: t.Callable[[int], int] = lambda second: second - 1,
    ) -> None:
        super().__init__(SeekToken(since, 1), stream_name)
        self._page_size = page_size
        # The ``modified_since`` sent for a token's ``since`` (one second early unless the
        # bound is known inclusive).
        self._asked = asked
        # The newest second emitted so far, and the ids emitted at it; the second before
        # it and its ids (what a bound asked one second early reads again).
        self._newest: int | None = None
        self._newest_ids: set[t.Any] = set()
        self._previous: int | None = None
        self._previous_ids: set[t.Any] = set()
        # Records the API returned for a ``modified_since`` although their modified_at
        # reads earlier (a date-only value, a clock some seconds off): emitted once each.
        self._early_ids: set[t.Any] = set()
        # Ids emitted this run, by the second they read: a record dated earlier than its
        # change comes again on every query whose bound its change lies after, behind
        # where this run is. Kept for EARLY_HORIZON seconds behind the newest second.
        self._recent: dict[t.Any, int] = {}
        self._recent_pruned_at = 0
        # Ids emitted from the previous page: a record emitted there in its place may come
        # again, dated before the next anchor, from the page after it.
        self._last_page_ids: set[t.Any] = set()
        # Early records met while reading a bulk second in passes: the API counts them in
        # the second its own clock puts them in, which their modified_at does not show.
        self._bulk_second: int | None = None
        self._bulk_early_ids: set[t.Any] = set()
        # Records whose modified_at is missing or unreadable, emitted once each.
        self._undated_ids: set[t.Any] = set()
        # The second whose count decides the next request, and the pass that read it.
        self.count_needed: int | None = None
        self._pass_read: SeekToken | None = None

    @override
    def accept(self, page: Page) -> list:
        self.vet(page)
        # Each record's second is read once: sorting, emitting and deciding all need it
        # (reading it three times was 4% of a profiled sync).
        dated = [(modified_second(record), record) for record in page.records]
        # Oldest second first within the page: the API's tie order is only a hint.
        dated.sort(key=_second_or_zero)
        since = self.current_value.since
        # Dated before the ``modified_since`` that returned them: placed by nothing.
        floor = None if since is None else self._asked(since)
        early = [floor is not None and second is not None and second < floor for second, _ in dated]
        emitted = [
            record
            for (second, record), is_early in zip(dated, early, strict=True)
            if (self._emits_early(record) if is_early else self._emits(record, second))
        ]
        # Ids emitted so far that came on every page since: only these can come again
        # (the API pages ascending by its own clock), so the set stays a page long.
        self._remember(emitted, dated)
        self._last_page_ids = {record.get("id") for record in emitted} | {
            record.get("id") for record in page.records if record.get("id") in self._last_page_ids
        }
        if self.current_value.bulk_pass:
            if self._bulk_second != since:
                self._bulk_second, self._bulk_early_ids = since, set()
            self._bulk_early_ids.update(
                record.get("id") for (_, record), e in zip(dated, early, strict=True) if e
            )
        self._decide(
            page, [None if e else second for (second, _), e in zip(dated, early, strict=True)]
        )
        return emitted

    @property
    @override
    def decided_next(self) -> SeekToken | None:
        """None while a count must be asked first (``count_needed``)."""
        return None if self.count_needed is not None else super().decided_next

    def counted(self, in_second: int) -> None:
        """The API's count of records modified in ``count_needed``: ends its pass."""
        assert self._pass_read is not None, "counted() answers a count_needed"
        since, _, bulk_pass = self._pass_read
        assert since is not None, "a bulk pass reads one second"
        self.count_needed = self._pass_read = None
        collected = len(self._newest_ids) if self._newest == since else 0
        if self._bulk_second == since:
            collected += len(self._bulk_early_ids - self._newest_ids)
        self.guard.restart()
        if collected >= in_second:
            self.decide(SeekToken(since + 1, 1))
        elif bulk_pass >= MAX_PASSES:
            msg = (
                f"Stream '{self.stream_name}': the second {since} holds {in_second} records "
                f"by the API's count but {MAX_PASSES} passes collected {collected}; "
                "stopping rather than losing records."
            )
            self.fail(PaginationError(msg))
        else:
            self.decide(SeekToken(since, 1, bulk_pass + 1))

    @override
    def has_more(self, response: requests.Response) -> bool:
        if self.count_needed is not None:
            msg = f"Stream '{self.stream_name}': the count of second {self.count_needed} was not given."
            raise RuntimeError(msg)
        return super().has_more(response)

    @override
    def continue_if_empty(self, response: requests.Response) -> bool:
        # A page of records already emitted is not the end of the list.
        return self.has_more(response)

    # -- which records to emit ----------------------------------------------------

    def _remember(self, emitted: list[dict], dated: list[tuple[int | None, dict]]) -> None:
        """Keep the ids just emitted; forget those more than EARLY_HORIZON behind."""
        emitted_ids = {id(record) for record in emitted}
        for second, record in dated:
            if id(record) in emitted_ids and second is not None:
                self._recent[record.get("id")] = second
        if self._newest is not None and len(self._recent) > 2 * self._recent_pruned_at + 1024:
            oldest = self._newest - EARLY_HORIZON
            self._recent = {k: v for k, v in self._recent.items() if v >= oldest}
            self._recent_pruned_at = len(self._recent)

    def _emits_early(self, record: dict) -> bool:
        """Whether to emit a record dated before the bound that returned it: once per run.

        The API's own filter says it changed at or after the bound; its ``modified_at``
        says earlier (a date-only value, a clock off by seconds). Dropping it as already
        read would lose an edit in silence; it neither anchors a query nor moves the
        bookmark (a record older than the bookmark never does)."""
        record_id = record.get("id")
        if record_id in self._early_ids or record_id in self._recent:
            return False
        self._early_ids.add(record_id)
        # Emitted from an earlier page in its place (it has come on every page since):
        # now known early, not emitted again.
        return record_id not in self._last_page_ids

    def _emits(self, record: dict, second: int | None) -> bool:
        """Whether to emit ``record`` (and remember it): new, and inside the query's range.

        ``second`` is ``modified_second(record)``."""
        since, _, bulk_pass = self.current_value
        if second is None:
            # No readable modified_at: nothing to place it by, so it is emitted once per run
            # (an odd value never stops a sync or loses its record).
            if record.get("id") in self._undated_ids:
                return False
            self._undated_ids.add(record.get("id"))
            return True
        if bulk_pass and since is not None and second > since:
            return False  # a bulk pass collects its second only; later ones come after
        behind_bound = since is not None and second < since
        if behind_bound or (self._newest is not None and second < self._newest):
            # Behind the query's bound or what this run passed. The records of the newest
            # second and the one before were read already (a bound asked one second early
            # reads them again), and at the run's start the second before the bound was
            # read by the previous run (the bookmark's). Anything else the API returned
            # is dated earlier than its change: emitted once.
            record_id = record.get("id")
            if self._newest is None and behind_bound:
                return False
            if record_id in self._newest_ids or record_id in self._previous_ids:
                return False
            return self._emits_early(record)
        if second == self._newest:
            if record.get("id") in self._newest_ids:
                return False
            self._newest_ids.add(record.get("id"))
        else:
            if self._newest is not None and self._newest == second - 1:
                self._previous, self._previous_ids = self._newest, self._newest_ids
            else:
                self._previous, self._previous_ids = None, set()
            self._newest, self._newest_ids = second, {record.get("id")}
        return True

    # -- where to go next ------------------------------------------------------------

    def _decide(self, page: Page, page_seconds: list[int | None]) -> None:
        """Where the next request goes; ``page_seconds``: each record's ``modified_second``."""
        since, number, bulk_pass = self.current_value
        if bulk_pass:
            self._next_in_bulk(page, self.current_value, page_seconds)
            return
        if not page.has_next:
            self.decide(None)
            return
        seconds = [s for s in page_seconds if s is not None]
        if not seconds:
            if len(page.items) < self._page_size or not page.records:
                self.decide(None)
            else:
                # A full page without a readable modified_at: nothing to re-anchor on.
                self.decide(SeekToken(since, number + 1, bulk_pass))
            return
        last = max(seconds)
        if since is not None and last <= since:
            if len(page.items) < self._page_size:
                self.decide(None)  # the query from the anchor second holds less than a page
                return
            # The whole page shares the anchor second: more of it than a page holds.
            self.guard.restart()
            self._next_in_bulk(page, SeekToken(since, number, 1), page_seconds)
            return
        self.guard.restart()
        self.decide(SeekToken(last, 1))

    def _next_in_bulk(self, page: Page, token: SeekToken, page_seconds: list[int | None]) -> None:
        since, number, bulk_pass = token
        assert since is not None
        pass_over = (
            len(page.items) < self._page_size
            or any((second or since) > since for second in page_seconds)
            or number * self._page_size >= (page.total_count or 0)
        )
        if not pass_over:
            self.decide(SeekToken(since, number + 1, bulk_pass))
            return
        # Recount on every pass: the second may gain or lose records meanwhile.
        self.decide(None)
        self.count_needed, self._pass_read = since, token


def _second_or_zero(dated: tuple[int | None, dict]) -> int:
    return dated[0] or 0


def modified_second(record: dict) -> int | None:
    """``modified_at`` in unix seconds; None when missing or unreadable."""
    instant = to_instant(record.get("modified_at"))
    return None if instant is None else unix_seconds(instant)
