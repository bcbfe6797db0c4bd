"""The plugins Meltano starts in the end-to-end tests, forked by tests/plugin_prefork.py,
behave to Meltano as the console scripts they replace: same output on the same pipes, same
exit code, environment, working directory and arguments, signals passed on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import pytest

from tests import plugin_prefork

# A console script as pip writes them, that shows what it was given.
SCRIPT = """#!{python}
import json, os, signal, sys, time

mode = sys.argv[1]
if mode == "show":
    data = sys.stdin.read()
    print(json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd(), "x": os.environ.get("X"),
                      "stdin": data, "parent": os.getppid()}}))
    print("to stderr", file=sys.stderr)
    sys.exit(3)
if mode == "term":  # a handler of its own, as the taps have
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print("ready", flush=True)
    time.sleep(60)
if mode == "default":  # no handler: the signal ends it
    print("ready", flush=True)
    time.sleep(60)
if mode == "pid":
    print(os.getpid(), flush=True)
    time.sleep(60)
"""


@pytest.fixture
def plugin(tmp_path: Path) -> t.Iterator[tuple[Path, plugin_prefork.PluginServers]]:
    """A "venv" bin dir with a console script behind a launcher, and its server."""
    bin_dir = tmp_path / "extractors" / "tap-x" / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    executable = bin_dir / "tap-x"
    executable.write_text(SCRIPT.format(python=sys.executable))
    executable.chmod(0o755)
    plugin_prefork.install_launcher(executable, "extractors__tap-x")
    servers = plugin_prefork.PluginServers()
    servers.start(Path(sys.executable), "extractors__tap-x", ["json"])
    servers.wait_ready()
    yield executable, servers
    servers.close()


def run(executable: Path, *args: str, env: dict[str, str], **kwargs: t.Any):
    return subprocess.run(
        [str(executable), *args],
        env={**os.environ, "X": "from the caller", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        **kwargs,
    )


def test_a_forked_plugin_gets_the_launchers_pipes_arguments_environment_and_cwd(plugin, tmp_path):
    executable, servers = plugin
    forked_env = {plugin_prefork.ENV: servers.directory}
    results = {}
    for name, env in (("forked", forked_env), ("direct", {plugin_prefork.ENV: ""})):
        results[name] = run(executable, "show", "a b", env=env, cwd=tmp_path, input="in\n")
    for result in results.values():
        assert result.returncode == 3
        assert result.stderr == "to stderr\n"
    shown = {name: json.loads(result.stdout) for name, result in results.items()}
    for answer in shown.values():
        assert answer.pop("stdin") == "in\n"
        assert (answer["argv"], answer["cwd"], answer["x"]) == (
            ["show", "a b"],
            str(tmp_path),
            "from the caller",
        )
    # Forked by the server (its parent), not run by the launcher.
    assert shown["forked"]["parent"] != shown["direct"]["parent"]
    assert shown["forked"]["parent"] == servers.pids[0]


def test_the_server_forks_one_child_after_another(plugin):
    executable, servers = plugin
    env = {plugin_prefork.ENV: servers.directory}
    for _ in range(3):
        result = run(executable, "show", env=env, input="")
        assert result.returncode == 3
        assert json.loads(result.stdout)["parent"] == servers.pids[0]


@pytest.mark.parametrize(("mode", "returncode"), [("term", 143), ("default", -signal.SIGTERM)])
def test_sigterm_to_the_launcher_reaches_the_plugin_and_its_exit_comes_back(
    plugin, mode, returncode
):
    executable, servers = plugin
    process = subprocess.Popen(
        [str(executable), mode],
        env={**os.environ, plugin_prefork.ENV: servers.directory},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "ready\n"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == returncode
    process.stdout.close()


def test_a_killed_launcher_takes_its_plugin_with_it(plugin):
    executable, servers = plugin
    process = subprocess.Popen(
        [str(executable), "pid"],
        env={**os.environ, plugin_prefork.ENV: servers.directory},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    child = int(process.stdout.readline())
    process.kill()
    process.wait(timeout=30)
    process.stdout.close()
    deadline = time.monotonic() + 30
    while Path(f"/proc/{child}").exists() and _state(child) != "Z":
        assert time.monotonic() < deadline, "the plugin outlived its launcher"
        time.sleep(0.05)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return "gone"
