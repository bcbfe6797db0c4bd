"""tap-crm: settings and the stream list."""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th
from typing_extensions import override

from tap_common.http.errors import explain
from tap_common.program.settings import common_properties, credential_properties
from tap_common.program.tap import APITap
from tap_common.state.table_versions import activate_version_setting
from tap_common.stream.client import EXPLAINED_FAILURES
from tap_common.stream.declared import declare
from tap_crm import custom_fields
from tap_crm.streams import STREAM_TYPES, BootstrapStream

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
        th.Property(
            custom_fields.SETTING,
            th.BooleanType,
            default=False,
            title="Custom fields as columns",
            description=(
                "Give contacts, companies and deals one typed column per custom field of "
                "the account (custom_field__ID__TYPE, company_field__..., deal_field__...), "
                "read from /bootstrap at discovery. Off: the custom "
                "fields stay in their JSON lists only."
            ),
        ),
    ).to_dict()

    @override
    def discover_streams(self) -> list:
        """The streams; with ``custom_field_columns`` on, contacts, companies and deals
        have a column per custom field of the account (``tap_crm.custom_fields``)."""
        extra = self.custom_field_columns()
        streams = []
        for declared in self.stream_types:
            # Declared classes hold their name and schema as class attributes
            # (``tap_common.stream.declared``): one with more columns is a subclass of its own.
            name: str = vars(declared)["name"]
            schema = t.cast("dict", declared.schema)
            columns = extra.get(name)
            stream_type = (
                declare(declared, name, custom_fields.with_columns(schema, columns))
                if columns
                else declared
            )
            streams.append(stream_type(tap=self))
        return streams

    def custom_field_columns(self) -> dict[str, dict[str, t.Any]]:
        """Stream name -> its custom-field columns, read from ``/bootstrap`` (one request).

        None are read when the setting is off, or when a catalog was given: its schemas
        already say which columns there are. Discovery without credentials, or with an
        API that refuses, still works: one warning, and no custom-field columns.
        """
        if not self.config.get(custom_fields.SETTING) or self.input_catalog is not None:
            return {}
        if not (self.config.get("username") and self.config.get("password")):
            self.logger.warning(
                "custom_field_columns is on, but username and password are not set: the "
                "schemas have no custom-field columns."
            )
            return {}
        try:
            bootstrap = next(iter(BootstrapStream(tap=self).get_records(None)), None)
        except EXPLAINED_FAILURES as exc:
            self.logger.warning(
                "custom_field_columns: the custom fields could not be read from /bootstrap "
                "(%s); the schemas have no custom-field columns.",
                explain(exc),
            )
            return {}
        definitions = custom_fields.definitions_from_bootstrap(bootstrap or {})
        return {
            fields.stream: custom_fields.columns(fields, definitions[fields.stream])
            for fields in custom_fields.FIELD_LISTS
        }


if __name__ == "__main__":
    TapCRM.cli()
