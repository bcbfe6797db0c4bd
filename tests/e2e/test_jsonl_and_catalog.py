"""The other two ways users run the taps: `meltano run ... target-jsonl`, and a plain Singer pipe
(with a discovered, edited catalog passed back with --catalog)."""

from __future__ import annotations

import json
import subprocess
import typing as t
from pathlib import Path

import pytest

from sandbox_api import CRMAPI
from tap_crm.streams import STREAM_TYPES
from tests.e2e.conftest import VENV_BIN, clean_environ, sandbox_env

if t.TYPE_CHECKING:
    from sandbox_api import Sandbox

pytestmark = pytest.mark.e2e

CRM_KEYS = {stream.name: stream.primary_keys[0] for stream in STREAM_TYPES}


def jsonl_records(directory: Path) -> dict[str, list[dict]]:
    """``<stream>.jsonl`` files -> records, one JSON object per line."""
    return {
        path.stem: [json.loads(line) for line in path.read_text().splitlines()]
        for path in sorted(directory.glob("*.jsonl"))
    }


def assert_one_line_per_record(written: dict[str, list[dict]], sandbox: Sandbox) -> None:
    for stream, key in CRM_KEYS.items():
        expected = sorted(r[key] for r in sandbox.crm.expected(stream))
        assert sorted(r[key] for r in written.get(stream, [])) == expected, stream


def pipe(tap: list[str], target: list[str], cwd: Path) -> str:
    """``tap | target`` as a shell would run it; returns the tap's stderr for inspection."""
    env = clean_environ()
    with subprocess.Popen(
        tap, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env
    ) as producer:
        consumer = subprocess.run(
            target,
            stdin=producer.stdout,
            capture_output=True,
            cwd=cwd,
            env=env,
            timeout=300,
            check=False,
        )
        producer.stdout.close()
        tap_stderr = producer.stderr.read().decode()
    assert producer.returncode == 0, tap_stderr[-3000:]
    assert consumer.returncode == 0, consumer.stderr.decode()[-3000:]
    return tap_stderr


def write_json(path: Path, data: t.Any) -> Path:
    path.write_text(json.dumps(data))
    return path


def target_jsonl_config(directory: Path) -> Path:
    # Without do_timestamp_file=false, standalone target-jsonl names files <stream>-<time>.jsonl.
    config = {"destination_path": str(directory / "out"), "do_timestamp_file": False}
    return write_json(directory / "target.json", config)


def test_meltano_run_tap_crm_target_jsonl_writes_one_line_per_record(
    meltano, make_sandbox, tmp_path
):
    sandbox = make_sandbox(crm_api=CRMAPI(size=15))
    env = {**sandbox_env(sandbox), "TARGET_JSONL_DESTINATION_PATH": str(tmp_path)}

    meltano("run", "--state-id-suffix", "jsonl", "tap-crm", "target-jsonl", env=env)

    written = jsonl_records(tmp_path)
    assert set(written) == set(CRM_KEYS)
    assert_one_line_per_record(written, sandbox)


def test_plain_pipe_tap_crm_into_target_jsonl(meltano, make_sandbox, tmp_path):
    sandbox = make_sandbox(crm_api=CRMAPI(size=12))
    config = write_json(tmp_path / "config.json", sandbox.crm_config(page_size=5))
    out, target_config = tmp_path / "out", target_jsonl_config(tmp_path)
    target_jsonl = meltano.plugin_executable("loaders", "target-jsonl")

    tap_stderr = pipe(
        [str(VENV_BIN / "tap-crm"), "--config", str(config)],
        [str(target_jsonl), "--config", str(target_config)],
        cwd=tmp_path,
    )

    assert_one_line_per_record(jsonl_records(out), sandbox)
    assert sandbox.crm_config()["password"] not in tap_stderr  # secrets stay out of logs


def test_discovered_catalog_with_streams_deselected_syncs_only_the_selected(
    meltano, make_sandbox, tmp_path
):
    sandbox = make_sandbox(crm_api=CRMAPI(size=12))
    config = write_json(tmp_path / "config.json", sandbox.crm_config())
    tap_crm = str(VENV_BIN / "tap-crm")
    discovered = subprocess.run(
        [tap_crm, "--config", str(config), "--discover"],
        capture_output=True,
        text=True,
        env=clean_environ(),
        check=True,
    )
    catalog = json.loads(discovered.stdout)
    assert {entry["tap_stream_id"] for entry in catalog["streams"]} == set(CRM_KEYS)
    assert sandbox.requests_to("crm") == []  # discovery needs no API calls

    selected = {"contacts", "users", "bootstrap"}
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in selected
    catalog_file = write_json(tmp_path / "catalog.json", catalog)
    out, target_config = tmp_path / "out", target_jsonl_config(tmp_path)

    pipe(
        [tap_crm, "--config", str(config), "--catalog", str(catalog_file)],
        [str(meltano.plugin_executable("loaders", "target-jsonl")), "--config", str(target_config)],
        cwd=tmp_path,
    )

    written = jsonl_records(out)
    assert set(written) == selected
    for stream in selected:
        assert len(written[stream]) == len(sandbox.crm.expected(stream)), stream
    assert {r.path for r in sandbox.requests_to("crm")} == {f"/{s}" for s in selected}
