"""tap-crm: settings and the stream list."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_common.settings import common_properties, credential_properties
from tap_common.table_versions import activate_version_setting
from tap_common.tap import APITap
from tap_crm.streams import STREAM_TYPES

DEFAULT_API_URL = "https://app.onepagecrm.com/api/v3"
MAX_PAGE_SIZE = 100


class TapCRM(APITap):
    """Extracts contacts, deals, notes and 14 more streams from the CRM API v3."""

    name = "tap-crm"
    package_name = "crm-calltracker-taps"
    stream_types = STREAM_TYPES
    # The CRM publishes no rate-limit headers and throttles per IP, shared by every job on
    # the account: the rate is learned from its answers, starting at the documented
    # average of 5 requests/s (https://developer.onepagecrm.com/api/ "Rate limiting"),
    # unless max_requests_per_second is 0 (no pacing at all).
    learn_rate = True
    config_jsonschema = th.PropertiesList(
        *credential_properties(
            ("username", "The API user's user id (basic-auth user name)."),
            ("password", "The API user's API key (basic-auth password)."),
        ),
        *common_properties(
            default_api_url=DEFAULT_API_URL,
            max_page_size=MAX_PAGE_SIZE,
        ),
        activate_version_setting(),
    ).to_dict()


if __name__ == "__main__":
    TapCRM.cli()
