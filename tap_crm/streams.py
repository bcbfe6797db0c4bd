"""The 17 CRM streams (https://developer.onepagecrm.com/api/), one declaration each.

``declare(Base, name, schema, wrapper=..., ...)``: the path is ``/<name>``, the records
are ``data.<name>[*].<wrapper>``; how the list pages and what the stream replicates is
the base class (``tap_crm.client``).
"""

from __future__ import annotations

from tap_common.stream.declared import declare
from tap_crm import schemas
from tap_crm.client import CRMStream, ModifiedSinceStream, NewestFirstStream, PlainPagedStream
from tap_crm.pages import Shape

# "Include contacts owned by other users" (https://github.com/OnePageCRM/swagger,
# components/parameters/query_team, on GET /contacts); the official Java client sends it on
# every contacts and deals listing (java-client-wrapper, User.contacts / User.pipeline).
# Without it a multi-user account lists only the API user's own records.
WHOLE_TEAM = {"team": "true"}
# Endpoints that return everything at once as ``data`` and ignore ``page``: requested once.
UNPAGINATED = {"paginated": False, "shape": Shape.LIST}


# -- the API's resources ------------------------------------------------------------------

# Paginated, incremental: re-anchored on modified_since (tap_crm.pagination).
ContactsStream = declare(
    ModifiedSinceStream,
    "contacts",
    schemas.CONTACT.to_dict(),
    wrapper="contact",
    extra_params=WHOLE_TEAM,
)
ActionsStream = declare(ModifiedSinceStream, "actions", schemas.ACTION.to_dict(), wrapper="action")
DealsStream = declare(
    ModifiedSinceStream, "deals", schemas.DEAL.to_dict(), wrapper="deal", extra_params=WHOLE_TEAM
)
NotesStream = declare(ModifiedSinceStream, "notes", schemas.NOTE.to_dict(), wrapper="note")
RelationshipTypesStream = declare(
    ModifiedSinceStream,
    "relationship_types",
    schemas.RELATIONSHIP_TYPE.to_dict(),
    wrapper="relationship_type",
)
# ``call_time_int`` (unix seconds) has come as a digit string ("1441288746" in the official
# Java client's recorded responses): its schema's integer type makes it that integer
# (tap_common.messages.conform).
CallsStream = declare(ModifiedSinceStream, "calls", schemas.CALL.to_dict(), wrapper="call")
MeetingsStream = declare(
    ModifiedSinceStream, "meetings", schemas.MEETING.to_dict(), wrapper="meeting"
)
# Paginated, incremental without modified_since: the whole list, newest first.
CompaniesStream = declare(
    NewestFirstStream, "companies", schemas.COMPANY.to_dict(), wrapper="company"
)
# Paginated, full table (no timestamps, or no way to filter).
PipelinesStream = declare(CRMStream, "pipelines", schemas.PIPELINE.to_dict(), wrapper="pipeline")
FiltersStream = declare(CRMStream, "filters", schemas.FILTER.to_dict(), wrapper="filter")
CustomFieldsStream = declare(
    CRMStream, "custom_fields", schemas.CUSTOM_FIELD_RECORD.to_dict(), wrapper="custom_field"
)
# Unpaginated: the whole list in one response.
UsersStream = declare(CRMStream, "users", schemas.USER.to_dict(), wrapper="user", **UNPAGINATED)
StatusesStream = declare(
    CRMStream, "statuses", schemas.STATUS.to_dict(), wrapper="status", **UNPAGINATED
)
LeadSourcesStream = declare(CRMStream, "lead_sources", schemas.LEAD_SOURCE.to_dict(), **UNPAGINATED)
# Paged, maybe without page metadata (tap_crm.pagination.PlainPages).
PredefinedActionsStream = declare(
    PlainPagedStream,
    "predefined_actions",
    schemas.PREDEFINED_ACTION.to_dict(),
    wrapper="predefined_action",
)
PredefinedItemsStream = declare(
    PlainPagedStream,
    "predefined_items",
    schemas.PREDEFINED_ITEM.to_dict(),
    unwrap="predefined_item",
)
# One object: the API user's account. ``auth_key`` is the API user's API key (the swagger:
# "Key used to sign API requests"): never written anywhere.
BootstrapStream = declare(
    CRMStream,
    "bootstrap",
    schemas.BOOTSTRAP.to_dict(),
    paginated=False,
    shape=Shape.OBJECT,
    primary_keys=("user_id",),
    secret_fields=("auth_key",),
)

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
