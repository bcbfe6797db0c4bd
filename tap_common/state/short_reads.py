"""A read that ends with fewer distinct records than the API announced is read again once,
then completes or says what is missing; it never looks complete.

Both APIs announce the size of a list query on its first page (the CRM's
``data.total_count``, the call API's ``meta.total``: https://developer.aircall.io/api-references/#pagination).
A page that comes back with fewer items than it should (a cache or proxy in between, a
replica behind) ends a read short without any error. The distinct records a read returned
are counted against that total as the deleted-records check counts them
(``tap_common.state.table_versions``); a read that falls short is read once more, yielding only
the records the first pass did not, and a second shortfall is one WARNING line naming the
stream, how many records are missing and which pages came back short.
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

    from tap_common.state.paged_stream import PagedStream


class ReadTally:
    """One pass of a read: its distinct records and the records of each page."""

    def __init__(self) -> None:
        self.keys: set[tuple] = set()
        self.unkeyed = 0  # records without a full key: each counted as distinct
        self.records = 0
        self.page_starts: list[int] = []  # records before each accepted page
        self.open = True

    @property
    def distinct(self) -> int:
        return len(self.keys) + self.unkeyed

    def add(self, key: tuple) -> bool:
        """Count a record; whether it is new to this tally."""
        self.records += 1
        if any(part is None for part in key):
            self.unkeyed += 1
            return True
        if key in self.keys:
            return False
        self.keys.add(key)
        return True

    def page_sizes(self) -> list[int]:
        ends = [*self.page_starts[1:], self.records]
        return [end - start for start, end in zip(self.page_starts, ends, strict=True)]

    def short_pages(self, page_size: int) -> str:
        """``page 3: 25 of 50`` for each page but the last with fewer than a full page."""
        sizes = self.page_sizes()
        short = [
            f"page {number}: {size} of {page_size}"
            for number, size in enumerate(sizes[:-1], start=1)
            if size < page_size
        ]
        return ", ".join(short) if short else f"the last of {len(sizes)} pages ended early"


class ShortReads:
    """A stream's reads, each read again once when shorter than its announced total: the
    collaborator ``APIStream`` holds."""

    def __init__(self, stream: PagedStream) -> None:
        self.stream = stream
        self._tally: ReadTally | None = None  # the pass being read

    def read(
        self, read_once: t.Callable[[], t.Iterable[dict]], context: Context | None
    ) -> t.Iterator[dict]:
        """The records of ``read_once()``, and of a second pass if the first fell short of
        the total its first page announced (only those the first pass did not return)."""
        stream = self.stream
        keys = stream.primary_keys or ()
        first = ReadTally()
        self._tally = first
        for record in read_once():
            first.add(tuple(record.get(key) for key in keys))
            yield record
        first.open = False
        announced = self.exact_announced_total() if self.reads_whole_list(context) else None
        if announced is None or first.distinct >= announced:
            return
        stream.logger.warning(
            "Stream '%s': the read returned %d distinct records of the %d the API announced "
            "(%s); reading the list once more.",
            stream.name,
            first.distinct,
            announced,
            first.short_pages(stream.page_size),
        )
        again = ReadTally()
        self._tally = again
        for record in read_once():
            key = tuple(record.get(key) for key in keys)
            again.add(key)
            if first.add(key):  # only what the first pass did not return
                yield record
        again.open = False
        # Records deleted since the first read: the list's total now is what counts.
        now = self.exact_announced_total()
        expected = announced if now is None else min(announced, now)
        if first.distinct < expected:
            stream.logger.warning(
                "Stream '%s' is incomplete: %d of the %d records the API announced are "
                "missing after reading the list twice (first read: %s; second read: %d "
                "distinct records, %s). The next sync reads them again.",
                stream.name,
                expected - first.distinct,
                expected,
                first.short_pages(stream.page_size),
                again.distinct,
                again.short_pages(stream.page_size),
            )
        else:
            stream.logger.info(
                "Stream '%s': the second read is complete; %d distinct records of the %d "
                "the API announces now.",
                stream.name,
                first.distinct,
                expected,
            )

    def note_page(self, response: requests.Response) -> None:
        """An accepted page of the read (``APIStream.validate_response``): where it starts."""
        tally = self._tally
        if tally is not None and tally.open:
            tally.page_starts.append(tally.records)

    def reads_whole_list(self, context: Context | None) -> bool:
        """Whether the read means to return the whole list its first page counted: a
        full-table read, or an incremental one with no starting point (an incremental
        read from a bookmark may stop early by design, e.g. newest first)."""
        stream = self.stream
        if stream.replication_method == "FULL_TABLE":
            return True
        return stream.get_starting_replication_key_value(context) is None

    def exact_announced_total(self) -> int | None:
        """The total the read's first page announced, unless only a lower bound or none."""
        progress = self.stream.progress
        if progress.total is None or progress.total_is_lower_bound:
            return None
        return progress.total
