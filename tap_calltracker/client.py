"""The call API's conventions: ``{<plural>: [...], meta}`` lists, X-AircallApi-* budget, errors."""

from __future__ import annotations

import math
import typing as t

from singer_sdk.helpers.jsonpath import extract_jsonpath

from tap_calltracker.pagination import ITEM_CAP, Window, WindowedPaginator
from tap_common import pacing
from tap_common.client import APIStream, ensure, retry_after_seconds
from tap_common.pacing import Budget
from tap_common.paging import PageInfo
from tap_common.responses import api_path, json_body

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context


class CallTrackerStream(APIStream):
    """A paginated list: ``{"<plural>": [...], "meta": {count, total, current_page, ...}}``.

    ``windowed`` endpoints accept ``from``/``to`` on creation time and are read in time
    windows once a query reaches the API's 10,000-item cap (see ``pagination``).
    """

    primary_keys: t.ClassVar[tuple[str, ...]] = ("id",)
    username_setting = "api_id"
    password_setting = "api_token"  # noqa: S105 - a setting's name, not a secret
    # Key of the item array (defaults to the stream name).
    list_key: t.ClassVar[str | None] = None
    windowed: t.ClassVar[bool] = False
    # Split windows only when a page past the cap is needed (streams that stop early).
    split_lazily: t.ClassVar[bool] = False
    # Query parameters fixed for this endpoint (sort order).
    ordering: t.ClassVar[dict[str, str]] = {}

    @property
    def items_key(self) -> str:
        return self.list_key or self.name

    @property
    def records_jsonpath(self) -> str:  # type: ignore[override]
        return f"$.{self.items_key}[*]"

    # -- envelope and paging ------------------------------------------------------------

    def check_envelope(self, body: t.Any, response: requests.Response) -> None:
        where = api_path(response)
        ensure(
            isinstance(body, dict) and isinstance(body.get(self.items_key), list),
            f"{where}: expected '{self.items_key}' to be a list of records.",
        )
        meta = body.get("meta")
        ensure(isinstance(meta, dict), f"{where} answered without its 'meta' page object.")
        for key in ("current_page", "total"):
            ensure(
                isinstance(meta.get(key), int),
                f"{where}: the page metadata meta.{key} is missing or not a number.",
            )

    def read_page(self, response: requests.Response) -> PageInfo:
        body = json_body(response)
        meta = body["meta"]
        return PageInfo(
            current_page=meta["current_page"],
            has_next=meta.get("next_page_link") is not None,
            items=body[self.items_key],
        )

    def read_total(self, response: requests.Response) -> int:
        return json_body(response)["meta"]["total"]

    def announced_pages(self, response: requests.Response) -> int | None:
        meta = json_body(response)["meta"]
        per_page = meta.get("per_page") or self.page_size
        return math.ceil(meta["total"] / per_page)

    def first_window(self, context: Context | None) -> Window:
        """The query before any split: unbounded, unless an incremental stream narrows it."""
        return Window(None, None)

    def anchored(self, window: Window) -> Window:
        """A full read that ends with ACTIVATE_VERSION reads what existed at the sync's
        start (``to``): records created during it cannot make its total move."""
        if self.windowed and self.activates_version and window.end is None:
            return window._replace(end=self.table_version)
        return window

    def get_new_paginator(self) -> WindowedPaginator | None:  # type: ignore[override]
        if not self.paginated:
            return None
        self._paginator = WindowedPaginator(
            self.anchored(self.first_window(self.context)),
            read_page=self.read_page,
            read_total=self.read_total,
            announced_pages=self.announced_pages,
            stream_name=self.name,
            windowed=self.windowed,
            page_size=self.page_size,
            split_lazily=self.split_lazily,
        )
        return self._paginator

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        if not self.paginated:
            return {}
        window = next_page_token or self.anchored(self.first_window(context))
        return {"page": window.page, "per_page": self.page_size, **window.query(), **self.ordering}

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        paginator = getattr(self, "_paginator", None)
        if isinstance(paginator, WindowedPaginator) and not paginator.accept(response):
            return
        yield from extract_jsonpath(self.records_jsonpath, json_body(response))

    # -- rate limits and errors ----------------------------------------------------------

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

    def announced_total(self, response: requests.Response) -> tuple[int, bool] | None:
        """``meta.total``; at the API's 10,000-item cap it is only a lower bound."""
        if not self.paginated:
            return None
        total = json_body(response)["meta"]["total"]
        return total, total >= ITEM_CAP

    def auth_failure_message(self, response: requests.Response) -> str | None:
        """403 ``Forbidden`` is a wrong id/token pair here, 401 a missing header
        (https://developer.aircall.io/api-references/#errors)."""
        if response.status_code in {401, 403}:
            return self.credentials_hint(response)
        return None

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
    """An endpoint answering one object under its singular key (``{"company": {...}}``)."""

    paginated = False

    @property
    def records_jsonpath(self) -> str:  # type: ignore[override]
        # Not ``[*]``: on an object, jsonpath-ng's ``[*]`` yields the object's values.
        return f"$.{self.items_key}"

    def check_envelope(self, body: t.Any, response: requests.Response) -> None:
        ensure(
            isinstance(body, dict) and isinstance(body.get(self.items_key), dict),
            f"{api_path(response)}: expected '{self.items_key}' to be one object.",
        )


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
