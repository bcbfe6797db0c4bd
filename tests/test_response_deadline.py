"""A response whose body trickles in is cut at its deadline ('request_timeout' for the whole
response, not one socket read) and retried like a timeout; both taps, through the CLI."""

from __future__ import annotations

import json
import time

import pytest

from sandbox_api import CRMAPI, CallTrackerAPI
from tap_calltracker.tap import TapCallTracker
from tap_crm.tap import TapCRM
from tests.singer_io import SingerOutput, run_tap_cli, select_streams

CASES = [
    pytest.param((TapCRM, "tap_crm.tap", "crm", "contacts"), id="crm"),
    pytest.param((TapCallTracker, "tap_calltracker.tap", "calltracker", "calls"), id="calltracker"),
]


def run(make_sandbox, tmp_path, case, *, times):
    tap_class, module, api, stream = case
    sandbox = make_sandbox(crm_api=CRMAPI(size=30), calltracker_api=CallTrackerAPI(size=30))
    config = getattr(sandbox, f"{api}_config")(page_size=10, request_timeout=1, max_retries=2)
    catalog = select_streams(
        tap_class(config=config, parse_env_config=False).catalog_dict, {stream}
    )
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps(catalog))
    # Page 2's body: 8 bytes every 50 ms, each socket read well within request_timeout, the
    # whole body some 30 s or more (a page of 10 records is several kilobytes).
    sandbox.faults.trickle(seconds=0.05, chunk=8, times=times, path=f"/{stream}", after=1)
    started = time.monotonic()
    result = run_tap_cli(module, "--catalog", str(catalog_path), config=config, tmp_path=tmp_path)
    elapsed = time.monotonic() - started
    expected = {r["id"] for r in getattr(sandbox, api).records[stream]}
    return result, SingerOutput.parse(result.stdout), stream, expected, elapsed


@pytest.mark.waits
@pytest.mark.parametrize("case", CASES)
def test_a_trickling_response_is_cut_at_its_deadline_and_retried(make_sandbox, tmp_path, case):
    result, out, stream, expected, elapsed = run(make_sandbox, tmp_path, case, times=1)

    assert result.returncode == 0, result.stderr
    assert set(out.ids(stream)) == expected
    cut = [line for line in result.stderr.splitlines() if "took longer than 1 s" in line]
    assert len(cut) == 1, result.stderr
    assert "WARNING" in cut[0]
    assert "retry 1 of 2" in cut[0]
    assert elapsed < 15  # interpreter start included; the trickle alone would take 30 s


@pytest.mark.waits
@pytest.mark.parametrize("case", CASES)
def test_a_response_that_always_trickles_fails_in_one_line(make_sandbox, tmp_path, case):
    result, _, _, _, elapsed = run(make_sandbox, tmp_path, case, times=None)

    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, result.stderr
    assert "request_timeout" in errors[0]
    assert "Traceback" not in result.stderr
    assert elapsed < 20
