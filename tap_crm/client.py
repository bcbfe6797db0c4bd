"""The CRM API's conventions (https://developer.onepagecrm.com/api/): the success envelope,
``data.page``/``data.max_page`` paging, errors, and one base stream per way of paging.

A stream reads each response once (``tap_crm.pages``) and hands the page to its
paginator (``tap_crm.pagination``), which returns the records to emit and decides the
next request: response -> page -> records -> messages.
"""

from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from typing_extensions import override

from tap_common.http.errors import AuthenticationError
from tap_common.http.responses import api_path, json_body
from tap_common.messages.timestamps import unix_seconds
from tap_common.state.overlap import (
    PageView,
    page_view,
)
from tap_common.stream.client import APIStream, ensure
from tap_crm import custom_fields, pages
from tap_crm.pages import Layout, Shape
from tap_crm.pagination import (
    CRMPaginator,
    ModifiedSincePasses,
    NewestFirstPasses,
    PageNumbers,
    PassToken,
    PlainPages,
    SeekToken,
    modified_second,
)

if t.TYPE_CHECKING:
    from datetime import datetime

    import requests
    from singer_sdk.helpers.types import Context

    from tap_common.state.table_versions import ReadCheck


class CRMStream(APIStream):
    """A paginated CRM list: ``data = {<plural>: [{<wrapper>: {...}}], page, max_page, ...}``.

    A stream is declared by its name (the path is ``/<name>``), its ``wrapper`` and, when
    they differ from the defaults, ``list_key`` and ``extra_params``.
    """

    primary_keys: t.ClassVar[tuple[str, ...]] = ("id",)
    username_setting = "username"
    password_setting = "password"  # noqa: S105 - a setting's name, not a secret
    # Where the records sit in ``data`` (see ``tap_crm.pages``).
    shape: t.ClassVar[Shape] = Shape.PAGED
    # Key of the item array inside ``data`` (defaults to the stream name).
    list_key: t.ClassVar[str | None] = None
    # Key that wraps each record in a list item (``contact`` in ``{"contact": {...}}``).
    wrapper: t.ClassVar[str | None] = None
    # Query parameters this endpoint always gets (e.g. ``team``), beside paging and filters.
    extra_params: t.ClassVar[dict[str, t.Any]] = {}
    # Fields written as null whatever the API sends (a secret: never emitted). Null rather
    # than absent, so a merging target overwrites what an earlier version loaded.
    secret_fields: t.ClassVar[tuple[str, ...]] = ()
    _paginator: CRMPaginator | None

    @override
    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:  # a declared resource (``tap_common.stream.declared.declare``)
            cls.path = f"/{cls.__dict__['name']}"

    @cached_property
    def layout(self) -> Layout:
        """Where this endpoint's records sit, derived from its declaration."""
        return Layout(self.shape, self.list_key or self.name, self.wrapper)

    @cached_property
    def custom_field_columns(self) -> custom_fields.ColumnFiller | None:
        """Fills the custom-field columns the stream's (catalog's) schema has, if any."""
        return custom_fields.filler_for(self.name, self.effective_schema)

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        for field in self.secret_fields:
            row[field] = None
        if (filler := self.custom_field_columns) is not None:
            filler.fill(row)
        return row

    # -- paging and parsing -------------------------------------------------------------

    @override
    def new_paginator(self) -> CRMPaginator:
        return PageNumbers(self.name)

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        return {**super().get_url_params(context, next_page_token), **self.extra_params}

    @override
    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        """The page's records, as its paginator picks them (all of them when unpaginated)."""
        if response.status_code >= 400:
            return  # a refused probe past the last page (``validate_response``): no records
        page = pages.read(response, self.layout, self.page_size)
        if self._paginator is None:
            yield from page.records
        else:
            records = self._paginator.accept(page)
            self.fetch_ahead(response, records, self._paginator.decided_next)
            yield from records

    # -- envelope, errors, totals ----------------------------------------------------------

    @override
    def check_envelope(self, body: t.Any, response: requests.Response) -> None:
        """``{"status": 0, "data": ...}`` with the shape this endpoint promises."""
        where = api_path(response)
        ensure(
            isinstance(body, dict) and "data" in body,
            f"{where} answered without the API's envelope (no 'data' key).",
        )
        status = body.get("status", 0)
        if status not in {0, "0", None}:
            # The envelope's own word wins over the HTTP status: a 200 saying
            # "status": 500 is a failed request (retried), never an empty end of a list.
            # https://developer.onepagecrm.com/api/ (responses carry status 0 on success)
            detail = self.api_error_message(body)
            msg = f"{where} answered HTTP 200 with status {status} in its envelope"
            raise RetriableAPIError(f"{msg}: {detail}" if detail else msg, response)
        self.layout.check(body["data"], where)

    @override
    def validate_response(self, response: requests.Response) -> None:
        """As the base's, but a 4xx to a probe past the last announced page ends the list."""
        paginator = getattr(self, "_paginator", None)
        if (
            paginator is not None
            and paginator.probing
            and response.status_code in range(400, 500)
            and response.status_code not in {401, 429}
            and not self.is_rate_limited(response)
        ):
            paginator.end_of_list()
            return
        try:
            super().validate_response(response)
        except FatalAPIError as exc:
            page = paginator.page_number if paginator is not None else 1
            refused = response.status_code in range(400, 500)
            if page <= 1 or not refused or isinstance(exc, AuthenticationError):
                raise
            # The swagger's /contacts/cascade ("past the 10,000 contact") hints at a cap on
            # deep pages: say which stream reached it, in one line.
            msg = f"Stream '{self.name}': the API refused page {page} ({exc})."
            raise FatalAPIError(msg) from exc

    @override
    def read_total(self, response: requests.Response) -> int | None:
        return pages.total_count(response)

    @override
    def announced_total(self, response: requests.Response) -> tuple[int, bool] | None:
        """``data.total_count`` of the first page: the query's whole size."""
        total = pages.total_count(response)
        return None if total is None else (total, False)

    @override
    def is_rate_limited(self, response: requests.Response) -> bool:
        """The CRM throttles with 403 and a plain-text body; a JSON 403 is a real refusal."""
        if response.status_code == 429:
            return True
        content_type = response.headers.get("Content-Type", "")
        return response.status_code == 403 and (
            content_type.startswith("text/plain")
            or b"Rate Limit Exceeded" in response.content[:200]
        )

    @override
    def api_error_message(self, body: t.Any) -> str | None:
        """``error_message`` (or ``message``) of the CRM's JSON error envelope."""
        if isinstance(body, dict):
            text = body.get("error_message") or body.get("message")
            errors = body.get("errors")
            if errors:
                text = f"{text} {errors}"
            return str(text) if text else None
        return None


class PlainPagedStream(CRMStream):
    """``data = {<plural>: [...]}``, with ``page``/``max_page`` beside it or not
    (``tap_crm.pagination.PlainPages``)."""

    shape = Shape.PLAIN
    # Items that may arrive flat (live data) or wrapped in this key (the swagger): both
    # are read. None: always flat.
    unwrap: t.ClassVar[str | None] = None
    _paginator: PlainPages | None

    @override
    def new_paginator(self) -> PlainPages:
        return PlainPages(self.name, self.page_size, self.logger)

    @override
    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        unwrap = self.unwrap
        for item in super().parse_response(response):
            yield item.get(unwrap, item) if unwrap and len(item) == 1 else item

    @override
    def incomplete_read(self, check: ReadCheck, context: Context | None) -> str | None:
        """An API that ignores ``page`` served the whole list on page 1: one snapshot, as
        complete as an unpaginated answer (``tap_common.state.table_versions``)."""
        if self._paginator is not None and self._paginator.repeated:
            return None
        return super().incomplete_read(check, context)


class ModifiedSinceStream(CRMStream):
    """Incremental on ``modified_at``, filtered by the server with ``modified_since``.

    Sorted ascending by ``modified_at``, so the bookmark advances with every record and
    an interrupted run resumes where it stopped. Pages are re-anchored on the newest
    second read, and a second larger than a page is read until the API's count of it
    is complete (``tap_crm.pagination.ModifiedSincePasses``), so edits and tie order
    cannot hide a record.
    """

    replication_key = "modified_at"
    is_sorted = True
    # Re-anchored paging: a deletion during a full read shifts no unread record.
    read_survives_deletions = True
    # Whether ``modified_since`` is strict (>): None until a bulk second asks.
    _strict_since: bool | None = None
    _paginator: ModifiedSincePasses | None

    def starting_since(self) -> int | None:
        """First second to read: the bookmark's or start_date's, if any."""
        start = self.get_starting_timestamp(self.context)
        return unix_seconds(start) if start else None

    @override
    def new_paginator(self) -> ModifiedSincePasses:
        return ModifiedSincePasses(
            self.name,
            since=self.starting_since(),
            page_size=self.page_size,
            asked=self.since_param,
        )

    def since_param(self, second: int) -> int:
        """``modified_since`` that returns every record at or after ``second``.

        Undocumented whether it is inclusive: unless known inclusive, ask one second
        early (right for a strict bound) and let the paginator drop what is older.
        """
        return second if self._strict_since is False else second - 1

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        token = next_page_token or SeekToken(self.starting_since(), 1)
        params = super().get_url_params(context, token.page)
        params.update(sort_by="modified_at", order="asc")
        if token.since is not None:
            params["modified_since"] = self.since_param(token.since)
        return params

    @override
    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        yield from super().parse_response(response)
        # After the page's records: the paginator may need the count of a bulk second.
        paginator = self._paginator
        if paginator is not None and paginator.count_needed is not None:
            paginator.counted(self.records_in_second(paginator.count_needed))

    def records_in_second(self, second: int) -> int:
        """Records modified within ``second``, by the API's count."""
        if self._strict_since is None:
            # The first bulk second of the run has records at ``second``: an inclusive
            # bound returns them first, a strict one later records. A page, not one
            # record: a record dated earlier than its change (a date-only value) may
            # come first and says nothing about the bound.
            _, first = self._count_from(second, per_page=self.page_size)
            self._strict_since = not any(modified_second(r) == second for r in first)
        at_or_after = self._count_from(self.since_param(second))[0]
        return at_or_after - self._count_from(self.since_param(second + 1))[0]

    def _count_from(self, modified_since: int, per_page: int = 1) -> tuple[int, list[dict]]:
        """``total_count`` and first records of a query from ``modified_since``."""
        params = {
            "page": 1,
            "per_page": per_page,
            "sort_by": "modified_at",
            "order": "asc",
            "modified_since": modified_since,
            **self.extra_params,  # the same list the read sees (e.g. team=true)
        }
        response = self.request_once(params, self.context)
        total = pages.total_count(response)
        # Without the count a bulk second cannot be shown complete: stop, never guess 0.
        ensure(
            total is not None,
            f"Stream '{self.name}': {api_path(response)} gave no total_count, which reading "
            "a second shared by more records than a page needs; stopping rather than "
            "losing records.",
        )
        data = json_body(response)["data"]
        return t.cast("int", total), self.layout.records(data[self.layout.list_key])


class NewestFirstStream(CRMStream):
    """Incremental on ``modified_at`` for an endpoint without ``modified_since``.

    Nothing can anchor its pages on time, so the list is read whole on every run
    (``sort_by=modified_at&order=desc``), again from page 1 while fewer distinct ids than
    its ``total_count`` were read (``tap_crm.pagination.NewestFirstPasses``), and records
    at or after the previous complete run's start are emitted (``tap_common.state.overlap``):
    a record skipped because another was deleted during a run is emitted by the next.
    Unsorted for the SDK (descending): the bookmark is saved when the stream completes.
    """

    replication_key = "modified_at"
    overlapping = True
    _emit_from: datetime | None = None

    @override
    def new_paginator(self) -> NewestFirstPasses:
        key = t.cast("str", self.replication_key)
        return NewestFirstPasses(self.name, emit_key=key, emit_from=self._emit_from)

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        token: PassToken = next_page_token or PassToken(1)
        params = super().get_url_params(context, token.page)
        params.update(sort_by="modified_at", order="desc")
        return params

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        self._emit_from = self.overlap.begin(context)
        yield from super().get_records(context)
        self.overlap.settle(context)

    @override
    def page_view(self, response: requests.Response) -> PageView:
        """What one page shows of the list (``tap_common.state.overlap.ReadProof``)."""
        page = pages.read(response, self.layout, self.page_size)
        return page_view(page.total_count, page.records, t.cast("str", self.replication_key))
