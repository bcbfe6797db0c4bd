"""The call API's conventions: ``{<plural>: [...], meta}`` lists, X-AircallApi-* budget, errors."""

from __future__ import annotations

import typing as t
from urllib.parse import parse_qs, urlsplit, urlunsplit

from typing_extensions import override

from tap_calltracker import pages
from tap_calltracker.pagination import (
    ITEM_CAP,
    CreationAnchoredPaginator,
    Window,
    WindowedPaginator,
)
from tap_common.http import pacing
from tap_common.http.errors import TapError, WrongPageError
from tap_common.http.pacing import Budget
from tap_common.stream.client import APIStream, retry_after_seconds

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

    from tap_calltracker.pages import Page


class CallTrackerStream(APIStream):
    """A paginated list: ``{"<list key>": [...], "meta": {total, current_page, ...}}``.

    A stream is declared by its name (``tap_common.stream.declared.declare``): the path is
    ``/<name>`` and the records are under the list key ``<name>`` unless the declaration
    says otherwise. ``windowed`` endpoints accept ``from``/``to`` on creation time and are
    read in time windows once a query reaches the API's 10,000-item cap (``pagination``).

    One answer takes one path: ``pages.read`` reads it into a ``Page`` (once, when the
    response is validated), the paginator's ``accept`` decides which records to emit and
    what to ask next, and ``parse_response`` hands those records to the SDK.
    """

    primary_keys: t.ClassVar[tuple[str, ...]] = ("id",)
    username_setting = "api_id"
    password_setting = "api_token"  # noqa: S105 - a setting's name, not a secret
    # Key of the item array: the stream's name unless declared.
    list_key: t.ClassVar[str] = ""
    windowed: t.ClassVar[bool] = False
    # Query parameters fixed for this endpoint (sort order).
    ordering: t.ClassVar[dict[str, str]] = {}
    # The creation timestamp a list is read ascending by and re-anchored on, if it is
    # (``from``/``to`` filter on it): see ``__init_subclass__``. None: page numbers only.
    anchor_key: t.ClassVar[str | None] = None
    # The API version of the endpoint: 2 for ``/v2/users`` (Aircall sunset v1 "List all
    # Users" on 2026-09-30, https://developer.aircall.io/api-references/#list-all-users).
    api_version: t.ClassVar[int] = 1
    # The paginator of the current read (``APIStream.get_new_paginator`` keeps it).
    _paginator: WindowedPaginator

    @override
    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        """A class that names its resource gets ``/<name>`` and list key ``<name>``
        unless it declares its own."""
        super().__init_subclass__(**kwargs)
        declared = cls.__dict__
        name = declared.get("name")
        if isinstance(name, str):
            if "path" not in declared:
                cls.path = f"/{name}"
            if "list_key" not in declared:
                cls.list_key = name
        if declared.get("anchor_key"):
            # Read ascending by the second only: ties and milliseconds within a second come
            # in any order (nothing in https://developer.aircall.io/api-references/#pagination
            # promises more), so queries re-anchor on whole seconds (``pagination``) and the
            # SDK's sort check must not end the sync. A deletion during the read shifts no
            # unread record.
            for attribute, value in (
                ("windowed", True),
                ("ordering", {"order": "asc"}),
                ("check_sorted", False),
                ("read_survives_deletions", True),
            ):
                if attribute not in declared:
                    setattr(cls, attribute, value)

    @property
    @override
    def url_base(self) -> str:
        """``api_url``, or for a v2 endpoint its v2 sibling (``v2_base``)."""
        base = super().url_base
        return v2_base(base) if self.api_version == 2 else base

    # -- one answer: page, records, next request -----------------------------------------

    def page(self, response: requests.Response) -> Page:
        """The answer's items and paging metadata (read once, see ``pages``)."""
        return pages.read(response, self.list_key, self.page_size)

    def query(self) -> dict[str, str]:
        """Query parameters beyond paging and the window: sort order, flags."""
        return dict(self.ordering)

    def first_window(self, context: Context | None) -> Window:
        """The query before any split: unbounded, unless an incremental stream narrows it."""
        return Window(None, None)

    def anchored(self, window: Window) -> Window:
        """A full read that ends with ACTIVATE_VERSION reads what existed at the sync's
        start (``to``): records created during it cannot make its total move."""
        if self.windowed and self.table_versions.activates and window.end is None:
            return window._replace(end=self.table_versions.version)
        return window

    def paginator_for(self, first: Window) -> WindowedPaginator:
        """How this list is read, starting at ``first``: page numbers in windows, re-anchored
        on ``anchor_key`` where it has one."""
        if self.anchor_key:
            return CreationAnchoredPaginator(
                first, anchor_key=self.anchor_key, stream_name=self.name, page_size=self.page_size
            )
        return WindowedPaginator(
            first, stream_name=self.name, page_size=self.page_size, windowed=self.windowed
        )

    @override
    def new_paginator(self) -> WindowedPaginator:
        return self.paginator_for(self.anchored(self.first_window(self.context)))

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        window: Window = next_page_token or self.anchored(self.first_window(context))
        return {"page": window.page, "per_page": self.page_size, **window.query(), **self.query()}

    @override
    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        decision = self._paginator.accept(self.page(response))
        self.fetch_ahead(response, decision.records, decision.next)
        return decision.records

    @override
    def check_envelope(self, body: t.Any, response: requests.Response) -> None:
        page = self.page(response)  # raises on a body without the list or its metadata
        asked = parse_qs(urlsplit(response.request.url or "").query)
        asked_page = _int_or_none(asked.get("page", [None])[0])
        asked_size = _int_or_none(asked.get("per_page", [None])[0])
        # ``page_size`` is at most the API's 50, which a live account echoes back; pages
        # at another size would not tile the list (items skipped or read twice).
        wrong_size = None not in (page.per_page, asked_size) and page.per_page != asked_size
        if (asked_page is not None and page.number != asked_page) or wrong_size:
            msg = (
                f"{page.path} answered page {page.number} at per_page {page.per_page}, "
                f"asked page {asked_page} at per_page {asked_size} (a redirect that "
                "dropped the query string?)"
            )
            raise WrongPageError(msg, response)

    @override
    def read_total(self, response: requests.Response) -> int | None:
        return self.page(response).total

    @override
    def announced_total(self, response: requests.Response) -> tuple[int, bool] | None:
        """``meta.total``; at the API's 10,000-item cap it is only a lower bound."""
        total = self.page(response).total
        return total, total >= ITEM_CAP

    # -- rate limits and errors ----------------------------------------------------------

    @override
    def read_budget(self, response: requests.Response) -> Budget | None:
        """``X-AircallApi-Limit/-Remaining/-Reset``, on every answer or on 429s only.

        https://developer.aircall.io/api-references/#rate-limiting says the headers come
        "when the rate limit has been reached"; a 429 without ``Remaining`` has none left.
        """
        headers = response.headers
        remaining = headers.get("X-AircallApi-Remaining")
        if (
            remaining is None
            and response.status_code == 429
            and ("X-AircallApi-Reset" in headers or "X-AircallApi-Limit" in headers)
        ):
            remaining = "0"
        if remaining is None:
            return None
        try:
            reset = _float_or_none(headers.get("X-AircallApi-Reset"))
            return Budget(
                limit=_int_or_none(headers.get("X-AircallApi-Limit")),
                remaining=_int_or_none(remaining),
                reset_at=None if reset is None else reset_to_unix(reset, pacing.now()),
            )
        except ValueError:
            return None

    @override
    def rate_limit_wait(self, response: requests.Response) -> float | None:
        """``Retry-After`` if sent; else until ``X-AircallApi-Reset`` when it is a wait ask
        (a 429, or no requests left), read in whichever form it comes."""
        if (told := retry_after_seconds(response)) is not None:
            return told
        headers = response.headers
        if response.status_code != 429 and headers.get("X-AircallApi-Remaining") not in {
            None,
            "0",
        }:
            return None  # requests left in the window: the reset is no reason to wait
        try:
            reset = _float_or_none(headers.get("X-AircallApi-Reset"))
        except ValueError:
            return None
        if reset is None:
            return None
        current = pacing.now()
        return max(reset_to_unix(reset, current) - current, 0.0)

    @override
    def auth_failure_message(self, response: requests.Response) -> str | None:
        """403 ``Forbidden`` is a wrong id/token pair here, 401 a missing header
        (https://developer.aircall.io/api-references/#errors)."""
        if response.status_code in {401, 403}:
            return self.credentials_hint(response)
        return None

    @override
    def api_error_message(self, body: t.Any) -> str | None:
        """``{"error", "troubleshoot"}`` or ``{"message", "errors"}``: the most specific text."""
        if not isinstance(body, dict):
            return None
        parts = [body.get("errors") or body.get("error") or body.get("message")]
        troubleshoot = body.get("troubleshoot")
        if troubleshoot and troubleshoot not in parts:
            parts.append(f"(troubleshoot: {troubleshoot})")
        text = " ".join(str(p) for p in parts if p)
        return text or None


class SingleObjectStream(CallTrackerStream):
    """An endpoint answering one object under its singular key (``{"company": {...}}``),
    which has no id: keyed by ``constant_key``, a (column, value) pair every record gets."""

    paginated = False
    constant_key: t.ClassVar[tuple[str, str]]

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        column, value = self.constant_key
        return {column: value, **row}

    @override
    def get_new_paginator(self) -> None:
        return None  # one request (the SDK's single-page paginator)

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        return {}

    @override
    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        return [pages.read_object(response, self.list_key)]

    @override
    def check_envelope(self, body: t.Any, response: requests.Response) -> None:
        pages.read_object(response, self.list_key)

    @override
    def read_total(self, response: requests.Response) -> int | None:
        return None

    @override
    def announced_total(self, response: requests.Response) -> tuple[int, bool] | None:
        return None


def _int_or_none(value: str | None) -> int | None:
    return None if value in {None, ""} else int(float(value))


def _float_or_none(value: str | None) -> float | None:
    return None if value in {None, ""} else float(value)


def reset_to_unix(value: float, current: float) -> float:
    """``X-AircallApi-Reset`` as unix seconds, told apart by magnitude against the clock.

    The reference calls it the time the counter resets without a unit, and clients read
    it as unix seconds, unix milliseconds or seconds from now. A window is at most minutes
    long, so: far above the clock's seconds it is milliseconds; near them, seconds; far
    below them (less than half), a count of seconds from now.
    """
    if value > current * 100:
        return value / 1000.0
    if value > current / 2:
        return value
    return current + value


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
