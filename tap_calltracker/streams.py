"""The 9 call-analytics streams of the seed document: name, path, list key, key, schema.

Behaviour shared by several streams lives in the base classes below and in ``client.py``.
"""

from __future__ import annotations

import typing as t
from datetime import datetime, timedelta

from tap_calltracker import schemas
from tap_calltracker.client import CallTrackerStream, SingleObjectStream
from tap_calltracker.pagination import Window, WindowedPaginator
from tap_common.overlap import OVERLAP_KEY, overlap_start, remember_start
from tap_common.timestamps import parse_datetime, to_iso_utc, unix_seconds

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

    from tap_common.paging import PageInfo

# Timestamps of a user embedded in another object.
USER_TIMESTAMPS = ("created_at",)


def nested(prefix: str, fields: tuple[str, ...] = USER_TIMESTAMPS) -> tuple[str, ...]:
    return tuple(f"{prefix}.{name}" for name in fields)


def at_or_after(value: t.Any, start: datetime | None) -> bool:
    """Whether a raw API timestamp (unix seconds or ISO text) is at or after ``start``."""
    if start is None or value in {None, ""}:
        return True
    return parse_datetime(to_iso_utc(value)) >= start  # type: ignore[arg-type]


def created_second(item: dict, key: str) -> int:
    """Whole unix seconds of a raw item's timestamp (unix seconds or ISO text)."""
    return unix_seconds(parse_datetime(to_iso_utc(item.get(key)) or "1970-01-01T00:00:00Z"))


class CreatedSinceStream(CallTrackerStream):
    """Incremental on creation time, filtered by the server: ``from=<bookmark>&order=asc``.

    Ascending, so the bookmark advances with every record and an interrupted run resumes
    where it stopped. ``from`` is inclusive: records at the bookmark's second come again.
    """

    replication_key = "created_at"
    is_sorted = True
    windowed = True
    ordering: t.ClassVar[dict[str, str]] = {"order": "asc"}
    # Ascending by the second only: ties and milliseconds within a second come in any
    # order (nothing in https://developer.aircall.io/api-references/#pagination promises
    # more), so the SDK's sort check must not end the sync; queries re-anchor on seconds.
    check_sorted = False

    def get_new_paginator(self) -> WindowedPaginator | None:
        paginator = super().get_new_paginator()
        if paginator is not None:
            paginator.anchor_of = lambda item: created_second(item, self.replication_key)
        return paginator

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        for record in super().parse_response(response):
            if self._paginator.should_emit(record, record.get("id")):
                yield record

    def first_window(self, context: Context | None) -> Window:
        start = self.get_starting_timestamp(context)
        return Window(None if start is None else self.window_start(start), None)

    def window_start(self, start: datetime) -> int:
        """``from`` for a run starting at ``start`` (the bookmark, or start_date)."""
        return unix_seconds(start)


class CallsStream(CreatedSinceStream):
    """Calls, by ``started_at``, re-reading ``calls_lookback_days`` before the bookmark.

    Calls change after they start (status, tags, comments, assignment) but ``from``
    filters on start time only, so later changes are caught by re-reading a lookback
    window. Those re-read calls start before the bookmark; they are emitted but do not
    move it, so the bookmark never goes backwards (and the SDK's sort check, which
    compares with the bookmark, stays on for everything after it).
    """

    name = "calls"
    path = "/calls"
    replication_key = "started_at"
    schema = schemas.CALL.to_dict()
    timestamp_fields = (
        "started_at",
        "answered_at",
        "ended_at",
        "comments[].posted_at",
        *nested("comments[].posted_by"),
        "tags[].created_at",
        *nested("tags[].tagged_by"),
        *nested("user"),
        *nested("assigned_to"),
        *nested("transferred_by"),
        *nested("transferred_to"),
        *nested("number"),
        "teams[].created_at",
        *nested("contact", ("created_at", "updated_at")),
    )

    def window_start(self, start: datetime) -> int:
        if not self.stream_state.get("replication_key_value"):
            return unix_seconds(start)  # first run: start_date as given
        lookback = timedelta(days=int(self.config.get("calls_lookback_days", 2)))
        earliest = self.config.get("start_date")
        since = start - lookback
        if earliest:
            since = max(since, parse_datetime(str(earliest)))
        return unix_seconds(since)

    def _increment_stream_state(
        self, latest_record: dict, *, context: Context | None = None
    ) -> None:
        mark = self.get_context_state(context).get("replication_key_value")
        value = latest_record.get(self.replication_key)
        if mark and value and parse_datetime(value) < parse_datetime(mark):
            return  # a lookback record: already behind the bookmark
        super()._increment_stream_state(latest_record, context=context)


class ContactsStream(CallTrackerStream):
    """Contacts, incremental on ``updated_at``, which the API can sort by but not filter on.

    First run (no bookmark, no start_date): every contact, oldest created first, in
    creation-time windows past the 10,000-item cap, re-anchored on creation seconds
    (``pagination``). Later runs: newest updated first (``order_by=updated_at&order=desc``);
    records at or after the previous complete run's start are emitted (an overlap,
    ``tap_common.overlap``: a contact skipped because another was deleted during a run
    is read by the next) and paging stops at the first page reaching older ones.
    Descending, hence unsorted for the SDK: the bookmark is saved when the stream
    completes. ``from``/``to`` still bound creation time, so a later run splits into
    windows only if more than 10,000 contacts changed (lazily, dropping contacts the run
    already emitted).
    """

    name = "contacts"
    path = "/contacts"
    replication_key = "updated_at"
    windowed = True
    schema = schemas.CONTACT_RECORD.to_dict()
    timestamp_fields = ("created_at", "updated_at")

    def _since(self) -> datetime | None:
        """Lower bound of this run's read (set when the stream starts; see ``get_records``)."""
        if not hasattr(self, "_read_from"):
            return overlap_start(self.stream_state, self.get_starting_timestamp(self.context))
        return self._read_from

    @property
    def split_lazily(self) -> bool:  # type: ignore[override]
        return self._since() is not None

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        start = self.get_starting_timestamp(context)
        self._read_from = overlap_start(self.get_context_state(context), start)
        yield from super().get_records(context)
        state = self.get_context_state(context)
        if start is None:
            # Re-anchored on creation time, a full read skips nothing: no overlap needed.
            state.pop(OVERLAP_KEY, None)
        else:
            remember_start(state, start)

    def get_new_paginator(self) -> WindowedPaginator | None:
        self._emitted: set[int] = set()
        paginator = super().get_new_paginator()
        if paginator is not None and self._since() is None:
            paginator.anchor_of = lambda item: created_second(item, "created_at")
        return paginator

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        params = super().get_url_params(context, next_page_token)
        if self._since() is None:
            params.update(order_by="created_at", order="asc")
        else:
            params.update(order_by="updated_at", order="desc")
        return params

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        since = self._since()
        for record in super().parse_response(response):
            if not self._paginator.should_emit(record, record.get("id")):
                continue
            if at_or_after(record.get("updated_at"), since) and record["id"] not in self._emitted:
                if since is not None:  # newest first: split windows may re-read a contact
                    self._emitted.add(record["id"])
                yield record

    def read_page(self, response: requests.Response) -> PageInfo:
        page = super().read_page(response)
        since = self._since()
        reached_old = any(
            item is not None and not at_or_after(item.get("updated_at"), since)
            for item in page.items
        )
        return page._replace(has_next=page.has_next and not reached_old)


class UsersStream(CreatedSinceStream):
    """Paginated, although the seed document reads only its first page (20 users)."""

    name = "users"
    path = "/users"
    schema = schemas.USER_RECORD.to_dict()
    timestamp_fields = ("created_at", *nested("numbers[]"))


class NumbersStream(CreatedSinceStream):
    name = "numbers"
    path = "/numbers"
    schema = schemas.NUMBER_RECORD.to_dict()
    timestamp_fields = ("created_at", *nested("users[]"))


class TeamsStream(CallTrackerStream):
    """Incremental on ``created_at`` without a server filter: older teams are dropped here."""

    name = "teams"
    path = "/teams"
    replication_key = "created_at"
    schema = schemas.TEAM_RECORD.to_dict()
    timestamp_fields = ("created_at", *nested("users[]"))

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        since = self.get_starting_timestamp(self.context)
        for record in super().parse_response(response):
            if at_or_after(record.get("created_at"), since):
                yield record


class UserAvailabilityStream(CallTrackerStream):
    """``/users/availabilities``: records under ``users``; paginated and windowed like users."""

    name = "user_availability"
    path = "/users/availabilities"
    list_key = "users"
    windowed = True
    schema = schemas.USER_AVAILABILITY.to_dict()


class TagsStream(CallTrackerStream):
    name = "tags"
    path = "/tags"
    schema = schemas.TAG.to_dict()


class WebhooksStream(CallTrackerStream):
    """Keyed by ``webhook_id``: the API's webhook object has no ``id``."""

    name = "webhooks"
    path = "/webhooks"
    primary_keys = ("webhook_id",)
    schema = schemas.WEBHOOK.to_dict()
    timestamp_fields = ("created_at",)


class CompanyStream(SingleObjectStream):
    """The account's company: one object without an id.

    Keyed by a constant synthetic ``company_key`` rather than ``name``: an API key
    belongs to exactly one company, so the account has one company row, and a renamed
    company must update that row, not add a second one beside the stale name (which
    a ``name`` key would do in a merging target).
    """

    name = "company"
    path = "/company"
    primary_keys = (schemas.COMPANY_KEY,)
    schema = schemas.COMPANY.to_dict()

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        return {schemas.COMPANY_KEY: "company", **row}


STREAM_TYPES: list[type[CallTrackerStream]] = [
    CallsStream,
    CompanyStream,
    ContactsStream,
    NumbersStream,
    TagsStream,
    UserAvailabilityStream,
    UsersStream,
    TeamsStream,
    WebhooksStream,
]
