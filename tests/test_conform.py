"""The compiled conformer (tap_common.conform) gives exactly the SDK's RECURSIVE conformance."""

from __future__ import annotations

import copy
import decimal
import json

import pytest
from singer_sdk.helpers._typing import _conform_record_data_types
from singer_sdk.helpers.conform import TypeConformanceLevel

from sandbox_api import CRMAPI
from sandbox_api.calltracker import CallTrackerAPI
from tap_calltracker.tap import TapCallTracker
from tap_common.conform import SchemaConformer
from tap_crm.tap import TapCRM
from tests.singer_io import sync


def both(schema: dict, record: dict) -> tuple[tuple[dict, list[str]], tuple[dict, list[str]]]:
    sdk = _conform_record_data_types(
        copy.deepcopy(record), schema, TypeConformanceLevel.RECURSIVE, None
    )
    unmapped: list[str] = []
    ours = SchemaConformer(schema)._root.conform(copy.deepcopy(record), None, unmapped)
    return sdk, (ours, unmapped)


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
        sdk, ours = both(schema, record)
        assert ours == sdk


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
        {"id": "a", "flag": 0, "amount": float("nan"), "owner": {"id": 1, "active": 0, "x": 1}},
        {"id": "a", "flag": None, "amount": float("inf"), "owner": None, "loose": {"k": [1]}},
        {"id": "a", "flag": "no", "tags": ["x", 1], "flags": [0, 1, None], "phones": None},
        {"id": "a", "phones": [{"value": "1", "type": "work"}, "not an object"]},
        {"id": "a", "flag": decimal.Decimal(0), "owner": [1, 2], "tags": "x"},
    ],
)
def test_edge_values_conform_exactly_as_the_sdk_does(record):
    sdk, ours = both(SCHEMA, record)
    assert ours == sdk


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
