"""tap-crm: settings and the stream list."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_common.settings import common_properties, credential_properties
from tap_common.table_versions import activate_version_setting
from tap_common.tap import APITap
from tap_crm.streams import STREAM_TYPES

DEFAULT_API_URL = "https://app.onepagecrm.com/api/v3"
MAX_PAGE_SIZE = 100
# The CRM publishes no rate-limit headers; its documented throttle averages 5 requests/s.
DEFAULT_REQUESTS_PER_SECOND = 5


class TapCRM(APITap):
    """Extracts contacts, deals, notes and 14 more streams from the CRM API v3."""

    name = "tap-crm"
    package_name = "crm-calltracker-taps"
    stream_types = STREAM_TYPES
    config_jsonschema = th.PropertiesList(
        *credential_properties(
            ("username", "The API user's user id (basic-auth user name)."),
            ("password", "The API user's API key (basic-auth password)."),
        ),
        *common_properties(
            default_api_url=DEFAULT_API_URL,
            max_page_size=MAX_PAGE_SIZE,
            default_requests_per_second=DEFAULT_REQUESTS_PER_SECOND,
        ),
        activate_version_setting(),
    ).to_dict()


if __name__ == "__main__":
    TapCRM.cli()
