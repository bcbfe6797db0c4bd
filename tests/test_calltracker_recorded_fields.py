"""tap-calltracker: every field a live account's answers carry is declared, typed and emitted.

The records served here have the shapes of a live account's recorded answers (a capture of
2026-09-28 and recorded calls of 2022: ``cost`` as text, ``pricing_type``, ``sid``,
``asset``, ``hangup_cause``, tags ``{id, name, tagged_by, tagged_at}`` with ``tagged_at`` in
unix seconds, contacts' ``urls``, webhooks' integer ``id``, numbers'
``flow_editor_enabled``, v2 users, and ``"redacted"`` in booleans). Values here are made up.
"""

from __future__ import annotations

import logging

from jsonschema import Draft7Validator, FormatChecker

from sandbox_api import CallTrackerAPI
from tap_calltracker.tap import TapCallTracker
from tests.singer_io import sync

TAGGED_AT = 1_790_603_100
TAGGED_AT_ISO = "2026-09-28T13:45:00.000000+00:00"  # 1_790_603_100 in UTC

EMBEDDED_USER = {
    "availability_status": "redacted",
    "available": "redacted",
    "created_at": "2026-09-28T10:21:09.000Z",
    "direct_link": "https://api.aircall.io/v1/users/2000001",
    "email": "ada@example.com",
    "extension": "001",
    "id": 2000001,
    "language": "en-US",
    "name": "Ada Lovelace",
    "state": "always_opened",
    "time_zone": "Etc/UTC",
    "wrap_up_time": 0,
}
NUMBER = {
    "availability_status": "redacted",
    "country": "US",
    "created_at": "2026-09-28T10:21:51.000Z",
    "digits": "+1 555-010-0000",
    "direct_link": "https://api.aircall.io/v1/numbers/1300001",
    "flow_editor_enabled": True,
    "id": 1300001,
    "is_ivr": False,
    "live_recording_activated": True,
    "messages": {"voicemail": "redacted", "welcome": None},
    "name": "Main line",
    "open": "redacted",
    "priority": None,
    "time_zone": "America/Chicago",
}
CALL = {
    "answered_at": 1_790_603_053,
    "archived": False,
    "asset": "https://assets.example.com/calls/4100000001/recording",
    "assigned_to": None,
    "comments": [],
    "contact": None,
    "cost": "3.0",
    "country_code_a2": "US",
    "direct_link": "https://api.aircall.io/v1/calls/4100000001",
    "direction": "outbound",
    "duration": 21,
    "ended_at": 1_790_603_071,
    "hangup_cause": "NORMAL_CLEARING",
    "id": 4_100_000_001,
    "missed_call_reason": None,
    "number": NUMBER,
    "pricing_type": "in_bundle",
    "raw_digits": "+1 555-010-0001",
    "recording": "redacted",
    "recording_short_url": "redacted",
    "sid": "CA0123456789abcdef0123456789abcdef",
    "started_at": 1_790_603_050,
    "status": "done",
    "tags": [
        {"id": 3000001, "name": "Callback", "tagged_by": EMBEDDED_USER, "tagged_at": TAGGED_AT}
    ],
    "teams": [],
    "transferred_by": None,
    "transferred_to": None,
    "user": EMBEDDED_USER,
    "voicemail": "redacted",
    "voicemail_short_url": "redacted",
}
CONTACT = {
    "company_name": "Old Co",
    "created_at": 1_530_000_000,
    "direct_link": "https://api.aircall.io/v1/contacts/500000001",
    "emails": [],
    "first_name": "Grace",
    "id": 500_000_001,
    "information": None,
    "is_shared": True,
    "last_name": "Hopper",
    "phone_numbers": [{"id": 2100000001, "label": "Main", "value": "+15550100002"}],
    "updated_at": 1_530_000_000,
    "urls": [{"id": 2100000002, "label": "Site", "value": "https://old.example.com"}],
}
USER_V2 = {
    **EMBEDDED_USER,
    "direct_link": "https://api.aircall.io/v2/users/2000001",
    "default_number_id": 1300001,
    "substatus": "redacted",
}
WEBHOOK = {
    "active": True,
    "created_at": "2026-09-28T14:07:54.001Z",
    "direct_link": "https://api.aircall.io/v1/webhooks/7c97a580-0000-4000-8000-000000000001",
    "events": ["number.created"],
    "id": 44_215_352,
    "token": "whsec-made-up",
    "url": "https://example.com/hook",
    "webhook_id": "7c97a580-0000-4000-8000-000000000001",
}


def recorded_api() -> CallTrackerAPI:
    api = CallTrackerAPI(size=0)
    api.records.update(
        calls=[CALL], contacts=[CONTACT], users=[USER_V2], numbers=[NUMBER], webhooks=[WEBHOOK]
    )
    return api


def test_every_recorded_field_is_declared_typed_and_emitted(make_sandbox, caplog):
    sandbox = make_sandbox(calltracker_api=recorded_api())
    with caplog.at_level(logging.WARNING):
        out = sync(TapCallTracker, sandbox.calltracker_config())

    schemas = {stream: message["schema"] for stream, message in out.schemas().items()}
    for stream, records in out.records.items():
        validator = Draft7Validator(schemas[stream], format_checker=FormatChecker())
        for record in records:
            assert list(validator.iter_errors(record)) == [], stream

    (call,) = out.records["calls"]
    for key in ("hangup_cause", "cost", "country_code_a2", "pricing_type", "sid", "asset"):
        assert call[key] == CALL[key], key
    assert call["transferred_by"] is None
    assert call["teams"] == []
    assert call["comments"] == []
    (tag,) = call["tags"]
    assert tag["tagged_at"] == TAGGED_AT_ISO  # unix seconds -> ISO-8601 UTC, as every other
    assert tag["tagged_by"]["id"] == EMBEDDED_USER["id"]
    assert call["number"]["flow_editor_enabled"] is True
    assert call["number"]["priority"] is None
    assert call["number"]["open"] is None  # "redacted" in a boolean: an odd value, null
    assert call["user"]["available"] is None
    assert call["user"]["extension"] == "001"

    (contact,) = out.records["contacts"]
    assert contact["urls"] == CONTACT["urls"]
    (webhook,) = out.records["webhooks"]
    assert webhook["id"] == 44_215_352
    assert webhook["token"] is None
    (user,) = out.records["users"]
    assert user["default_number_id"] == 1300001
    assert user["substatus"] == "redacted"
    assert user["available"] is None
    (number,) = out.records["numbers"]
    assert number["flow_editor_enabled"] is True

    # Declared with the types a loader maps to columns (target-postgres: text, bigint,
    # boolean, timestamp, jsonb[]).
    call_props = schemas["calls"]["properties"]
    assert call_props["hangup_cause"]["type"] == ["string", "null"]
    tag_props = call_props["tags"]["items"]["properties"]
    assert tag_props["tagged_at"] == {"type": ["string", "null"], "format": "date-time"}
    assert schemas["webhooks"]["properties"]["id"]["type"] == ["integer", "null"]
    assert schemas["numbers"]["properties"]["flow_editor_enabled"]["type"] == ["boolean", "null"]
    assert schemas["contacts"]["properties"]["urls"]["type"] == ["array", "null"]
    # No field dropped as undeclared, and the odd values were reported, not raised.
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "not in the schema" in m or "undeclared" in m.lower()]
    assert any("'available'" in m and "redacted" in m for m in messages)


def test_a_contact_url_given_as_plain_text_is_kept(make_sandbox):
    api = recorded_api()
    api.records["contacts"] = [{**CONTACT, "urls": ["https://plain.example.com", None]}]
    sandbox = make_sandbox(calltracker_api=api)
    out = sync(TapCallTracker, sandbox.calltracker_config())
    assert out.records["contacts"][0]["urls"] == ["https://plain.example.com", None]
