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
from urllib.parse import urlsplit, urlunsplit

from typing_extensions import override

from tap_calltracker import schemas
from tap_calltracker.client import CallTrackerStream, SingleObjectStream
from tap_calltracker.pagination import (
    CreationAnchoredPaginator,
    NewestFirstPaginator,
    Window,
    WindowedPaginator,
)
from tap_common.http.errors import TapError
from tap_common.messages.timestamps import parse_datetime, unix_seconds
from tap_common.state.bookmarks import end_date
from tap_common.state.overlap import (
    OVERLAP_KEY,
    PageView,
    ReadProof,
    overlap_start,
    page_view,
    settle_after_read,
)

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context


class CreationAnchoredStream(CallTrackerStream):
    """Read ascending by creation time, re-anchored on the newest creation second read.

    Ascending by the second only: ties and milliseconds within a second come in any
    order (nothing in https://developer.aircall.io/api-references/#pagination promises
    more), so queries re-anchor on whole seconds (``pagination``) and the SDK's sort check
    must not end the sync. A deletion during the read shifts no unread record.
    """

    windowed = True
    ordering: t.ClassVar[dict[str, str]] = {"order": "asc"}
    check_sorted = False
    read_survives_deletions = True
    # The creation timestamp the API's ``from``/``to`` filter on.
    anchor_key: t.ClassVar[str] = "created_at"

    @override
    def paginator_for(self, first: Window) -> WindowedPaginator:
        return CreationAnchoredPaginator(
            first, anchor_key=self.anchor_key, stream_name=self.name, page_size=self.page_size
        )


class V2UsersStream(CreationAnchoredStream):
    """Users from ``/v2/users``: Aircall sunset v1 "List all Users" on 2026-09-30
    (https://developer.aircall.io/api-references/#list-all-users); v2 has the same
    envelope, paging and ``from``/``to``. ``api_url`` stays the v1 base (every other list
    is v1), so v2 is its sibling: ``https://api.aircall.io/v1`` -> ``.../v2``, a proxy's
    path prefix kept (``https://proxy/aircall/v1`` -> ``https://proxy/aircall/v2``)."""

    @property
    @override
    def url_base(self) -> str:
        return v2_base(super().url_base)


def v2_base(v1_base: str) -> str:
    """The API's v2 root beside ``v1_base`` (its last path segment ``v1`` made ``v2``)."""
    parts = urlsplit(v1_base.rstrip("/"))
    head, _, last = parts.path.rpartition("/")
    if last != "v1":
        raise TapError(
            "Setting 'api_url' must be the API's v1 base, ending in /v1 (such as "
            "https://api.aircall.io/v1): users are read from the /v2 beside it."
        )
    return urlunsplit(parts._replace(path=f"{head}/v2", query="", fragment=""))


class CreatedSinceStream(CreationAnchoredStream):
    """Incremental on creation time, filtered by the server: ``from=<bookmark>&order=asc``.

    Ascending, so the bookmark advances with every record and an interrupted run resumes
    where it stopped. ``from`` is inclusive: records at the bookmark's second come again.
    """

    replication_key = "created_at"
    is_sorted = True

    @override
    def first_window(self, context: Context | None) -> Window:
        start = self.get_starting_timestamp(context)
        end = end_date(self.config)
        # The window's last second is the last before end_date (exclusive); ``Window.query``
        # asks ``to`` one second wider whatever its inclusivity (the documentation,
        # https://developer.aircall.io/api-references/#list-all-calls, does not say); what
        # lies at or after end_date is dropped by ``tap_common.state.bookmarks``.
        return Window(
            None if start is None else self.window_start(start),
            None if end is None else math.ceil(end.timestamp()) - 1,
        )

    def window_start(self, start: datetime) -> int:
        """``from`` for a run starting at ``start`` (the bookmark, or start_date)."""
        return unix_seconds(start)


# List parameters that fill call fields otherwise left empty (https://developer.aircall.io/
# api-references/#list-all-calls): ``contact``; ``recording_short_url`` and
# ``voicemail_short_url``; ``ivr_options_selected``. Each is a setting, on by default.
FETCH_FLAGS = ("fetch_contact", "fetch_short_urls", "fetch_call_timeline")
# Days of call history the API serves ("about six months").
CALL_HISTORY_DAYS = 183


class LookbackCallsStream(CreatedSinceStream):
    """Calls, by ``started_at``, re-reading ``calls_lookback_days`` before the bookmark.

    Calls change after they start (status, tags, comments, assignment) but ``from``
    filters on start time only, so later changes are caught by re-reading a lookback
    window. Those re-read calls start before the bookmark; they are emitted but do not
    move it: the bookmark keeps the largest value seen (``tap_common.state.bookmarks``).
    """

    replication_key = "started_at"
    anchor_key = "started_at"

    @override
    def query(self) -> dict[str, str]:
        flags = {flag: "true" for flag in FETCH_FLAGS if self.config.get(flag, True)}
        return {**super().query(), **flags}

    @override
    def window_start(self, start: datetime) -> int:
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

    def _since(self) -> datetime | None:
        """Lower bound of this run's read (set when the stream starts; see ``get_records``)."""
        if not hasattr(self, "_read_from"):
            return overlap_start(self.stream_state, self.get_starting_timestamp(self.context))
        return self._read_from

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        start = self.get_starting_timestamp(context)
        self._read_from = overlap_start(self.get_context_state(context), start)
        proof = self.__dict__["_read_proof"] = ReadProof(self.page_view)
        yield from super().get_records(context)
        if self._read_from is None:
            # Re-anchored on creation time, a full read skips nothing: no overlap needed.
            self.get_context_state(context).pop(OVERLAP_KEY, None)
            return
        settle_after_read(self, proof, start, context)

    @override
    def note_page(self, response: requests.Response) -> None:
        super().note_page(response)
        if (proof := self.__dict__.get("_read_proof")) is not None:
            proof.saw(response)

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


class SyntheticKeyObjectStream(SingleObjectStream):
    """The account's one object without an id (the company), keyed by a constant.

    Keyed by a constant synthetic ``company_key`` rather than ``name``: an API key
    belongs to exactly one company, so the account has one company row, and a renamed
    company must update that row, not add a second one beside the stale name (which
    a ``name`` key would do in a merging target).
    """

    primary_keys = (schemas.COMPANY_KEY,)

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        return {schemas.COMPANY_KEY: "company", **row}
