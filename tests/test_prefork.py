"""The test harness's forked programs (tests/prefork.py) behave as the same programs started
as their own processes: same output, exit code, environment and working directory."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests import prefork
from tests.singer_io import TAP_PRELOAD, run_module


def plain(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def untimed(log: str) -> str:
    """Log lines without their time of day."""
    return re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+", "<time>", log, flags=re.MULTILINE)


@pytest.mark.parametrize(
    "args",
    [
        ("tap_crm.tap", "--about", "--format=json"),
        ("tap_calltracker.tap", "--about", "--format=markdown"),
        ("tap_crm.tap", "--config", "/nonexistent/config.json"),  # one line, exit 1
        ("tap_calltracker.tap", "--no-such-option"),  # click's usage error, exit 2
    ],
)
def test_a_forked_tap_answers_as_a_tap_process_does(args):
    forked = run_module(*args)
    started = plain(*args)
    assert (forked.returncode, forked.stdout, untimed(forked.stderr)) == (
        started.returncode,
        started.stdout,
        untimed(started.stderr),
    )
    assert forked.stdout or forked.stderr


def test_the_child_gets_the_callers_environment_cwd_and_arguments(tmp_path):
    server = prefork.server_for(TAP_PRELOAD, os.environ)
    script = (
        "import json, os, sys; "
        "print(json.dumps([os.getcwd(), dict(os.environ), sys.argv[1:], sys.path[0]]))"
    )
    (tmp_path / "show.py").write_text(script)
    env = {"X": "from the caller", "PATH": os.environ.get("PATH", "")}
    result = server.run(
        {"module": "show", "argv0": "-m"}, ["a", "b c"], env=env, cwd=tmp_path, timeout=60
    )
    assert result.returncode == 0, result.stderr
    # The caller's environment only: nothing left of the server's.
    assert json.loads(result.stdout) == [str(tmp_path), env, ["a", "b c"], str(tmp_path)]
    assert "X" not in os.environ  # the caller's own environment is untouched


def test_a_child_past_its_timeout_is_stopped_and_the_server_goes_on(tmp_path):
    server = prefork.server_for(TAP_PRELOAD, os.environ)
    (tmp_path / "hang.py").write_text("import time; time.sleep(60)")
    program = {"module": "hang", "argv0": "-m"}
    with pytest.raises(subprocess.TimeoutExpired):
        server.run(program, [], env=dict(os.environ), cwd=tmp_path, timeout=0.5)
    (tmp_path / "exits.py").write_text("raise SystemExit(3)")
    program = {"module": "exits", "argv0": "-m"}
    assert server.run(program, [], env=dict(os.environ), cwd=tmp_path, timeout=60).returncode == 3


@pytest.mark.parametrize(
    ("body", "returncode", "stdout", "stderr"),
    [
        ("print('out', end='')", 0, "out", ""),  # buffered, flushed at exit
        ("import sys; sys.exit(None)", 0, "", ""),
        ("import sys; sys.exit(7)", 7, "", ""),
        ("import sys; sys.exit('a message')", 1, "", "a message\n"),
        ("raise ValueError('boom')", 1, "", "ValueError: boom\n"),
        # atexit functions run, as at an interpreter's exit
        ("import atexit; atexit.register(print, 'at exit', end='')", 0, "at exit", ""),
        # a non-daemon thread is waited for
        (
            "import threading, time\n"
            "threading.Thread(target=lambda: (time.sleep(0.2), print('late', end=''))).start()",
            0,
            "late",
            "",
        ),
    ],
)
def test_a_child_exits_as_the_interpreter_would(tmp_path, body, returncode, stdout, stderr):
    server = prefork.server_for(TAP_PRELOAD, os.environ)
    (tmp_path / "program.py").write_text(body)
    program = {"module": "program", "argv0": "-m"}
    forked = server.run(program, [], env=dict(os.environ), cwd=tmp_path, timeout=60)
    started = subprocess.run(
        [sys.executable, "-m", "program"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False,
    )  # fmt: skip
    for result in (forked, started):
        assert result.returncode == returncode
        assert result.stdout == stdout
        assert result.stderr.endswith(stderr)
