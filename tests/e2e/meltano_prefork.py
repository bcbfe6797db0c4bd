"""``meltano`` commands started from a process that has already imported Meltano.

Every ``meltano`` command spends most of a second of CPU importing Meltano (its CLI imports
every command's module) before it reads ``meltano.yml``; the end-to-end tests run some fifty
commands per session. This module, run as a script with the venv's Python, imports Meltano
once and then forks one child per command: the child sets the command's working directory,
environment, arguments and standard streams, and runs Meltano's own console-script entry point
(``meltano.cli:main``) exactly as the ``meltano`` executable does, then exits through the
interpreter's normal shutdown. Nothing of Meltano has run in the parent before the fork (only
imports), so each command starts from the same state a fresh ``meltano`` process would.
https://docs.python.org/3/library/os.html#os.fork

Protocol (one JSON object per line): the test process writes ``{"args", "env", "cwd",
"stdout", "stderr"}`` (the last two: files the child writes its output to); the server answers
``{"pid": ...}`` at once, then ``{"returncode": ...}`` when the child has exited.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from pathlib import Path

# What a `meltano run` imports after its CLI (seen with `python -X importtime`): the system
# database's migration check (alembic, mako), SQLite and PostgreSQL dialects, TOML.
PRELOADED = (
    "meltano.cli",
    "alembic.command",
    "alembic.runtime.migration",
    "alembic.script",
    "mako.template",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.postgresql",
    "sqlite3",
    "tomllib",
)


# -- the server (runs as ``python meltano_prefork.py`` in the venv) --------------------------


def serve() -> None:
    for name in PRELOADED:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    # The protocol gets its own descriptors; 0, 1 and 2 are the commands' (set per child).
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    for line in requests:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            requests.close()
            answers.close()
            run_command(request)  # never returns: the interpreter exits with meltano's code
        answers.write(json.dumps({"pid": pid}) + "\n")
        answers.flush()
        _, status = os.waitpid(pid, 0)
        answers.write(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}) + "\n")
        answers.flush()


def run_command(request: dict[str, t.Any]) -> t.NoReturn:
    """In the child: become the command ``meltano <args>`` and run it."""
    os.setpgid(0, 0)  # its own group: a timeout stops Meltano and the plugins it started
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    stdin = os.open(os.devnull, os.O_RDONLY)
    stdout = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    stderr = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    for source, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
        os.dup2(source, target)
        os.close(source)
    sys.argv = ["meltano", *request["args"]]
    from meltano.cli import main  # noqa: PLC0415 (imported by serve() already)

    sys.exit(main())  # as the `meltano` console script does


# -- the client (in the test process) ------------------------------------------------------


class MeltanoPrefork:
    """One server per test process; ``run`` is ``subprocess.run([meltano, *args], ...)``."""

    def __init__(self, python: Path, env: t.Mapping[str, str]) -> None:
        self._server = subprocess.Popen(
            [str(python), __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=dict(env),
            bufsize=0,
        )
        self._lock = threading.Lock()
        self._unread = b""  # answers received but not yet read
        atexit.register(self.close)

    def run(
        self, args: t.Sequence[str], *, env: t.Mapping[str, str], cwd: Path, timeout: float
    ) -> subprocess.CompletedProcess[str]:
        server = self._server
        assert server.stdin is not None
        with self._lock, tempfile.TemporaryDirectory(prefix="meltano-output-") as out:
            stdout, stderr = Path(out) / "stdout", Path(out) / "stderr"
            request = {
                "args": list(args),
                "env": dict(env),
                "cwd": str(cwd),
                "stdout": str(stdout),
                "stderr": str(stderr),
            }
            server.stdin.write(json.dumps(request).encode() + b"\n")
            server.stdin.flush()
            pid = json.loads(self._answer(timeout=30))["pid"]
            try:
                returncode = json.loads(self._answer(timeout=timeout))["returncode"]
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, 9)
                self._answer(timeout=30)  # the server reaps it and reports
                raise
            return subprocess.CompletedProcess(
                ["meltano", *args],
                returncode,
                stdout.read_text(errors="replace"),
                stderr.read_text(errors="replace"),
            )

    def _answer(self, timeout: float) -> bytes:
        """The server's next line, read unbuffered (so that ``select`` sees what is pending)."""
        server = self._server
        assert server.stdout is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self._unread:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([server.stdout], [], [], max(left, 0))
            if not ready:
                raise subprocess.TimeoutExpired(["meltano"], timeout)
            chunk = os.read(server.stdout.fileno(), 65536)
            if not chunk:
                msg = f"the meltano prefork server exited ({server.wait()})"
                raise RuntimeError(msg)
            self._unread += chunk
        line, self._unread = self._unread.split(b"\n", 1)
        return line

    def close(self) -> None:
        """Stop the server (it ends when its input does)."""
        for pipe in (self._server.stdin, self._server.stdout):
            if pipe is not None:
                pipe.close()
        self._server.wait(timeout=30)


if __name__ == "__main__":
    serve()
