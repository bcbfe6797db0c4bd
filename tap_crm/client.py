"""The CRM API's conventions: success envelope, ``data.page``/``data.max_page`` paging, errors."""

from __future__ import annotations

import typing as t

from tap_common.client import APIStream, ensure
from tap_common.paging import PageInfo
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

    @property
    def items_key(self) -> str:
        return self.list_key or self.name

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
        return PageInfo(
            current_page=data["page"],
            has_next=data["page"] < data["max_page"],
            items=data[self.items_key],
        )

    def announced_pages(self, response: requests.Response) -> int | None:
        return json_body(response)["data"]["max_page"]

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
