"""A value nested thousands of levels deep in one record: that field written as null and
reported once, every other record and stream complete, exit 0; both taps, through the CLI."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox_api import CRMAPI, CallTrackerAPI
from sandbox_api.oddities import deeply_nested
from tap_calltracker.tap import TapCallTracker
from tap_common.http.responses import cap_depth, holds_too_deep
from tap_crm.tap import TapCRM
from tests.singer_io import SingerOutput, run_tap_cli, select_streams

CASES = [
    # (tap, module, api, stream with the deep value, its field, a stream synced after it)
    pytest.param((TapCRM, "tap_crm.tap", "crm", "contacts", "custom_fields", "deals"), id="crm"),
    pytest.param(
        (TapCallTracker, "tap_calltracker.tap", "calltracker", "calls", "tags", "users"),
        id="calltracker",
    ),
]


@pytest.mark.parametrize("levels", [1500, 50_000])
@pytest.mark.parametrize("case", CASES)
def test_a_value_too_deep_to_decode_is_nulled_and_the_sync_goes_on(
    make_sandbox, tmp_path, case, levels
):
    tap_class, module, api_name, stream, field, later = case
    sandbox = make_sandbox(crm_api=CRMAPI(size=30), calltracker_api=CallTrackerAPI(size=30))
    api = getattr(sandbox, api_name)
    deep = api.records[stream][7]
    api.oddities.put(deep, field, deeply_nested(levels))
    config = getattr(sandbox, f"{api_name}_config")(page_size=10)
    catalog = select_streams(
        tap_class(config=config, parse_env_config=False).catalog_dict, {stream, later}
    )
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps(catalog))

    result = run_tap_cli(module, "--catalog", str(catalog_path), config=config, tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    out = SingerOutput.parse(result.stdout)
    records = {r["id"]: r for r in out.records[stream]}
    assert set(records) == {r["id"] for r in api.records[stream]}
    assert records[deep["id"]][field] is None
    # Only that record's field is null: the others' as served.
    nulled = {key for key, record in records.items() if record[field] is None}
    assert nulled == {r["id"] for r in api.records[stream] if r.get(field) is None} | {deep["id"]}
    assert set(out.ids(later)) == {r["id"] for r in api.records[later]}
    warnings = [line for line in result.stderr.splitlines() if "nested more than" in line]
    assert len(warnings) == 1, result.stderr
    assert "WARNING" in warnings[0]
    assert f"field '{field}'" in warnings[0]
    assert str(deep["id"]) in warnings[0]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:'),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet='[]{}"\\a', max_size=3), children, max_size=3)
    ),
    max_leaves=20,
)


def depth(value) -> int:
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(json_values, st.integers(min_value=1, max_value=6))
def test_capping_the_depth_keeps_what_is_shallow_and_replaces_only_what_is_deep(value, limit):
    content = json.dumps(value).encode()
    capped = json.loads(cap_depth(content, limit))

    if depth(value) <= limit:
        assert capped == value
    else:
        assert capped != value
        assert depth(capped) <= limit
        assert holds_too_deep(capped)
