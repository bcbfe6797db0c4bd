"""`scripts/demo`, the README's first command, works as written: no credentials -> sandbox."""

from __future__ import annotations

import subprocess

import pytest

from sandbox_api.__main__ import build_sandbox
from tests.e2e.conftest import REPO_ROOT, TAPS

pytestmark = pytest.mark.e2e


def test_demo_without_credentials_syncs_both_taps_from_the_sandbox_into_jsonl(meltano):
    # The session's Meltano system dir: plugins are already installed, state stays private.
    env = meltano.env()
    del env["MELTANO_ENVIRONMENT"]  # the demo picks the environment itself
    result = subprocess.run(
        ["bash", "scripts/demo"],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert "No credentials in the environment" in result.stdout

    # What `python -m sandbox_api` serves (deterministic data).
    with build_sandbox(port=0, size=25) as reference:
        for tap in TAPS:
            directory = REPO_ROOT / "output" / "sandbox" / tap.name
            for stream in tap.keys:
                lines = (directory / f"{stream}.jsonl").read_text().splitlines()
                assert len(lines) == len(tap.api_records(reference, stream)), (tap, stream)
