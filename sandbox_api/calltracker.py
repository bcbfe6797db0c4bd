"""The Aircall API v1 (https://developer.aircall.io/api-references/): envelopes, meta, 10k cap, errors."""

from __future__ import annotations

import bisect
import time
import typing as t
from datetime import datetime, timezone
from urllib.parse import urlencode

from typing_extensions import override

from sandbox_api import calltracker_data as data
from sandbox_api import fake, generated
from sandbox_api.calltracker_fetch import call_as_listed
from sandbox_api.deletions import Deletions
from sandbox_api.http import Request, Response
from sandbox_api.oddities import Oddities
from sandbox_api.rate_headers import RateHeaders
from sandbox_api.server import SandboxAPIBase
from sandbox_api.variations import Variations

API_ID = "ct-sandbox-api-id"
API_TOKEN = "ct-sandbox-api-token"  # noqa: S105 - the sandbox's fake credentials

MAX_PER_PAGE = 50
DEFAULT_PER_PAGE = 20
ITEM_CAP = 10_000
CAP_BODY = {
    "error": "Bad Request",
    "data": None,
    "message": "BAD_REQUEST",
    "errors": "Your query is limited to 10k results and pagination is out of bound, "
    "please use timestamps or other filters.",
    "troubleshoot": "BAD_REQUEST",
    "success": False,
}
# List endpoints: path -> (key of the item array, resource whose records it serves).
LISTS = {
    "/calls": ("calls", "calls"),
    "/contacts": ("contacts", "contacts"),
    "/numbers": ("numbers", "numbers"),
    "/tags": ("tags", "tags"),
    "/teams": ("teams", "teams"),
    "/users": ("users", "users"),
    "/v2/users": ("users", "users"),
    "/users/availabilities": ("users", "user_availability"),
    "/webhooks": ("webhooks", "webhooks"),
}
# Endpoints honouring from/to (creation time) and order
# (https://developer.aircall.io/api-references/#pagination); the others ignore them.
TIME_FILTERED = {"calls", "contacts", "numbers", "users", "user_availability"}
ORDERED = TIME_FILTERED | {"teams", "webhooks"}
# Aircall's reference announced the sunset of v1 "List all Users" on 2026-09-30, replaced by
# v2 "List all Users" (https://developer.aircall.io/api-references/#list-all-users): served
# at ``/v2/users`` (full path, beside the ``/v1`` mount). What ``/v1/users`` answers after
# the sunset is not known: ``Variations.v1_users`` chooses.
V2_USERS = "/v2/users"
DEFAULT_SIZES = {"users": 6, "numbers": 3, "teams": 3, "tags": 5, "webhooks": 2}
# Where ``from`` is exclusive (``created > from``): calls, as a live account answered;
# with ``Variations.exclusive_from_elsewhere`` also these, whose bound nobody has shown.
UNVERIFIED_FROM = {"numbers", "users", "user_availability"}
# Lists whose meta never carries the link keys (a live account's /webhooks).
WITHOUT_LINKS = {"webhooks"}


def created_unix(resource: str, record: dict) -> int:
    """Creation time in unix seconds: the field from/to filter on."""
    value = record["started_at"] if resource == "calls" else record["created_at"]
    if isinstance(value, int):
        return value
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def app_error(status: int, error: str, troubleshoot: str) -> Response:
    """The application tier's error shape (https://developer.aircall.io/api-references/#errors)."""
    return Response.json(status, {"error": error, "troubleshoot": troubleshoot})


class CallTrackerAPI(Deletions, SandboxAPIBase):
    """Fake call API with generated data. ``size`` records per list unless ``sizes`` says."""

    name = "calltracker"
    prefix = "/v1"
    also_mounted = ("/v2",)

    def __init__(self, size: int = 25, sizes: dict[str, int] | None = None) -> None:
        self.records: dict[str, list[dict]] = {}
        for resource, generate in data.GENERATORS.items():
            count = (sizes or {}).get(resource, DEFAULT_SIZES.get(resource, size))
            self.records[resource] = generated.records(generate, count)
        self._next_index = {name: len(rows) for name, rows in self.records.items()}
        self._index: dict[tuple[str, bool], tuple[list[dict], list[int]]] = {}
        self.oddities = Oddities()  # odd values served in chosen records (off: empty)
        self.variations = Variations()
        # Which answers carry X-AircallApi-* and in which form (sandbox_api.rate_headers).
        self.rate_headers = RateHeaders()

    # -- what tests use ------------------------------------------------------------

    def expected(self, stream: str) -> list[dict]:
        """The records the tap should emit for a stream, in the API's raw form."""
        if stream == "company":
            return [data.company(self.records["users"], self.records["numbers"])]
        if stream == "user_availability":
            return [data.availability(u) for u in self.records["users"]]
        if stream == "webhooks":
            # The shared secret never leaves the tap: null, and a fingerprint beside it.
            return [
                {**w, "token": None, "token_fingerprint": data.fingerprint(w["token"])}
                for w in self.records["webhooks"]
            ]
        return self.records[stream]

    def add(self, resource: str, **changes: t.Any) -> dict:
        """Create a record stamped now, in the resource's own timestamp format."""
        index = self._next_index[resource]
        self._next_index[resource] += 1
        record = data.GENERATORS[resource](index, index + 1)
        now = datetime.now(timezone.utc).replace(microsecond=0)
        if resource == "calls":
            offset = fake.unix(now) - record["started_at"]
            for key in ("started_at", "answered_at", "ended_at"):
                if record[key] is not None:
                    record[key] += offset
        elif resource == "contacts":
            record["created_at"] = record["updated_at"] = fake.unix(now)
        elif resource == "users":
            record["created_at"] = data.user_iso(now)
        elif "created_at" in record:
            record["created_at"] = fake.iso_millis(now)
        record.update(changes)
        self.records[resource].append(record)
        self._index.clear()
        return record

    def modify(self, resource: str, index: int, **changes: t.Any) -> dict:
        """Change a record in place. Calls keep ``started_at`` (status, tags, comments
        change later); contacts get ``updated_at`` bumped to now unless ``changes`` sets it."""
        record = self.records[resource][index]
        record.update(changes)
        if resource == "contacts" and "updated_at" not in changes:
            record["updated_at"] = int(time.time())
        self._index.clear()
        return record

    def finalize(self, index: int, **changes: t.Any) -> dict:
        """A call finalized after it ended: its ``started_at`` moves ``start_move``
        seconds later and its duration is recomputed (a live account moved one by 1 s)."""
        record = self.records["calls"][index]
        record["started_at"] += self.variations.start_move
        if record.get("ended_at") is not None:
            record["duration"] = record["ended_at"] - record["started_at"]
        return self.modify("calls", index, **changes)

    # -- HTTP ----------------------------------------------------------------------

    @override
    def error_response(self, status: int) -> Response:
        if status >= 500:
            return app_error(status, "Internal Server Error", "Please retry later.")
        return app_error(status, "Error", "Check the request.")

    @override
    def throttle_response(self, retry_after: float | None, reset_at: float | None) -> Response:
        headers = {}
        if reset_at is not None:
            headers = {
                "X-AircallApi-Remaining": "0",
                "X-AircallApi-Reset": self.rate_headers.reset(reset_at),
            }
        response = app_error(429, "Too Many Requests", "Rate limit reached, wait for the reset.")
        response.headers.update(headers)
        return response

    @override
    def budget_headers(
        self, limit: int, remaining: int, reset_at: float, *, refused: bool = False
    ) -> dict[str, str]:
        return self.rate_headers.headers(limit, remaining, reset_at, refused=refused)

    @override
    def handle(self, request: Request, *, looping: bool) -> Response:
        credentials = request.basic_auth()
        if credentials is None:
            return Response.json(401, {"message": "Unauthorized"})
        if credentials != (API_ID, API_TOKEN):
            return Response.json(403, {"message": "Forbidden"})
        path = request.path.rstrip("/") or "/"
        if path == "/ping":
            return Response.json(200, {"ping": "pong"})
        if path == "/company":
            return Response.json(200, {"company": self.expected("company")[0]})
        if path == "/users" and self.variations.v1_users != "served":
            if self.variations.v1_users == "410":
                return Response.json(410, {"message": "Gone"})
            return Response.json(404, {"message": "Not Found"})
        if path.startswith("/v2/") and path != V2_USERS:
            return Response.json(404, {"message": "Not Found"})
        if path in LISTS:
            key, resource = LISTS[path]
            return self._list(key, resource, request, looping=looping)
        return Response.json(404, {"message": "Not Found"})

    @override
    def answer_key(self, request: Request) -> t.Hashable:
        """A time window as the rows it selects: the taps ask ``to`` up to now, which moves
        every second, and two windows holding the same rows get the same answer."""
        entry = LISTS.get(request.path.rstrip("/"))
        if entry is None or entry[1] not in TIME_FILTERED:
            return super().answer_key(request)
        try:
            rows = self._filtered(entry[1], request)
        except ValueError:
            return super().answer_key(request)
        if not isinstance(rows, _Range):
            return super().answer_key(request)
        others = {
            name: values for name, values in request.query.items() if name not in {"from", "to"}
        }
        query = tuple(sorted((name, tuple(values)) for name, values in others.items()))
        return (request.path, query, rows.bounds, request.headers.get("Authorization"))

    def _list(self, key: str, resource: str, request: Request, *, looping: bool) -> Response:
        try:
            page = request.int_arg("page", 1)
            per_page = min(request.int_arg("per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE)
            if self.variations.take_wrong_page():
                page, per_page = 1, DEFAULT_PER_PAGE  # the query string was dropped
            if page < 1 or per_page < 1:
                raise ValueError
            rows = self._filtered(resource, request)
        except ValueError:
            return app_error(400, "Invalid parameters", "Check page, per_page, from, to, order.")
        if (page - 1) * per_page >= ITEM_CAP:
            return Response.json(400, CAP_BODY)
        total = len(rows)
        if looping:
            # A broken server: the first page again and again, always with a next link.
            page_rows, has_next = rows[:per_page], True
        else:
            page_rows = rows[(page - 1) * per_page : page * per_page]
            has_next = page * per_page < total
        self.variations.page_served(resource)
        if self.variations.cap_total:
            # Other clients assume: meta.total stops at the cap, no link to a page past it.
            total = min(total, ITEM_CAP)
            has_next = has_next and page * per_page < ITEM_CAP
        items = [self._item(resource, self.oddities.apply(row), request) for row in page_rows]
        meta: dict[str, t.Any] = {
            "count": len(items),
            "total": total,
            "current_page": page,
            "per_page": per_page,
        }
        if resource not in WITHOUT_LINKS and not self.variations.no_links:
            meta["next_page_link"] = self._link(request, page + 1) if has_next else None
            meta["previous_page_link"] = self._link(request, page - 1) if page > 1 else None
        return Response.json(200, {key: items, "meta": meta})

    def _filtered(self, resource: str, request: Request) -> t.Sequence[dict]:
        source = "users" if resource == "user_availability" else resource
        window = None
        if resource in TIME_FILTERED:
            window = (request.int_arg("from", -(2**62)), request.int_arg("to", 2**62))
            if self._from_exclusive(resource):
                window = (window[0] + 1, window[1])  # started_at > from
            if resource == "calls" and self.variations.calls_horizon_days is not None:
                # Older calls are not served: a window wholly before the horizon is empty.
                horizon = int(time.time()) - self.variations.calls_horizon_days * 86_400
                window = (max(window[0], horizon), window[1])
        order = request.arg("order", "asc") if resource in ORDERED else "asc"
        if order not in {"asc", "desc"}:
            raise ValueError(order)
        order_by = request.arg("order_by", "created_at") if resource == "contacts" else None
        if order_by not in {None, "created_at", "updated_at"}:
            raise ValueError(order_by)
        from_open, to_open = self._open_bounds(resource)
        rows, created = self._indexed(source, order_by == "updated_at")
        ties_in_order = not self.variations.shuffle_ties
        if order_by != "updated_at" and ties_in_order:
            # Sorted by creation time: the window is one range of the index, paged without
            # copying it (a copy of an open-ended window of 100,000 rows per page made the
            # sandbox, not the client, the cost of long benchmarks).
            low, high = 0, len(rows)
            if window is not None:
                low = (bisect.bisect_right if from_open else bisect.bisect_left)(created, window[0])
                high = (bisect.bisect_left if to_open else bisect.bisect_right)(created, window[1])
            return _Range(rows, low, high, descending=order == "desc")
        if window is not None:
            start, end = window
            if order_by != "updated_at":
                # Sorted by creation time: the window is one slice.
                low = (bisect.bisect_right if from_open else bisect.bisect_left)(created, start)
                high = (bisect.bisect_left if to_open else bisect.bisect_right)(created, end)
                rows = rows[low:high]
            else:
                rows = [
                    r
                    for r, c in zip(rows, created, strict=True)
                    if (c > start if from_open else c >= start)
                    and (c < end if to_open else c <= end)
                ]
        rows = rows[::-1] if order == "desc" else list(rows)
        if order_by == "updated_at":
            return self.variations.order_ties(rows, lambda r: r["updated_at"])
        if source in TIME_FILTERED or source in ORDERED:
            return self.variations.order_ties(rows, lambda r: created_unix(source, r))
        return rows

    def _open_bounds(self, resource: str) -> tuple[bool, bool]:
        """Whether ``from`` and ``to`` exclude their own second. Contacts: both inclusive on
        ``created_at`` as a live account answered (also with ``order_by=updated_at``),
        unless ``Variations.contacts_bounds`` says otherwise."""
        if resource != "contacts":
            return False, False
        convention = self.variations.contacts_bounds
        return convention in {"from_exclusive", "exclusive"}, convention in {
            "to_exclusive",
            "exclusive",
        }

    def _from_exclusive(self, resource: str) -> bool:
        if resource == "calls":
            return not self.variations.inclusive_calls_from
        return resource in UNVERIFIED_FROM and self.variations.exclusive_from_elsewhere

    def _indexed(self, source: str, by_update: bool) -> tuple[list[dict], list[int]]:
        """Rows in ascending sort order and their creation times, cached.

        Like a database index: sorting and parsing 100,000 rows on every page made the
        sandbox, not the tap, the bottleneck of benchmarks. ``add``/``modify`` drop it.
        """
        key = (source, by_update)
        cached = self._index.get(key)
        if cached is None or len(cached[0]) != len(self.records[source]):
            if by_update:
                sort_key = lambda r: (r["updated_at"], r["id"])  # noqa: E731
            elif source == "tags":
                sort_key = lambda r: r["id"]  # noqa: E731
            else:
                # Ties broken by id so pages are stable, as a database index would make them.
                sort_key = lambda r: (created_unix(source, r), r.get("id") or r.get("webhook_id"))  # noqa: E731
            rows = sorted(self.records[source], key=sort_key)
            created = [created_unix(source, r) for r in rows] if source in TIME_FILTERED else []
            self._index[key] = cached = (rows, created)
        return cached

    @staticmethod
    def _item(resource: str, row: dict, request: Request) -> dict:
        if resource == "calls":
            return call_as_listed(row, request)
        if resource == "users" and request.path != V2_USERS:
            return data.user_v1(row)
        return data.availability(row) if resource == "user_availability" else row

    def _link(self, request: Request, page: int) -> str:
        """Absolute URL of another page, carrying the request's other parameters."""
        params = {name: values[-1] for name, values in request.query.items()}
        params["page"] = str(page)
        mount = "" if request.path.startswith("/v2/") else self.prefix
        return f"{request.base_url}{mount}{request.path}?{urlencode(params)}"


class _Range(t.Sequence[dict]):
    """Rows ``low`` to ``high`` of a sorted list (newest first if ``descending``), read
    by length and page slices without copying the range."""

    def __init__(self, rows: list[dict], low: int, high: int, *, descending: bool) -> None:
        self._rows, self._low, self._high, self._descending = rows, low, max(low, high), descending

    def __len__(self) -> int:
        return self._high - self._low

    @property
    def bounds(self) -> tuple[int, int, bool]:
        return self._low, self._high, self._descending

    @t.overload
    def __getitem__(self, index: int) -> dict: ...
    @t.overload
    def __getitem__(self, index: slice) -> list[dict]: ...
    def __getitem__(self, index: int | slice) -> dict | list[dict]:
        if isinstance(index, int):
            return self[index : index + 1 or None][0]
        start, stop, step = index.indices(len(self))
        if step != 1:
            raise ValueError(step)
        stop = max(start, stop)
        if not self._descending:
            return self._rows[self._low + start : self._low + stop]
        # Newest first: positions count back from the range's end.
        return self._rows[self._high - stop : self._high - start][::-1]
