"""One answer of the call API, read once: ``{"<list key>": [...], "meta": {...}}``.

Every list endpoint answers its items under the resource's plural key and the paging
metadata under ``meta`` (https://developer.aircall.io/api-references/#pagination):
``total``, ``count``, ``current_page``, ``per_page``, ``next_page_link`` (null on the last
page; absent altogether on some lists, e.g. ``/webhooks``, so it is a hint at most). A single resource answers one object under its singular key
(https://developer.aircall.io/api-references/#retrieve-a-company). ``read`` checks the
shape and reads what paging needs into a ``Page``, once per response: every later look
(the paginator, the record count, the progress line) gets the same object.
"""

from __future__ import annotations

import math
import typing as t

from tap_common.http.responses import api_path, json_body
from tap_common.stream.client import ensure

if t.TYPE_CHECKING:
    import requests

_PAGE_ATTR = "_calltracker_page"


class Page(t.NamedTuple):
    """What one list answer says: its items and its paging metadata."""

    path: str  # the URL path it answers (safe to log: credentials travel in a header)
    number: int  # meta.current_page
    total: int  # meta.total: items of the whole query (a lower bound at the 10,000 cap)
    has_next: bool  # meta.next_page_link is not null
    announced_pages: int  # pages the query holds, by meta.total and meta.per_page
    items: list[t.Any]  # the raw items under the list key
    per_page: int | None = None  # meta.per_page (None: not sent)

    def more_follow(self, page_size: int, cap: int) -> bool:
        """Whether a page after this one holds items, by the counts: ``current_page *
        per_page < total``. At the ``cap`` the total is only a lower bound, so a full page
        says more may follow; the link may only add to that (never end a list)."""
        if not self.items:
            return False  # a page past the end answers an empty list
        per_page = self.per_page or page_size
        if self.number * per_page < self.total:
            return True
        if self.total >= cap and len(self.items) >= per_page:
            return True
        return self.has_next


def read(response: requests.Response, list_key: str, page_size: int) -> Page:
    """The response's ``Page``, read on first use and kept on the response.

    Raises ``UnexpectedResponseError`` when the body lacks the list or its metadata.
    """
    cached = response.__dict__.get(_PAGE_ATTR)
    if isinstance(cached, Page):
        return cached
    where = api_path(response)
    body = json_body(response)
    items = body.get(list_key) if isinstance(body, dict) else None
    ensure(isinstance(items, list), f"{where}: expected '{list_key}' to be a list of records.")
    meta = body.get("meta")
    ensure(isinstance(meta, dict), f"{where} answered without its 'meta' page object.")
    for key in ("current_page", "total"):
        ensure(
            isinstance(meta.get(key), int),
            f"{where}: the page metadata meta.{key} is missing or not a number.",
        )
    per_page = meta.get("per_page") or page_size
    page = Page(
        path=where,
        number=meta["current_page"],
        total=meta["total"],
        has_next=meta.get("next_page_link") is not None,
        announced_pages=math.ceil(meta["total"] / per_page),
        items=t.cast("list[t.Any]", items),
        per_page=meta.get("per_page") if isinstance(meta.get("per_page"), int) else None,
    )
    response.__dict__[_PAGE_ATTR] = page
    return page


def read_object(response: requests.Response, key: str) -> dict[str, t.Any]:
    """The one object a single-resource endpoint answers under ``key``."""
    body = json_body(response)
    found = body.get(key) if isinstance(body, dict) else None
    ensure(isinstance(found, dict), f"{api_path(response)}: expected '{key}' to be one object.")
    return t.cast("dict[str, t.Any]", found)
