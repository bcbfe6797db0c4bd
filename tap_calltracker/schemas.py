"""Record schemas of the call-analytics API (https://developer.aircall.io/api-references/). Shared sub-objects are defined once.

Every field the API sends is declared: the SDK silently drops undeclared ones. Every
timestamp is declared ``date-time``: the streams convert the API's unix seconds and ISO
strings to ISO-8601 UTC. Array elements are nullable where real data has shown nulls.
"""

from __future__ import annotations

from singer_sdk import typing as th

ID = th.Property("id", th.IntegerType, required=True)
CREATED_AT = th.Property("created_at", th.DateTimeType)
# An id that clients disagree about: an integer in one, a string in another. Both are kept
# as sent (these ids sit inside JSON columns, so a warehouse column type does not change).
INTEGER_OR_STRING = th.CustomType({"type": ["integer", "string", "null"]})


USER_PROPERTIES = (
    th.Property("id", th.IntegerType),
    th.Property("direct_link", th.StringType),
    th.Property("name", th.StringType),
    th.Property("email", th.StringType),
    th.Property("available", th.BooleanType),
    th.Property("availability_status", th.StringType),
    th.Property("state", th.StringType),
    th.Property("substatus", th.StringType),
    th.Property("extension", th.StringType),
    CREATED_AT,
    th.Property("time_zone", th.StringType),
    th.Property("language", th.StringType),
    th.Property("wrap_up_time", th.IntegerType),
    th.Property("default_number_id", th.IntegerType),
)
# A user as embedded in calls, comments, tags and teams.
USER = th.ObjectType(*USER_PROPERTIES, nullable=True)

NUMBER_MESSAGES = th.ObjectType(
    *(
        th.Property(name, th.StringType)
        for name in (
            "welcome",
            "waiting",
            "ringing_tone",
            "unanswered_call",
            "after_hours",
            "ivr",
            "voicemail",
            "closed",
            "callback_later",
            "callback_unavailable",
        )
    )
)
NUMBER_PROPERTIES = (
    th.Property("id", th.IntegerType),
    th.Property("direct_link", th.StringType),
    th.Property("name", th.StringType),
    th.Property("digits", th.StringType),
    th.Property("e164_digits", th.StringType),
    th.Property("country", th.StringType),
    th.Property("time_zone", th.StringType),
    th.Property("open", th.BooleanType),
    th.Property("availability_status", th.StringType),
    th.Property("is_ivr", th.BooleanType),
    th.Property("live_recording_activated", th.BooleanType),
    th.Property("flow_editor_enabled", th.BooleanType),
    th.Property("priority", th.IntegerType),
    th.Property("messages", NUMBER_MESSAGES),
    CREATED_AT,
    th.Property("updated_at", th.DateTimeType),
)
NUMBER = th.ObjectType(*NUMBER_PROPERTIES, nullable=True)

TEAM_PROPERTIES = (
    th.Property("id", th.IntegerType),
    th.Property("direct_link", th.StringType),
    th.Property("name", th.StringType),
    CREATED_AT,
)
TEAM = th.ObjectType(*TEAM_PROPERTIES, nullable=True)

LABELLED_VALUE = th.ObjectType(
    th.Property("id", INTEGER_OR_STRING),
    th.Property("label", th.StringType),
    th.Property("value", th.StringType),
    nullable=True,
)
# Contacts created in 2018 carry ``urls``, a list not in the reference: labelled values as
# ``emails`` are, or plain strings, kept as sent.
URL_ITEM = th.CustomType(
    {
        "type": ["object", "string", "null"],
        "properties": {
            "id": INTEGER_OR_STRING.type_dict,
            "label": {"type": ["string", "null"]},
            "value": {"type": ["string", "null"]},
        },
    }
)
CONTACT_PROPERTIES = (
    th.Property("id", th.IntegerType),
    th.Property("direct_link", th.StringType),
    th.Property("first_name", th.StringType),
    th.Property("last_name", th.StringType),
    th.Property("company_name", th.StringType),
    th.Property("description", th.StringType),
    th.Property("information", th.StringType),
    th.Property("is_shared", th.BooleanType),
    th.Property("phone_numbers", th.ArrayType(LABELLED_VALUE)),
    th.Property("emails", th.ArrayType(LABELLED_VALUE)),
    th.Property("urls", th.ArrayType(URL_ITEM)),
    th.Property("created_at", th.DateTimeType),
    th.Property("updated_at", th.DateTimeType),
)
CONTACT = th.ObjectType(*CONTACT_PROPERTIES, nullable=True)

COMMENT = th.ObjectType(
    th.Property("id", th.IntegerType),
    th.Property("content", th.StringType),
    th.Property("posted_at", th.DateTimeType),
    th.Property("posted_by", USER),
    nullable=True,
)
# A tag on a call: ``{id, name, tagged_by, tagged_at}``, ``tagged_at`` in unix seconds as
# live answers send it; ``created_at`` is what earlier clients read (kept, null in those).
CALL_TAG = th.ObjectType(
    th.Property("id", th.IntegerType),
    th.Property("name", th.StringType),
    th.Property("tagged_at", th.DateTimeType),
    CREATED_AT,
    th.Property("tagged_by", USER),
    nullable=True,
)
PARTICIPANT = th.ObjectType(
    th.Property("id", INTEGER_OR_STRING),
    th.Property("direct_link", th.StringType),
    th.Property("type", th.StringType),
    th.Property("name", th.StringType),
    th.Property("phone_number", th.StringType),
    nullable=True,
)
# Only with fetch_call_timeline=true; its elements are not documented, so kept whole.
IVR_OPTION = th.ObjectType(nullable=True)

CALL = th.PropertiesList(
    ID,
    th.Property("sid", th.StringType),
    th.Property("direct_link", th.StringType),
    th.Property("direction", th.StringType),
    th.Property("status", th.StringType),
    th.Property("missed_call_reason", th.StringType),
    th.Property("hangup_cause", th.StringType),
    th.Property("started_at", th.DateTimeType),
    th.Property("answered_at", th.DateTimeType),
    th.Property("ended_at", th.DateTimeType),
    th.Property("duration", th.IntegerType),
    th.Property("raw_digits", th.StringType),
    th.Property("asset", th.StringType),
    th.Property("recording", th.StringType),
    th.Property("voicemail", th.StringType),
    th.Property("recording_short_url", th.StringType),
    th.Property("voicemail_short_url", th.StringType),
    th.Property("archived", th.BooleanType),
    th.Property("cost", th.StringType),
    th.Property("pricing_type", th.StringType),
    th.Property("country_code_a2", th.StringType),
    th.Property("user", USER),
    th.Property("assigned_to", USER),
    th.Property("transferred_by", USER),
    th.Property("transferred_to", USER),
    th.Property("contact", CONTACT),
    th.Property("number", NUMBER),
    th.Property("teams", th.ArrayType(TEAM)),
    th.Property("comments", th.ArrayType(COMMENT)),
    th.Property("tags", th.ArrayType(CALL_TAG)),
    th.Property("participants", th.ArrayType(PARTICIPANT)),
    th.Property("ivr_options_selected", th.ArrayType(IVR_OPTION)),
)

COMPANY_KEY = "company_key"
COMPANY = th.PropertiesList(
    th.Property(
        COMPANY_KEY,
        th.StringType,
        required=True,
        description="Synthetic constant key: one row per account (see CompanyStream).",
    ),
    th.Property("name", th.StringType),
    th.Property("users_count", th.IntegerType),
    th.Property("numbers_count", th.IntegerType),
)

CONTACT_RECORD = th.PropertiesList(ID, *CONTACT_PROPERTIES[1:])

NUMBER_RECORD = th.PropertiesList(
    ID,
    *NUMBER_PROPERTIES[1:],
    th.Property("users", th.ArrayType(USER)),
)

TAG = th.PropertiesList(
    ID,
    th.Property("direct_link", th.StringType),
    th.Property("name", th.StringType),
    th.Property("color", th.StringType),
    th.Property("description", th.StringType),
)

USER_AVAILABILITY = th.PropertiesList(ID, th.Property("availability", th.StringType))

USER_RECORD = th.PropertiesList(
    ID,
    *USER_PROPERTIES[1:],
    th.Property("numbers", th.ArrayType(NUMBER)),
)

TEAM_RECORD = th.PropertiesList(
    ID,
    *TEAM_PROPERTIES[1:],
    th.Property("users", th.ArrayType(USER)),
)

WEBHOOK = th.PropertiesList(
    th.Property("webhook_id", th.StringType, required=True),
    th.Property(
        "id",
        th.IntegerType,
        description="The deprecated integer id the API still sends beside webhook_id (the key).",
    ),
    th.Property("direct_link", th.StringType),
    CREATED_AT,
    th.Property("custom_name", th.StringType),
    th.Property("url", th.StringType),
    th.Property("active", th.BooleanType),
    th.Property(
        "token",
        th.StringType,
        description="Always null: the shared secret is never emitted (it was before 0.2.0).",
    ),
    th.Property(
        "token_fingerprint",
        th.StringType,
        description="First 12 hex digits of the token's SHA-256: tells tokens apart.",
    ),
    th.Property("events", th.ArrayType(th.StringType(nullable=True))),
)
