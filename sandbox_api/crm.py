"""The CRM API v3 (https://developer.onepagecrm.com/api/): envelopes, paging, filters, errors."""

from __future__ import annotations

import bisect
import math
import time
import typing as t
import zlib
from datetime import datetime, timedelta, timezone

from typing_extensions import override

from sandbox_api import crm_custom_fields, crm_data, fake, generated
from sandbox_api.crm_lists import CRMListSwitches
from sandbox_api.deletions import Deletions
from sandbox_api.http import Request, Response
from sandbox_api.oddities import Oddities
from sandbox_api.server import SandboxAPIBase
from sandbox_api.variations import Variations

USERNAME = crm_data.API_USER_ID
PASSWORD = crm_data.API_KEY  # the sandbox's fake credentials

# Paginated list endpoints: plural key -> singular wrapper key of each item.
PAGINATED = {
    "contacts": "contact",
    "companies": "company",
    "actions": "action",
    "deals": "deal",
    "notes": "note",
    "relationship_types": "relationship_type",
    "pipelines": "pipeline",
    "filters": "filter",
    "custom_fields": "custom_field",
    "calls": "call",
    "meetings": "meeting",
}
# How far ``Variations.early_modified_at="seconds"`` moves a served modified_at back.
EARLY_SECONDS = 7
# Endpoints that honour modified_since (https://github.com/OnePageCRM/swagger); the others
# ignore it, as unknown params are.
MODIFIED_SINCE = {
    "contacts",
    "actions",
    "deals",
    "notes",
    "calls",
    "meetings",
    "relationship_types",
}
SORTABLE = {
    "contacts": {"created_at", "modified_at", "first_name", "last_name", "company_name"},
    "companies": {"created_at", "modified_at", "name"},
    "deals": {"created_at", "modified_at", "date", "close_date", "expected_close_date"},
    "notes": {"created_at", "modified_at", "date"},
    "calls": {"created_at", "modified_at"},
    "meetings": {"created_at", "modified_at"},
    "custom_fields": {"created_at", "modified_at", "position"},
    "actions": {"created_at", "modified_at"},
    "relationship_types": {"created_at", "modified_at"},
}
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 10
# Small fixed-size lists in a real account.
DEFAULT_SIZES = {
    "users": crm_data.USER_COUNT,
    "statuses": 6,
    "lead_sources": 5,
    "pipelines": 3,
}


def error_body(status: int, message: str, name: str, text: str, errors: dict | None = None) -> dict:
    """The CRM's JSON error envelope (https://developer.onepagecrm.com/api/, "Errors")."""
    return {
        "status": status,
        "message": message,
        "error_name": name,
        "error_message": text,
        "errors": errors or {},
    }


class CRMAPI(Deletions, SandboxAPIBase):
    """Fake CRM with generated data. ``size`` records per resource unless ``sizes`` says."""

    name = "crm"
    prefix = "/api/v3"

    def __init__(
        self,
        size: int = 25,
        sizes: dict[str, int] | None = None,
        *,
        wrapped_predefined_items: bool = False,
        switches: CRMListSwitches | None = None,
    ) -> None:
        self.wrapped_predefined_items = wrapped_predefined_items
        self.switches = switches or CRMListSwitches()
        self.records: dict[str, list[dict]] = {}
        for resource, generate in crm_data.GENERATORS.items():
            count = (sizes or {}).get(resource, DEFAULT_SIZES.get(resource, size))
            self.records[resource] = generated.records(generate, count)
        self._next_index = {name: len(rows) for name, rows in self.records.items()}
        self._index: dict[tuple[str, str | None], tuple[list[dict], list[datetime]]] = {}
        # The account's custom-field definitions by kind (``custom_field``, ...): served by
        # /bootstrap; tests add to them between runs (``add_field_definition``).
        self.field_definitions = {
            wrapper: crm_custom_fields.definitions(wrapper) for wrapper in crm_custom_fields.TYPES
        }
        self.oddities = Oddities()  # odd values served in chosen records (off: empty)
        self.variations = Variations()

    # -- what tests use to change data between runs --------------------------------

    def expected(self, stream: str) -> list[dict]:
        """The records the tap should emit for a stream, as the API holds them."""
        if stream == "bootstrap":
            # The API key never leaves the tap: auth_key is emitted as null.
            return [{**self.bootstrap(), "auth_key": None}]
        return self.records[stream]

    def bootstrap(self) -> dict:
        return {
            **crm_data.bootstrap(self.records["users"]),
            **crm_data.field_definitions(self.field_definitions),
        }

    def add_field_definition(self, wrapper: str, field_type: str, name: str) -> dict:
        """A custom field defined on the account now (``wrapper``: ``custom_field``,
        ``company_field`` or ``deal_field``); records get values for it by ``modify``."""
        defs = self.field_definitions[wrapper]
        field = crm_custom_fields.definition(wrapper, field_type, len(defs), key=("added", name))
        field["name"] = name
        defs.append(field)
        return field

    def add(self, resource: str, **changes: t.Any) -> dict:
        """Create a record, stamped now (whole seconds, as the API writes)."""
        index = self._next_index[resource]
        self._next_index[resource] += 1
        record = crm_data.GENERATORS[resource](index, index + 1)
        record["id"] = fake.object_id(resource, "added", index)
        stamp = fake.iso_z(datetime.now(timezone.utc))
        for key in ("created_at", "modified_at"):
            if key in record:
                record[key] = stamp
        record.update(changes)
        self.records[resource].append(record)
        self._index.clear()
        return record

    def modify(self, resource: str, index: int, **changes: t.Any) -> dict:
        """Change a record and stamp ``modified_at`` now unless ``changes`` sets it."""
        record = self.records[resource][index]
        record.update(changes)
        if "modified_at" in record and "modified_at" not in changes:
            record["modified_at"] = fake.iso_z(datetime.now(timezone.utc))
        self._index.clear()
        return record

    # -- HTTP ----------------------------------------------------------------------

    @override
    def throttle_response(self, retry_after: float | None, reset_at: float | None) -> Response:
        # improved-rack-throttle's answer: 403, plain text, no retry hint
        # (https://github.com/bendiken/rack-throttle, which OnePageCRM's API runs).
        return Response.text(403, "403 Forbidden (Rate Limit Exceeded)\n")

    @override
    def error_response(self, status: int) -> Response:
        if status >= 500:
            return Response.json(
                status,
                error_body(status, "Server Error", "server_error", "Please try again later."),
            )
        return Response.json(status, error_body(status, "Error", "error", "Request failed."))

    @override
    def handle(self, request: Request, *, looping: bool) -> Response:
        if request.basic_auth() != (USERNAME, PASSWORD):
            return Response.json(
                401,
                error_body(
                    401,
                    "Authorization data not found",
                    "authorization_data_not_found",
                    "Cannot find suitable authorization data or data provided is not complete.",
                ),
            )
        resource = request.path.strip("/").removesuffix(".json")
        if resource in PAGINATED:
            return self._paginated(resource, request, looping=looping)
        if resource == "bootstrap":
            return self._ok(self.bootstrap())
        if resource == "users":
            return self._ok([{"user": u} for u in self.records["users"]])
        if resource == "statuses":
            return self._ok([{"status": s} for s in self.records["statuses"]])
        if resource == "lead_sources":
            return self._ok(list(self.records["lead_sources"]))
        if resource == "predefined_actions":
            items = [{"predefined_action": a} for a in self.records["predefined_actions"]]
            return self._ok(self.switches.predefined_page(resource, items, request))
        if resource == "predefined_items":
            items = self.records["predefined_items"]
            if self.wrapped_predefined_items:
                items = [{"predefined_item": i} for i in items]
            return self._ok(self.switches.predefined_page(resource, items, request))
        return Response.json(
            404, error_body(404, "Not Found", "resource_not_found", f"No route {request.path}.")
        )

    @staticmethod
    def _ok(data: t.Any, **extra: t.Any) -> Response:
        return Response.json(
            200,
            {"status": 0, "message": "OK", "timestamp": int(time.time()), "data": data, **extra},
        )

    def _paginated(self, resource: str, request: Request, *, looping: bool) -> Response:
        try:
            page = max(request.int_arg("page", 1), 1)
            per_page = min(max(request.int_arg("per_page", DEFAULT_PER_PAGE), 1), MAX_PER_PAGE)
            rows = self.switches.scoped(resource, self._filtered(resource, request), request)
        except ValueError as exc:
            return Response.json(
                400, error_body(400, "Invalid request data", "invalid_request_data", str(exc))
            )
        total = len(rows)
        max_page = math.ceil(total / per_page)
        self.variations.page_served(resource)
        if odd := self._varied_page(resource, page, per_page, rows, max_page):
            return odd
        if looping:
            # A broken server: page 1 again and again, always one more page to go.
            rows, max_page = rows[:per_page], page + 1
            page_rows = rows
        else:
            page_rows = rows[(page - 1) * per_page : page * per_page]
        wrapper = PAGINATED[resource]
        items = [self._item(resource, wrapper, row) for row in page_rows]
        data = {
            resource: items,
            "total_count": total,
            "page": page,
            "per_page": per_page,
            "max_page": max_page - 1
            if self.variations.stale_max_page and max_page > 1
            else max_page,
        }
        extra = self._contacts_extras() if resource == "contacts" else {}
        return self._ok(data, **extra)

    def _varied_page(
        self, resource: str, page: int, per_page: int, rows: list[dict], max_page: int
    ) -> Response | None:
        """An error status inside a 200, or an odd answer past the end (``variations``)."""
        if self.variations.take_status_error():
            data = {
                resource: [],
                "total_count": 0,
                "page": page,
                "per_page": per_page,
                "max_page": 0,
            }
            body = {**error_body(500, "Server Error", "server_error", "Try again."), "data": data}
            return Response.json(200, body)
        if page <= max(max_page, 1) or self.variations.past_end == "empty":
            return None
        if self.variations.past_end == "400":
            return Response.json(
                400, error_body(400, "Invalid request data", "invalid_request_data", "page")
            )
        last = rows[(max_page - 1) * per_page : max_page * per_page]
        items = [self._item(resource, PAGINATED[resource], row) for row in last]
        data = {resource: items, "total_count": len(rows), "page": max_page}
        return self._ok({**data, "per_page": per_page, "max_page": max_page})

    def _filtered(self, resource: str, request: Request) -> list[dict]:
        since = request.arg("modified_since")
        threshold = _parse_since(since) if since and resource in MODIFIED_SINCE else None
        sort_by = request.arg("sort_by")
        order = request.arg("order", "asc")
        if order not in {"asc", "desc"}:
            msg = f"order must be asc or desc, got {order!r}"
            raise ValueError(msg)
        if sort_by and sort_by not in SORTABLE.get(resource, set()):
            msg = f"sort_by={sort_by!r} is not supported for {resource}"
            raise ValueError(msg)
        rows, modified = self._indexed(resource, sort_by)
        if threshold is not None:
            strict = self.variations.strict_since
            if sort_by == "modified_at":
                cut = bisect.bisect_right if strict else bisect.bisect_left
                rows = rows[cut(modified, threshold) :]
            else:
                rows = [
                    r
                    for r, m in zip(rows, modified, strict=True)
                    if (m > threshold if strict else m >= threshold)
                ]
        rows = rows[::-1] if sort_by and order == "desc" else list(rows)
        if sort_by:
            rows = self.variations.order_ties(rows, lambda r: r.get(sort_by))
        return rows

    def _indexed(self, resource: str, sort_by: str | None) -> tuple[list[dict], list[datetime]]:
        """Rows in ``sort_by`` order (ascending) and their parsed ``modified_at``, cached.

        Like a database index: sorting and parsing 100,000 rows on every page made the
        sandbox, not the tap, the bottleneck of benchmarks. ``add``/``modify`` drop it.
        """
        key = (resource, sort_by)
        cached = self._index.get(key)
        if cached is None or len(cached[0]) != len(self.records[resource]):
            rows = self.records[resource]
            if sort_by:
                # Ties broken by id so pages are stable, as a database index would make them.
                rows = sorted(rows, key=lambda r: (r.get(sort_by) or "", r["id"]))
            modified = (
                [_parse_iso(r["modified_at"]) for r in rows] if resource in MODIFIED_SINCE else []
            )
            self._index[key] = (rows, modified)
        return self._index[key]

    def _item(self, resource: str, wrapper: str, row: dict) -> dict:
        item: dict[str, t.Any] = {wrapper: self._served_early(resource, self.oddities.apply(row))}
        if resource == "contacts":
            # Siblings of the record in a list item, which the record selector leaves out.
            item.update(
                next_actions=[],
                next_action=None,
                queued_actions=[],
                next_action_conflicts=[],
                company={"id": row.get("company_id"), "name": row.get("company_name")},
            )
        elif resource == "deals":
            item["related_notes"] = []
        return item

    def _served_early(self, resource: str, row: dict) -> dict:
        """``row`` with ``modified_at`` reading earlier than the time ``modified_since``
        filters it by, for one record in five, while ``Variations.early_modified_at`` is on."""
        how = self.variations.early_modified_at
        value = row.get("modified_at")
        if not how or resource not in MODIFIED_SINCE or not isinstance(value, str):
            return row
        if zlib.crc32(str(row.get("id")).encode()) % 5:
            return row
        try:
            instant = _parse_iso(value)
        except ValueError:
            return row
        early = (
            instant.strftime("%Y-%m-%d")
            if how == "date_only"
            else fake.iso_z(instant - timedelta(seconds=EARLY_SECONDS))
        )
        return {**row, "modified_at": early}

    def _contacts_extras(self) -> dict:
        return {
            "lead_sources": self.records["lead_sources"],
            "statuses": self.records["statuses"],
            "tags": {"tags": [{"name": "vip", "counts": 3}], "system_tags": []},
            "contacts_count": {"all": {"total_count": len(self.records["contacts"])}, "users": []},
            "team_stream": {"all": {}, "users": []},
        }


def _parse_iso(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def _parse_since(value: str) -> datetime:
    """``modified_since`` takes a unix timestamp or YYYY-MM-DD (https://developer.onepagecrm.com/api/)."""
    if value.isdigit():
        return datetime.fromtimestamp(int(value), tz=timezone.utc)
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        msg = f"modified_since must be a unix timestamp or YYYY-MM-DD, got {value!r}"
        raise ValueError(msg) from None
