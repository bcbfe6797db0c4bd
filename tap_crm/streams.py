"""The 17 CRM streams of the seed document: name, path, record selector, key, schema.

Behaviour shared by several streams lives in the base classes below and in ``client.py``.
"""

from __future__ import annotations

import typing as t

from tap_common.timestamps import to_instant, unix_seconds
from tap_crm import schemas
from tap_crm.client import CRMStream, SingleObjectCRMStream, UnpaginatedCRMStream
from tap_crm.plain_pages import PlainPagedCRMStream
from tap_crm.seek import ModifiedSincePaginator, SeekToken

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

    from tap_common.paging import PageInfo


class ModifiedSinceStream(CRMStream):
    """Incremental on ``modified_at``, filtered by the server with ``modified_since``.

    Sorted ascending by ``modified_at``, so the bookmark advances with every record and
    an interrupted run resumes where it stopped. Pages are re-anchored on the last
    record's second (``tap_crm.seek``) so edits during the sync cannot hide a record.
    """

    replication_key = "modified_at"
    is_sorted = True
    # Re-anchored paging: a deletion during a full read shifts no unread record.
    read_survives_deletions = True

    def starting_since(self) -> int | None:
        """``modified_since`` of the first request: the bookmark or start_date, if any."""
        start = self.get_starting_timestamp(self.context)
        return unix_seconds(start) if start else None

    def get_new_paginator(self) -> ModifiedSincePaginator:
        self._paginator = ModifiedSincePaginator(
            self.read_page,
            self.announced_pages,
            self.name,
            since=self.starting_since(),
            record_of=lambda item: item[self.wrapper],
        )
        return self._paginator

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        token = next_page_token or SeekToken(self.starting_since(), 1)
        params = super().get_url_params(context, token.page)
        params.update(sort_by="modified_at", order="asc")
        if token.since is not None:
            # The API takes unix seconds (or a date), and is inclusive: >= the bookmark.
            params["modified_since"] = token.since
        return params

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        return (
            record
            for record in super().parse_response(response)
            if not self._paginator.already_emitted(record)
        )


class NewestFirstStream(CRMStream):
    """Incremental on ``modified_at`` for an endpoint without ``modified_since``.

    Reads newest first (``sort_by=modified_at&order=desc``), emits records at or after
    the bookmark and stops paging at the first page that reaches older ones. Unsorted for
    the SDK (descending), so the bookmark is saved when the stream completes.
    """

    replication_key = "modified_at"

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        params = super().get_url_params(context, next_page_token)
        params.update(sort_by="modified_at", order="desc")
        return params

    def _is_new(self, record: dict) -> bool:
        start = self.get_starting_timestamp(self.context)
        value = None if start is None else to_instant(record.get(self.replication_key))
        return value is None or value >= start

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        return (record for record in super().parse_response(response) if self._is_new(record))

    def read_page(self, response: requests.Response) -> PageInfo:
        page = super().read_page(response)
        reached_old = any(not self._is_new(item[self.wrapper]) for item in page.items)
        return page._replace(has_next=page.has_next and not reached_old)


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
    """Items arrive flat (seed, live data) or wrapped in ``predefined_item`` (OpenAPI): both work."""

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
