"""The next page's request sent while this page's records are written.

A sync alternates between waiting for the API and working on its answer (conforming,
writing messages, bookmarks). Once a page is read, its paginator has already decided the
next request. That request is written to the connection at once, and its answer is read
when the SDK's paging loop asks for the page: meanwhile the API works on it while the tap
writes this page's records, so the two overlap instead of adding up.

Only the sending moves. Everything else happens where it did, in the same order: the STATE
at the page boundary, pacing, the response hooks, ``validate_response`` with its waits and
retries. Nothing runs in another thread: a background thread reading the answer would
take the interpreter's lock at each of its dozens of system calls per page, which cost
more CPU time than the overlap saved (benchmarks/README.md). (A timer thread waits beside
each read for its deadline, ``within_deadline``, without a system call until it fires.)

The transport adapter (https://requests.readthedocs.io/en/latest/user/advanced/#transport-adapters)
keeps one connection of its own for this, made by the same urllib3 pool (so the same TLS
settings) as requests' own connections. Its ``send`` hands over the answer when the same
request comes, reads and drops an answer nobody asked for, and otherwise sends as usual. A
request that cannot be sent ahead, or whose answer cannot be read, goes the usual way:
sent again, with requests' error handling and the stream's retries.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
import typing as t
from urllib.parse import urlparse

from requests.adapters import HTTPAdapter
from requests.exceptions import ReadTimeout, RequestException
from requests.utils import select_proxy
from typing_extensions import override
from urllib3.util.connection import is_connection_dropped

if t.TYPE_CHECKING:
    import requests
    from urllib3._base_connection import BaseHTTPConnection

logger = logging.getLogger(__name__)


def _shutdown_of(connection: BaseHTTPConnection | None) -> t.Callable[[], None] | None:
    """A callable that ends reads on ``connection``'s socket (None without one)."""
    sock = getattr(connection, "sock", None)
    if sock is None:
        return None
    return lambda: sock.shutdown(socket.SHUT_RD)


def _path(url: str) -> str:
    return urlparse(url).path


def same_request(one: requests.PreparedRequest, other: requests.PreparedRequest) -> bool:
    """Whether two prepared requests ask the same thing of the API."""
    return one is other or (
        one.method == other.method
        and one.url == other.url
        and one.body == other.body
        and one.headers == other.headers
    )


class ResponseDeadlineError(ReadTimeout):
    """The whole response (headers and body) took longer than the request's timeout: a
    timeout, retried as one, whatever each socket read took."""


def total_seconds(timeout: t.Any) -> float | None:
    """The seconds a whole response may take: the request's timeout (its read part when
    requests is given a (connect, read) pair); None: no deadline."""
    if isinstance(timeout, tuple):
        timeout = timeout[-1]
    return float(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else None


class Watchdog:
    """One thread that calls a callback once its deadline passes, unless disarmed first.

    Arming costs a lock, not a thread (``threading.Timer`` starts one per call, some
    0.1-0.4 ms a request): the thread sleeps until the deadline it knows, and as each
    request's deadline is later than the last one's, it is woken only to start, or when
    an earlier deadline is armed.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._job: tuple[float, t.Callable[[], None]] | None = None
        self._waking_at: float | None = None  # the deadline the thread sleeps until
        self._thread: threading.Thread | None = None

    def arm(self, deadline: float, callback: t.Callable[[], None]) -> None:
        with self._condition:
            self._job = (deadline, callback)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="response-deadline", daemon=True
                )
                self._thread.start()
            elif self._waking_at is None or deadline < self._waking_at:
                self._condition.notify()

    def disarm(self) -> None:
        with self._condition:
            self._job = None

    def _run(self) -> None:
        while True:
            with self._condition:
                job = self._job
                if job is None:
                    self._waking_at = None
                    self._condition.wait()
                    continue
                left = job[0] - time.monotonic()
                if left > 0:
                    self._waking_at = job[0]
                    self._condition.wait(left)
                    continue
                self._job = None
            job[1]()  # outside the lock: it shuts a socket down


class FetchAheadAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` that can send one request ahead of reading its answer."""

    def __init__(self, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self._connection: BaseHTTPConnection | None = None
        self._connection_key: tuple[t.Any, ...] | None = None
        self._ahead: requests.PreparedRequest | None = None
        self._ahead_at = 0.0  # when the request sent ahead went
        self.sent_ahead = 0  # requests sent ahead over the run
        self.unused = 0  # of those, answers read and dropped: nobody asked for them
        self.resent = 0  # of those, requests sent again: the answer could not be read
        self._watchdog = Watchdog()

    def send_ahead(
        self,
        request: requests.PreparedRequest,
        *,
        timeout: float,
        verify: bool | str,
        cert: t.Any,
        proxies: dict[str, str],
    ) -> bool:
        """Write ``request`` to this adapter's connection now; its answer is read by
        ``send``. False (nothing sent) when it cannot be: a proxy, an unknown URL, an
        error while sending."""
        self.drop()
        started = time.monotonic()
        if select_proxy(str(request.url), proxies):
            return False  # through a proxy: the usual way only
        try:
            connection = self._connection_for(request, verify, cert, timeout)
            connection.timeout = timeout
            connection.request(
                str(request.method),
                self.request_url(request, proxies),
                body=t.cast("bytes | None", request.body),  # a GET: none
                headers=t.cast("t.Mapping[str, str]", request.headers),
                preload_content=False,
                decode_content=False,
            )
        except Exception as exc:  # the request then goes the usual way
            logger.debug("Could not send %s ahead (%s); it goes the usual way.", request.url, exc)
            self._close()
            return False
        self._ahead = request
        self._ahead_at = started
        self.sent_ahead += 1
        return True

    def holds(self, request: requests.PreparedRequest) -> bool:
        """Whether ``request`` was sent ahead and its answer not yet handed over."""
        return self._ahead is not None and same_request(self._ahead, request)

    def drop(self) -> None:
        """Read and drop the answer to a request sent ahead that nobody asked for, so the
        connection is free again."""
        if self._ahead is None:
            return
        self._ahead = None
        self.unused += 1
        try:
            answer = self._connection_or_fail().getresponse()
            answer.drain_conn()
        except Exception:  # an answer nobody wants: its connection goes
            self._close()

    def release(self) -> None:
        """Drop a request sent ahead without waiting for its answer, and close this
        adapter's connection: at the end of a stream's read, which may be the end of the
        run (an error, a signal)."""
        if self._ahead is not None:
            self._ahead = None
            self.unused += 1
        self._close()

    @override
    def send(
        self, request: requests.PreparedRequest, *args: t.Any, **kwargs: t.Any
    ) -> requests.Response:
        started = time.monotonic()
        if self.holds(request):
            self._ahead = None
            try:
                answer = self._connection_or_fail().getresponse()
            except Exception as exc:  # sent again the usual way below
                logger.debug(
                    "The answer to %s sent ahead was lost (%s); sending it again.", request.url, exc
                )
                self._close()
                self.resent += 1
            else:
                response = self.build_response(request, answer)
                connection = self._connection
                try:
                    return self.within_deadline(
                        response, self._ahead_at, shutdown=_shutdown_of(connection), **kwargs
                    )
                except ResponseDeadlineError:
                    self._close()  # half an answer on it: never used again
                    raise
        else:
            self.drop()
        response = super().send(request, *args, **kwargs)
        return self.within_deadline(response, started, **kwargs)

    def within_deadline(
        self,
        response: requests.Response,
        started: float,
        *,
        shutdown: t.Callable[[], None] | None = None,
        **kwargs: t.Any,
    ) -> requests.Response:
        """``response`` with its body read (as requests reads it when not streaming,
        ``Response.content``) before the request's timeout has passed since ``started``.

        requests' timeout bounds each socket read, not the response
        (https://requests.readthedocs.io/en/latest/user/advanced/#timeouts): a body sent a
        few bytes at a time would hold the sync for as long as it trickles. At the
        deadline a timer shuts the socket down for reading (urllib3's
        ``HTTPResponse.shutdown``, made to interrupt a read from another thread), and the
        read ends in ``ResponseDeadlineError``, a ``ReadTimeout``: retried like one.
        ``shutdown`` does it for an answer read off this adapter's own connection, which
        urllib3's response does not know as a pooled one.
        """
        seconds = total_seconds(kwargs.get("timeout"))
        if kwargs.get("stream") or seconds is None:
            return response
        cut = threading.Event()

        def shut() -> None:
            cut.set()
            with contextlib.suppress(Exception):  # already read, released or closed
                (shutdown or response.raw.shutdown)()

        self._watchdog.arm(started + seconds, shut)
        try:
            response.content  # noqa: B018 (reads and keeps the body)
        except (RequestException, OSError) as exc:
            if not cut.is_set():
                raise
            response.close()
            msg = (
                f"the response from {response.url and _path(response.url)} took longer than "
                f"{seconds:g} s ('request_timeout') and was cut off"
            )
            raise ResponseDeadlineError(msg, request=response.request) from exc
        finally:
            self._watchdog.disarm()
        return response

    @override
    def close(self) -> None:
        self._close()
        super().close()

    # -- the connection ------------------------------------------------------------------

    def _connection_for(
        self, request: requests.PreparedRequest, verify: bool | str, cert: t.Any, timeout: float
    ) -> BaseHTTPConnection:
        """This adapter's connection to the request's host, made by the urllib3 pool
        requests uses for it (``HTTPConnectionPool._new_conn``: the pool's TLS settings;
        urllib3 has no public way to make one; tests/test_fetch_ahead.py runs it over HTTPS),
        kept alive between requests."""
        pool = self.get_connection_with_tls_context(request, verify, cert=cert)
        self.cert_verify(pool, str(request.url), verify, cert)
        key = (pool.scheme, pool.host, pool.port, verify, cert)
        connection = self._connection
        if connection is not None and (
            key != self._connection_key or is_connection_dropped(connection)
        ):
            self._close()
            connection = None
        if connection is None:
            connection = pool._new_conn()  # private: see the docstring
            self._connection, self._connection_key = connection, key
        return connection

    def _connection_or_fail(self) -> BaseHTTPConnection:
        if self._connection is None:
            msg = "no connection"
            raise ConnectionError(msg)
        return self._connection

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
