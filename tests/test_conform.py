"""The compiled conformer (tap_common.messages.conform) gives exactly the SDK's RECURSIVE conformance."""

from __future__ import annotations

import copy
import decimal
import json
import typing as t

import pytest
from singer_sdk.helpers._typing import _conform_record_data_types
from singer_sdk.helpers.conform import TypeConformanceLevel

from sandbox_api import CRMAPI
from sandbox_api.calltracker import CallTrackerAPI
from tap_calltracker.tap import TapCallTracker
from tap_common.messages.conform import SchemaConformer
from tap_common.messages.timestamps import to_date_text, to_iso_utc
from tap_crm.tap import TapCRM
from tests.singer_io import sync


def both(schema: dict, record: dict) -> tuple[tuple[dict, list[str]], tuple[dict, list[str]]]:
    sdk = _conform_record_data_types(
        copy.deepcopy(record), schema, TypeConformanceLevel.RECURSIVE, None
    )
    unmapped: list[str] = []
    problems: list = []
    ours = SchemaConformer(schema)._root.conform(copy.deepcopy(record), None, unmapped, problems)
    sdk_record, sdk_unmapped = sdk
    return (written_dates(sdk_record, schema), sdk_unmapped), (ours, unmapped, problems)


def written_dates(value: t.Any, schema: dict) -> t.Any:
    """The SDK's output with date-times and dates in the one form the taps write.

    A deliberate difference: the SDK passes timestamps through as the API sent them,
    the taps write every one as ISO-8601 UTC with microseconds.
    """
    if isinstance(value, dict) and "properties" in schema:
        return {
            k: written_dates(v, schema["properties"][k]) if k in schema["properties"] else v
            for k, v in value.items()
        }
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [written_dates(v, schema["items"]) for v in value]
    if value is not None and schema.get("format") == "date-time":
        return to_iso_utc(value)
    if value is not None and schema.get("format") == "date":
        return to_date_text(value)
    return value


def sandbox_records(api: CRMAPI | CallTrackerAPI, stream: str) -> list[dict]:
    # Parsed as the taps parse bodies: floats become Decimal.
    return json.loads(json.dumps(api.expected(stream)), parse_float=decimal.Decimal)


def streams_of(tap_class: type, config: dict) -> dict[str, dict]:
    tap = tap_class(config=config, parse_env_config=False, validate_config=False)
    return {name: stream.schema for name, stream in tap.streams.items()}


CRM = CRMAPI(size=40)
CALLS = CallTrackerAPI(size=40)
CASES = [
    (schema, record)
    for schemas, api in (
        (streams_of(TapCRM, {"username": "u", "password": "p"}), CRM),
        (streams_of(TapCallTracker, {"api_id": "u", "api_token": "p"}), CALLS),
    )
    for name, schema in schemas.items()
    for record in sandbox_records(api, name)
]


def test_every_sandbox_record_of_both_taps_conforms_exactly_as_the_sdk_does():
    assert len(CASES) > 500
    for schema, record in CASES:
        sdk, (ours, unmapped, problems) = both(schema, record)
        assert (ours, unmapped) == sdk
        assert problems == []  # normal values all fit their schema


SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": ["string"]},
        "flag": {"type": ["boolean", "null"]},
        "amount": {"type": ["number", "null"]},
        "owner": {
            "type": ["object", "null"],
            "properties": {"id": {"type": ["integer", "null"]}, "active": {"type": "boolean"}},
        },
        "loose": {"type": ["object", "null"], "properties": {}, "additionalProperties": True},
        "tags": {"type": ["array", "null"], "items": {"type": ["string"]}},
        "flags": {"type": ["array", "null"], "items": {"type": ["boolean"]}},
        "phones": {
            "type": ["array", "null"],
            "items": {"type": "object", "properties": {"value": {"type": ["string", "null"]}}},
        },
    },
}


@pytest.mark.parametrize(
    "record",
    [
        {"id": "a", "flag": 1, "amount": decimal.Decimal("1.10"), "extra": 3},
        {"id": "a", "flag": 0, "owner": {"id": 1, "active": 0, "x": 1}},
        {"id": "a", "flag": None, "owner": None, "loose": {"k": [1]}},
        {"id": "a", "tags": ["x"], "flags": [0, 1, None], "phones": None},
        {"id": "a", "phones": [{"value": "1", "type": "work"}]},
    ],
)
def test_edge_values_that_fit_their_schema_conform_exactly_as_the_sdk_does(record):
    sdk, (ours, unmapped, problems) = both(SCHEMA, record)
    assert (ours, unmapped) == sdk
    assert problems == []


# Deliberate differences: where the SDK lets a value through that does not fit its type
# (or says nothing when it drops one), the conformer converts it or writes null and
# reports the field.
@pytest.mark.parametrize(
    ("record", "expected", "reported"),
    [
        ({"id": "a", "amount": float("nan")}, {"id": "a", "amount": None}, ["amount"]),
        ({"id": "a", "amount": float("inf")}, {"id": "a", "amount": None}, ["amount"]),
        ({"id": "a", "flag": "no"}, {"id": "a", "flag": None}, ["flag"]),
        ({"id": "a", "flag": "false"}, {"id": "a", "flag": False}, []),
        ({"id": "a", "flag": decimal.Decimal(0)}, {"id": "a", "flag": False}, []),
        ({"id": "a", "tags": ["x", 1]}, {"id": "a", "tags": ["x", "1"]}, []),
        ({"id": "a", "amount": "12.5"}, {"id": "a", "amount": decimal.Decimal("12.5")}, []),
        ({"id": 7, "owner": {"id": "42"}}, {"id": "7", "owner": {"id": 42}}, []),
        ({"id": "a", "owner": {"id": "4.5"}}, {"id": "a", "owner": {"id": None}}, ["owner.id"]),
        (
            {"id": "a", "owner": [1, 2], "tags": "x"},
            {"id": "a", "owner": None, "tags": None},
            ["owner", "tags"],
        ),
        (
            {"id": "a", "phones": [{"value": "1"}, "not an object"]},
            {"id": "a", "phones": [{"value": "1"}]},
            ["phones[]"],
        ),
    ],
)
def test_values_that_do_not_fit_are_converted_or_nulled_and_reported(record, expected, reported):
    _, (ours, _, problems) = both(SCHEMA, record)
    assert ours == expected
    assert [field for field, _ in problems] == reported


def test_a_deselected_property_is_still_left_out(sandbox):
    config = sandbox.crm_config()
    catalog = TapCRM(config=config, parse_env_config=False).catalog_dict
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            breadcrumb = entry["breadcrumb"]
            if breadcrumb == []:
                entry["metadata"]["selected"] = stream["tap_stream_id"] == "contacts"
            elif stream["tap_stream_id"] == "contacts" and breadcrumb[-1] == "job_title":
                entry["metadata"]["selected"] = False

    out = sync(TapCRM, config, catalog=catalog)

    assert len(out.records["contacts"]) == 25
    assert all("job_title" not in r and "first_name" in r for r in out.records["contacts"])
