"""The sandbox API in its own process, so its server threads never share the measured client's GIL.

``RemoteSandbox`` starts ``python -m benchmarks.remote SPEC`` and talks to it in JSON lines
over stdin/stdout: the child builds the ``Sandbox``, says where it listens (with ready-made
tap configs), then answers commands: switch a rate limit on or off, and read the request
log (statuses) the benchmark uses to count throttle answers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import typing as t
from pathlib import Path

from sandbox_api import CRMAPI, Sandbox
from sandbox_api.calltracker import CallTrackerAPI
from sandbox_api.rate_headers import RateHeaders

REPO = Path(__file__).resolve().parent.parent


def _build(spec: dict[str, t.Any]) -> Sandbox:
    kwargs: dict[str, t.Any] = {"crm_api": CRMAPI(**(spec.get("crm") or {"size": 1}))}
    if spec.get("calltracker") is not None:
        kwargs["calltracker_api"] = CallTrackerAPI(**spec["calltracker"])
    sandbox = Sandbox(**kwargs)
    sandbox.answer_once = bool(spec.get("answer_once"))
    sandbox.start()
    return sandbox


def _serve(spec: dict[str, t.Any]) -> None:
    sandbox = _build(spec)
    info = {"crm_config": sandbox.crm_config(), "crm_url": sandbox.crm_url}
    if spec.get("calltracker") is not None:
        info["calltracker_config"] = sandbox.calltracker_config()
        info["calltracker_url"] = sandbox.calltracker_url
    _answer(info)
    for line in sys.stdin:
        command, args = json.loads(line)
        if command == "stop":
            break
        if command == "rate_limit":
            sandbox.faults.rate_limit(**args)
            _answer(None)
        elif command == "sliding_window":
            sandbox.faults.sliding_window(**args)
            _answer(None)
        elif command == "rate_headers":
            sandbox.calltracker.rate_headers = RateHeaders(**args)
            _answer(None)
        elif command == "clear_faults":
            sandbox.faults.clear()
            _answer(None)
        elif command == "clear_log":
            sandbox.clear_log()
            _answer(None)
        elif command == "serve_seconds":
            # Seconds the server took to build each 200 answer to one API.
            _answer([r.seconds for r in sandbox.requests_to(args["api"]) if r.status == 200])
        elif command == "statuses":
            # (status, unix time) of each logged request to one API, oldest first.
            _answer([(r.status, r.at) for r in sandbox.requests_to(args["api"])])
        else:
            _answer({"error": f"unknown command {command!r}"})
    sandbox.stop()


def _answer(value: t.Any) -> None:
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


class RemoteSandbox:
    """``RemoteSandbox(crm={"size": 10, "sizes": {...}})``; a context manager stops it."""

    def __init__(
        self,
        crm: dict[str, t.Any] | None = None,
        calltracker: dict[str, t.Any] | None = None,
        *,
        answer_once: bool = False,
    ) -> None:
        """``answer_once``: every answer is built once and then served from memory."""
        spec = json.dumps({"crm": crm, "calltracker": calltracker, "answer_once": answer_once})
        self._process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.remote", spec],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        # Building 300,000 records takes a while; the first line says it is listening.
        self.info: dict[str, t.Any] = self._read()

    def _read(self) -> t.Any:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            msg = "the sandbox process ended unexpectedly"
            raise RuntimeError(msg)
        answer = json.loads(line)
        if isinstance(answer, dict) and set(answer) == {"error"}:
            raise RuntimeError(answer["error"])
        return answer

    def _call(self, command: str, **args: t.Any) -> t.Any:
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps([command, args]) + "\n")
        self._process.stdin.flush()
        return self._read()

    def rate_limit(self, limit: int, window: float, api: str | None = None) -> None:
        self._call("rate_limit", limit=limit, window=window, api=api)

    def sliding_window(self, average: float, burst: int, api: str | None = None) -> None:
        self._call("sliding_window", average=average, burst=burst, api=api)

    def rate_headers(self, on_429_only: bool, reset_form: str) -> None:
        self._call("rate_headers", on_429_only=on_429_only, reset_form=reset_form)

    def clear_faults(self) -> None:
        self._call("clear_faults")

    def clear_log(self) -> None:
        self._call("clear_log")

    def statuses(self, api: str) -> list[tuple[int, float]]:
        return [tuple(pair) for pair in self._call("statuses", api=api)]

    def serve_seconds(self, api: str) -> list[float]:
        return [float(s) for s in self._call("serve_seconds", api=api)]

    def stop(self) -> None:
        if self._process.poll() is None:
            try:
                assert self._process.stdin is not None
                self._process.stdin.write(json.dumps(["stop", {}]) + "\n")
                self._process.stdin.close()
                self._process.wait(10)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()

    def __enter__(self) -> RemoteSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    _serve(json.loads(sys.argv[1]))
