"""Record schemas of the CRM API (https://github.com/OnePageCRM/swagger, ``components/schemas``). Shared sub-objects are defined once.

Every field the API sends is declared: the SDK silently drops undeclared ones.
Only primary keys are required (non-null); the API leaves most fields null or "" at times.
"""

from __future__ import annotations

from singer_sdk import typing as th

# A value that is a string, a number or a list, depending on the custom field's type.
FIELD_VALUE = th.CustomType(
    {"type": ["string", "number", "array", "null"], "items": {"type": ["string", "number"]}}
)
ID = th.Property("id", th.StringType, required=True)
CREATED_MODIFIED = (
    th.Property("created_at", th.DateTimeType),
    th.Property("modified_at", th.DateTimeType),
)
TYPE_VALUE = th.ArrayType(
    th.ObjectType(th.Property("type", th.StringType), th.Property("value", th.StringType))
)
TEAM_COUNTS = th.ArrayType(
    th.ObjectType(th.Property("user_id", th.StringType), th.Property("counts", th.IntegerType))
)
CUSTOM_FIELD_PROPERTIES = (
    th.Property("id", th.StringType),
    th.Property("name", th.StringType),
    th.Property("type", th.StringType),
    th.Property("position", th.IntegerType),
    th.Property("choices", th.ArrayType(th.StringType)),
    th.Property("reminder_days", th.IntegerType),
)
CUSTOM_FIELD = th.ObjectType(*CUSTOM_FIELD_PROPERTIES)


def field_values(wrapper: str) -> th.ArrayType:
    """``[{"<wrapper>": {field definition}, "value": ...}]`` as on contacts, companies, deals."""
    return th.ArrayType(
        th.ObjectType(th.Property(wrapper, CUSTOM_FIELD), th.Property("value", FIELD_VALUE))
    )


ATTACHMENTS = th.ArrayType(
    th.ObjectType(
        th.Property("id", th.StringType),
        th.Property("filename", th.StringType),
        th.Property("custom_filename", th.StringType),
        th.Property("size", th.IntegerType),
        th.Property("pinned", th.BooleanType),
        th.Property("pinned_at", th.StringType),
        th.Property("storage_provider", th.StringType),
        th.Property("url", th.StringType),
        th.Property("url_expires_at", th.DateTimeType),
        th.Property("thumbnail", th.ObjectType(th.Property("url", th.StringType))),
    )
)
ADDRESS_PROPERTIES = (
    th.Property("address", th.StringType),
    th.Property("city", th.StringType),
    th.Property("state", th.StringType),
    th.Property("zip_code", th.StringType),
    th.Property("country_code", th.StringType),
)
# Embedded objects whose content varies with the request's `fields`: kept whole (JSON).
LOOSE_OBJECT = th.ObjectType()

USER = th.PropertiesList(
    ID,
    th.Property("first_name", th.StringType),
    th.Property("last_name", th.StringType),
    th.Property("email", th.StringType),
    th.Property("company_name", th.StringType),
    th.Property("account_rights", th.ArrayType(th.StringType)),
    th.Property("account_role", th.StringType),
    th.Property("photo_url", th.StringType),
    th.Property("country_code", th.StringType),
    th.Property("bcc_email", th.StringType),
    th.Property("google_contacts_email", th.StringType),
    th.Property("virtual_group_id", th.StringType),
)

CONTACT = th.PropertiesList(
    ID,
    # "individual" in the official Java client's recorded responses; not in the swagger.
    th.Property("type", th.StringType),
    th.Property("title", th.StringType),
    th.Property("first_name", th.StringType),
    th.Property("last_name", th.StringType),
    th.Property("job_title", th.StringType),
    th.Property("company_id", th.StringType),
    th.Property("company_name", th.StringType),
    th.Property("company_size", th.IntegerType),
    th.Property("owner_id", th.StringType),
    th.Property("status", th.StringType),
    th.Property("status_id", th.StringType),
    th.Property("lead_source", th.StringType),
    th.Property("lead_source_id", th.StringType),
    th.Property("tags", th.ArrayType(th.StringType)),
    th.Property("starred", th.BooleanType),
    th.Property("background", th.StringType),
    th.Property("letter", th.StringType),
    th.Property("photo_url", th.StringType),
    th.Property("pending_deal", th.BooleanType),
    th.Property("total_pendings", th.NumberType),
    th.Property("total_deals_count", th.IntegerType),
    th.Property("urls", TYPE_VALUE),
    th.Property("phones", TYPE_VALUE),
    th.Property("emails", TYPE_VALUE),
    th.Property(
        "address_list",
        th.ArrayType(th.ObjectType(th.Property("type", th.StringType), *ADDRESS_PROPERTIES)),
    ),
    th.Property("custom_fields", field_values("custom_field")),
    th.Property("sales_closed_for", th.ArrayType(th.StringType)),
    th.Property(
        "closed_sales",
        th.ArrayType(
            th.ObjectType(
                th.Property("user_id", th.StringType),
                th.Property("closed_at", th.IntegerType),
                th.Property("comment", th.StringType),
            )
        ),
    ),
    th.Property("email_sync_available", th.BooleanType),
    th.Property("email_sync_enabled", th.BooleanType),
    th.Property("enhanceable", th.BooleanType),
    th.Property("google_contacts_data", LOOSE_OBJECT),
    *CREATED_MODIFIED,
)

COMPANY = th.PropertiesList(
    ID,
    th.Property("name", th.StringType),
    th.Property("description", th.StringType),
    th.Property("phone", th.StringType),
    th.Property("url", th.StringType),
    th.Property("address", th.ObjectType(*ADDRESS_PROPERTIES)),
    th.Property("company_fields", field_values("company_field")),
    th.Property("syncing_status", th.BooleanType),
    th.Property("syncing_tags", th.BooleanType),
    th.Property("synced_status_id", th.StringType),
    th.Property("synced_tags", th.ArrayType(th.StringType)),
    th.Property("contacts_count", th.IntegerType),
    th.Property("won_deals_count", th.IntegerType),
    th.Property("pending_deals_count", th.IntegerType),
    th.Property("total_won_amount", th.NumberType),
    th.Property("total_pending_amount", th.NumberType),
    # Embedded contact/deal summaries: their fields depend on the request, kept whole.
    th.Property("contacts", th.ArrayType(LOOSE_OBJECT)),
    th.Property("pending_deals", th.ArrayType(LOOSE_OBJECT)),
    th.Property("image", th.StringType),
    th.Property("photo_url", th.StringType),
    *CREATED_MODIFIED,
)

ACTION = th.PropertiesList(
    ID,
    th.Property("assignee_id", th.StringType),
    th.Property("contact_id", th.StringType),
    th.Property("text", th.StringType),
    th.Property("status", th.StringType),
    th.Property("date", th.DateType),
    th.Property("exact_time", th.IntegerType),
    th.Property("position", th.IntegerType),
    th.Property("done", th.BooleanType),
    th.Property("done_at", th.DateType),
    th.Property("externally_controlled", th.BooleanType),
    *CREATED_MODIFIED,
)

DEAL = th.PropertiesList(
    ID,
    th.Property("contact_id", th.StringType),
    th.Property("owner_id", th.StringType),
    th.Property("pipeline_id", th.StringType),
    th.Property("sales_pipeline_id", th.StringType),
    th.Property("name", th.StringType),
    th.Property("text", th.StringType),
    th.Property("status", th.StringType),
    th.Property("stage", th.IntegerType),
    th.Property("date", th.DateType),
    th.Property("expected_close_date", th.DateType),
    th.Property("close_date", th.DateType),
    *(
        th.Property(name, th.NumberType)
        for name in (
            "amount",
            "cost",
            "margin",
            "total_amount",
            "total_cost",
            "commission",
            "commission_percentage",
        )
    ),
    th.Property("months", th.IntegerType),
    th.Property("commission_base", th.StringType),
    th.Property("commission_type", th.StringType),
    th.Property("reason_lost_id", th.StringType),
    th.Property("deal_fields", field_values("deal_field")),
    th.Property("has_deal_items", th.BooleanType),
    th.Property(
        "deal_items",
        th.ArrayType(
            th.ObjectType(
                th.Property("id", th.StringType),
                th.Property("deal_id", th.StringType),
                th.Property("name", th.StringType),
                th.Property("description", th.StringType),
                th.Property("qty", th.NumberType),
                th.Property("price", th.NumberType),
                th.Property("cost", th.NumberType),
                th.Property("amount", th.NumberType),
                th.Property("position", th.IntegerType),
                th.Property("predefined_item_id", th.StringType),
                *CREATED_MODIFIED,
            )
        ),
    ),
    th.Property("author", th.StringType),
    th.Property("has_related_notes", th.BooleanType),
    th.Property("attachments", ATTACHMENTS),
    th.Property(
        "contact_info",
        th.ObjectType(
            th.Property("contact_name", th.StringType),
            th.Property("company", th.StringType),
            th.Property("contact_owner_id", th.StringType),
        ),
    ),
    th.Property(
        "owner",
        th.ObjectType(
            th.Property("id", th.StringType),
            th.Property("name", th.StringType),
            th.Property("email", th.StringType),
        ),
    ),
    th.Property(
        "linked_contacts",
        th.ArrayType(
            th.ObjectType(
                th.Property("id", th.StringType),
                th.Property("contact_name", th.StringType),
                th.Property("company", th.StringType),
                th.Property("photo_url", th.StringType),
                additional_properties=True,
            )
        ),
    ),
    # pipeline id -> stage; keys are ids, so an open map.
    th.Property("previous_pipeline_stages", LOOSE_OBJECT),
    *CREATED_MODIFIED,
)

NOTE = th.PropertiesList(
    ID,
    th.Property("contact_id", th.StringType),
    th.Property("text", th.StringType),
    th.Property("date", th.DateType),
    th.Property("linked_deal_id", th.StringType),
    th.Property("linked_deal_name", th.StringType),
    th.Property("author", th.StringType),
    th.Property("attachments", ATTACHMENTS),
    *CREATED_MODIFIED,
)

RELATIONSHIP_TYPE = th.PropertiesList(
    ID,
    th.Property("symmetrical", th.BooleanType),
    th.Property(
        "relationship_variants",
        th.ArrayType(
            th.ObjectType(th.Property("id", th.StringType), th.Property("name", th.StringType))
        ),
    ),
    *CREATED_MODIFIED,
)

PIPELINE_PROPERTIES = (
    ID,
    th.Property("name", th.StringType),
    th.Property("type", th.StringType),
    th.Property("default", th.BooleanType),
    th.Property("won_column_enabled", th.BooleanType),
    th.Property("won_column_name", th.StringType),
    th.Property(
        "stages",
        th.ArrayType(
            th.ObjectType(th.Property("stage", th.IntegerType), th.Property("label", th.StringType))
        ),
    ),
)
PIPELINE = th.PropertiesList(*PIPELINE_PROPERTIES)

STATUS = th.PropertiesList(
    ID,
    th.Property("status", th.StringType),
    th.Property("text", th.StringType),
    th.Property("description", th.StringType),
    th.Property("color", th.StringType),
    th.Property("counts", th.IntegerType),
    th.Property("total_count", th.IntegerType),
    th.Property("action_stream_count", th.IntegerType),
    th.Property("team_counts", TEAM_COUNTS),
)

LEAD_SOURCE = th.PropertiesList(
    ID,
    th.Property("text", th.StringType),
    th.Property("counts", th.IntegerType),
    th.Property("total_count", th.IntegerType),
    th.Property("action_stream_count", th.IntegerType),
    th.Property("team_counts", TEAM_COUNTS),
)

FILTER = th.PropertiesList(
    ID,
    th.Property("name", th.StringType),
    th.Property("conditions", th.ArrayType(th.ArrayType(th.StringType))),
)

PREDEFINED_ACTION = th.PropertiesList(
    ID,
    th.Property("text", th.StringType),
    th.Property("days", th.IntegerType),
    th.Property("action_group_id", th.StringType),
    th.Property("position", th.IntegerType),
)

PREDEFINED_ITEM = th.PropertiesList(
    ID,
    th.Property("name", th.StringType),
    th.Property("description", th.StringType),
    th.Property("cost", th.NumberType),
    th.Property("price", th.NumberType),
    th.Property("type", th.StringType),
    th.Property("position", th.IntegerType),
    th.Property("item_group_id", th.StringType),
)

CUSTOM_FIELD_RECORD = th.PropertiesList(
    ID,
    *CUSTOM_FIELD_PROPERTIES[1:],
    th.Property("mandatory", th.BooleanType),
)

CALL = th.PropertiesList(
    ID,
    th.Property("contact_id", th.StringType),
    th.Property("text", th.StringType),
    th.Property("call_result", th.StringType),
    th.Property("call_time_int", th.IntegerType),
    th.Property("via", th.StringType),
    th.Property("phone_number", th.StringType),
    th.Property("recording_link", th.StringType),
    th.Property("author", th.StringType),
    th.Property("attachments", ATTACHMENTS),
    th.Property("index", th.IntegerType),
    *CREATED_MODIFIED,
)

MEETING = th.PropertiesList(
    ID,
    th.Property("contact_id", th.StringType),
    th.Property("text", th.StringType),
    th.Property("meeting_time_int", th.IntegerType),
    th.Property("place", th.StringType),
    th.Property("author", th.StringType),
    th.Property("attachments", ATTACHMENTS),
    th.Property("index", th.IntegerType),
    *CREATED_MODIFIED,
)

_USER_OBJECT = th.ObjectType(*USER.wrapped.values())
_NAMED = th.ObjectType(th.Property("id", th.StringType), th.Property("name", th.StringType))

BOOTSTRAP = th.PropertiesList(
    th.Property("user_id", th.StringType, required=True),
    # The API user's API key: always null (see BootstrapStream). Kept in the schema so a
    # merging target overwrites the key an earlier version of the tap loaded.
    th.Property(
        "auth_key",
        th.StringType,
        description="Always null: the API key is never emitted (it used to be, before 0.2.0).",
    ),
    th.Property("account_type", th.StringType),
    th.Property("user", th.ObjectType(th.Property("user", _USER_OBJECT))),
    th.Property("team", th.ArrayType(th.ObjectType(th.Property("user", _USER_OBJECT)))),
    th.Property(
        "settings",
        th.ObjectType(
            th.Property(
                "reminder",
                th.ObjectType(
                    th.Property("type", th.StringType), th.Property("hour", th.IntegerType)
                ),
            ),
            th.Property("time_zone", th.StringType),
            # A string ("none", "weekend", "sunday") in the swagger's Settings and the
            # official Java client; a list of day names is accepted too.
            th.Property(
                "not_working_days",
                th.CustomType({"type": ["string", "array", "null"], "items": {"type": "string"}}),
            ),
            th.Property("date_format", th.StringType),
            th.Property("time_with_ampm", th.BooleanType),
            th.Property("listing_size", th.IntegerType),
            th.Property("currency", th.StringType),
            th.Property("currency_symbol", th.StringType),
            th.Property("separator", th.StringType),
            th.Property("delimiter", th.StringType),
            th.Property("popular_countries", th.ArrayType(th.StringType)),
            th.Property(
                "deal_stages",
                th.ArrayType(
                    th.ObjectType(
                        th.Property("label", th.StringType), th.Property("stage", th.IntegerType)
                    )
                ),
            ),
            th.Property(
                "pipelines",
                th.ArrayType(
                    th.ObjectType(th.Property("pipeline", th.ObjectType(*PIPELINE_PROPERTIES)))
                ),
            ),
            th.Property("default_contact_type", th.StringType),
            th.Property("show_tidy_stream", th.BooleanType),
            th.Property("show_company_fields_with_contact", th.BooleanType),
            th.Property("company_address_enabled", th.BooleanType),
            th.Property("company_phone_enabled", th.BooleanType),
            th.Property("send_push_notifications", th.BooleanType),
            th.Property("bcc_email_enabled", th.BooleanType),
            th.Property("reason_lost_enabled", th.BooleanType),
            th.Property("virtual_groups_enabled", th.BooleanType),
            th.Property(
                "contact_attributes_default_types",
                th.ObjectType(
                    *(th.Property(k, th.StringType) for k in ("address", "email", "phone", "url"))
                ),
            ),
            # company_*_enabled flags vary by account: keep any the API adds.
            additional_properties=True,
        ),
    ),
    th.Property(
        "cost_setup",
        th.ObjectType(
            th.Property("cost_enabled", th.BooleanType),
            th.Property("cost_required", th.BooleanType),
            th.Property("commission_base", th.StringType),
            # A number in the swagger, a string ("10.0") in recorded responses: either kept.
            th.Property(
                "commission_percentage", th.CustomType({"type": ["number", "string", "null"]})
            ),
        ),
    ),
    th.Property(
        "custom_fields",
        th.ArrayType(
            th.ObjectType(
                th.Property("custom_field", th.ObjectType(*CUSTOM_FIELD_RECORD.wrapped.values()))
            )
        ),
    ),
    th.Property(
        "company_fields", th.ArrayType(th.ObjectType(th.Property("company_field", CUSTOM_FIELD)))
    ),
    th.Property(
        "deal_fields", th.ArrayType(th.ObjectType(th.Property("deal_field", CUSTOM_FIELD)))
    ),
    th.Property(
        "filters",
        th.ArrayType(th.ObjectType(th.Property("filter", th.ObjectType(*FILTER.wrapped.values())))),
    ),
    # key -> label map whose keys are account-defined.
    th.Property("call_results", LOOSE_OBJECT),
    th.Property("call_results_order", th.ArrayType(th.StringType)),
    # Quick date options: [{"number": 1, "period": "days"}, ...] (swagger Bootstrap).
    th.Property(
        "next_action_dates",
        th.ArrayType(
            th.ObjectType(
                th.Property("number", th.IntegerType), th.Property("period", th.StringType)
            )
        ),
    ),
    th.Property(
        "predefined_actions",
        th.ArrayType(
            th.ObjectType(
                th.Property("predefined_action", th.ObjectType(*PREDEFINED_ACTION.wrapped.values()))
            )
        ),
    ),
    th.Property("predefined_action_groups", th.ArrayType(_NAMED)),
    th.Property(
        "reason_losts",
        th.ArrayType(
            th.ObjectType(
                th.Property("id", th.StringType),
                th.Property("name", th.StringType),
                th.Property("position", th.IntegerType),
            )
        ),
    ),
    th.Property(
        "subscription_plan",
        th.ObjectType(
            th.Property("name", th.StringType), th.Property("display_name", th.StringType)
        ),
    ),
    th.Property("current_card_scans_number", th.NumberType),
    th.Property("max_card_scans_limit", th.NumberType),
    th.Property(
        "virtual_groups",
        th.ArrayType(
            th.ObjectType(
                th.Property("id", th.StringType),
                th.Property("name", th.StringType),
                th.Property("default", th.BooleanType),
            )
        ),
    ),
    th.Property("contact_titles", th.ArrayType(th.StringType)),
)
