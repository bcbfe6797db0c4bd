"""Run a tap in-process and read its Singer messages back, as a target would."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import typing as t
from collections import Counter
from dataclasses import dataclass, field

import msgspec

from tests import prefork

_decode = msgspec.json.Decoder().decode


def _message(line: str) -> dict:
    """One message, as ``json.loads`` reads it: msgspec (some 3x faster on large records)
    gives the same objects, and declines what only ``json`` reads (NaN, 1e400, a lone
    surrogate), which ``json.loads`` then reads or rejects as before."""
    try:
        return _decode(line)
    except msgspec.DecodeError:
        return json.loads(line)


@dataclass
class SingerOutput:
    """Parsed Singer messages of one run, plus the error that ended it, if any."""

    messages: list[dict]
    error: BaseException | None = None
    records: dict[str, list[dict]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for message in self.messages:
            if message["type"] == "RECORD":
                self.records.setdefault(message["stream"], []).append(message["record"])

    @classmethod
    def parse(cls, text: str, error: BaseException | None = None) -> SingerOutput:
        return cls([_message(line) for line in text.splitlines() if line.strip()], error)

    @property
    def states(self) -> list[dict]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def final_state(self) -> dict:
        return self.states[-1]

    def schemas(self) -> dict[str, dict]:
        return {m["stream"]: m for m in self.messages if m["type"] == "SCHEMA"}

    def ids(self, stream: str, key: str = "id") -> list[t.Any]:
        return [r[key] for r in self.records.get(stream, [])]

    def duplicates(self, stream: str, key: str = "id") -> list[t.Any]:
        return [k for k, n in Counter(self.ids(stream, key)).items() if n > 1]


def select_streams(catalog: dict, streams: t.Iterable[str]) -> dict:
    """Mark only ``streams`` as selected, in the stream-level metadata of a catalog."""
    keep = set(streams)
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in keep
    return catalog


def catalog_selecting(tap_class: type, config: dict, streams: t.Iterable[str]) -> dict:
    """The tap's discovered catalog with only ``streams`` selected."""
    return select_streams(tap_class(config=config, parse_env_config=False).catalog_dict, streams)


def sync(
    tap_class: type,
    config: dict,
    *,
    state: dict | None = None,
    catalog: dict | None = None,
    expect_error: bool = False,
) -> SingerOutput:
    """Sync all selected streams and parse stdout; ``expect_error`` keeps a failed run's output."""
    stdout = io.StringIO()
    tap = tap_class(config=config, state=state, catalog=catalog, parse_env_config=False)
    error: BaseException | None = None
    with contextlib.redirect_stdout(stdout):
        try:
            # As the CLI does: a failed sync still emits the state it reached.
            getattr(tap, "sync_and_keep_state", tap.sync_all)()
        except Exception as exc:
            if not expect_error:
                raise
            error = exc
    if expect_error and error is None:
        msg = "the sync was expected to fail but succeeded"
        raise AssertionError(msg)
    return SingerOutput.parse(stdout.getvalue(), error)


# The environment the tests started in (before any test's monkeypatch).
BASE_ENVIRON = dict(os.environ)
# What ``python -m tap_crm.tap`` imports, imported once by the server the taps are forked from
# (tests/prefork.py); not the tap modules themselves: ``runpy`` runs them as ``__main__``.
TAP_PRELOAD = (
    "singer_sdk",
    "singer_sdk.typing",
    "tap_common.program.tap",
    "tap_common.program.settings",
    "tap_common.state.table_versions",
    "tap_crm.streams",
    "tap_calltracker.streams",
)


def run_module(
    module: str,
    *args: str,
    env: t.Mapping[str, str] | None = None,
    timeout: float = 60,
    text: bool = True,
) -> subprocess.CompletedProcess[t.Any]:
    """``python -m <module> <args>`` in a process of its own, output captured (as
    ``subprocess.run(..., capture_output=True)``): forked from a process that has imported
    the Singer SDK and the taps' modules (tests/prefork.py), or started plain with PREFORK=0."""
    env = dict(os.environ if env is None else env)
    if not prefork.enabled():
        return subprocess.run(
            [sys.executable, "-m", module, *args],
            capture_output=True,
            text=text,
            timeout=timeout,
            check=False,
            env=env,
        )
    server = prefork.server_for(TAP_PRELOAD, BASE_ENVIRON)
    program = {"module": module, "argv0": "-m"}
    return server.run(program, args, env=env, cwd=os.getcwd(), timeout=timeout, text=text)


def run_tap_cli(
    module: str, *args: str, config: dict | None = None, tmp_path: t.Any = None
) -> subprocess.CompletedProcess:
    """``python -m <module> <args> [--config <tmp_path>/config.json]``, as a user runs a tap."""
    if config is not None:
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        args = (*args, "--config", str(path))
    return run_module(module, *args)
