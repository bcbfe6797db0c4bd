"""One ``meltano run`` as a child process: its exit code, and what the taps said they did.

A cancelled Dagster run interrupts the step (``DagsterExecutionInterruptedError``, a
``BaseException``); the child then gets SIGTERM, which Meltano passes to the tap and the
target (https://docs.meltano.com/reference/command-line-interface#run, "--timeout": graceful
termination). The taps stop at the next record boundary and write the state they reached
(exit 143), and Meltano keeps the last state the target confirmed.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
import typing as t
from collections import deque
from dataclasses import dataclass, field

# Exit codes of a process stopped by SIGTERM / SIGINT (128 + signal number), as the taps and
# Meltano report them; a negative code is Python's for a child killed by that signal.
CANCELLED = frozenset({143, 130, -signal.SIGTERM, -signal.SIGINT})
# Seconds a stopped child has to write its state before it is killed.
STOP_GRACE_SECONDS = 60.0

# The taps' last line per stream (tap_common/state/progress.py, StreamProgress.finish).
FINISHED = re.compile(
    r"Finished '(?P<stream>[^']+)': (?P<records>[\d,]+) records in (?P<requests>[\d,]+) "
    r"requests, (?P<throttled>\d+) throttled answers, (?P<waited>[\d.]+) s waited, "
    r"(?P<seconds>[\d.]+) s in all\."
)


@dataclass
class SyncSummary:
    """Totals of one run, summed over each stream's ``Finished`` lines (a child stream
    finishes once per parent record)."""

    records: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    throttled: int = 0
    waited_seconds: float = 0.0

    def add(self, line: str) -> bool:
        match = FINISHED.search(line)
        if match is None:
            return False
        stream = match["stream"]
        self.records[stream] = self.records.get(stream, 0) + _int(match["records"])
        self.requests += _int(match["requests"])
        self.throttled += int(match["throttled"])
        self.waited_seconds += float(match["waited"])
        return True


@dataclass
class MeltanoResult:
    returncode: int
    summary: SyncSummary
    tail: list[str]  # the output's last lines, for a failure's description
    seconds: float

    @property
    def cancelled(self) -> bool:
        return self.returncode in CANCELLED


def run(
    command: t.Sequence[str],
    *,
    env: t.Mapping[str, str],
    cwd: str,
    on_line: t.Callable[[str], None] | None = None,
) -> MeltanoResult:
    """Run ``command`` to its end, reading its output line by line (stderr with stdout).

    Interrupted (a cancelled run, Ctrl-C), the child is stopped with SIGTERM, given
    ``STOP_GRACE_SECONDS`` to write its state, and the interruption is raised again.
    """
    started = time.monotonic()
    summary = SyncSummary()
    tail: deque[str] = deque(maxlen=40)
    # Its own session: a Ctrl-C in the terminal of `dagster dev` reaches Dagster, which
    # decides; the child is stopped by the SIGTERM below, once.
    with subprocess.Popen(  # noqa: S603  # a fixed program, arguments from our code
        list(command),
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    ) as process:
        try:
            assert process.stdout is not None
            for raw in process.stdout:
                line = raw.rstrip("\n")
                tail.append(line)
                summary.add(line)
                if on_line is not None:
                    on_line(line)
            returncode = process.wait()
        except BaseException:
            stop(process)
            raise
    return MeltanoResult(returncode, summary, list(tail), time.monotonic() - started)


def stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM, a grace period to write state, then SIGKILL to what is left of its group.

    Its output is drained meanwhile: a child blocked on a full pipe could not finish.
    """
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.communicate(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()


def _int(text: str) -> int:
    return int(text.replace(",", ""))
