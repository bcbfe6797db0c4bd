"""The other two ways users run the taps: `meltano run ... target-jsonl`, and a plain Singer pipe
(also with a discovered, edited catalog passed back with --catalog)."""

from __future__ import annotations

import json
import subprocess
import typing as t
from pathlib import Path

import pytest

from tests.e2e.conftest import VENV_BIN, TapCase, clean_environ, make_both_apis, sandbox_env
from tests.singer_io import select_streams

if t.TYPE_CHECKING:
    from tests.singer_io import SingerOutput

pytestmark = pytest.mark.e2e

# Streams kept when testing a catalog with the others deselected: a paginated one, a small
# list, and a single-object endpoint.
KEEP = {
    "tap-crm": {"contacts", "users", "bootstrap"},
    "tap-calltracker": {"calls", "users", "company"},
}


def jsonl_records(directory: Path) -> dict[str, list[dict]]:
    """``<stream>.jsonl`` files -> records, one JSON object per line."""
    return {
        path.stem: [json.loads(line) for line in path.read_text().splitlines()]
        for path in sorted(directory.glob("*.jsonl"))
    }


def assert_one_line_per_record(
    written: dict[str, list[dict]], reference: SingerOutput, tap: TapCase, streams: set[str]
) -> None:
    assert set(written) == streams
    for stream in streams:
        key = tap.keys[stream]
        lines = sorted(tuple(r[k] for k in key) for r in written[stream])
        records = sorted(tuple(r[k] for k in key) for r in reference.records.get(stream, []))
        assert lines == records, stream


def pipe(tap: list[str], target: list[str], cwd: Path) -> str:
    """``tap | target`` as a shell runs it; returns the tap's stderr."""
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


def test_meltano_run_into_target_jsonl_writes_one_line_per_record(
    meltano, make_sandbox, tmp_path, tap_case
):
    sandbox = make_both_apis(make_sandbox, size=15)
    reference = tap_case.reference(sandbox)
    env = {**sandbox_env(sandbox), "TARGET_JSONL_DESTINATION_PATH": str(tmp_path)}

    meltano("run", "--state-id-suffix", "jsonl", tap_case.name, "target-jsonl", env=env)

    assert_one_line_per_record(jsonl_records(tmp_path), reference, tap_case, set(tap_case.keys))


def test_plain_pipe_from_tap_into_target_jsonl(meltano, make_sandbox, tmp_path, tap_case):
    sandbox = make_both_apis(make_sandbox, size=12)
    reference = tap_case.reference(sandbox)
    config = write_json(tmp_path / "config.json", tap_case.config(sandbox, page_size=5))

    tap_stderr = pipe(
        [str(VENV_BIN / tap_case.name), "--config", str(config)],
        [str(meltano.plugin_executable("loaders", "target-jsonl")), "--config",
         str(target_jsonl_config(tmp_path))],
        cwd=tmp_path,
    )  # fmt: skip

    written = jsonl_records(tmp_path / "out")
    assert_one_line_per_record(written, reference, tap_case, set(tap_case.keys))
    secrets = [v for k, v in tap_case.config(sandbox).items() if k in {"password", "api_token"}]
    assert secrets
    assert all(secret not in tap_stderr for secret in secrets)


def test_discovered_catalog_with_streams_deselected_syncs_only_the_selected(
    meltano, make_sandbox, tmp_path, tap_case
):
    sandbox = make_both_apis(make_sandbox, size=12)
    reference = tap_case.reference(sandbox)
    config = write_json(tmp_path / "config.json", tap_case.config(sandbox))
    tap = str(VENV_BIN / tap_case.name)
    discovered = subprocess.run(
        [tap, "--config", str(config), "--discover"],
        capture_output=True,
        text=True,
        env=clean_environ(),
        check=True,
    )
    catalog = json.loads(discovered.stdout)
    assert {entry["tap_stream_id"] for entry in catalog["streams"]} == set(tap_case.keys)
    assert sandbox.requests_to(tap_case.api) == []  # discovery makes no API calls

    keep = KEEP[tap_case.name]
    select_streams(catalog, keep)
    catalog_file = write_json(tmp_path / "catalog.json", catalog)

    pipe(
        [tap, "--config", str(config), "--catalog", str(catalog_file)],
        [str(meltano.plugin_executable("loaders", "target-jsonl")), "--config",
         str(target_jsonl_config(tmp_path))],
        cwd=tmp_path,
    )  # fmt: skip

    assert_one_line_per_record(jsonl_records(tmp_path / "out"), reference, tap_case, keep)
    requested = {r.path for r in sandbox.requests_to(tap_case.api)}
    assert requested == {tap_case.paths[s] for s in keep}
