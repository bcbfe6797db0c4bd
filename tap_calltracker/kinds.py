"""How each kind of call-API list is read; ``streams`` declares which resource is which.

A kind is a base class: the paginator it reads with (``pagination``), the query it adds,
and whatever it does to a record. Everything a stream only names (path, list key,
primary key, schema) is in its declaration, not here.
"""

from __future__ import annotations

import hashlib
import math
import typing as t
from datetime import datetime, timedelta

from typing_extensions import override

from tap_calltracker.client import CallTrackerStream
from tap_calltracker.pagination import (
    CreationAnchoredPaginator,
    NewestFirstPaginator,
    Window,
    WindowedPaginator,
)
from tap_common.messages.timestamps import parse_datetime, unix_seconds
from tap_common.state.overlap import (
    OVERLAP_KEY,
    PageView,
    overlap_start,
    page_view,
)

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context


# List parameters that fill call fields otherwise left empty (https://developer.aircall.io/
# api-references/#list-all-calls): ``contact``; ``recording_short_url`` and
# ``voicemail_short_url``; ``ivr_options_selected``. Each is a setting, on by default.
FETCH_FLAGS = ("fetch_contact", "fetch_short_urls", "fetch_call_timeline")
# Days of call history the API serves ("about six months").
CALL_HISTORY_DAYS = 183


class LookbackCallsStream(CallTrackerStream):
    """Calls, by ``started_at``, filtered by the server (``from=<bookmark>&order=asc``),
    re-reading ``calls_lookback_days`` before the bookmark.

    Ascending, so the bookmark advances with every record and an interrupted run resumes
    where it stopped. Calls change after they start (status, tags, comments, assignment)
    but ``from`` filters on start time only, so later changes are caught by re-reading a
    lookback window. Those re-read calls start before the bookmark; they are emitted but do
    not move it: the bookmark keeps the largest value seen (``tap_common.state.bookmarks``).
    """

    replication_key = "started_at"
    anchor_key = "started_at"
    is_sorted = True

    @override
    def first_window(self, context: Context | None) -> Window:
        start = self.get_starting_timestamp(context)
        end = self.bookmarks.end  # the end_date setting, read once
        # The window's last second is the last before end_date (exclusive); ``Window.query``
        # asks ``to`` one second wider whatever its inclusivity (the documentation,
        # https://developer.aircall.io/api-references/#list-all-calls, does not say); what
        # lies at or after end_date is dropped by ``tap_common.state.bookmarks``.
        return Window(
            None if start is None else self.window_start(start),
            None if end is None else math.ceil(end.timestamp()) - 1,
        )

    @override
    def query(self) -> dict[str, str]:
        flags = {flag: "true" for flag in FETCH_FLAGS if self.config.get(flag, True)}
        return {**super().query(), **flags}

    def window_start(self, start: datetime) -> int:
        """``from`` for a run starting at ``start`` (the bookmark, or start_date)."""
        if not self.stream_state.get("replication_key_value"):
            self.note_horizon(start)
            return unix_seconds(start)  # first run: start_date as given
        lookback = timedelta(days=int(self.config.get("calls_lookback_days", 2)))
        earliest = self.config.get("start_date")
        since = start - lookback
        if earliest:
            since = max(since, parse_datetime(str(earliest)))
        return unix_seconds(since)

    def note_horizon(self, start: datetime) -> None:
        """Say once, at INFO, that calls older than the API serves will not come.

        The API keeps about six months of calls
        (https://developer.aircall.io/api-references/#list-all-calls); an older window
        answers an empty list, not an error. The read asks from ``start`` anyway (the edge
        is not exact, an account may keep more) and re-anchors on the first call served,
        so the empty months cost no request.
        """
        horizon = datetime.now(start.tzinfo) - timedelta(days=CALL_HISTORY_DAYS)
        if start < horizon and not self.__dict__.get("_horizon_noted"):
            self.__dict__["_horizon_noted"] = True
            self.logger.info(
                "Stream '%s': start_date %s is before %s; the API serves about six months "
                "of calls, so older calls are not expected (reading from the first served).",
                self.name,
                start.date().isoformat(),
                horizon.date().isoformat(),
            )


class UpdatedNewestFirstStream(CallTrackerStream):
    """Incremental on ``updated_at``, which the API can sort by but not filter on.

    First run (no bookmark, no start_date): every record, oldest created first, in
    creation-time windows past the 10,000-item cap, re-anchored on creation seconds
    (``CreationAnchoredPaginator``). Later runs: newest updated first
    (``order_by=updated_at&order=desc``, ``NewestFirstPaginator``); records at or after
    the previous complete run's start are emitted (an overlap, ``tap_common.state.overlap``: a
    record skipped because another was deleted during a run is read by the next) and
    paging stops at the first page reaching older ones. Descending, hence unsorted for
    the SDK: the bookmark is saved when the stream completes. ``from``/``to`` still bound
    creation time, so a later run splits into windows only if more than 10,000 records
    changed (lazily, dropping records the run already emitted).
    """

    replication_key = "updated_at"
    windowed = True
    overlapping = True

    def _since(self) -> datetime | None:
        """Lower bound of this run's read (set when the stream starts; see ``get_records``)."""
        if not hasattr(self, "_read_from"):
            return overlap_start(self.stream_state, self.get_starting_timestamp(self.context))
        return self._read_from

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        self._read_from = self.overlap.begin(context)
        yield from super().get_records(context)
        if self._read_from is None:
            # Re-anchored on creation time, a full read skips nothing: no overlap needed.
            self.get_context_state(context).pop(OVERLAP_KEY, None)
            return
        self.overlap.settle(context)

    @override
    def page_view(self, response: requests.Response) -> PageView:
        """What one page shows of the query (``tap_common.state.overlap.ReadProof``)."""
        page = self.page(response)
        return page_view(page.total, page.items, "updated_at")

    @override
    def paginator_for(self, first: Window) -> WindowedPaginator:
        since = self._since()
        if since is None:
            return CreationAnchoredPaginator(
                first, anchor_key="created_at", stream_name=self.name, page_size=self.page_size
            )
        return NewestFirstPaginator(
            first,
            key=self.replication_key,
            bound=since,
            stream_name=self.name,
            page_size=self.page_size,
        )

    @override
    def query(self) -> dict[str, str]:
        if self._since() is None:
            return {"order_by": "created_at", "order": "asc"}
        return {"order_by": "updated_at", "order": "desc"}


class FingerprintedTokenStream(CallTrackerStream):
    """Records whose ``token`` is a live shared secret (it authenticates the webhook's
    calls): never emitted. Null rather than absent, so a merging target overwrites what
    an earlier version loaded; a short SHA-256 fingerprint tells tokens apart instead."""

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        token = row.get("token")
        row["token"] = None
        row["token_fingerprint"] = token_fingerprint(token)
        return super().post_process(row, context)


def token_fingerprint(token: t.Any) -> str | None:
    """First 12 hex digits of the token's SHA-256: tells tokens apart, reveals none."""
    if token in {None, ""}:
        return None
    return hashlib.sha256(str(token).encode()).hexdigest()[:12]
