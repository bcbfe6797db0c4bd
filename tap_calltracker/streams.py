"""The 9 call-analytics streams (https://developer.aircall.io/api-references/): name, path, list key, key, schema.

Behaviour shared by several streams lives in the base classes below and in ``client.py``.
"""

from __future__ import annotations

import hashlib
import typing as t
from datetime import datetime, timedelta

from tap_calltracker import schemas
from tap_calltracker.client import CallTrackerStream, SingleObjectStream
from tap_calltracker.pagination import Window, WindowedPaginator
from tap_common.overlap import OVERLAP_KEY, overlap_start, remember_start
from tap_common.timestamps import parse_datetime, to_instant, unix_seconds

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

    from tap_common.paging import PageInfo


def at_or_after(value: t.Any, start: datetime | None) -> bool:
    """Whether a raw API timestamp (unix seconds or ISO text) is at or after ``start``."""
    instant = None if start is None else to_instant(value)
    return instant is None or instant >= start


def created_second(item: dict, key: str) -> int | None:
    """Whole unix seconds of a raw item's timestamp (unix seconds or ISO text); None when
    missing or unreadable."""
    instant = to_instant(item.get(key))
    return None if instant is None else unix_seconds(instant)


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

    def get_new_paginator(self) -> WindowedPaginator | None:
        paginator = super().get_new_paginator()
        if paginator is not None:
            paginator.anchor_of = lambda item: created_second(item, self.anchor_key)
        return paginator

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        # Oldest second first within the page: the API's order is only a hint.
        page = sorted(
            super().parse_response(response),
            key=lambda r: created_second(r, self.anchor_key) or 0,
        )
        for record in page:
            if self._paginator.should_emit(record, record.get("id")):
                yield record


class CreatedSinceStream(CreationAnchoredStream):
    """Incremental on creation time, filtered by the server: ``from=<bookmark>&order=asc``.

    Ascending, so the bookmark advances with every record and an interrupted run resumes
    where it stopped. ``from`` is inclusive: records at the bookmark's second come again.
    """

    replication_key = "created_at"
    is_sorted = True

    def first_window(self, context: Context | None) -> Window:
        start = self.get_starting_timestamp(context)
        return Window(None if start is None else self.window_start(start), None)

    def window_start(self, start: datetime) -> int:
        """``from`` for a run starting at ``start`` (the bookmark, or start_date)."""
        return unix_seconds(start)


# List parameters that fill call fields otherwise left empty (https://developer.aircall.io/
# api-references/#list-all-calls): ``contact``; ``recording_short_url`` and
# ``voicemail_short_url``; ``ivr_options_selected``. Each is a setting, on by default.
FETCH_FLAGS = ("fetch_contact", "fetch_short_urls", "fetch_call_timeline")


class CallsStream(CreatedSinceStream):
    """Calls, by ``started_at``, re-reading ``calls_lookback_days`` before the bookmark.

    Calls change after they start (status, tags, comments, assignment) but ``from``
    filters on start time only, so later changes are caught by re-reading a lookback
    window. Those re-read calls start before the bookmark; they are emitted but do not
    move it: the bookmark keeps the largest value seen (``tap_common.bookmarks``).
    """

    name = "calls"
    path = "/calls"
    replication_key = "started_at"
    anchor_key = "started_at"
    schema = schemas.CALL.to_dict()

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        params = super().get_url_params(context, next_page_token)
        params.update({flag: "true" for flag in FETCH_FLAGS if self.config.get(flag, True)})
        return params

    def window_start(self, start: datetime) -> int:
        if not self.stream_state.get("replication_key_value"):
            return unix_seconds(start)  # first run: start_date as given
        lookback = timedelta(days=int(self.config.get("calls_lookback_days", 2)))
        earliest = self.config.get("start_date")
        since = start - lookback
        if earliest:
            since = max(since, parse_datetime(str(earliest)))
        return unix_seconds(since)


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


# -- full table: small lists whose records change after creation ---------------------------
#
# A user renamed, a number reassigned, a team changed: nothing the API filters on (creation
# time) says so, so these are read whole on every run, whatever start_date says (calls
# still point at users and numbers created before it).


class UsersStream(CreationAnchoredStream):
    name = "users"
    path = "/users"
    schema = schemas.USER_RECORD.to_dict()


class NumbersStream(CreationAnchoredStream):
    name = "numbers"
    path = "/numbers"
    schema = schemas.NUMBER_RECORD.to_dict()


class TeamsStream(CallTrackerStream):
    name = "teams"
    path = "/teams"
    schema = schemas.TEAM_RECORD.to_dict()


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

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        # ``token`` is a live shared secret (it authenticates the webhook's calls): never
        # emitted. Null rather than absent, so a merging target overwrites what an earlier
        # version loaded; a short SHA-256 fingerprint tells tokens apart instead.
        token = row.get("token")
        row["token"] = None
        row["token_fingerprint"] = token_fingerprint(token)
        return super().post_process(row, context)


def token_fingerprint(token: t.Any) -> str | None:
    """First 12 hex digits of the token's SHA-256: tells tokens apart, reveals none."""
    if token in {None, ""}:
        return None
    return hashlib.sha256(str(token).encode()).hexdigest()[:12]


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
