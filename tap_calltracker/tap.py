"""tap-calltracker: settings and the stream list."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_calltracker.streams import STREAM_TYPES
from tap_common.program.settings import common_properties, credential_properties
from tap_common.program.tap import APITap
from tap_common.state.table_versions import activate_version_setting

DEFAULT_API_URL = "https://api.aircall.io/v1"
MAX_PAGE_SIZE = 50

# What each ``fetch_*`` flag of the calls list adds to every call (https://developer.aircall.io/
# api-references/#list-all-calls). Without the flag the API leaves those fields empty.
FETCH_SETTINGS = [
    th.Property(
        "fetch_contact",
        th.BooleanType,
        default=True,
        description=(
            "Send fetch_contact=true on calls: each call's 'contact' holds the caller's "
            "contact (name, company, phone numbers, emails). Off: 'contact' is null."
        ),
    ),
    th.Property(
        "fetch_short_urls",
        th.BooleanType,
        default=True,
        description=(
            "Send fetch_short_urls=true on calls: 'recording_short_url' and "
            "'voicemail_short_url', links that outlive the hour 'recording' and "
            "'voicemail' last. Off: both are null."
        ),
    ),
    th.Property(
        "fetch_call_timeline",
        th.BooleanType,
        default=True,
        description=(
            "Send fetch_call_timeline=true on calls: 'ivr_options_selected', the IVR "
            "branches the caller chose. Off: it is null."
        ),
    ),
]


class TapCallTracker(APITap):
    """Extracts calls, contacts, users and 6 more streams from the call-analytics API v1."""

    name = "tap-calltracker"
    package_name = "crm-calltracker-taps"
    stream_types = STREAM_TYPES
    config_jsonschema = th.PropertiesList(
        *credential_properties(
            ("api_id", "The API ID (basic-auth user name)."),
            ("api_token", "The API token (basic-auth password)."),
        ),
        *common_properties(default_api_url=DEFAULT_API_URL, max_page_size=MAX_PAGE_SIZE),
        activate_version_setting(),
        th.Property(
            "calls_lookback_days",
            th.IntegerType(minimum=0),
            default=2,
            description=(
                "Days before the calls bookmark re-read on every incremental run. The API "
                "filters calls by start time only, so this is how later changes to a call "
                "(status, tags, comments, assignment) are picked up: a call changed more "
                "than this many days after it started is not re-emitted."
            ),
        ),
        *FETCH_SETTINGS,
    ).to_dict()


if __name__ == "__main__":
    TapCallTracker.cli()
