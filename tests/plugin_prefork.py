"""The plugins ``meltano run`` starts (the taps, target-postgres), forked from a process of
their own venv that has already imported them.

A ``meltano run tap-crm target-postgres`` starts three Python programs from the venvs
``meltano install`` made: the tap for discovery, the tap for the sync and the target. Each
spends 0.3-0.5 s of CPU importing the Singer SDK (and SQLAlchemy) before it reads a line,
and the end-to-end tests make some fifty such runs. Here, after ``meltano install``, each
of those console scripts is moved to ``.direct/`` in its ``bin`` directory and replaced by a
launcher. Meltano still starts the launcher as the plugin's executable, with its pipes,
environment and working directory; the launcher hands them (its descriptors 0, 1 and 2,
over a Unix socket: https://docs.python.org/3/library/socket.html#socket.send_fds) to a
server of the plugin's venv that has imported the plugin, and the server forks a child that
runs the console script as ``__main__`` with them. The launcher forwards SIGTERM and SIGINT
to the child and exits as the child did (with its code, or killed by the same signal), so
Meltano sees what it would see of the plugin itself.

Without ``TESTS_PLUGIN_PREFORK_DIR`` in its environment, or without a server listening
there, the launcher runs the console script itself (``exec``), as before the swap.

Protocol: the launcher sends one byte with its three descriptors, then a JSON line
``{"argv", "env", "cwd"}``; the server answers ``{"pid": ...}`` at once, then
``{"returncode": ...}`` (negative: the signal that ended it) when the child has exited.
A launcher that goes away before its child has ended takes the child with it (SIGKILL).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

if __package__:  # imported by the tests, as tests.plugin_prefork
    from tests.prefork import become, run_to_exit
else:  # run as the server, a script in a plugin's venv: this directory is on sys.path
    from prefork import become, run_to_exit  # type: ignore[no-redef]

ENV = "TESTS_PLUGIN_PREFORK_DIR"

# -- the server (runs as ``<venv>/bin/python plugin_prefork.py <socket> <module>...``) ----


def serve(socket_path: str, preload: t.Sequence[str]) -> None:
    del sys.path[0]  # this file's directory; each child gets its script's (run_script)
    for name in preload:
        with contextlib.suppress(ImportError):  # a module this version does not have
            importlib.import_module(name)
    # What the imports made stays as it is: the garbage collector no longer walks it, so a
    # child does not write to (and so copy) the pages those objects share with the server.
    # https://docs.python.org/3/library/gc.html#gc.freeze
    gc.freeze()
    control = os.dup(0)  # the test process's pipe: its end is the server's end
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes select through the wakeup fd
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path + ".new")
    listener.listen(16)
    os.rename(socket_path + ".new", socket_path)  # ready: the launchers may connect
    children: dict[int, socket.socket] = {}  # pid -> its launcher's connection
    server = os.getpid()
    try:
        while True:
            watched = [listener, wake_read, control, *children.values()]
            ready, _, _ = select.select(watched, [], [])
            if control in ready and not os.read(control, 1):
                return  # the test process is done (or gone)
            if wake_read in ready:
                os.read(wake_read, 512)
                _reap(children)
            for pid, connection in list(children.items()):
                if connection in ready and not connection.recv(1):
                    # The launcher went away first (killed): its child goes too.
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            if listener in ready:
                connection, _ = listener.accept()
                pid = _start(connection, listener, control, (wake_read, wake_write), children)
                if pid is not None:
                    children[pid] = connection
    finally:
        # A child unwinds through here too (its script's SystemExit): only the server cleans up.
        if os.getpid() == server:
            for pid in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(socket_path)


def _reap(children: dict[int, socket.socket]) -> None:
    while children:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            return
        connection = children.pop(pid, None)
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.sendall(_line({"returncode": os.waitstatus_to_exitcode(status)}))
            connection.close()


def _start(
    connection: socket.socket,
    listener: socket.socket,
    control: int,
    wake: tuple[int, int],
    children: dict[int, socket.socket],
) -> int | None:
    """Read a launcher's request and fork its child; the child's pid, or None."""
    connection.settimeout(30)
    try:
        _, fds, _, _ = socket.recv_fds(connection, 1, 3)
        data = b""
        while not data.endswith(b"\n"):
            chunk = connection.recv(65536)
            if not chunk:
                raise ConnectionError("the launcher went away")
            data += chunk
        request = json.loads(data)
        if len(fds) != 3:
            raise ValueError("expected the launcher's descriptors 0, 1 and 2")
    except (OSError, ValueError):
        connection.close()
        return None
    pid = os.fork()
    if pid == 0:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for sock in (listener, *children.values()):
            sock.close()
        for fd in (control, *wake):
            os.close(fd)
        connection.close()
        run_script(request, fds)  # never returns
    for fd in fds:
        os.close(fd)
    connection.settimeout(None)
    connection.sendall(_line({"pid": pid}))
    return pid


def run_script(request: dict[str, t.Any], fds: t.Sequence[int]) -> t.NoReturn:
    """In the child: take the launcher's descriptors, environment, working directory and
    arguments, and run the console script as ``__main__``, as its interpreter would."""
    import runpy  # noqa: PLC0415

    become(
        fds,
        cwd=request["cwd"],
        env=request["env"],
        argv=list(request["argv"]),
        path0=os.path.dirname(request["script"]),  # a script's own directory first
    )
    run_to_exit(lambda: runpy.run_path(request["script"], run_name="__main__"))


def _line(obj: object) -> bytes:
    return json.dumps(obj).encode() + b"\n"


# -- the launcher (what replaces the console script) ------------------------------------

LAUNCHER = """#!{python} -IS
# Written by tests/plugin_prefork.py over the console script `meltano install` made, which is
# now {script}: with {env} set, the script runs in a child forked from a server of this venv.
import json, os, signal, socket, sys

SCRIPT = {script!r}
directory = os.environ.get({env!r})
path = os.path.join(directory or "", {key!r} + ".sock")
if not directory or not os.path.exists(path):
    os.execv({python!r}, [{python!r}, SCRIPT, *sys.argv[1:]])
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.connect(path)
socket.send_fds(server, [b"F"], [0, 1, 2])
request = {{"script": SCRIPT, "argv": sys.argv, "env": dict(os.environ), "cwd": os.getcwd()}}
server.sendall(json.dumps(request).encode() + b"\\n")
answers = server.makefile("rb")
pid = json.loads(answers.readline())["pid"]


def forward(signum, frame):
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass  # it has just ended: its exit code is on the way


for signum in (signal.SIGTERM, signal.SIGINT):
    signal.signal(signum, forward)
line = answers.readline()
if not line:
    sys.stderr.write("plugin_prefork launcher: the server went away\\n")
    sys.exit(70)
returncode = json.loads(line)["returncode"]
if returncode < 0:
    signal.signal(-returncode, signal.SIG_DFL)
    os.kill(os.getpid(), -returncode)
sys.exit(returncode)
"""


def install_launcher(executable: Path, key: str) -> None:
    """Move ``executable`` (a console script in a venv's ``bin``) to ``bin/.direct/`` and
    write the launcher in its place."""
    direct = executable.parent / ".direct" / executable.name
    direct.parent.mkdir(exist_ok=True)
    executable.rename(direct)
    python = executable.parent / "python"
    executable.write_text(LAUNCHER.format(python=str(python), script=str(direct), env=ENV, key=key))
    executable.chmod(0o755)


# -- the servers (started by the test process) ------------------------------------------


class PluginServers:
    """One server per plugin venv, listening in a directory of their own."""

    def __init__(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="plugin-prefork-")  # short: sockets <108
        self._servers: list[subprocess.Popen[bytes]] = []

    def start(self, python: Path, key: str, preload: t.Sequence[str]) -> None:
        server = subprocess.Popen(
            [str(python), __file__, os.path.join(self.directory, key + ".sock"), *preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
        )
        self._servers.append(server)

    @property
    def pids(self) -> list[int]:
        return [server.pid for server in self._servers]

    def wait_ready(self, timeout: float = 60) -> None:
        """Until every server listens (it binds after its imports)."""
        deadline = time.monotonic() + timeout
        while len([p for p in os.listdir(self.directory) if p.endswith(".sock")]) < len(
            self._servers
        ):
            for server in self._servers:
                if server.poll() is not None:
                    raise RuntimeError(f"a plugin prefork server exited ({server.returncode})")
            if time.monotonic() > deadline:
                raise TimeoutError("the plugin prefork servers did not start")
            time.sleep(0.02)

    def close(self) -> None:
        for server in self._servers:
            if server.stdin is not None:
                server.stdin.close()  # the server ends when its input does
        for server in self._servers:
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        with contextlib.suppress(OSError):
            os.rmdir(self.directory)


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2:])
