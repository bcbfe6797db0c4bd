"""Lists paged with ``page``/``per_page`` whose responses may carry no page metadata.

The OnePageCRM swagger (https://github.com/OnePageCRM/swagger, ``GET /predefined_items``)
says to "page through with page and per_page" (default 10, maximum 100) but documents no
``page``/``max_page`` beside the items; the official Java client also sends page/per_page
to ``/predefined_actions`` (``Action.listPredefined``), whose documented response carries
no metadata either. So:

* a response WITH ``page`` and ``max_page`` is paged and guarded like every CRM list;
* a response without them is followed while a page is full (as many items as asked for);
  a short or empty page ends the list;
* without metadata, a page that repeats the previous one means the API ignores ``page``:
  that page is dropped (its records were emitted once already) and the list ends with one
  WARNING, not an error.
"""

from __future__ import annotations

import typing as t

from tap_common.client import ensure
from tap_common.paging import GuardedPageNumberPaginator, PageInfo
from tap_common.responses import api_path, json_body
from tap_crm.client import CRMStream

if t.TYPE_CHECKING:
    import logging

    import requests


def has_page_metadata(data: t.Any) -> bool:
    return isinstance(data, dict) and all(
        isinstance(data.get(k), int) for k in ("page", "max_page")
    )


class PlainPagePaginator(GuardedPageNumberPaginator):
    """Page numbers from 1; trusts the metadata when there is some, the page size when not."""

    def __init__(
        self,
        stream: PlainPagedCRMStream,
        logger: logging.Logger,
    ) -> None:
        super().__init__(stream.read_page, stream.announced_pages, stream.name)
        self._stream = stream
        self._logger = logger
        self._previous_items: list | None = None
        self.repeated = False

    def check(self, response: requests.Response) -> bool:
        """Guard a page with metadata; spot a repeated page without it.

        False (from the guard, with metadata): the page lies past the end of the list.
        """
        if has_page_metadata(json_body(response)["data"]):
            return super().check(response)
        items = self._read_page(response).items
        if items and items == self._previous_items:
            self.repeated = True
            self._logger.warning(
                "Stream '%s': page %d of %s repeats page %d, so the API ignores 'page'; "
                "the %d records of page %d are all there is.",
                self._stream.name,
                self.page_number,
                api_path(response),
                self.page_number - 1,
                len(items),
                self.page_number - 1,
            )
        self._previous_items = items
        return True

    def has_more(self, response: requests.Response) -> bool:
        return not self.repeated and self._read_page(response).has_next


class PlainPagedCRMStream(CRMStream):
    """``data = {<plural>: [...]}``, with ``page``/``max_page`` beside it or not."""

    def check_data(self, data: t.Any, where: str) -> None:
        ensure(
            isinstance(data, dict) and isinstance(data.get(self.items_key), list),
            f"{where}: expected data.{self.items_key} to be a list of records.",
        )

    def get_new_paginator(self) -> PlainPagePaginator:
        self._paginator = PlainPagePaginator(self, self.logger)
        return self._paginator

    def read_page(self, response: requests.Response) -> PageInfo:
        data = json_body(response)["data"]
        items = data[self.items_key]
        if has_page_metadata(data):
            return PageInfo(data["page"], data["page"] < data["max_page"], items)
        # No metadata: a full page may have a successor, a short one has none.
        page = self._paginator.page_number if hasattr(self, "_paginator") else 1
        return PageInfo(page, len(items) >= self.page_size, items)

    def announced_pages(self, response: requests.Response) -> int | None:
        data = json_body(response)["data"]
        return data["max_page"] if has_page_metadata(data) else None

    def incomplete_read(self, check: t.Any, context: t.Any) -> str | None:
        """An API that ignores ``page`` served the whole list on page 1: one snapshot, as
        complete as an unpaginated answer (``tap_common.table_versions``)."""
        if getattr(self, "_paginator", None) is not None and self._paginator.repeated:
            return None
        return super().incomplete_read(check, context)

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        records = super().parse_response(response)  # vets the page first
        first = next(iter(records), None)
        if self._paginator.repeated or first is None:
            return
        yield first
        yield from records
