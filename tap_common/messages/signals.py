"""SIGTERM and SIGINT: stop at a message boundary, and say so with an honest exit code.

Schedulers cancel or evict a job with SIGTERM (Kubernetes, Airflow, Dagster, CI runners) and
a person with Ctrl-C (SIGINT). The SDK's handler writes the state and calls ``sys.exit(0)``,
so a cancelled sync reports success. Here the handler raises ``SyncInterrupted`` instead,
which ends the sync; the tap then writes its last STATE and exits 128 + the signal number
(143 for SIGTERM, 130 for SIGINT), the shell convention for "killed by a signal".

A signal that arrives while a Singer message is being written is held until the message is
complete: a half-written line, or a STATE line written into the middle of a RECORD line,
would break the target's reader. Until the tap has caught the exception, it is raised again
after every message: where the handler ran, it may have been dropped (``after_message``).
"""

from __future__ import annotations

import signal
import threading
import typing as t

from typing_extensions import override

from tap_common.messages.writer import FastSingerWriter

if t.TYPE_CHECKING:
    from singer_sdk.singerlib.encoding.simple import Message


class SyncInterrupted(BaseException):
    """A termination signal ended the run.

    A BaseException, as KeyboardInterrupt is: the SDK's ``except Exception`` blocks (which
    log "An unhandled error occurred") and the retry decorator must let it through.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)

    @property
    def exit_code(self) -> int:
        """128 + the signal number: 143 for SIGTERM, 130 for SIGINT."""
        return 128 + self.signum


class _MessageGuard:
    """Whether a message is being written, and the signal that ends the run."""

    def __init__(self) -> None:
        self.writing = False
        self.pending: int | None = None  # the first signal received
        self.stopping = False  # the tap caught the exception: the run is ending

    def on_signal(self, signum: int) -> None:
        """The signal handler's body: raise now, or after the message being written."""
        if self.pending is None:
            self.pending = signum
        if not self.writing and not self.stopping:
            raise SyncInterrupted(self.pending)

    def after_message(self) -> None:
        # Raised again at every message boundary until the tap has caught it: a handler
        # runs wherever the main thread is when the signal comes
        # (https://docs.python.org/3/library/signal.html#note-on-signal-handlers-and-exceptions),
        # and some places drop what it raises without a word. CPython's finalizer of an
        # io object does: an urllib3 response collected when the next page's request
        # replaces it has its ``closed`` property (Python code, where the handler can
        # run) read by ``iobase_finalize``, which clears any exception
        # (https://github.com/python/cpython/blob/v3.11.7/Modules/_io/iobase.c).
        self.check()

    def check(self) -> None:
        """Raise the signal received, if the tap has not caught it yet: after a message,
        and before a wait (a rate limit's, a retry's), which a dropped exception would
        otherwise let run to its end before the run stops."""
        if self.pending is not None and not self.stopping:
            raise SyncInterrupted(self.pending)

    def stop(self) -> None:
        """The run is ending (its final STATE is next): a signal raises nothing more."""
        self.stopping = True

    def reset(self) -> None:
        self.writing, self.pending, self.stopping = False, None, False


# Signals are delivered to the process (and handled in its main thread): one guard per process.
GUARD = _MessageGuard()


def handle_termination(signum: int) -> None:
    """What a tap does on SIGTERM or SIGINT (see the module docstring)."""
    if threading.current_thread() is threading.main_thread():
        GUARD.on_signal(signum)


class InterruptibleWriter(FastSingerWriter):
    """The tap's message writer, with signals held while a message is being written."""

    @override
    def write_message(self, message: Message) -> None:
        GUARD.writing = True
        try:
            super().write_message(message)
        finally:
            GUARD.writing = False
        GUARD.after_message()
