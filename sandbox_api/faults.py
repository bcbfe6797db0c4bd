"""Fault switches a test turns on for the sandbox: errors, rate limits, slowness, broken bodies."""

from __future__ import annotations

import io
import json
import math
import random
import threading
import time
import typing as t
from dataclasses import dataclass, field

from sandbox_api.http import Request, Response

if t.TYPE_CHECKING:
    from sandbox_api.server import SandboxAPIBase


@dataclass
class Fault:
    """One fault rule. It fires on matching requests until ``times`` runs out (None: forever).

    kind:
      * ``status``: answer ``status`` with ``body`` and ``headers`` (``body`` None: the API's
        own error body for that status)
      * ``throttle``: the API's own rate-limit answer (429 + headers, or the CRM's 403 text),
        its reset ``retry_after`` seconds from now, or at the epoch second ``reset_at``
      * ``truncate``: send half the body while announcing all of it, then close
      * ``garbage``: a 200 whose body is not JSON
      * ``delay``: wait ``seconds`` (or until ``release()``) and then answer normally
      * ``loop_pages``: the list endpoint never reaches its last page
      * ``edit``: the API sees the request with ``set_query`` applied (None: the argument
        dropped), and in the answer the ``drop`` keys (dotted paths into its JSON body) are
        gone and the numbers at the ``increase`` keys are that much higher
      * ``then``: answer normally, then run ``action()`` (data that changes mid-sync)
      * ``short``: a list page with only the first half of its items, everything else
        (``meta.total``, ``total_count``, links) as the full page says
      * ``trickle``: the whole answer, its body sent ``chunk`` bytes every ``seconds``
        (until ``release()``), as a stalled proxy or a congested link does

    Which requests: ``api``, ``path`` (a part of the path) and ``query`` (arguments the
    request carries) narrow them; ``after`` lets that many through first, so
    ``fail(500, path="/contacts", after=3)`` fails the 4th page.
    """

    kind: str
    times: int | None = 1
    api: str | None = None
    path: str | None = None
    query: dict[str, str] = field(default_factory=dict)
    ratio: float = 1.0
    status: int = 503
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    retry_after: float | None = None
    reset_at: float | None = None
    set_query: dict[str, str | None] = field(default_factory=dict)
    drop: tuple[str, ...] = ()
    increase: dict[str, int] = field(default_factory=dict)
    action: t.Callable[[], object] | None = None
    chunk: int = 8
    # Matching requests let through before the rule fires (e.g. 1: fail from page 2 on).
    after: int = 0
    fired: int = 0
    passed: int = 0
    _released: threading.Event = field(default_factory=threading.Event, repr=False)

    def matches(self, api: str, request: Request) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if self.api is not None and self.api != api:
            return False
        if any(request.arg(name) != value for name, value in self.query.items()):
            return False
        return self.path is None or self.path in request.path

    def wait(self) -> None:
        """A ``delay``: ``seconds``, or less if released first."""
        self._released.wait(self.seconds)

    def release(self) -> None:
        """End a ``delay`` now (and every later one of this rule)."""
        self._released.set()

    def edit_request(self, request: Request) -> None:
        for name, value in self.set_query.items():
            if value is None:
                request.query.pop(name, None)
            else:
                request.query[name] = [value]

    def edit_answer(self, response: Response) -> Response:
        if not self.drop and not self.increase:
            return response
        payload = json.loads(response.body)
        for dotted in self.drop:
            parent, key = _parent(payload, dotted)
            if parent is not None:
                parent.pop(key, None)
        for dotted, amount in self.increase.items():
            parent, key = _parent(payload, dotted)
            if parent is not None and isinstance(parent.get(key), int):
                parent[key] += amount
        return Response.json(response.status, payload, response.headers)

    def edited_answer(self, response: Response) -> Response:
        """The API's answer as this rule changes it (``edit``, ``short``)."""
        if self.kind == "edit":
            return self.edit_answer(response)
        if self.kind == "short":
            return self.shorten(response)
        return response

    def shorten(self, response: Response) -> Response:
        """The answer with the first half of its item list only (the API's envelope kept:
        ``data.<name>`` for the CRM, a top-level ``<name>`` list for the call API)."""
        payload = json.loads(response.body)
        holders = [payload, payload.get("data")] if isinstance(payload, dict) else []
        for holder in holders:
            if not isinstance(holder, dict):
                continue
            for key, value in holder.items():
                if isinstance(value, list) and len(value) > 1:
                    holder[key] = value[: len(value) // 2]
                    return Response.json(response.status, payload, response.headers)
        return response

    def trickle(self, body: bytes, out: io.BufferedIOBase) -> None:
        """Write ``body`` ``chunk`` bytes at a time, ``seconds`` apart; all at once after
        ``release()``. A client that hangs up ends it."""
        try:
            for start in range(0, len(body), self.chunk):
                out.write(body[start : start + self.chunk])
                out.flush()
                if not self._released.is_set():
                    self._released.wait(self.seconds)
        except OSError:
            pass  # the client gave up on the answer


def _parent(payload: t.Any, dotted: str) -> tuple[dict[str, t.Any] | None, str]:
    """The object holding a dotted path's last key (None if the path is not there), and it."""
    *parents, key = dotted.split(".")
    node = payload
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    return (node if isinstance(node, dict) else None), key


@dataclass
class RateLimit:
    """At most ``limit`` requests per fixed window of ``window`` seconds, per API."""

    limit: int
    window: float
    api: str | None = None
    counts: dict[tuple[str, int], int] = field(default_factory=dict)
    refused: int = 0

    def take(self, api: str) -> tuple[bool, int, float]:
        """Count a request: (allowed, remaining, reset_at)."""
        slot = math.floor(time.time() / self.window)
        reset_at = (slot + 1) * self.window
        used = self.counts.get((api, slot), 0)
        if used >= self.limit:
            self.refused += 1
            return False, 0, reset_at
        self.counts[(api, slot)] = used + 1
        return True, self.limit - used - 1, reset_at


@dataclass
class SlidingWindowLimit:
    """A leaky bucket per API, as OnePageCRM's throttle (improved-rack-throttle's
    ``SlidingWindow``, https://github.com/seomoz/improved-rack-throttle): ``average``
    requests/s drain the bucket, ``burst`` is its size. Every request, refused or not,
    adds one (capped at ``burst``); a request that fills it is refused."""

    average: float
    burst: int
    api: str | None = None
    levels: dict[str, tuple[float, float]] = field(default_factory=dict)
    refused: int = 0

    @property
    def limit(self) -> int:
        return self.burst

    def take(self, api: str) -> tuple[bool, int, float]:
        """Count a request: (allowed, remaining, time the bucket has room again)."""
        at = time.time()
        level, touched = self.levels.get(api, (0.0, at))
        level = max(level - (at - touched) * self.average, 0.0)
        level = min(level + 1, self.burst)
        self.levels[api] = (level, at)
        allowed = level < self.burst
        if not allowed:
            self.refused += 1
        room_at = at + max(level - (self.burst - 1), 0.0) / self.average
        return allowed, max(int(self.burst - 1 - level), 0), room_at


class Faults:
    """The fault switches of one sandbox server; all methods are thread-safe."""

    def __init__(self, seed: int = 7) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self.rules: list[Fault] = []
        self.rate_limits: list[RateLimit | SlidingWindowLimit] = []

    # -- switches ----------------------------------------------------------------

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self.rules.append(fault)
        return fault

    def fail(self, status: int = 503, times: int | None = 1, **kw: t.Any) -> Fault:
        return self.add(Fault("status", status=status, times=times, **kw))

    def throttle(
        self, times: int | None = 1, retry_after: float | None = None, **kw: t.Any
    ) -> Fault:
        return self.add(Fault("throttle", times=times, retry_after=retry_after, **kw))

    def truncate(self, times: int | None = 1, **kw: t.Any) -> Fault:
        return self.add(Fault("truncate", times=times, **kw))

    def garbage(self, times: int | None = 1, **kw: t.Any) -> Fault:
        return self.add(Fault("garbage", times=times, **kw))

    def slow(self, seconds: float, times: int | None = 1, **kw: t.Any) -> Fault:
        """Answers held ``seconds`` (``release()`` on the returned rule ends a hold early)."""
        return self.add(Fault("delay", seconds=seconds, times=times, **kw))

    def edit(
        self,
        set_query: dict[str, str | None] | None = None,
        drop: t.Iterable[str] = (),
        increase: dict[str, int] | None = None,
        times: int | None = None,
        **kw: t.Any,
    ) -> Fault:
        """Requests seen with ``set_query`` applied (None drops an argument; e.g. a server
        that ignores ``page``), answers without the ``drop`` keys (e.g. ``data.total_count``)
        and with the ``increase`` numbers raised (e.g. a count one too high)."""
        return self.add(
            Fault(
                "edit",
                set_query=dict(set_query or {}),
                drop=tuple(drop),
                increase=dict(increase or {}),
                times=times,
                **kw,
            )
        )

    def then(self, action: t.Callable[[], object], times: int | None = 1, **kw: t.Any) -> Fault:
        """Run ``action()`` right after answering a matching request (``after``: that many
        matching requests answered first), e.g. a record edited once page 1 was read."""
        return self.add(Fault("then", action=action, times=times, **kw))

    def short_page(self, times: int | None = 1, **kw: t.Any) -> Fault:
        """A list page with half its items while its totals say the full page follows."""
        return self.add(Fault("short", times=times, **kw))

    def trickle(
        self, seconds: float = 0.05, chunk: int = 8, times: int | None = 1, **kw: t.Any
    ) -> Fault:
        """Answers whose body comes ``chunk`` bytes every ``seconds`` (``release()`` ends it)."""
        return self.add(Fault("trickle", seconds=seconds, chunk=chunk, times=times, **kw))

    def loop_pages(self, **kw: t.Any) -> Fault:
        return self.add(Fault("loop_pages", times=None, **kw))

    def random_errors(self, ratio: float, status: int = 503, **kw: t.Any) -> Fault:
        return self.add(Fault("status", status=status, times=None, ratio=ratio, **kw))

    def rate_limit(self, limit: int, window: float, api: str | None = None) -> RateLimit:
        rule = RateLimit(limit, window, api)
        with self._lock:
            self.rate_limits.append(rule)
        return rule

    def sliding_window(
        self, average: float, burst: int, api: str | None = None
    ) -> SlidingWindowLimit:
        """The CRM's own throttle: ``average`` requests/s with bursts of ``burst``."""
        rule = SlidingWindowLimit(average, burst, api)
        with self._lock:
            self.rate_limits.append(rule)
        return rule

    def clear(self) -> None:
        self.release_all()
        with self._lock:
            self.rules.clear()
            self.rate_limits.clear()

    def release_all(self) -> None:
        """End every hold, so no answer keeps a server thread past the test."""
        with self._lock:
            for rule in self.rules:
                rule.release()

    # -- used by the server --------------------------------------------------------

    def pick(self, api: str, request: Request) -> Fault | None:
        """The first rule that fires for this request, counting it as fired."""
        with self._lock:
            for rule in self.rules:
                if rule.kind == "loop_pages" or not rule.matches(api, request):
                    continue
                if rule.passed < rule.after:
                    rule.passed += 1
                    continue
                if rule.ratio < 1.0 and self._random.random() >= rule.ratio:
                    continue
                rule.fired += 1
                return rule
        return None

    def looping(self, api: str, request: Request) -> bool:
        with self._lock:
            return any(r.kind == "loop_pages" and r.matches(api, request) for r in self.rules)

    def apply_rate_limits(
        self, handler: SandboxAPIBase, request: Request
    ) -> tuple[Response | None, dict[str, str]]:
        """(a throttle response or None, the budget headers to add to the answer)."""
        with self._lock:
            headers: dict[str, str] = {}
            for rule in self.rate_limits:
                if rule.api not in {None, handler.name}:
                    continue
                allowed, remaining, reset_at = rule.take(handler.name)
                headers = handler.budget_headers(
                    rule.limit, remaining, reset_at, refused=not allowed
                )
                if not allowed:
                    return handler.throttle_response(reset_at - time.time(), reset_at), headers
            return None, headers
