"""SIGTERM and SIGINT mid-sync: exit 143 / 130, the last STATE written, and a resumed run
that together with the interrupted one holds every record."""

from __future__ import annotations

import io
import itertools
import json
import signal
import subprocess
import sys
import threading
import time
import typing as t

import pytest

from sandbox_api import CRMAPI
from tap_common.messages import signals
from tap_crm.streams import STREAM_TYPES
from tap_crm.tap import TapCRM
from tests.singer_io import SingerOutput, sync

SIZE = 45  # five pages of 10 per list


def start_tap(
    config_file: str, stderr: t.IO[str]
) -> tuple[subprocess.Popen, list[str], threading.Thread]:
    """The tap as a subprocess; its stdout lines are collected as they come."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tap_crm.tap", "--config", config_file],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        lines.extend(process.stdout)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return process, lines, reader


def interrupt_after(sandbox, process, requests: int, signum: int) -> int:
    deadline = time.monotonic() + 60
    while len(sandbox.requests_to("crm")) < requests:
        assert process.poll() is None, "the sync ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signum)
    return process.wait(timeout=60)


@pytest.mark.waits
@pytest.mark.parametrize(
    ("signum", "exit_code", "requests"),
    [
        (signal.SIGTERM, 143, 3),  # in actions (sorted, bookmark per page)
        (signal.SIGTERM, 143, 9),  # in companies (newest first: progress markers only)
        (signal.SIGTERM, 143, 14),  # in contacts, after four streams
        (signal.SIGINT, 130, 6),
    ],
)
def test_signal_mid_sync_exits_non_zero_with_last_state_and_resume_loses_nothing(
    make_sandbox, tmp_path, signum, exit_code, requests
):
    sandbox = make_sandbox(crm_api=CRMAPI(size=SIZE))
    config = sandbox.crm_config(page_size=10)
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    # Slow answers, so the signal lands while the sync is still running.
    slow = sandbox.faults.slow(0.2, times=None, api="crm")

    with (tmp_path / "stderr.log").open("w+") as stderr_file:
        process, lines, reader = start_tap(str(config_file), stderr_file)
        returncode = interrupt_after(sandbox, process, requests, signum)
        reader.join(timeout=10)
        process.stdout.close()
        stderr_file.seek(0)
        stderr = stderr_file.read()

    assert returncode == exit_code, stderr
    assert "Traceback" not in stderr
    assert "unhandled error" not in stderr
    errors = [line for line in stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, stderr
    name = signal.Signals(signum).name
    assert f"interrupted by {name} (exit code {exit_code})" in errors[0]
    assert "where the next run resumes" in errors[0]
    # Every line is a whole message, and the last is the STATE to resume from.
    first = SingerOutput.parse("".join(lines))
    assert first.messages[-1]["type"] == "STATE"
    assert sum(len(records) for records in first.records.values()) < SIZE * len(STREAM_TYPES)

    slow.times = 0  # off
    resumed = sync(TapCRM, config, state=first.final_state)
    for stream in STREAM_TYPES:
        key = stream.primary_keys[0]
        held = {record[key] for record in sandbox.crm.expected(stream.name)}
        got = set(first.ids(stream.name, key)) | set(resumed.ids(stream.name, key))
        assert got == held, stream.name


def interrupted_sync(
    tap: TapCRM, stdout: io.StringIO, previous: dict[int, t.Any]
) -> signals.SyncInterrupted:
    """Run ``tap``'s sync in this process with ``stdout`` as its output; it must end with
    ``SyncInterrupted``, which is returned. The signal handlers that were installed before
    the tap (``previous``) and the signal guard are restored afterwards."""
    real_stdout = sys.stdout
    try:
        sys.stdout = stdout
        with pytest.raises(signals.SyncInterrupted) as raised:
            tap.sync_and_keep_state()
    finally:
        sys.stdout = real_stdout
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        signals.GUARD.reset()
    return raised.value


def test_signal_while_a_message_is_written_waits_for_the_end_of_the_line(make_sandbox):
    """A signal delivered in the middle of a write is held until the line is complete."""
    sandbox = make_sandbox(crm_api=CRMAPI(size=3))
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    tap = TapCRM(config=sandbox.crm_config(), parse_env_config=False)  # installs its handlers

    class SignalMidWrite(io.StringIO):
        """stdout that receives SIGTERM halfway through the first RECORD line."""

        def write(self, text: str) -> int:
            if '"type":"RECORD"' in text and "signalled" not in self.__dict__:
                self.signalled = True
                half = len(text) // 2
                super().write(text[:half])
                signal.raise_signal(signal.SIGTERM)  # the handler runs here, mid-line
                return super().write(text[half:])
            return super().write(text)

    stdout = SignalMidWrite()
    raised = interrupted_sync(tap, stdout, previous)

    assert raised.exit_code == 143
    out = SingerOutput.parse(stdout.getvalue())  # every line parses: none was cut
    records = [m for m in out.messages if m["type"] == "RECORD"]
    assert len(records) == 1  # the one being written when the signal came, whole
    assert out.messages[-1]["type"] == "STATE"


class _SignalledWhenCollected(io.RawIOBase):
    """An io object that receives SIGTERM when it is collected: CPython's io finalizer reads
    ``closed`` (here Python code, as urllib3's ``HTTPResponse.closed`` is), the handler runs
    there, and the finalizer clears what it raises without a word."""

    def __init__(self, raised: list[BaseException]) -> None:
        super().__init__()
        self.raised = raised

    @property
    def closed(self) -> bool:
        try:
            signal.raise_signal(signal.SIGTERM)  # the handler runs here
        except BaseException as exc:
            self.raised.append(exc)
            raise  # to the finalizer, which clears it
        return False


def test_signal_whose_exception_a_finalizer_drops_still_stops_the_sync(make_sandbox, monkeypatch):
    """A SIGTERM handled inside an io finalizer (the previous page's response, collected when
    the next request replaces it) still ends the sync, at the next message boundary."""
    sandbox = make_sandbox(crm_api=CRMAPI(size=SIZE))
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    tap = TapCRM(config=sandbox.crm_config(page_size=10), parse_env_config=False)
    adapter = tap.fetch_ahead_adapter
    send = adapter.send
    dropped: list[BaseException] = []
    sends = itertools.count(1)

    def send_after_dropping_a_response(*args: t.Any, **kwargs: t.Any) -> t.Any:
        if next(sends) == 2:  # the second page's: the first page's response is collected here
            collected = _SignalledWhenCollected(dropped)
            del collected  # the handler raises in its finalizer, which clears the exception
        return send(*args, **kwargs)

    monkeypatch.setattr(adapter, "send", send_after_dropping_a_response)
    stdout = io.StringIO()
    raised = interrupted_sync(tap, stdout, previous)

    # The handler ran, and what it raised went nowhere (the sync went on to this point).
    assert [type(exc) for exc in dropped] == [signals.SyncInterrupted]
    assert raised.exit_code == 143
    out = SingerOutput.parse(stdout.getvalue())
    assert out.messages[-1]["type"] == "STATE"
    # Stopped at the first message after the signal (11: the first page's 10 records and
    # one of the second's), not at the end of the run (45 records in each of 17 streams).
    assert sum(len(records) for records in out.records.values()) <= 10 + 1


@pytest.mark.parametrize("wait", ["rate limit", "retry"])
def test_a_signal_whose_exception_was_dropped_stops_the_run_before_a_wait(
    make_sandbox, monkeypatch, wait
):
    """A signal already received (its exception dropped where the handler ran) ends the run
    before a rate limit's or a retry's wait, not after it: the wait may be minutes long."""
    sandbox = make_sandbox(crm_api=CRMAPI(size=SIZE))
    if wait == "rate limit":
        sandbox.faults.throttle(times=1, retry_after=120, path="/actions")
    else:
        sandbox.faults.fail(status=503, times=1, path="/actions")
    # Without the check a wait would begin: made instant, so such a regression fails fast.
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    tap = TapCRM(config=sandbox.crm_config(page_size=10), parse_env_config=False)
    adapter = tap.fetch_ahead_adapter
    send = adapter.send

    def answer_then_receive_a_dropped_sigterm(*args: t.Any, **kwargs: t.Any) -> t.Any:
        answer = send(*args, **kwargs)
        signals.GUARD.pending = signal.SIGTERM  # received; what its handler raised is gone
        return answer

    monkeypatch.setattr(adapter, "send", answer_then_receive_a_dropped_sigterm)
    stdout = io.StringIO()
    raised = interrupted_sync(tap, stdout, previous)

    assert raised.exit_code == 143
    assert len(sandbox.requests_to("crm")) == 1  # the answer that asked for the wait, no other
    assert SingerOutput.parse(stdout.getvalue()).messages[-1]["type"] == "STATE"
