"""The 9 call-analytics streams, as the API lists its resources (https://developer.aircall.io/api-references/).

One line per resource: its kind (how it is read, ``kinds``), its name (path ``/<name>``
and list key ``<name>`` unless given), its schema, and what else differs.
"""

from __future__ import annotations

from tap_calltracker import schemas
from tap_calltracker.client import CallTrackerStream, SingleObjectStream
from tap_calltracker.kinds import (
    FingerprintedTokenStream,
    LookbackCallsStream,
    UpdatedNewestFirstStream,
)
from tap_common.stream.declared import declare

# Incremental.
CallsStream = declare(LookbackCallsStream, "calls", schemas.CALL.to_dict())
ContactsStream = declare(UpdatedNewestFirstStream, "contacts", schemas.CONTACT_RECORD.to_dict())

# Full table: small lists whose records change after creation. A user renamed, a number
# reassigned, a team changed: nothing the API filters on (creation time) says so, so these
# are read whole on every run, whatever start_date says (calls still point at users and
# numbers created before it).
# Users and numbers are read ascending by creation time, re-anchored on it past the 10,000
# cap. Users at /v2/users (v1 "List all Users" was sunset on 2026-09-30), under the same
# ``api_url``; their availabilities stay v1 (not in the sunset, no v2 equivalent).
UsersStream = declare(
    CallTrackerStream,
    "users",
    schemas.USER_RECORD.to_dict(),
    anchor_key="created_at",
    api_version=2,
)
NumbersStream = declare(
    CallTrackerStream, "numbers", schemas.NUMBER_RECORD.to_dict(), anchor_key="created_at"
)
TeamsStream = declare(CallTrackerStream, "teams", schemas.TEAM_RECORD.to_dict())
TagsStream = declare(CallTrackerStream, "tags", schemas.TAG.to_dict())
# Records under ``users``; paginated and windowed like users.
UserAvailabilityStream = declare(
    CallTrackerStream,
    "user_availability",
    schemas.USER_AVAILABILITY.to_dict(),
    path="/users/availabilities",
    list_key="users",
    windowed=True,
)
# The API's webhook object has no ``id``.
WebhooksStream = declare(
    FingerprintedTokenStream, "webhooks", schemas.WEBHOOK.to_dict(), primary_keys=("webhook_id",)
)
# The account's one company, keyed by a constant: an API key belongs to exactly one company,
# so the account has one company row, and a renamed company must update that row, not add a
# second one beside the stale name (which a ``name`` key would do in a merging target).
CompanyStream = declare(
    SingleObjectStream,
    "company",
    schemas.COMPANY.to_dict(),
    primary_keys=(schemas.COMPANY_KEY,),
    constant_key=(schemas.COMPANY_KEY, "company"),
)

STREAM_TYPES: list[type[CallTrackerStream]] = [
    CallsStream,
    CompanyStream,
    ContactsStream,
    NumbersStream,
    TagsStream,
    UserAvailabilityStream,
    UsersStream,
    TeamsStream,
    WebhooksStream,
]
