"""Whole syncs through a hostile API: 20% server errors and a rate limit at the same time."""

from __future__ import annotations

import json

import pytest

from sandbox_api import CRMAPI, CallTrackerAPI
from tap_calltracker.streams import STREAM_TYPES as CALLTRACKER_STREAMS
from tap_crm.streams import STREAM_TYPES as CRM_STREAMS
from tests.singer_io import SingerOutput, run_module


def run_tap(module: str, config: dict, tmp_path) -> SingerOutput:
    config_file = tmp_path / f"{module}.json"
    config_file.write_text(json.dumps(config))
    result = run_module(module, "--config", str(config_file), timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return SingerOutput.parse(result.stdout)


@pytest.mark.waits
def test_crm_sync_with_server_errors_and_rate_limit_delivers_every_record_once(
    make_sandbox, tmp_path
):
    sandbox = make_sandbox(crm_api=CRMAPI(size=150))
    sandbox.faults.random_errors(ratio=0.2, status=503)
    sandbox.faults.rate_limit(limit=20, window=1.0)
    # Enough retries that 20% failures cannot exhaust them by chance (0.2^9 per request).
    config = sandbox.crm_config(page_size=50, max_retries=8, max_requests_per_second=20)
    out = run_tap("tap_crm.tap", config, tmp_path)

    statuses = [r.status for r in sandbox.requests_to("crm")]
    assert statuses.count(503) > 0  # the faults really fired
    for stream in CRM_STREAMS:
        key = stream.primary_keys[0]
        expected = {r[key] for r in sandbox.crm.expected(stream.name)}
        assert set(out.ids(stream.name, key)) == expected, stream.name
        assert out.duplicates(stream.name, key) == [], stream.name


@pytest.mark.waits
def test_calltracker_sync_with_server_errors_and_rate_limit_delivers_every_record_once(
    make_sandbox, tmp_path
):
    sandbox = make_sandbox(
        crm_api=CRMAPI(size=1),
        calltracker_api=CallTrackerAPI(size=120, sizes={"calls": 600}),
    )
    sandbox.faults.random_errors(ratio=0.2, status=503)
    # The call API publishes its budget in headers: the tap paces from them, no fixed cap.
    sandbox.faults.rate_limit(limit=20, window=1.0)
    config = sandbox.calltracker_config(max_retries=8)
    out = run_tap("tap_calltracker.tap", config, tmp_path)

    requests = sandbox.requests_to("calltracker")
    assert [r.status for r in requests].count(503) > 0  # the faults really fired
    assert [r.status for r in requests].count(429) <= len(requests) // 20 + 1
    for stream in CALLTRACKER_STREAMS:
        key = stream.primary_keys[0]
        # company's key is synthetic (added by the tap): the API's object has none.
        expected = {r.get(key, "company") for r in sandbox.calltracker.expected(stream.name)}
        assert set(out.ids(stream.name, key)) == expected, stream.name
        assert out.duplicates(stream.name, key) == [], stream.name
