"""One base stream for both APIs: basic auth, paging guard, retries, rate limits, clear errors.

What differs between the two APIs (envelope, pagination metadata, rate-limit headers,
error bodies) is a handful of hooks that ``tap_crm.client`` and
``tap_calltracker.client`` fill in.
"""

from __future__ import annotations

import email.utils
import functools
import logging
import sys
import typing as t
from functools import cached_property

import backoff
import requests
from requests.auth import HTTPBasicAuth
from requests.utils import resolve_proxies
from singer_sdk import RESTStream
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError, SyncLifecycleSignal
from singer_sdk.helpers.jsonpath import extract_jsonpath
from singer_sdk.pagination import BaseAPIPaginator
from singer_sdk.streams.rest import PageContext
from typing_extensions import override

from tap_common.http import pacing
from tap_common.http.errors import (
    AuthenticationError,
    MalformedResponseError,
    RateLimitExhaustedError,
    UnexpectedResponseError,
    WaitAskedError,
)
from tap_common.http.fetch_ahead import ResponseDeadlineError
from tap_common.http.responses import (
    MAX_DEPTH,
    api_path,
    had_too_deep,
    holds_too_deep,
    json_body,
)
from tap_common.messages import signals
from tap_common.messages.conform import RecordConformance, conforms_recursively
from tap_common.state.batches import announced_batches
from tap_common.state.bookmarks import InstantBookmarks
from tap_common.state.overlap import OverlappingRead, PageView
from tap_common.state.progress import StreamProgress
from tap_common.state.short_reads import ShortReads
from tap_common.state.table_versions import (
    ReadCheck,
    TableVersions,
    apply_forced_replication_method,
)

if t.TYPE_CHECKING:
    import singer_sdk.singerlib as singer
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
    from singer_sdk.helpers.types import Context

    from tap_common.http.fetch_ahead import FetchAheadAdapter
    from tap_common.http.pacing import Budget
    from tap_common.messages.value_report import ValueReport


class SharedByStreams(t.Protocol):
    """What every stream takes from its tap (``tap_common.program.tap.APITap``): the pacer,
    session and transport are per account, so one per tap. A protocol, so this layer does not
    import the program above it."""

    @property
    def pacer(self) -> pacing.RequestPacer: ...

    @property
    def requests_session(self) -> requests.Session: ...

    @property
    def fetch_ahead_adapter(self) -> FetchAheadAdapter: ...


# What the SDK retries (the tuple of ``RESTStream.request_decorator``, singer-sdk 0.54.9):
# transient server and network failures. tests/test_sdk_private.py fails if the SDK's changes.
RETRIED_ERRORS = (
    ConnectionResetError,
    RetriableAPIError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
# Statuses below 500 retried like a 5xx: a proxy's request timeout (RFC 9110 section
# 15.5.9) and "too early" (RFC 8470 section 5.2); both invite the same request again.
RETRIED_STATUSES = frozenset({408, 425})
# Wait at least this long when the API's reset time is already past by our clock.
MIN_WAIT_SECONDS = 1.0
# Failures that deserve one clear line instead of a traceback.
EXPLAINED_FAILURES = (FatalAPIError, RetriableAPIError, requests.RequestException)


class APIStream(RESTStream):
    """Base of every stream of both taps: the SDK's ``RESTStream``, whose hooks hand over to
    the collaborators it holds (``conformance``, ``bookmarks``, ``short_reads``,
    ``table_versions``; see ``get_records`` for the order a record goes through them)."""

    # Names of the credential settings (basic auth user and password).
    username_setting: t.ClassVar[str]
    password_setting: t.ClassVar[str]
    # Whether the endpoint pages. Unpaginated endpoints are requested exactly once.
    paginated: t.ClassVar[bool] = True
    # Not read: ``validate_response`` below replaces the SDK's, and a 429 is waited out
    # before the retry budget (``waiting_as_asked``), never retried by backoff.
    extra_retry_statuses: t.Sequence[int] = ()
    # True where paging cannot skip a record when another is deleted during a full read
    # (re-anchored paging), so its total may change during a read that is still complete.
    read_survives_deletions: t.ClassVar[bool] = False
    # True for a newest-first read that the next run overlaps unless it shows it skipped
    # nothing (``overlap``); such a stream says what a page shows in ``page_view``.
    overlapping: t.ClassVar[bool] = False
    _too_deep_page = False

    # -- the collaborators, and what a read goes through --------------------------

    @cached_property
    def conformance(self) -> RecordConformance:
        """Records into RECORD messages, conformed and odd values reported."""
        return RecordConformance(self)

    @property
    def value_report(self) -> ValueReport:
        """This stream's counts of odd values, summarised when its records end."""
        return self.conformance.value_report

    @cached_property
    def bookmarks(self) -> InstantBookmarks:
        """The bookmark as an instant, capped at the sync's start and ``end_date``."""
        conformance = self.conformance
        return InstantBookmarks(self, conformance.value_report, conformance.is_left_out)

    @cached_property
    def short_reads(self) -> ShortReads:
        """A read shorter than its announced total, read again once."""
        return ShortReads(self)

    @cached_property
    def table_versions(self) -> TableVersions:
        """Record versions, and ACTIVATE_VERSION after a complete full read."""
        return TableVersions(self)

    @cached_property
    def overlap(self) -> OverlappingRead:
        """Whether the next run overlaps this one (``overlapping`` streams)."""
        return OverlappingRead(self, self.page_view)

    def page_view(self, response: requests.Response) -> PageView:
        """What one page of a newest-first list shows (``overlapping`` streams)."""
        raise NotImplementedError(f"{type(self).__name__} reads no newest-first list")

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        """The SDK's records of the read, through, innermost first: the odd-value summary
        once they end, records at or past ``end_date`` dropped, a short read read again
        once, and the table version (ACTIVATE_VERSION after a complete full read)."""

        def read_once() -> t.Iterator[dict]:
            records = super(APIStream, self).get_records(context)
            return self.bookmarks.before_end(self.conformance.summarised(records))

        return self.table_versions.read(self.short_reads.read(read_once, context), context)

    def note_page(self, response: requests.Response) -> None:
        """Every accepted response of a read (``validate_response``): what a full read saw,
        to tell if it is complete, where each page starts, to name a short one, and, for
        a newest-first list, whether the read can show it skipped nothing."""
        self.table_versions.note_page(response)
        self.short_reads.note_page(response)
        if self.overlapping:
            self.overlap.note_page(response)

    def read_total(self, response: requests.Response) -> int | None:
        """The number of records the list holds, as a page announces it; None if unknown."""
        return None

    def incomplete_read(self, check: ReadCheck, context: Context | None) -> str | None:
        """Why a full read cannot be shown complete, or None when it is."""
        return self.table_versions.incomplete_read(check, context)

    @property
    @override
    def emit_activate_version_messages(self) -> bool:
        """Always False for the SDK's ``sync``, which would send the message before the
        records; ``table_versions`` acts on the setting after the read."""
        return False

    @override
    def apply_catalog(self, catalog: singer.Catalog) -> None:
        """As the SDK's, then the metadata's ``forced-replication-method`` wins."""
        super().apply_catalog(catalog)
        apply_forced_replication_method(self, catalog)

    @override
    def compare_start_date(self, value: str, start_date_value: str) -> str:
        return self.bookmarks.compare_start_date(value, start_date_value)

    @override
    def get_starting_replication_key_value(self, context: Context | None) -> t.Any | None:
        return self.bookmarks.starting_value(
            super().get_starting_replication_key_value(context), context
        )

    @override
    def get_batches(
        self, batch_config: BatchConfig, context: Context | None = None
    ) -> t.Iterable[tuple[BaseBatchFileEncoding, list[str]]]:
        """The SDK's batches, each announced before the state moves past its records."""
        return announced_batches(self, batch_config, context)

    @property
    def batching(self) -> bool:
        """Whether this sync writes batch files (``batch_config``) instead of RECORDs."""
        return bool(self.get_batch_config(self.config))

    # The two private methods of ``singer_sdk.streams.core.Stream`` overridden (see
    # tap_common/program/sdk_private.py for each private use and the test that guards it).

    @override
    def _increment_stream_state(
        self, latest_record: dict, *, context: Context | None = None
    ) -> None:
        # The only place the SDK moves a bookmark (``Stream._sync_records``), comparing
        # values as strings; ours compares instants (tap_common/state/bookmarks.py).
        if not self.bookmarks.increment(latest_record, context=context):
            super()._increment_stream_state(latest_record, context=context)

    @override
    def _generate_record_messages(
        self, record: dict
    ) -> t.Generator[singer.RecordMessage, None, None]:
        # Where the SDK conforms a record and builds its RECORD messages
        # (``Stream._write_record_message``); ours conforms faster and reports odd values
        # (tap_common/messages/conform.py). Streams at another conformance level keep the
        # SDK's, less a record without a usable primary key.
        conformance = self.conformance
        if conforms_recursively(self):
            yield from conformance.record_messages(record)
        elif conformance.keep(record, record, self.primary_keys or ()):
            yield from super()._generate_record_messages(record)

    # -- hooks each API fills in ---------------------------------------------------

    def check_envelope(self, body: t.Any, response: requests.Response) -> None:
        """Raise ``UnexpectedResponseError`` when a 2xx body lacks the expected shape."""

    def read_budget(self, response: requests.Response) -> Budget | None:
        """Rate-limit budget from the response headers, if the API sends any."""
        return None

    def is_rate_limited(self, response: requests.Response) -> bool:
        """Whether this response means 'slow down' rather than an error."""
        return response.status_code == 429

    def rate_limit_wait(self, response: requests.Response) -> float | None:
        """Seconds the API asks us to wait, from its headers, if it says."""
        return retry_after_seconds(response)

    def announced_total(self, response: requests.Response) -> tuple[int, bool] | None:
        """(records the first page says the query holds, whether that is a lower bound)."""
        return None

    def auth_failure_message(self, response: requests.Response) -> str | None:
        """A one-line message when the response means 'wrong credentials', else None."""
        if response.status_code == 401:
            return self.credentials_hint(response)
        return None

    def api_error_message(self, body: t.Any) -> str | None:
        """The API's own error text from an error body."""
        return None

    # -- configuration -------------------------------------------------------------

    @property
    @override
    def url_base(self) -> str:
        """The configured API root, without a trailing slash."""
        return str(self.config["api_url"]).rstrip("/")

    @cached_property
    @override
    def authenticator(self) -> HTTPBasicAuth:
        """HTTP basic auth from the credential settings."""
        return HTTPBasicAuth(
            str(self.config[self.username_setting]), str(self.config[self.password_setting])
        )

    @property
    def page_size(self) -> int:
        """Records per page requested."""
        return int(self.config["page_size"])

    @property
    @override
    def timeout(self) -> int:
        """Seconds before a request times out (and is retried)."""
        return int(self.config.get("request_timeout", 60))

    @property
    def pacer(self) -> pacing.RequestPacer:
        """The tap-wide pacer: the budget is per account, shared by all streams."""
        return t.cast("SharedByStreams", self._tap).pacer

    @property
    def progress(self) -> StreamProgress:
        """Counters and progress lines of the stream's current sync."""
        if getattr(self, "_progress", None) is None:
            self._progress = StreamProgress(self.name, self.logger)
        return self._progress

    @override
    def request_records(self, context: Context | None) -> t.Iterable[dict]:
        """The SDK's paging loop, counted for the progress lines."""
        self._progress = progress = StreamProgress(self.name, self.logger)
        try:
            for record in super().request_records(context):
                progress.record()
                if self._too_deep_page and isinstance(record, dict):
                    self.null_too_deep(record)
                yield record
        finally:
            # A read ended early (an error, a signal) may leave a request sent ahead:
            # dropped without waiting for its answer, as the run may be ending.
            self.fetch_ahead_adapter.release()
            progress.finish()

    @property
    @override
    def requests_session(self) -> requests.Session:
        """One keep-alive session for the whole tap."""
        return t.cast("SharedByStreams", self._tap).requests_session

    def credentials_hint(self, response: requests.Response) -> str:
        """One line telling which settings to check."""
        return (
            f"The API refused the credentials ({response.status_code} on {api_path(response)}): "
            f"check the '{self.username_setting}' and '{self.password_setting}' settings."
        )

    # -- paging and parsing ----------------------------------------------------------

    @override
    def get_new_paginator(self) -> BaseAPIPaginator | None:
        """A new paginator for each read, kept in ``_paginator`` for the stream to hand it
        each page; None (one request) when unpaginated."""
        self._paginator = self.new_paginator() if self.paginated else None
        return self._paginator

    def new_paginator(self) -> BaseAPIPaginator:
        """The paginator of one read of a paginated endpoint (each API's paging strategy)."""
        raise NotImplementedError

    def fetch_ahead(
        self, response: requests.Response, records: t.Sized, next_page_token: t.Any
    ) -> None:
        """Send the request for ``next_page_token`` now, while the ``records`` of
        ``response`` are written (``tap_common.http.fetch_ahead``); the SDK's loop gets its
        answer when it asks for that page. Not when there is none, when the SDK's loop
        stops at this page (no records, and the paginator does not go on past an empty
        page), when the pace would hold it back, or in a run that stops after a few
        records (``--test``)."""
        paginator = self._paginator
        if next_page_token is None or paginator is None or self.ABORT_AT_RECORD_COUNT is not None:
            return
        if not records and not paginator.continue_if_empty(response):
            return
        if not self.pacer.due_now():
            return
        request = self.page_request(next_page_token)
        session = self.requests_session
        sent = self.fetch_ahead_adapter.send_ahead(
            request,
            timeout=self.timeout,
            verify=session.verify,
            cert=session.cert,
            proxies=resolve_proxies(request, session.proxies, session.trust_env),
        )
        if sent:
            # Counted by the pacer now; one that did not go (a proxy, an error) is paced
            # and counted when it goes the usual way.
            self.pacer.sent_ahead()

    def page_request(self, next_page_token: t.Any) -> requests.PreparedRequest:
        """The request the SDK's loop sends for ``next_page_token``: built as its
        ``RESTStream._prepare_request`` builds it, from the public ``get_http_request``,
        and authenticated as its ``_request`` does (tests/test_fetch_ahead.py compares)."""
        http_request = self.get_http_request(
            page=PageContext(stream_context=self.context, next_page_token=next_page_token)
        )
        body = "json" if self.payload_as_json else "data"
        arguments = {
            "method": http_request.method,
            "url": http_request.url,
            "params": http_request.encode_params(),
            "headers": http_request.headers,
            body: http_request.data,
        }
        # As the SDK's loop will pass them: ``build_prepared_request`` adds a User-Agent to
        # the headers it is given.
        as_passed = {**arguments, "headers": dict(http_request.headers)}
        prepared = self.build_prepared_request(**arguments)
        prepared = t.cast("requests.PreparedRequest", self.authenticator(prepared))
        self._built_ahead = (as_passed, prepared)
        return prepared

    @override
    def build_prepared_request(self, *args: t.Any, **kwargs: t.Any) -> requests.PreparedRequest:
        """The SDK's, except that the request ``page_request`` built for a page sent ahead
        is handed to the SDK's loop when it builds the same one (preparing a request,
        about 0.1 ms, is then done once per page, not twice)."""
        built = self.__dict__.pop("_built_ahead", None)
        if built is not None and not args and built[0] == kwargs:
            return t.cast("requests.PreparedRequest", built[1])
        return super().build_prepared_request(*args, **kwargs)

    @property
    def fetch_ahead_adapter(self) -> FetchAheadAdapter:
        """The tap-wide transport that holds an answer sent ahead."""
        return t.cast("SharedByStreams", self._tap).fetch_ahead_adapter

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """``page``/``per_page`` on paginated endpoints; streams add their filters."""
        if not self.paginated:
            return {}
        return {"page": next_page_token or 1, "per_page": self.page_size}

    @override
    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        """Records at ``records_jsonpath`` of the (already parsed) body."""
        yield from extract_jsonpath(self.records_jsonpath, json_body(response))

    def null_too_deep(self, record: dict) -> None:
        """Each field of ``record`` holding a value nested too deep to decode
        (``tap_common.http.responses.MAX_DEPTH``) written as null and reported."""
        for field, value in record.items():
            if holds_too_deep(value):
                record[field] = None
                self.value_report.value_nulled(record, self.primary_keys or (), field, TooDeep())

    @override
    def log(self, message: str, *args: t.Any, level: int = logging.INFO, **kwargs: t.Any) -> None:
        """As the SDK's, but its generic 'unhandled error' line stays quiet for a failure
        the CLI explains in one line of its own."""
        quiet = (*EXPLAINED_FAILURES, SyncLifecycleSignal)  # e.g. --test stopping after 1 record
        if level >= logging.ERROR and isinstance(sys.exc_info()[1], quiet):
            level = logging.INFO
        super().log(message, *args, level=level, **kwargs)

    # -- requests, rate limits, retries ---------------------------------------------
    #
    # One request, outside in: ``request_decorator`` (retries, ``max_retries`` times) around
    # ``waiting_as_asked`` (the pause before each request, and the waits a throttle or a
    # Retry-After asks for) around the SDK's own ``RESTStream._request`` (send, the
    # request-duration metric with its URL tag, ``validate_response``). A wait is asked
    # for the way MeltanoLabs tap-stackexchange does it
    # (https://github.com/MeltanoLabs/tap-stackexchange, tap_stackexchange/client.py):
    # ``validate_response`` raises, the limiter around the request catches and waits.

    @override
    def request_decorator(self, func: t.Callable) -> t.Callable:
        """The SDK's retry decorator around the limiter, minus backoff's own log lines (ours
        say it once).

        The SDK's ``request_decorator`` passes ``logger=self.logger`` to backoff, which then
        logs every retry at INFO and the last failure at ERROR, beside ``backoff_handler``'s
        line and the CLI's one-line error; no public hook turns that off, so the decorator
        is built here with the SDK's arguments and ``logger=None``. ``RETRIED_ERRORS`` is
        the SDK's tuple (tests/test_sdk_private.py fails if the SDK's changes).
        """
        return backoff.on_exception(
            self.backoff_wait_generator,
            RETRIED_ERRORS,
            max_tries=self.backoff_max_tries,
            on_backoff=self.backoff_handler,
            jitter=self.backoff_jitter,
            logger=None,
        )(self.waiting_as_asked(func))

    def waiting_as_asked(self, func: t.Callable) -> t.Callable:
        """``func`` (the SDK's ``_request``), waiting as long as the API asks without spending
        the retry budget.

        A rate-limit answer (429, or the CRM's plain-text 403), or a 5xx, 408 or 425 that
        says how long to wait (``Retry-After`` or the API's reset header), is waited out
        here: each wait capped by ``max_rate_limit_wait``, all of them together by
        ``max_rate_limit_wait_total`` (RFC 9110 section 10.2.3: Retry-After may come with
        503 as well as 429). Errors worth a retry that say nothing about waiting (5xx,
        408, 425, timeouts, malformed bodies) raise and are retried by the backoff
        decorator around this, ``max_retries`` times.
        """

        @functools.wraps(func)
        def request(
            prepared_request: requests.PreparedRequest, context: Context | None
        ) -> requests.Response:
            if self.is_sorted and self.replication_key and not self.batching:
                # A page boundary: everything emitted so far is covered by the bookmark, so a
                # run killed during the next page resumes here, not at the stream's start.
                # Not with batch_config: records read are then in a batch not yet announced,
                # and the SDK writes a STATE after each BATCH message (tap_common/state/batches.py).
                self._write_state_message()
            # Every answer is counted, whichever ``validate_response`` judges it
            # (https://requests.readthedocs.io/en/latest/user/advanced/#event-hooks).
            if self.answered not in prepared_request.hooks["response"]:
                prepared_request.register_hook("response", self.answered)
            waited = 0.0  # seconds waited for this request on answers that asked for a wait
            while True:
                if not self.fetch_ahead_adapter.holds(prepared_request):
                    # (A request sent ahead was paced when it went: ``fetch_ahead``.)
                    self.progress.waited(self.pacer.before_request())
                try:
                    response: requests.Response = func(prepared_request, context)
                except WaitAskedError as asked:
                    wait = self._bounded_wait(asked.answer, asked.seconds, asked.why, waited)
                    pacing.sleep(wait)
                    waited += wait
                    self.progress.waited(wait)
                    continue
                if not self.progress.announced:
                    announced = self.announced_total(response)
                    self.progress.first_page(*(announced or (None, False)))
                return response

        return request

    def answered(self, response: requests.Response, *args: t.Any, **kwargs: t.Any) -> None:
        """Each answer of the API, as it arrives: counted, and its rate-limit budget read."""
        self.progress.requested()
        if budget := self.read_budget(response):
            self.pacer.observe(budget)

    def request_once(
        self, params: dict[str, t.Any], context: Context | None = None
    ) -> requests.Response:
        """One GET of the stream's URL with ``params`` (a count, a probe), beside its paging:
        the same headers, pacing, waits and retries as every page."""
        prepared = self.build_prepared_request(
            method="GET", url=self.get_url(context), params=params, headers=self.http_headers
        )
        response: requests.Response = self.request_decorator(self._request)(prepared, context)
        return response

    def _wait_asked(self, response: requests.Response) -> tuple[float, str] | None:
        """(seconds to wait, why) when this answer means 'come back later', else None."""
        status = response.status_code
        throttled = self.is_rate_limited(response)
        if not throttled and status not in RETRIED_STATUSES and status < 500:
            return None
        told = self.rate_limit_wait(response)
        if throttled:
            self.progress.throttled()
            pause = self.pacer.throttled()
            if told is not None:
                # A reset already past by our clock (skew): wait a moment, never spin.
                return (told if told > 0 else MIN_WAIT_SECONDS), "as the API asked"
            if pause is not None:
                return pause, "no wait given: one request interval at the lowered rate"
            return self.backoff_factor, "no wait given: backoff_factor"
        if told is not None:
            return (told if told > 0 else MIN_WAIT_SECONDS), "as the API asked"
        return None  # an error that says nothing about waiting: retried with backoff

    def _bounded_wait(
        self, response: requests.Response, seconds: float, why: str, waited: float
    ) -> float:
        """The wait to sleep now: capped per answer, and the request given up once the
        waits in a row would pass ``max_rate_limit_wait_total``."""
        max_wait = float(self.config.get("max_rate_limit_wait", 300))
        max_total = float(self.config.get("max_rate_limit_wait_total", 900))
        wait = min(seconds, max_wait)
        if waited + wait > max_total:
            msg = (
                f"The API answered {response.status_code} on {api_path(response)} and asked "
                f"to wait {seconds:.0f} s more after {waited:.0f} s of waiting for this "
                f"request; giving up (the limit is 'max_rate_limit_wait_total' = "
                f"{max_total:g} s)."
            )
            raise RateLimitExhaustedError(msg)
        capped = (
            f"; the API asked {seconds:.0f} s, capped by 'max_rate_limit_wait'"
            if (seconds > max_wait)
            else ""
        )
        level = logging.INFO if wait >= pacing.NOTABLE_WAIT_SECONDS else logging.DEBUG
        self.logger.log(
            level,
            "%s %s from %s; waiting %.1f s (%s%s) before asking again.",
            response.status_code,
            "rate limit" if self.is_rate_limited(response) else response.reason,
            api_path(response),
            wait,
            why,
            capped,
        )
        return wait

    @override
    def validate_response(self, response: requests.Response) -> None:
        """Sort a response into 'wait and ask again', success, retriable failure or a clear
        fatal error."""
        status = response.status_code
        asked = self._wait_asked(response)
        if asked is not None:
            raise WaitAskedError(*asked, response)  # waited out by ``waiting_as_asked``
        if status < 400:
            self.pacer.accepted()
        if auth_message := self.auth_failure_message(response):
            raise AuthenticationError(auth_message)
        if status >= 500 or status in RETRIED_STATUSES or self.is_rate_limited(response):
            msg = f"{status} {response.reason} from {api_path(response)}"
            raise RetriableAPIError(msg, response)
        if status == 404 and "{" not in self.path:
            raise FatalAPIError(self.not_found_message(response))
        if status >= 400:
            raise FatalAPIError(self.client_error_message(response))
        try:
            body = json_body(response)
        except ValueError as exc:
            msg = (
                f"{api_path(response)} answered {status} with a body that is not valid JSON "
                f"({len(response.content)} bytes, Content-Type "
                f"{response.headers.get('Content-Type', 'unknown')})"
            )
            raise MalformedResponseError(msg, response) from exc
        # Whether the records of this page, parsed next, hold a value too deep to decode.
        self._too_deep_page = had_too_deep(response)
        self.check_envelope(body, response)
        self.note_page(response)

    def not_found_message(self, response: requests.Response) -> str:
        """A 404 on a list the API always has: the base URL is wrong, not the stream."""
        default = self._tap.config_jsonschema["properties"]["api_url"].get("default")
        return (
            f"{self.client_error_message(response)}; the API has no '{self.path}' under "
            f"'api_url' ({self.url_base}): check its host and its version segment"
            + (f" (the default is {default})." if default else ".")
        )

    def client_error_message(self, response: requests.Response) -> str:
        """Status, endpoint path and the API's own message; never headers or credentials."""
        detail = None
        try:
            detail = self.api_error_message(json_body(response))
        except ValueError:
            detail = response.text.strip()[:200] or None
        message = f"{response.status_code} {response.reason} from {api_path(response)}"
        return f"{message}: {detail}" if detail else message

    @property
    def backoff_factor(self) -> float:
        """Seconds of the first retry wait; doubles on each further retry."""
        return float(self.config.get("backoff_factor", 2))

    @override
    def backoff_wait_generator(self) -> t.Generator[float, None, None]:
        """Exponential backoff, factor and retry count from the settings."""
        return backoff.expo(base=2, factor=self.backoff_factor)

    @override
    def backoff_max_tries(self) -> int:
        """The first try plus ``max_retries`` retries."""
        return int(self.config.get("max_retries", 3)) + 1

    @override
    def backoff_jitter(self, value: float) -> float:
        """No jitter: one tap per account gains nothing from it, and waits stay predictable."""
        return value

    @override
    def backoff_handler(self, details: t.Any) -> None:
        """One WARNING line per retry (the SDK's default logs at ERROR); a termination
        signal already received stops the run instead of the retry's wait."""
        signals.GUARD.check()
        exc = details.get("exception")
        self.logger.warning(
            "Request to %s failed (%s); retry %d of %d in %.1f s.",
            self.path,
            exc
            if isinstance(exc, (RetriableAPIError, ResponseDeadlineError))
            else type(exc).__name__,
            details.get("tries", 0),
            self.backoff_max_tries() - 1,
            details.get("wait", 0.0),
        )

    @override
    def response_error_message(self, response: requests.Response) -> str:
        """Never echo headers or full URLs (the SDK default lists header names and body)."""
        return self.client_error_message(response)


class TooDeep:
    """How a value nested too deep to decode is named in the odd-value report."""

    def __repr__(self) -> str:
        return f"a value nested more than {MAX_DEPTH} levels deep"


def retry_after_seconds(response: requests.Response) -> float | None:
    """``Retry-After`` as seconds, whether given as a number or an HTTP date."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - pacing.now(), 0.0)


def ensure(condition: bool, message: str) -> None:
    """Raise ``UnexpectedResponseError`` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise UnexpectedResponseError(message)
