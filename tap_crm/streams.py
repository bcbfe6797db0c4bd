"""The 17 CRM streams (https://developer.onepagecrm.com/api/): name, path, record selector, key, schema.

Behaviour shared by several streams lives in the base classes below and in ``client.py``.
"""

from __future__ import annotations

import typing as t

from tap_common.client import ensure
from tap_common.overlap import overlap_start, remember_start
from tap_common.paging import CountedPassesPaginator
from tap_common.responses import api_path, json_body
from tap_common.timestamps import to_instant, unix_seconds
from tap_crm import schemas
from tap_crm.client import CRMStream, SingleObjectCRMStream, UnpaginatedCRMStream
from tap_crm.plain_pages import PlainPagedCRMStream
from tap_crm.seek import ModifiedSincePaginator, SeekToken, modified_second

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context


class ModifiedSinceStream(CRMStream):
    """Incremental on ``modified_at``, filtered by the server with ``modified_since``.

    Sorted ascending by ``modified_at``, so the bookmark advances with every record and
    an interrupted run resumes where it stopped. Pages are re-anchored on the newest
    second read, and a second larger than a page is read until the API's count of it
    is complete (``tap_crm.seek``), so edits and tie order cannot hide a record.
    """

    replication_key = "modified_at"
    is_sorted = True
    # Re-anchored paging: a deletion during a full read shifts no unread record.
    read_survives_deletions = True
    # Whether ``modified_since`` is strict (>): None until a bulk second asks (seek).
    _strict_since: bool | None = None

    def starting_since(self) -> int | None:
        """First second to read: the bookmark's or start_date's, if any."""
        start = self.get_starting_timestamp(self.context)
        return unix_seconds(start) if start else None

    def get_new_paginator(self) -> ModifiedSincePaginator:
        self._paginator = ModifiedSincePaginator(
            self.read_page,
            self.announced_pages,
            self.name,
            since=self.starting_since(),
            record_of=lambda item: item[self.wrapper],
            total_of=lambda response: json_body(response)["data"].get("total_count", 0),
            count_at_or_after=self.count_at_or_after,
            page_size=self.page_size,
        )
        return self._paginator

    def since_param(self, second: int) -> int:
        """``modified_since`` that returns every record at or after ``second``.

        Undocumented whether it is inclusive: unless known inclusive, ask one second
        early (right for a strict bound) and let the paginator drop what is older.
        """
        return second if self._strict_since is False else second - 1

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        token = next_page_token or SeekToken(self.starting_since(), 1)
        params = super().get_url_params(context, token.page)
        params.update(sort_by="modified_at", order="asc")
        if token.since is not None:
            params["modified_since"] = self.since_param(token.since)
        return params

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        # Oldest second first within the page: the API's tie order is only a hint.
        page = sorted(super().parse_response(response), key=lambda r: modified_second(r) or 0)
        return (record for record in page if self._paginator.should_emit(record))

    def _total_for(self, modified_since: int) -> tuple[int, list[dict]]:
        """``total_count`` and first record of a one-record query from ``modified_since``."""
        params = {
            "page": 1,
            "per_page": 1,
            "sort_by": "modified_at",
            "order": "asc",
            "modified_since": modified_since,
            **self.extra_params,  # the same list the read sees (e.g. team=true)
        }
        prepared = self.build_prepared_request(
            method="GET", url=self.get_url(self.context), params=params, headers=self.http_headers
        )
        response = self.request_decorator(self._request)(prepared, self.context)
        data = json_body(response)["data"]
        # Without the count a bulk second cannot be shown complete: stop, never guess 0.
        ensure(
            isinstance(data.get("total_count"), int),
            f"Stream '{self.name}': {api_path(response)} gave no total_count, which reading "
            "a second shared by more records than a page needs; stopping rather than "
            "losing records.",
        )
        return data["total_count"], [i[self.wrapper] for i in data[self.items_key]]

    def count_at_or_after(self, second: int) -> int:
        """Records modified at or after ``second``, by the API's count."""
        if self._strict_since is None:
            # The first bulk second of the run has records at ``second``: an inclusive
            # bound returns one of them first, a strict one a later record.
            _, first = self._total_for(second)
            self._strict_since = not (first and modified_second(first[0]) == second)
        return self._total_for(self.since_param(second))[0]


class NewestFirstStream(CRMStream):
    """Incremental on ``modified_at`` for an endpoint without ``modified_since``.

    Nothing can anchor its pages on time, so the list is read whole on every run
    (``sort_by=modified_at&order=desc``), again from page 1 while fewer distinct ids than
    its ``total_count`` were read (tie order may change between requests), and records
    at or after the previous complete run's start are emitted (``tap_common.overlap``):
    a record skipped because another was deleted during a run is emitted by the next.
    Unsorted for the SDK (descending): the bookmark is saved when the stream completes.
    """

    replication_key = "modified_at"

    def get_new_paginator(self) -> CountedPassesPaginator:
        self._paginator = CountedPassesPaginator(
            self.read_page,
            self.announced_pages,
            self.name,
            total_of=lambda response: json_body(response)["data"].get("total_count", 0),
        )
        return self._paginator

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        page = next_page_token.page if next_page_token else 1
        params = super().get_url_params(context, page)
        params.update(sort_by="modified_at", order="desc")
        return params

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        start = self.get_starting_timestamp(context)
        self._emit_from = overlap_start(self.get_context_state(context), start)
        yield from super().get_records(context)
        remember_start(self.get_context_state(context), start)

    def _is_new(self, record: dict) -> bool:
        if self._emit_from is None:
            return True
        value = to_instant(record.get(self.replication_key))
        return value is None or value >= self._emit_from

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        for record in super().parse_response(response):
            if self._paginator.should_emit(record.get("id")) and self._is_new(record):
                yield record


# -- paginated, incremental -------------------------------------------------------------

# "Include contacts owned by other users" (https://github.com/OnePageCRM/swagger,
# components/parameters/query_team, on GET /contacts); the official Java client sends it on
# every contacts and deals listing (java-client-wrapper, User.contacts / User.pipeline).
# Without it a multi-user account lists only the API user's own records.
WHOLE_TEAM = {"team": "true"}


class ContactsStream(ModifiedSinceStream):
    name = "contacts"
    path = "/contacts"
    records_jsonpath = "$.data.contacts[*].contact"
    schema = schemas.CONTACT.to_dict()
    extra_params = WHOLE_TEAM


class ActionsStream(ModifiedSinceStream):
    name = "actions"
    path = "/actions"
    records_jsonpath = "$.data.actions[*].action"
    schema = schemas.ACTION.to_dict()


class DealsStream(ModifiedSinceStream):
    name = "deals"
    path = "/deals"
    records_jsonpath = "$.data.deals[*].deal"
    schema = schemas.DEAL.to_dict()
    extra_params = WHOLE_TEAM


class NotesStream(ModifiedSinceStream):
    name = "notes"
    path = "/notes"
    records_jsonpath = "$.data.notes[*].note"
    schema = schemas.NOTE.to_dict()


class RelationshipTypesStream(ModifiedSinceStream):
    name = "relationship_types"
    path = "/relationship_types"
    records_jsonpath = "$.data.relationship_types[*].relationship_type"
    schema = schemas.RELATIONSHIP_TYPE.to_dict()


class CallsStream(ModifiedSinceStream):
    name = "calls"
    path = "/calls"
    records_jsonpath = "$.data.calls[*].call"
    schema = schemas.CALL.to_dict()

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        # ``call_time_int`` (unix seconds) has come as a digit string ("1441288746" in the
        # official Java client's recorded responses): kept as the integer it spells.
        value = row.get("call_time_int")
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            row["call_time_int"] = int(value)
        return row


class MeetingsStream(ModifiedSinceStream):
    name = "meetings"
    path = "/meetings"
    records_jsonpath = "$.data.meetings[*].meeting"
    schema = schemas.MEETING.to_dict()


class CompaniesStream(NewestFirstStream):
    name = "companies"
    path = "/companies"
    records_jsonpath = "$.data.companies[*].company"
    schema = schemas.COMPANY.to_dict()


# -- paginated, full table (no timestamps, or no way to filter) --------------------------


class PipelinesStream(CRMStream):
    name = "pipelines"
    path = "/pipelines"
    records_jsonpath = "$.data.pipelines[*].pipeline"
    schema = schemas.PIPELINE.to_dict()


class FiltersStream(CRMStream):
    name = "filters"
    path = "/filters"
    records_jsonpath = "$.data.filters[*].filter"
    schema = schemas.FILTER.to_dict()


class CustomFieldsStream(CRMStream):
    name = "custom_fields"
    path = "/custom_fields"
    records_jsonpath = "$.data.custom_fields[*].custom_field"
    schema = schemas.CUSTOM_FIELD_RECORD.to_dict()


# -- unpaginated: the whole list in one response -----------------------------------------


class UsersStream(UnpaginatedCRMStream):
    name = "users"
    path = "/users"
    records_jsonpath = "$.data[*].user"
    schema = schemas.USER.to_dict()


class StatusesStream(UnpaginatedCRMStream):
    name = "statuses"
    path = "/statuses"
    records_jsonpath = "$.data[*].status"
    schema = schemas.STATUS.to_dict()


class LeadSourcesStream(UnpaginatedCRMStream):
    name = "lead_sources"
    path = "/lead_sources"
    records_jsonpath = "$.data[*]"
    schema = schemas.LEAD_SOURCE.to_dict()


# -- paged, maybe without page metadata (see tap_crm.plain_pages) --------------------------


class PredefinedActionsStream(PlainPagedCRMStream):
    name = "predefined_actions"
    path = "/predefined_actions"
    records_jsonpath = "$.data.predefined_actions[*].predefined_action"
    schema = schemas.PREDEFINED_ACTION.to_dict()


class PredefinedItemsStream(PlainPagedCRMStream):
    """Items arrive flat (live data) or wrapped in ``predefined_item`` (the swagger): both work."""

    name = "predefined_items"
    path = "/predefined_items"
    records_jsonpath = "$.data.predefined_items[*]"
    schema = schemas.PREDEFINED_ITEM.to_dict()

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        for item in super().parse_response(response):
            yield item.get("predefined_item", item) if len(item) == 1 else item


class BootstrapStream(SingleObjectCRMStream):
    name = "bootstrap"
    path = "/bootstrap"
    primary_keys = ("user_id",)
    schema = schemas.BOOTSTRAP.to_dict()

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        # ``auth_key`` is the API user's API key (the swagger: "Key used to sign API
        # requests"): never written anywhere. Null rather than absent, so a merging
        # target overwrites what an earlier version loaded.
        row["auth_key"] = None
        return row


STREAM_TYPES: list[type[CRMStream]] = [
    ContactsStream,
    UsersStream,
    BootstrapStream,
    CompaniesStream,
    ActionsStream,
    DealsStream,
    NotesStream,
    RelationshipTypesStream,
    PipelinesStream,
    StatusesStream,
    LeadSourcesStream,
    FiltersStream,
    PredefinedActionsStream,
    PredefinedItemsStream,
    CustomFieldsStream,
    CallsStream,
    MeetingsStream,
]
