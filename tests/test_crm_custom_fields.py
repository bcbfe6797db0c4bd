"""CRM custom fields as typed columns (``custom_field_columns``), against the sandbox."""

from __future__ import annotations

import json
import logging
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox_api import CRMAPI, crm_custom_fields
from tap_crm import custom_fields, schemas
from tap_crm.custom_fields import FIELD_LISTS, ColumnFiller, column_for
from tap_crm.tap import TapCRM
from tests.singer_io import catalog_selecting, run_tap_cli, select_streams, sync

STREAMS = ("contacts", "companies", "deals")
BASE_SCHEMAS = {
    "contacts": schemas.CONTACT.to_dict(),
    "companies": schemas.COMPANY.to_dict(),
    "deals": schemas.DEAL.to_dict(),
}
EXPECTED_TYPES = {
    "number": {"type": ["number", "null"]},
    "date": {"type": ["string", "null"], "format": "date"},
    "anniversary": {"type": ["string", "null"], "format": "date"},
    "multiple_choice": {"type": ["array", "null"], "items": {"type": ["string"]}},
    "select_box": {"type": ["string", "null"]},
    "single_line_text": {"type": ["string", "null"]},
    "multi_line_text": {"type": ["string", "null"]},
    "external_id": {"type": ["string", "null"]},
}


def schema_of(catalog: dict, stream: str) -> dict:
    (entry,) = [e for e in catalog["streams"] if e["tap_stream_id"] == stream]
    return entry["schema"]


def custom_columns(schema: dict) -> dict[str, dict]:
    prefixes = tuple(f"{fields.kind}__" for fields in FIELD_LISTS)
    return {k: v for k, v in schema["properties"].items() if k.startswith(prefixes)}


@pytest.fixture
def crm(make_sandbox):
    return make_sandbox(crm_api=CRMAPI(size=23))


def test_off_by_default_the_schemas_and_records_are_todays(crm):
    config = crm.crm_config()
    catalog = catalog_selecting(TapCRM, config, STREAMS)
    output = sync(TapCRM, config, catalog=catalog)

    for stream in STREAMS:
        assert schema_of(catalog, stream)["properties"] == BASE_SCHEMAS[stream]["properties"]
        assert custom_columns(output.schemas()[stream]["schema"]) == {}
        for record in output.records[stream]:
            assert set(record) <= set(BASE_SCHEMAS[stream]["properties"])
    assert crm.requests_to("crm", "/bootstrap") == []


def test_on_every_definition_but_a_divider_is_a_column_typed_by_its_type(crm):
    catalog = catalog_selecting(TapCRM, crm.crm_config(custom_field_columns=True), STREAMS)

    for fields in FIELD_LISTS:
        columns = custom_columns(schema_of(catalog, fields.stream))
        definitions = crm.crm.field_definitions[fields.kind]
        expected = {}
        for definition in definitions:
            if definition["type"] == "section_divider":
                assert column_for(fields.kind, definition) is None
                continue
            name = column_for(fields.kind, definition)
            assert name is not None
            assert definition["id"] in name
            expected[name] = EXPECTED_TYPES[definition["type"]]
        assert {
            name: {k: v for k, v in spec.items() if k != "description"}
            for name, spec in columns.items()
        } == expected
        for name, spec in columns.items():
            (definition,) = [d for d in definitions if d["id"] in name]
            assert definition["name"] in spec["description"]
        # The raw list is still declared as it was.
        assert (
            schema_of(catalog, fields.stream)["properties"][fields.array]
            == (BASE_SCHEMAS[fields.stream]["properties"][fields.array])
        )


def test_on_each_column_holds_every_records_value_and_wrong_types_are_null_with_one_warning(
    crm, caplog
):
    config = crm.crm_config(custom_field_columns=True)
    catalog = catalog_selecting(TapCRM, config, STREAMS)
    with caplog.at_level(logging.WARNING):
        output = sync(TapCRM, config, catalog=catalog)

    nulled: dict[tuple[str, str], int] = {}
    for fields in FIELD_LISTS:
        held = {r["id"]: r for r in crm.crm.expected(fields.stream)}
        records = output.records[fields.stream]
        assert len(records) == len(held) == 23
        columns = custom_columns(output.schemas()[fields.stream]["schema"])
        for record in records:
            source = held[record["id"]]
            assert record[fields.array] == source[fields.array]  # the raw list, untouched
            values = {
                column_for(fields.kind, item[fields.kind]): item["value"]
                for item in source[fields.array]
            }
            for name in columns:
                sent = values.get(name)
                kind = name.rsplit("__", 1)[1]
                if sent in crm_custom_fields.WRONG_VALUES.values():
                    assert record[name] is None
                    nulled[fields.stream, name] = nulled.get((fields.stream, name), 0) + 1
                elif kind == "number" and sent is not None:
                    assert record[name] == pytest.approx(sent)
                else:
                    assert record[name] == sent
        # Every value of the right type arrived: no column is null in every record.
        assert all(any(r[name] is not None for r in records) for name in columns)
    assert nulled, "the sandbox serves wrong-typed values"
    for (stream, name), count in nulled.items():
        first = [m for m in caplog.messages if f"'{stream}'" in m and f"field '{name}'" in m]
        assert len(first) == 1, (stream, name, first)
        (summary,) = [
            m for m in caplog.messages if m.startswith(f"Stream '{stream}': values written as null")
        ]
        assert f"{name}: {count}" in summary


def test_a_definition_added_between_runs_has_its_column_and_values_on_the_next(crm):
    config = crm.crm_config(custom_field_columns=True)
    first = custom_columns(schema_of(catalog_selecting(TapCRM, config, STREAMS), "companies"))

    added = crm.crm.add_field_definition("company_field", "number", "Employees (2026)")
    company = crm.crm.records["companies"][4]
    crm.crm.modify(
        "companies",
        4,
        company_fields=[*company["company_fields"], {"company_field": added, "value": 312}],
    )
    catalog = catalog_selecting(TapCRM, config, STREAMS)
    second = custom_columns(schema_of(catalog, "companies"))
    output = sync(TapCRM, config, catalog=catalog)

    new = column_for("company_field", added)
    assert new not in first
    assert set(second) == {*first, new}
    values = {r["id"]: r[new] for r in output.records["companies"]}
    assert values.pop(company["id"]) == 312
    assert set(values.values()) == {None}


def test_a_saved_catalog_decides_the_columns_without_asking_for_definitions(crm):
    config = crm.crm_config(custom_field_columns=True)
    catalog = catalog_selecting(TapCRM, config, ["contacts"])
    columns = list(custom_columns(schema_of(catalog, "contacts")))
    left_out, kept = columns[0], columns[1:]
    (entry,) = [e for e in catalog["streams"] if e["tap_stream_id"] == "contacts"]
    for metadata in entry["metadata"]:
        if metadata["breadcrumb"] == ["properties", left_out]:
            metadata["metadata"]["selected"] = False
    crm.clear_log()

    output = sync(TapCRM, config, catalog=catalog)

    assert crm.requests_to("crm", "/bootstrap") == []  # the catalog said it all
    for record in output.records["contacts"]:
        assert left_out not in record
        assert set(kept) <= set(record)
    assert left_out not in output.schemas()["contacts"]["schema"]["properties"]


def test_a_field_whose_type_changes_gets_a_new_column_and_a_renamed_one_keeps_its_own():
    field = {"id": "5aad9b039007ba18c9ebad13", "name": "Budget", "type": "number"}
    renamed = {**field, "name": "Budget 2027"}
    retyped = {**field, "type": "single_line_text"}
    also_text = {**field, "type": "select_box"}

    assert column_for("custom_field", renamed) == column_for("custom_field", field)
    assert column_for("custom_field", retyped) != column_for("custom_field", field)
    # Kinds stored alike share a column: no new column for a change between text kinds.
    assert column_for("custom_field", retyped) == column_for("custom_field", also_text)


def test_discover_without_credentials_works_and_has_no_custom_field_columns(tmp_path):
    result = run_tap_cli(
        "tap_crm.tap", "--discover", config={"custom_field_columns": True}, tmp_path=tmp_path
    )

    assert result.returncode == 0, result.stderr
    catalog = json.loads(result.stdout)
    for stream in STREAMS:
        assert custom_columns(schema_of(catalog, stream)) == {}
    warnings = [line for line in result.stderr.splitlines() if "custom_field_columns" in line]
    assert len(warnings) == 1
    assert "username and password are not set" in warnings[0]


def test_discover_with_refused_credentials_still_works_with_one_warning(crm, tmp_path):
    config = crm.crm_config(custom_field_columns=True, password="wrong", max_retries=0)
    result = run_tap_cli("tap_crm.tap", "--discover", config=config, tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    catalog = json.loads(result.stdout)
    assert custom_columns(schema_of(catalog, "contacts")) == {}
    warnings = [line for line in result.stderr.splitlines() if "custom_field_columns" in line]
    assert len(warnings) == 1
    assert "could not be read from /bootstrap" in warnings[0]
    assert "wrong" not in result.stderr  # the password never appears


def test_stream_maps_can_name_a_custom_field_column(crm):
    config = crm.crm_config(custom_field_columns=True)
    column = next(
        column_for("deal_field", d)
        for d in crm.crm.field_definitions["deal_field"]
        if d["type"] == "select_box"
    )
    config["stream_maps"] = {"deals": {"region": column}}
    catalog = select_streams(TapCRM(config=config, parse_env_config=False).catalog_dict, ["deals"])

    output = sync(TapCRM, config, catalog=catalog)

    assert "region" in output.schemas()["deals"]["schema"]["properties"]
    assert [r["region"] for r in output.records["deals"]] == [
        r[column] for r in output.records["deals"]
    ]
    assert any(r["region"] for r in output.records["deals"])


def test_about_lists_the_setting():
    result = run_tap_cli("tap_crm.tap", "--about", "--format=json")
    about = json.loads(result.stdout)
    assert about["settings"]["properties"]["custom_field_columns"]["default"] is False


FIELD_TYPES = st.sampled_from([*custom_fields.COLUMN_TYPES, "section_divider", "unknown_kind"])
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)
ITEM = st.one_of(
    st.fixed_dictionaries(
        {
            "custom_field": st.fixed_dictionaries(
                {"id": st.text(min_size=1, max_size=30), "type": FIELD_TYPES}
            ),
            "value": JSONISH,
        }
    ),
    JSONISH,  # a list item of any other shape
)


@settings(max_examples=200, deadline=None)
@given(
    definitions=st.lists(
        st.fixed_dictionaries({"id": st.text(min_size=1, max_size=30), "type": FIELD_TYPES}),
        max_size=6,
    ),
    items=st.one_of(st.lists(ITEM, max_size=6), JSONISH),
)
def test_filling_sets_exactly_the_schemas_columns_from_any_list(definitions, items):
    fields = custom_fields.BY_STREAM["contacts"]
    properties = {"id": {}, **custom_fields.columns(fields, definitions)}
    row = {"id": "c1", "custom_fields": items}

    ColumnFiller(fields, properties).fill(row)

    columns = {name for name in properties if name != "id"}
    assert set(row) == {"id", "custom_fields", *columns}
    assert row["custom_fields"] is items
    for name in columns:
        assert re.fullmatch(r"[a-z0-9_]+", name), name  # a column any target can name
        sources = [
            item["value"]
            for item in (items if isinstance(items, list) else [])
            if isinstance(item, dict)
            and column_for("custom_field", item.get("custom_field")) == name
        ]
        assert row[name] == (sources[-1] if sources else None)
