"""The CRM API's conventions: success envelope, ``data.page``/``data.max_page`` paging, errors."""

from __future__ import annotations

import typing as t

from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from tap_common.client import APIStream, ensure
from tap_common.errors import AuthenticationError
from tap_common.paging import GuardedPageNumberPaginator, PageInfo
from tap_common.responses import api_path, json_body

if t.TYPE_CHECKING:
    import requests


class CRMStream(APIStream):
    """A paginated CRM list: ``data = {<plural>: [...], page, max_page, total_count, per_page}``."""

    primary_keys: t.ClassVar[tuple[str, ...]] = ("id",)
    username_setting = "username"
    password_setting = "password"  # noqa: S105 - a setting's name, not a secret
    # Key of the item array inside ``data`` (defaults to the stream name).
    list_key: t.ClassVar[str | None] = None
    # Query parameters this endpoint always gets (e.g. ``team``), beside paging and filters.
    extra_params: t.ClassVar[dict[str, t.Any]] = {}

    @property
    def items_key(self) -> str:
        return self.list_key or self.name

    def get_url_params(self, context: t.Any, next_page_token: t.Any) -> dict[str, t.Any]:
        return {**super().get_url_params(context, next_page_token), **self.extra_params}

    @property
    def wrapper(self) -> str:
        """Key that wraps each record in a list item: ``contact`` in ``$.data.contacts[*].contact``."""
        return self.records_jsonpath.rsplit(".", 1)[-1]

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
        self.check_data(body["data"], where)

    def check_data(self, data: t.Any, where: str) -> None:
        """A paginated list: the item array and the page metadata beside it."""
        ensure(
            isinstance(data, dict) and isinstance(data.get(self.items_key), list),
            f"{where}: expected data.{self.items_key} to be a list of records.",
        )
        for key in ("page", "max_page"):
            ensure(
                isinstance(data.get(key), int),
                f"{where}: the page metadata data.{key} is missing or not a number.",
            )

    def read_page(self, response: requests.Response) -> PageInfo:
        data = json_body(response)["data"]
        items = data[self.items_key]
        per_page = data.get("per_page") or self.page_size
        # A full page at (or past) max_page is followed by one more request: a stale
        # max_page must not end the list early (what comes past the end: see paging).
        full_at_last = data["page"] >= data["max_page"] and len(items) >= per_page
        return PageInfo(
            current_page=data["page"],
            has_next=data["page"] < data["max_page"] or full_at_last,
            items=items,
            past_announced=full_at_last,
        )

    def validate_response(self, response: requests.Response) -> None:
        """As the base's, but a 4xx to a probe past the last announced page ends the list."""
        paginator = getattr(self, "_paginator", None)
        if (
            isinstance(paginator, GuardedPageNumberPaginator)
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
            page = paginator.page_number if isinstance(paginator, GuardedPageNumberPaginator) else 1
            refused = response.status_code in range(400, 500)
            if page <= 1 or not refused or isinstance(exc, AuthenticationError):
                raise
            # The swagger's /contacts/cascade ("past the 10,000 contact") hints at a cap on
            # deep pages: say which stream reached it, in one line.
            msg = f"Stream '{self.name}': the API refused page {page} ({exc})."
            raise FatalAPIError(msg) from exc

    def announced_pages(self, response: requests.Response) -> int | None:
        return json_body(response)["data"]["max_page"]

    def read_total(self, response: requests.Response) -> int | None:
        data = json_body(response)["data"]
        total = data.get("total_count") if isinstance(data, dict) else None
        return total if isinstance(total, int) else None
    def announced_total(self, response: requests.Response) -> tuple[int, bool] | None:
        """``data.total_count`` of the first page: the query's whole size."""
        data = json_body(response)["data"]
        total = data.get("total_count") if isinstance(data, dict) else None
        return (total, False) if isinstance(total, int) else None

    def is_rate_limited(self, response: requests.Response) -> bool:
        """The CRM throttles with 403 and a plain-text body; a JSON 403 is a real refusal."""
        if response.status_code == 429:
            return True
        content_type = response.headers.get("Content-Type", "")
        return response.status_code == 403 and (
            content_type.startswith("text/plain")
            or b"Rate Limit Exceeded" in response.content[:200]
        )

    def api_error_message(self, body: t.Any) -> str | None:
        """``error_message`` (or ``message``) of the CRM's JSON error envelope."""
        if isinstance(body, dict):
            text = body.get("error_message") or body.get("message")
            errors = body.get("errors")
            if errors:
                text = f"{text} {errors}"
            return str(text) if text else None
        return None


class UnpaginatedCRMStream(CRMStream):
    """An endpoint that returns everything at once and ignores ``page``: requested once.

    ``data`` is the list itself, or (``data_is_list = False``) an object holding it.
    """

    paginated = False
    data_is_list: t.ClassVar[bool] = True

    def check_data(self, data: t.Any, where: str) -> None:
        if self.data_is_list:
            ensure(isinstance(data, list), f"{where}: expected 'data' to be a list of records.")
        else:
            ensure(
                isinstance(data, dict) and isinstance(data.get(self.items_key), list),
                f"{where}: expected data.{self.items_key} to be a list of records.",
            )


class SingleObjectCRMStream(UnpaginatedCRMStream):
    """An endpoint whose ``data`` is one object (``/bootstrap``)."""

    records_jsonpath = "$.data"

    def check_data(self, data: t.Any, where: str) -> None:
        ensure(isinstance(data, dict), f"{where}: expected 'data' to be one object.")
