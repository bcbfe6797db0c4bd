"""BATCH mode (``batch_config``): a run that fails halfway, then a run resumed from its last
STATE, lose nothing; both taps through the CLI, loaded by the SDK's own target classes,
which read the BATCH messages' files (singer_sdk.Sink.process_batch_files)."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import time
import typing as t

import pytest
from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.sinks import BatchSink

from sandbox_api import CRMAPI, CallTrackerAPI
from tap_calltracker.tap import TapCallTracker
from tap_crm.tap import TapCRM
from tests.singer_io import SingerOutput, run_tap_cli, select_streams

# A proxy's error page in front of the API (what the issue saw: five in a row).
PROXY_PAGE = b"<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"


class CollectingSink(BatchSink):
    """Keeps every record it is given, from RECORD messages and from batch files alike."""

    loaded: t.ClassVar[dict[str, list[dict]]] = {}

    def process_batch(self, context: dict) -> None:
        self.loaded.setdefault(self.stream_name, []).extend(context["records"])


class CollectingTarget(Target):
    name = "target-collect"
    config_jsonschema = th.PropertiesList().to_dict()
    default_sink_class = CollectingSink


def load(stdout: str) -> tuple[dict[str, list[dict]], dict | None]:
    """Feed a tap's output to the target: (records loaded per stream, the last state it
    emitted, which is what an orchestrator keeps for the next run)."""
    CollectingSink.loaded = {}
    target = CollectingTarget(config={})
    emitted: list[dict] = []
    target._write_state_message = emitted.append  # type: ignore[method-assign]
    target.listen(file_input=io.StringIO(stdout))
    return CollectingSink.loaded, (emitted[-1] if emitted else None)


CASES = [
    pytest.param((TapCRM, "tap_crm.tap", "crm", "actions"), id="crm-actions"),
    pytest.param(
        (TapCallTracker, "tap_calltracker.tap", "calltracker", "calls"), id="calltracker-calls"
    ),
]


def _run(module, config, catalog, tmp_path, *, state=None, name="run"):
    catalog_path = tmp_path / f"{name}-catalog.json"
    catalog_path.write_text(json.dumps(catalog))
    args = ["--catalog", str(catalog_path)]
    if state is not None:
        state_path = tmp_path / f"{name}-state.json"
        state_path.write_text(json.dumps(state))
        args += ["--state", str(state_path)]
    return run_tap_cli(module, *args, config=config, tmp_path=tmp_path)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("batch_size", [30, 20, 7, None])  # None: RECORD messages
def test_batch_run_failing_halfway_then_resumed_loses_nothing(
    make_sandbox, tmp_path, case, batch_size
):
    tap_class, module, api, stream = case
    sandbox = make_sandbox(crm_api=CRMAPI(size=110), calltracker_api=CallTrackerAPI(size=110))
    batch_dir = tmp_path / "batches"
    batch_dir.mkdir()
    batch_config = {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": f"file://{batch_dir}"},
        "batch_size": batch_size,
    }
    config = getattr(sandbox, f"{api}_config")(max_retries=3, page_size=20)
    if batch_size is not None:
        config["batch_config"] = batch_config
    catalog = select_streams(
        tap_class(config=config, parse_env_config=False).catalog_dict, {stream}
    )
    all_ids = {r["id"] for r in getattr(sandbox, api).records[stream]}
    # Page 3 (records 41-60) answers with the proxy's page on every try.
    sandbox.faults.fail(502, times=4, body=PROXY_PAGE, path=f"/{stream}", after=2)

    failed = _run(module, config, catalog, tmp_path, name="failed")
    assert failed.returncode == 1, failed.stderr
    assert ("BATCH" in failed.stdout) == (batch_size is not None)
    first, state = load(failed.stdout)
    assert state is not None
    assert SingerOutput.parse(failed.stdout).final_state == state
    loaded = {r["id"] for r in first.get(stream, [])}
    assert len(loaded) >= 30, failed.stderr  # the records read before the failure: announced

    resumed = _run(module, config, catalog, tmp_path, state=state, name="resumed")
    assert resumed.returncode == 0, resumed.stderr
    second, _ = load(resumed.stdout)
    loaded |= {r["id"] for r in second.get(stream, [])}
    assert loaded == all_ids, f"{len(all_ids - loaded)} records never reached the target"


@pytest.mark.waits
@pytest.mark.parametrize("case", CASES)
def test_batch_run_stopped_by_sigterm_then_resumed_loses_nothing(make_sandbox, tmp_path, case):
    tap_class, module, api, stream = case
    sandbox = make_sandbox(crm_api=CRMAPI(size=110), calltracker_api=CallTrackerAPI(size=110))
    batch_dir = tmp_path / "batches"
    batch_dir.mkdir()
    config = getattr(sandbox, f"{api}_config")(
        page_size=20,
        batch_config={
            "encoding": {"format": "jsonl", "compression": "gzip"},
            "storage": {"root": f"file://{batch_dir}"},
            "batch_size": 30,
        },
    )
    catalog = select_streams(
        tap_class(config=config, parse_env_config=False).catalog_dict, {stream}
    )
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps(catalog))
    slow = sandbox.faults.slow(0.3, times=None, api=api)  # the signal lands mid-read

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            module,
            "--config",
            str(config_path),
            "--catalog",
            str(catalog_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(sandbox.requests_to(api)) < 3:  # two pages read (40 records), the third asked
        assert process.poll() is None
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGTERM)
    stdout, _ = process.communicate(timeout=60)
    slow.release()

    assert process.returncode == 143
    first, state = load(stdout)
    assert state is not None
    loaded = {r["id"] for r in first.get(stream, [])}
    resumed = _run(module, config, catalog, tmp_path, state=state, name="resumed")
    assert resumed.returncode == 0, resumed.stderr
    second, _ = load(resumed.stdout)
    loaded |= {r["id"] for r in second.get(stream, [])}
    all_ids = {r["id"] for r in getattr(sandbox, api).records[stream]}
    assert loaded == all_ids, f"{len(all_ids - loaded)} records never reached the target"
