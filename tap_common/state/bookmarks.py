"""Bookmarks compared as instants, never as strings, and never past the sync's start.

The SDK keeps a replication-key value as the record sent it and compares values as
strings (``singer_sdk.helpers._state.increment_state``: ``new >= old``), so
``...:15.338Z`` sorts before ``...:15Z``, a unix-integer bookmark raises ``TypeError``,
an out-of-order record in a sorted stream raises ``InvalidStreamSortException``, and
with ``check_sorted = False`` the last value seen wins, not the largest.

``InstantBookmarks`` reads every value (record or saved state) with
``tap_common.messages.timestamps.to_instant`` and writes the bookmark in the one fixed-width form
of the SDK's own signpost (``isoformat(timespec="microseconds")`` in UTC):

* the bookmark only ever moves forward, to the largest instant seen;
* a record whose replication key is missing, null or unreadable is emitted but does not
  move it (one warning per stream);
* it never moves past the time the sync started (the SDK's signpost): a record dated in
  the future, a clock error on the API's side, must not hide later changes from the
  next run;
* a saved bookmark is read in any form ``to_instant`` reads, unix integers included;
* with ``end_date`` set, records whose replication key is at or after it are dropped and
  the bookmark never moves past it: a backfill window ``[start_date, end_date)`` reads
  what lies in it and no more, whatever the API's filter returned beyond its bound.
"""

from __future__ import annotations

import typing as t
from datetime import datetime
from functools import cached_property

from singer_sdk.helpers._state import PROGRESS_MARKER_NOTE, PROGRESS_MARKERS

from tap_common.messages.timestamps import iso_utc, parse_datetime, to_instant

if t.TYPE_CHECKING:
    from singer_sdk import Stream
    from singer_sdk.helpers.types import Context

    from tap_common.messages.value_report import ValueReport


class InstantBookmarks:
    """A stream's bookmark kept as an instant (see the module docstring): the collaborator
    ``APIStream`` holds, and hands the SDK's bookmark hooks to."""

    def __init__(
        self, stream: Stream, report: ValueReport, left_out: t.Callable[[dict], bool]
    ) -> None:
        self.stream = stream
        self.report = report  # where unreadable and future-dated keys are counted
        self.left_out = left_out  # whether a record was not written (no primary key)
        self.end = end_date(stream.config)
        self._last: tuple[str, datetime] | None = None  # (text, instant) written last
        self._caps: dict[str, datetime | None] = {}
        self._warned: set[str] = set()

    @cached_property
    def applies(self) -> bool:
        """Whether this keeps the bookmark: an incremental stream on a timestamp (read at
        the first use, after the catalog has set the replication method)."""
        stream = self.stream
        return bool(
            stream.replication_method == "INCREMENTAL"
            and stream.replication_key
            and stream.is_timestamp_replication_key
        )

    def before_end(self, records: t.Iterable[dict]) -> t.Iterator[dict]:
        """``records``, less those at or after ``end_date`` (incremental streams)."""
        if self.end is None or not self.applies:
            yield from records
            return
        end = self.end
        key = t.cast("str", self.stream.replication_key)
        for record in records:
            instant = to_instant(record.get(key))
            # Unreadable keys are emitted (and reported when the bookmark skips them).
            if instant is None or instant < end:
                yield record

    def compare_start_date(self, value: str, start_date_value: str) -> str:
        """The later of a saved bookmark and ``start_date``, read in any timestamp form."""
        if not self.stream.is_timestamp_replication_key:
            return value
        instants = [i for i in (to_instant(value), to_instant(start_date_value)) if i]
        return iso_utc(max(instants)) if instants else value

    def starting_value(self, value: t.Any | None, context: Context | None) -> t.Any | None:
        """The SDK's starting value (the saved bookmark or start_date) in the written form;
        None if unreadable."""
        stream = self.stream
        if value is None or not stream.is_timestamp_replication_key:
            return value
        instant = to_instant(value)
        if instant is None:
            if self._warn_once("unreadable"):
                stream.logger.warning(
                    "Stream '%s': the saved bookmark %r is not a readable timestamp; "
                    "reading the stream from the beginning.",
                    stream.name,
                    value,
                )
            return None
        cap = self._cap(context)
        if cap is not None and instant > cap and self._warn_once("future"):
            # Kept (a hand-set bookmark may mean "nothing before this"), but said: one an
            # earlier version took from a future-dated record holds the stream back.
            stream.logger.warning(
                "Stream '%s': the saved bookmark %s is later than now; changes made before "
                "it are not read. If it came from a record dated in the future, clear this "
                "stream's state.",
                stream.name,
                iso_utc(instant),
            )
        return iso_utc(instant)

    def increment(self, latest_record: dict, *, context: Context | None = None) -> bool:
        """Move the bookmark to ``latest_record``'s replication key, if that is later; False
        where the SDK's own bookmark applies (not an incremental stream on a timestamp).

        The SDK's private ``Stream._increment_stream_state`` hands over to this
        (``tap_common.stream.client.APIStream``): it is the only place a bookmark moves,
        and its string comparison and sort exception are what this replaces.
        """
        if not latest_record or not self.applies:
            return False
        if self.left_out(latest_record):
            return True  # not written: it must not move the bookmark either
        stream = self.stream
        key = t.cast("str", stream.replication_key)
        instant = to_instant(latest_record.get(key))
        if instant is None:
            self.report.bookmark_unreadable(latest_record, stream.primary_keys or (), key)
            return True
        cap = self._cap(context)
        if cap is not None and instant > cap:
            self.report.bookmark_in_future(
                latest_record, stream.primary_keys or (), iso_utc(instant), iso_utc(cap)
            )
            instant = cap
        state = stream.get_context_state(context)
        if not stream.is_sorted or stream.state_partitioning_keys is not None:
            # As the SDK: an unsorted stream's bookmark is promoted when it completes.
            state = state.setdefault(
                PROGRESS_MARKERS,
                {PROGRESS_MARKER_NOTE: "Progress is not resumable if interrupted."},
            )
        saved = state.get("replication_key_value")
        last = self._last
        old = last[1] if last is not None and last[0] == saved else to_instant(saved)
        if old is not None and instant <= old:
            return True  # the largest value wins, whatever the order records came in
        text = iso_utc(instant)
        state["replication_key"] = key
        state["replication_key_value"] = text
        self._last = (text, instant)
        return True

    def _cap(self, context: Context | None) -> datetime | None:
        """The time the sync started (the SDK's signpost), or ``end_date`` if earlier: no
        bookmark goes past it."""
        cache_key = repr(sorted(context.items())) if context else ""
        if cache_key not in self._caps:
            signpost = self.stream.get_replication_key_signpost(context)
            bounds = [b for b in (signpost, self.end) if isinstance(b, datetime)]
            self._caps[cache_key] = min(bounds) if bounds else None
        return self._caps[cache_key]

    def _warn_once(self, kind: str) -> bool:
        if kind in self._warned:
            return False
        self._warned.add(kind)
        return True


def end_date(config: t.Mapping[str, t.Any]) -> datetime | None:
    """The ``end_date`` setting as an instant (checked before the first request by
    ``tap_common.program.settings.check_common_config``)."""
    value = config.get("end_date")
    return None if value is None else parse_datetime(str(value))
