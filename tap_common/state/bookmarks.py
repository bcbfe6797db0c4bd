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

from singer_sdk.helpers._state import PROGRESS_MARKER_NOTE, PROGRESS_MARKERS
from typing_extensions import override

from tap_common.messages.timestamps import iso_utc, parse_datetime, to_instant

if t.TYPE_CHECKING:
    from singer_sdk import RESTStream as _StreamBase
    from singer_sdk import Stream
    from singer_sdk.helpers.types import Context

    from tap_common.messages.value_report import ValueReport
else:
    _StreamBase = object


class InstantBookmarks(_StreamBase):
    """Mixin for a stream whose replication key is a timestamp (see the module docstring)."""

    value_report: ValueReport

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        """The stream's records, less those at or after ``end_date`` (incremental streams)."""
        records = super().get_records(context)
        end = self._end_date()
        if end is None or not self._bookmarks_instants():
            yield from records
            return
        key = t.cast("str", t.cast("Stream", self).replication_key)
        for record in records:
            instant = to_instant(record.get(key))
            # Unreadable keys are emitted (and reported when the bookmark skips them).
            if instant is None or instant < end:
                yield record

    def _end_date(self) -> datetime | None:
        """The ``end_date`` setting, read once."""
        if "_end_date_setting" not in self.__dict__:
            self.__dict__["_end_date_setting"] = end_date(t.cast("Stream", self).config)
        return self.__dict__["_end_date_setting"]

    @override
    def compare_start_date(self, value: str, start_date_value: str) -> str:
        """The later of a saved bookmark and ``start_date``, read in any timestamp form."""
        stream = t.cast("Stream", self)
        if not stream.is_timestamp_replication_key:
            return value
        instants = [i for i in (to_instant(value), to_instant(start_date_value)) if i]
        return iso_utc(max(instants)) if instants else value

    @override
    def get_starting_replication_key_value(self, context: Context | None) -> t.Any | None:
        """The saved bookmark (or start_date) in the written form; None if unreadable."""
        stream = t.cast("Stream", self)
        value = super().get_starting_replication_key_value(context)
        if value is None or not stream.is_timestamp_replication_key:
            return value
        instant = to_instant(value)
        if instant is None:
            if not self.__dict__.get("_warned_unreadable_start"):
                self.__dict__["_warned_unreadable_start"] = True
                stream.logger.warning(
                    "Stream '%s': the saved bookmark %r is not a readable timestamp; "
                    "reading the stream from the beginning.",
                    stream.name,
                    value,
                )
            return None
        cap = self._bookmark_cap(context)
        if cap is not None and instant > cap and not self.__dict__.get("_warned_future_start"):
            # Kept (a hand-set bookmark may mean "nothing before this"), but said: one an
            # earlier version took from a future-dated record holds the stream back.
            self.__dict__["_warned_future_start"] = True
            stream.logger.warning(
                "Stream '%s': the saved bookmark %s is later than now; changes made before "
                "it are not read. If it came from a record dated in the future, clear this "
                "stream's state.",
                stream.name,
                iso_utc(instant),
            )
        return iso_utc(instant)

    def increment_bookmark(self, latest_record: dict, *, context: Context | None = None) -> None:
        """Move the bookmark to ``latest_record``'s replication key, if that is later.

        The SDK's private ``Stream._increment_stream_state`` hands over to this
        (tap_common/stream/sdk_private.py): it is the only place a bookmark moves, and its string
        comparison and sort exception are what this mixin replaces.
        """
        stream = t.cast("Stream", self)
        if not latest_record or not self._bookmarks_instants():
            super()._increment_stream_state(latest_record, context=context)
            return
        if getattr(self, "is_left_out", lambda _record: False)(latest_record):
            return  # not written: it must not move the bookmark either
        key = t.cast("str", stream.replication_key)
        instant = to_instant(latest_record.get(key))
        if instant is None:
            self.value_report.bookmark_unreadable(latest_record, stream.primary_keys or (), key)
            return
        cap = self._bookmark_cap(context)
        if cap is not None and instant > cap:
            self.value_report.bookmark_in_future(
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
        last = self.__dict__.get("_last_bookmark")  # (text, instant) this mixin wrote last
        old = last[1] if last is not None and last[0] == saved else to_instant(saved)
        if old is not None and instant <= old:
            return  # the largest value wins, whatever the order records came in
        text = iso_utc(instant)
        state["replication_key"] = key
        state["replication_key_value"] = text
        self.__dict__["_last_bookmark"] = (text, instant)

    def _bookmarks_instants(self) -> bool:
        """Whether this mixin keeps the bookmark: an incremental stream on a timestamp."""
        applies = self.__dict__.get("_instant_bookmarks_apply")
        if applies is None:
            stream = t.cast("Stream", self)
            applies = bool(
                stream.replication_method == "INCREMENTAL"
                and stream.replication_key
                and stream.is_timestamp_replication_key
            )
            self.__dict__["_instant_bookmarks_apply"] = applies
        return applies

    def _bookmark_cap(self, context: Context | None) -> datetime | None:
        """The time the sync started (the SDK's signpost), or ``end_date`` if earlier: no
        bookmark goes past it."""
        caps: dict = self.__dict__.setdefault("_bookmark_caps", {})
        cache_key = repr(sorted(context.items())) if context else ""
        if cache_key not in caps:
            signpost = t.cast("Stream", self).get_replication_key_signpost(context)
            bounds = [b for b in (signpost, self._end_date()) if isinstance(b, datetime)]
            caps[cache_key] = min(bounds) if bounds else None
        return caps[cache_key]


def end_date(config: t.Mapping[str, t.Any]) -> datetime | None:
    """The ``end_date`` setting as an instant (checked by ``tap_common.program.settings.check_common_config`` before the first request)."""
    value = config.get("end_date")
    return None if value is None else parse_datetime(str(value))
