"""Both taps' command lines: discovery, and wrong credentials as one clear line."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field

import pytest

from sandbox_api import CRMAPI, CallTrackerAPI
from tap_calltracker.streams import STREAM_TYPES as CALLTRACKER_STREAMS
from tap_crm.streams import STREAM_TYPES as CRM_STREAMS


@dataclass
class Tap:
    api: str
    module: str
    secret: str
    refusal: str  # how the API says "wrong credentials"
    settings: str
    streams: list[str]
    keys: dict[str, list[str]] = field(default_factory=dict)  # all others: ["id"]


TAPS = [
    Tap(
        "crm",
        "tap_crm.tap",
        "password",
        "refused the credentials (401",
        "check the 'username' and 'password' settings",
        [s.name for s in CRM_STREAMS],
        {"bootstrap": ["user_id"]},
    ),
    Tap(
        "calltracker",
        "tap_calltracker.tap",
        "api_token",
        "refused the credentials (403",
        "check the 'api_id' and 'api_token' settings",
        [s.name for s in CALLTRACKER_STREAMS],
        {"webhooks": ["webhook_id"], "company": ["company_key"]},
    ),
]


def run(tap: Tap, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", tap.module, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("tap", TAPS, ids=lambda tap: tap.api)
def test_bad_credentials_exit_nonzero_at_once_with_one_clear_line(make_sandbox, tmp_path, tap):
    sandbox = make_sandbox(crm_api=CRMAPI(size=3), calltracker_api=CallTrackerAPI(size=3))
    config = getattr(sandbox, f"{tap.api}_config")(**{tap.secret: "s3cr3t-wrong-key"})
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    started = time.monotonic()
    result = run(tap, "--config", str(config_file))

    assert result.returncode == 1
    assert time.monotonic() - started < 10  # interpreter start included; the API answers at once
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, result.stderr
    assert tap.refusal in errors[0]
    assert tap.settings in errors[0]
    assert "Traceback" not in result.stderr
    assert "s3cr3t-wrong-key" not in result.stderr + result.stdout
    assert len(sandbox.requests_to(tap.api)) == 1  # no retries


@pytest.mark.parametrize("tap", TAPS, ids=lambda tap: tap.api)
def test_discover_lists_every_stream_with_its_key_properties(tap):
    result = run(tap, "--discover")

    assert result.returncode == 0, result.stderr
    catalog = json.loads(result.stdout)
    keys = {s["tap_stream_id"]: s["key_properties"] for s in catalog["streams"]}
    assert sorted(keys) == sorted(tap.streams)
    assert keys == {name: tap.keys.get(name, ["id"]) for name in tap.streams}
