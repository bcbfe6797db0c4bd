"""A CRM response, read once: its records and what it says about paging.

Every answer is ``{"status": 0, "data": ...}`` (https://developer.onepagecrm.com/api/).
A paginated list's ``data`` holds the item array under the resource's plural name beside
``page``, ``max_page``, ``total_count`` and ``per_page``; each item wraps its record in
the singular name (``{"contact": {...}}``). A few endpoints answer with the whole list as
``data`` itself, ``/bootstrap`` with one object.
"""

from __future__ import annotations

import enum
import typing as t
from dataclasses import dataclass

from tap_common.http.responses import api_path, json_body
from tap_common.stream.client import ensure

if t.TYPE_CHECKING:
    import requests


class Shape(enum.Enum):
    """Where a response keeps its records."""

    PAGED = "paged"  # data = {<list_key>: [...], page, max_page, total_count, per_page}
    PLAIN = "plain"  # data = {<list_key>: [...]}, with or without the page metadata
    LIST = "list"  # data = [...]: the whole list at once
    OBJECT = "object"  # data = {...}: one record


@dataclass(frozen=True)
class Layout:
    """Where one endpoint's records sit in its ``data``."""

    shape: Shape
    list_key: str  # the item array's key in ``data`` (PAGED and PLAIN)
    wrapper: str | None  # the key each item wraps its record in; None: the item is the record

    def check(self, data: t.Any, where: str) -> None:
        """Raise ``UnexpectedResponseError`` unless ``data`` has this layout's shape."""
        if self.shape is Shape.OBJECT:
            ensure(isinstance(data, dict), f"{where}: expected 'data' to be one object.")
        elif self.shape is Shape.LIST:
            ensure(isinstance(data, list), f"{where}: expected 'data' to be a list of records.")
        else:
            ensure(
                isinstance(data, dict) and isinstance(data.get(self.list_key), list),
                f"{where}: expected data.{self.list_key} to be a list of records.",
            )
        if self.shape is Shape.PAGED:
            for key in ("page", "max_page"):
                ensure(
                    isinstance(data.get(key), int),
                    f"{where}: the page metadata data.{key} is missing or not a number.",
                )

    def items(self, data: t.Any) -> list:
        """The raw items of a checked ``data``."""
        if self.shape is Shape.OBJECT:
            return [data]
        if self.shape is Shape.LIST:
            return data
        return data[self.list_key]

    def records(self, items: list) -> list:
        """Each item's record: the item itself, or what it wraps (items without the
        wrapper key hold no record)."""
        key = self.wrapper
        if key is None:
            return items
        return [item[key] for item in items if isinstance(item, dict) and key in item]


def _number(data: t.Any, key: str) -> int | None:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, int) else None


@dataclass(frozen=True)
class Page:
    """One response of a list, read once."""

    where: str  # the endpoint's path, for messages
    items: list  # the raw items, to spot a page that repeats the previous one
    records: list  # what the items hold
    number: int | None  # data.page
    max_page: int | None  # data.max_page: the pages the query holds, as announced
    total_count: int | None  # data.total_count: the records the query holds
    per_page: int  # data.per_page, or the page size asked for

    @property
    def has_metadata(self) -> bool:
        return self.number is not None and self.max_page is not None

    @property
    def past_announced(self) -> bool:
        """A full page at (or past) max_page: the next page is a probe. A stale max_page
        must not end a list early; what the API answers past its end is not documented."""
        return (
            self.has_metadata
            and t.cast("int", self.number) >= t.cast("int", self.max_page)
            and len(self.items) >= self.per_page
        )

    @property
    def has_next(self) -> bool:
        """Whether the metadata announces another page (or one more probe)."""
        if not self.has_metadata:
            return False
        return t.cast("int", self.number) < t.cast("int", self.max_page) or self.past_announced


def read(response: requests.Response, layout: Layout, page_size: int) -> Page:
    """The page of a response whose envelope ``validate_response`` has checked."""
    data = json_body(response)["data"]
    items = layout.items(data)
    return Page(
        where=api_path(response),
        items=items,
        records=layout.records(items),
        number=_number(data, "page"),
        max_page=_number(data, "max_page"),
        total_count=_number(data, "total_count"),
        per_page=_number(data, "per_page") or page_size,
    )


def total_count(response: requests.Response) -> int | None:
    """``data.total_count``: the records the whole query holds; None when not given."""
    return _number(json_body(response).get("data"), "total_count")
