"""The sandbox HTTP server: serves the fake APIs on 127.0.0.1, applies faults, logs requests."""

from __future__ import annotations

import sys
import threading
import time
import typing as t
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from typing_extensions import override

from sandbox_api.faults import Fault, Faults
from sandbox_api.http import Headers, Request, Response


class SandboxAPIBase:
    """One fake API mounted under ``prefix`` (e.g. ``/api/v3``)."""

    name: str = ""
    prefix: str = ""
    # Other path prefixes this API answers (another version of it, e.g. ``/v2/users``):
    # their requests keep their whole path, so ``/v2/users`` is told from ``/users``.
    also_mounted: tuple[str, ...] = ()

    def handle(self, request: Request, *, looping: bool) -> Response:
        raise NotImplementedError

    def answer_key(self, request: Request) -> t.Hashable:
        """What makes two requests' answers the same, for ``SandboxServer.answer_once``:
        by default the path, the query and the credentials."""
        query = tuple(sorted((name, tuple(values)) for name, values in request.query.items()))
        return (request.path, query, request.headers.get("Authorization"))

    def error_response(self, status: int) -> Response:
        """The API's own body for a server-side error."""
        return Response.json(status, {"message": "Internal Server Error"})

    def throttle_response(self, retry_after: float | None, reset_at: float | None) -> Response:
        """The API's own 'too many requests' answer."""
        return Response.json(429, {"message": "Too Many Requests"})

    def budget_headers(
        self, limit: int, remaining: int, reset_at: float, *, refused: bool = False
    ) -> dict[str, str]:
        """Rate-limit headers the API adds to an answer while a limit is on (``refused``:
        to the throttle answer)."""
        return {}


@dataclass
class LoggedRequest:
    api: str
    path: str
    query: dict[str, list[str]]
    status: int
    at: float
    seconds: float = 0.0  # time the server took to build the answer

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


class _QuietHTTPServer(ThreadingHTTPServer):
    """A client that hangs up mid-answer (a tap stopped by a signal, a response deadline,
    a fetch-ahead request dropped) is what a real API sees too: not an error of the fake.
    ``socketserver.BaseServer.handle_error`` would print a traceback for each; others still
    get one (https://docs.python.org/3/library/socketserver.html#socketserver.BaseServer.handle_error)."""

    @override
    def handle_error(self, request: t.Any, client_address: t.Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # BrokenPipe, ConnectionReset
            return
        super().handle_error(request, client_address)


class SandboxServer:
    """A threaded HTTP server on 127.0.0.1 (a free port unless given) serving fake APIs."""

    def __init__(self, apis: list[SandboxAPIBase], port: int = 0, host: str = "127.0.0.1") -> None:
        self.apis = apis
        self.faults = Faults()
        self.log: list[LoggedRequest] = []
        self._log_lock = threading.Lock()
        # Benchmarks only: keep every answer built while no fault applies and serve it
        # again from memory, so a page costs the server well under a millisecond and the
        # client's own cost shows (see benchmarks/README.md, "A server that answers at once").
        self.answer_once = False
        self._answers: dict[tuple[str, t.Hashable], Response] = {}
        self._httpd = _QuietHTTPServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        if isinstance(host, bytes):  # only for AF_UNIX servers; this one is TCP
            host = host.decode()
        return f"http://{host}:{port}"

    def url_for(self, api: SandboxAPIBase) -> str:
        return self.base_url + api.prefix

    def start(self) -> SandboxServer:
        """Serve the port (bound since ``__init__``); again after ``pause()``."""
        if self._thread is None:
            # A short poll interval: shutdown() waits up to one interval, once per sandbox,
            # and a test suite starts a few hundred of them.
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
            )
            self._thread.start()
        return self

    def pause(self) -> None:
        """Stop serving but keep the port: ``start()`` serves it again."""
        self.faults.release_all()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread = None

    def stop(self) -> None:
        """Stop serving and close the port (also for a server that was never started)."""
        self.pause()
        self._httpd.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def requests_to(self, api: str, path: str | None = None) -> list[LoggedRequest]:
        """Logged requests to one API (and one path, if given), oldest first."""
        with self._log_lock:
            return [r for r in self.log if r.api == api and (path is None or r.path == path)]

    def clear_log(self) -> None:
        with self._log_lock:
            self.log.clear()

    # -- dispatch ------------------------------------------------------------------

    def dispatch(
        self, method: str, raw_path: str, headers: Headers
    ) -> tuple[Response, Fault | None]:
        """Route one request; returns the response and a fault the transport must apply."""
        parts = urlsplit(raw_path)
        for api in self.apis:
            if any(_under(parts.path, mount) for mount in api.also_mounted):
                path = parts.path
                break
            if _under(parts.path, api.prefix):
                path = parts.path[len(api.prefix) :] or "/"
                break
        else:
            return Response.json(404, {"message": "Not Found"}), None
        request = Request(
            method=method,
            path=path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=headers,
            base_url=self.base_url,
        )
        started = time.perf_counter()
        response, transport_fault = self._respond(api, request)
        seconds = time.perf_counter() - started
        with self._log_lock:
            self.log.append(
                LoggedRequest(
                    api.name, request.path, request.query, response.status, time.time(), seconds
                )
            )
        return response, transport_fault

    def _respond(self, api: SandboxAPIBase, request: Request) -> tuple[Response, Fault | None]:
        throttled, budget = self.faults.apply_rate_limits(api, request)
        if throttled is not None:
            throttled.headers.update(budget)
            return throttled, None
        fault = self.faults.pick(api.name, request)
        transport_fault = None
        if fault is not None:
            if fault.kind == "status":
                if fault.body is not None:
                    response = Response(fault.status, fault.body, dict(fault.headers))
                else:
                    response = api.error_response(fault.status)
                    response.headers.update(fault.headers)
                return response, None
            if fault.kind == "throttle":
                reset_at = fault.reset_at
                if reset_at is None and fault.retry_after is not None:
                    reset_at = time.time() + fault.retry_after
                return api.throttle_response(fault.retry_after, reset_at), None
            if fault.kind == "garbage":
                return Response(
                    200, b"<html>502 Bad Gateway</html>", {"Content-Type": "text/html"}
                ), None
            if fault.kind == "delay":
                fault.wait()
            if fault.kind == "edit":
                fault.edit_request(request)
            transport_fault = fault if fault.kind in {"truncate", "trickle"} else None
        response = self._answer(api, request, from_memory=fault is None and self.answer_once)
        if fault is not None:
            response = fault.edited_answer(response)
        if fault is not None and fault.kind == "then" and fault.action is not None:
            fault.action()
        response.headers.update(budget)
        return response, transport_fault

    def _answer(self, api: SandboxAPIBase, request: Request, *, from_memory: bool) -> Response:
        """The API's answer; ``from_memory``: built once per ``answer_key`` and then from memory."""
        if not from_memory:
            return api.handle(request, looping=self.faults.looping(api.name, request))
        key = (api.name, api.answer_key(request))
        kept = self._answers.get(key)
        if kept is None:
            kept = api.handle(request, looping=self.faults.looping(api.name, request))
            if kept.status == 200:
                self._answers[key] = kept
        # A copy of the headers: budget headers are added to the answer sent.
        return Response(kept.status, kept.body, dict(kept.headers))


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def _make_handler(server: SandboxServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real APIs do
        # Headers and body go out in two writes: with Nagle on, the body's last segment
        # waits for the client's delayed ACK (~40 ms per request on loopback).
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            try:
                response, transport_fault = server.dispatch("GET", self.path, self.headers)
            except Exception as exc:
                response, transport_fault = Response.json(500, {"message": repr(exc)}), None
            body = response.body
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            if transport_fault is not None and transport_fault.kind == "trickle":
                self.end_headers()
                transport_fault.trickle(body, self.wfile)
                return
            if transport_fault is not None and transport_fault.kind == "truncate":
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True
                return
            self.end_headers()
            self.wfile.write(body)

        @override
        def log_message(self, format: str, *args: t.Any) -> None:
            pass  # the request log on the server object is what tests read

    return Handler
