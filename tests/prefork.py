"""Programs the tests start (``meltano``, ``python -m tap_crm.tap``), forked from a process
that has already imported them.

A ``meltano`` command spends most of a second of CPU importing Meltano before it reads
``meltano.yml``, a tap some 0.4 s importing the Singer SDK; the suite starts about a hundred
of them. This module, run as a script with the venv's Python, imports the modules it is given
once, then forks one child per command. The child takes the command's working directory,
environment, arguments and standard streams (files), and runs the program's own entry point:
a console script's function (``meltano.cli:main``, as the ``meltano`` executable does) or a
module as ``__main__`` (as ``python -m`` does, through ``runpy``). It exits as the
interpreter's exit would, less the teardown of every module (``run_to_exit``). The server only imports before it forks (no command has run in
it), so each child starts as a fresh process of that program would, with its own process id
for exit codes and signals. https://docs.python.org/3/library/os.html#os.fork
https://docs.python.org/3/library/runpy.html#runpy.run_module

Protocol (one JSON object per line): the test process writes ``{"entry" or "module", "argv0",
"args", "env", "cwd", "stdin", "stdout", "stderr"}`` (the last three: files for the child's
standard streams); the server answers ``{"pid": ...}`` at once, then ``{"returncode": ...}``
when the child has exited.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
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

# -- the server (runs as ``python prefork.py <module to import>...`` in the venv) ------------


def serve(preload: t.Sequence[str]) -> None:
    del sys.path[0]  # this file's directory; each child gets its program's (run_command)
    for name in preload:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    # What the imports made stays as it is: the garbage collector no longer walks it, so a
    # child does not write to (and so copy) the pages those objects share with the server.
    # https://docs.python.org/3/library/gc.html#gc.freeze
    gc.freeze()
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
            run_command(request)  # never returns: the interpreter exits with the command's code
        answers.write(json.dumps({"pid": pid}) + "\n")
        answers.flush()
        _, status = os.waitpid(pid, 0)
        answers.write(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}) + "\n")
        answers.flush()


def run_command(request: dict[str, t.Any]) -> t.NoReturn:
    """In the child: become the command and run it."""
    os.setpgid(0, 0)  # its own group: a timeout stops it and the programs it started
    stdin = os.open(request["stdin"], os.O_RDONLY)
    stdout = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    stderr = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # What a fresh process has first on its path: `python -m` the working directory, a
    # console script its own directory.
    path0 = request["cwd"] if "module" in request else os.path.dirname(request["argv0"])
    become(
        (stdin, stdout, stderr),
        cwd=request["cwd"],
        env=request["env"],
        argv=[request["argv0"], *request["args"]],
        path0=path0,
    )
    if module := request.get("module"):
        import runpy  # noqa: PLC0415

        run_to_exit(lambda: runpy.run_module(module, run_name="__main__", alter_sys=True))
    module_name, function = request["entry"].split(":")
    run_to_exit(getattr(importlib.import_module(module_name), function))


def become(
    fds: t.Sequence[int], *, cwd: str, env: t.Mapping[str, str], argv: list[str], path0: str
) -> None:
    """In a forked child: take ``fds`` as standard input, output and error (closing them),
    and the caller's working directory, environment, arguments and first path entry."""
    for source, target in zip(fds, (0, 1, 2), strict=True):
        os.dup2(source, target)
        os.close(source)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    sys.argv = argv
    sys.path.insert(0, path0)


def run_to_exit(main: t.Callable[[], object]) -> t.NoReturn:
    """Run a forked child's program, then end the child as the interpreter's own exit does,
    less the teardown of every module: that teardown touches the objects the child shares
    with its server (reference counts), and so copies most of the server's memory, some
    0.1 s of CPU per child. What an exit owes the program is kept, in the interpreter's
    order: the exit code (``SystemExit``: None is 0, a message is printed and is 1), an
    uncaught exception's traceback and code 1, waiting for non-daemon threads, the
    ``atexit`` functions (``logging.shutdown`` among them), flushed standard streams.
    https://docs.python.org/3/library/sys.html#sys.exit
    https://docs.python.org/3/library/atexit.html"""
    code = 0
    try:
        returned = main()
        code = returned if isinstance(returned, int) else 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:
        sys.excepthook(*sys.exc_info())
        code = 1
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()  # what the interpreter runs at exit
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code & 0xFF)


# -- the client (in the test process) ------------------------------------------------------


class Prefork:
    """One server for a set of modules; ``run`` is ``subprocess.run(..., capture_output=True)``."""

    def __init__(self, preload: t.Sequence[str], env: t.Mapping[str, str]) -> None:
        self._server = subprocess.Popen(
            [sys.executable, __file__, *preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=dict(env),
            bufsize=0,
        )
        self._lock = threading.Lock()
        self._unread = b""  # answers received but not yet read
        atexit.register(self.close)

    def run(
        self,
        program: dict[str, str],
        args: t.Sequence[str],
        *,
        env: t.Mapping[str, str],
        cwd: Path | str,
        timeout: float,
        text: bool = True,
    ) -> subprocess.CompletedProcess[t.Any]:
        """Run ``program`` (``{"entry": "pkg.mod:function", "argv0": script path}`` or
        ``{"module": "pkg.mod", "argv0": "-m"}``) with ``args``; its output is captured."""
        server = self._server
        assert server.stdin is not None
        with self._lock, tempfile.TemporaryDirectory(prefix="prefork-") as out:
            stdout, stderr = Path(out) / "stdout", Path(out) / "stderr"
            request = {
                **program,
                "args": list(args),
                "env": dict(env),
                "cwd": str(cwd),
                "stdin": os.devnull,
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
            if "module" in program:
                argv = [sys.executable, "-m", program["module"], *args]
            else:
                argv = [program["argv0"], *args]
            if text:
                return subprocess.CompletedProcess(
                    argv, returncode, stdout.read_text(), stderr.read_text()
                )
            return subprocess.CompletedProcess(
                argv, returncode, stdout.read_bytes(), stderr.read_bytes()
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
                raise subprocess.TimeoutExpired(["prefork"], timeout)
            chunk = os.read(server.stdout.fileno(), 65536)
            if not chunk:
                msg = f"the prefork server exited ({server.wait()})"
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


def enabled() -> bool:
    """Off with PREFORK=0 in the environment (every program then starts as its own process)."""
    return os.environ.get("PREFORK") != "0"


_servers: dict[tuple[str, ...], Prefork] = {}
_servers_lock = threading.Lock()


def server_for(preload: t.Sequence[str], env: t.Mapping[str, str]) -> Prefork:
    """This test process's server for ``preload``, started on first use."""
    with _servers_lock:
        key = tuple(preload)
        if key not in _servers:
            _servers[key] = Prefork(preload, env)
        return _servers[key]


if __name__ == "__main__":
    serve(sys.argv[1:])
