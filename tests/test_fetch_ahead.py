"""The next page's request is sent while a page's records are written
(``tap_common.http.fetch_ahead``), and nothing a target or the API sees changes but the timing."""

from __future__ import annotations

import contextlib
import http.server
import io
import itertools
import json
import ssl
import threading
import typing as t

import pytest
import requests
import trustme
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from singer_sdk import RESTStream

from sandbox_api import CRMAPI
from sandbox_api.calltracker import CallTrackerAPI
from sandbox_api.variations import Variations
from tap_calltracker.tap import TapCallTracker
from tap_common.http import pacing
from tap_common.http.fetch_ahead import FetchAheadAdapter
from tap_common.http.pacing import Budget, RequestPacer
from tap_crm.tap import TapCRM
from tests.singer_io import SingerOutput, catalog_selecting

if t.TYPE_CHECKING:
    from tap_common.program.tap import APITap


def run(
    tap_class: type[APITap], config: dict, streams: set[str], **kwargs: t.Any
) -> tuple[SingerOutput, APITap]:
    """Sync ``streams`` in-process; the parsed output and the tap (for its adapter)."""
    catalog = catalog_selecting(tap_class, config, streams)
    tap = tap_class(config=config, catalog=catalog, parse_env_config=False, **kwargs)
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        tap.sync_and_keep_state()
    return SingerOutput.parse(stdout.getvalue()), tap


@contextlib.contextmanager
def never_ahead() -> t.Iterator[None]:
    """Every request goes the usual way (the behaviour before fetching ahead)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FetchAheadAdapter, "send_ahead", lambda *_a, **_k: False)
        yield


@pytest.fixture
def exact_sandbox(make_sandbox: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """``make_sandbox``, but answering without the undocumented variations even under
    ``--all-switches``: these tests count requests and compare two runs request by request,
    which the switches' retries and shuffles change on purpose. (Every other test module runs
    the taps, requests sent ahead included, with every switch.)"""

    def start(**kwargs: t.Any) -> t.Any:
        sandbox = make_sandbox(**kwargs)
        sandbox.crm.variations = Variations()
        sandbox.calltracker.variations = Variations()
        return sandbox

    return start


# What differs between any two runs: the time a record was read, the time a sync began,
# the table version (the time a full read began).
RUN_TIMES = frozenset({"time_extracted", "replication_key_signpost", "version"})


def without_times(value: t.Any) -> t.Any:
    """Messages (or any part of them) without the run times in ``RUN_TIMES``."""
    if isinstance(value, SingerOutput):
        value = value.messages
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if k not in RUN_TIMES}
    if isinstance(value, list):
        return [without_times(item) for item in value]
    return value


def queries(sandbox: t.Any, api: str, path: str | None = None) -> list[tuple[str, dict]]:
    return [(r.path, r.query) for r in sandbox.requests_to(api, path)]


def test_every_next_crm_page_is_sent_ahead_and_used(exact_sandbox, monkeypatch):
    sandbox = exact_sandbox(crm_api=CRMAPI(size=5, sizes={"contacts": 450, "deals": 230}))
    built = []
    sdk_build = RESTStream.build_prepared_request

    def build(stream: RESTStream, *args: t.Any, **kwargs: t.Any) -> requests.PreparedRequest:
        built.append(kwargs["url"])
        return sdk_build(stream, *args, **kwargs)

    monkeypatch.setattr(RESTStream, "build_prepared_request", build)
    out, tap = run(TapCRM, sandbox.crm_config(), {"contacts", "deals"})

    adapter = tap.fetch_ahead_adapter
    # Every page after a stream's first went ahead, and every answer sent ahead was used:
    # the request the SDK's loop built for it was the same one, sent once.
    assert adapter.sent_ahead == len(sandbox.requests_to("crm")) - 2 > 0
    assert (adapter.unused, adapter.resent) == (0, 0)
    for name in ("contacts", "deals"):
        logged = queries(sandbox, "crm", f"/{name}")
        assert len(logged) == len({repr(q) for q in logged}), name
    assert len(out.records["contacts"]) == 450
    assert len(out.records["deals"]) == 230
    # Each request was prepared once: the SDK's loop was handed the one sent ahead.
    assert len(built) == len(sandbox.requests_to("crm"))


def test_every_next_calltracker_page_is_sent_ahead_and_used(exact_sandbox):
    sandbox = exact_sandbox(calltracker_api=CallTrackerAPI(size=5, sizes={"calls": 260}))
    out, tap = run(TapCallTracker, sandbox.calltracker_config(), {"calls"})

    adapter = tap.fetch_ahead_adapter
    logged = sandbox.requests_to("calltracker", "/calls")
    assert adapter.sent_ahead == len(logged) - 1 > 0
    assert (adapter.unused, adapter.resent) == (0, 0)
    assert len(out.records["calls"]) == 260
    assert out.duplicates("calls") == []


@settings(
    deadline=None,
    derandomize=True,
    max_examples=12,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    contacts=st.integers(min_value=0, max_value=420),
    page_size=st.sampled_from([25, 50, 100]),
)
def test_crm_output_is_the_same_with_or_without_fetching_ahead(exact_sandbox, contacts, page_size):
    sandbox = exact_sandbox(crm_api=CRMAPI(size=3, sizes={"contacts": contacts, "notes": 130}))
    config = sandbox.crm_config(page_size=page_size)
    ahead, tap = run(TapCRM, config, {"contacts", "notes"})
    assert tap.fetch_ahead_adapter.sent_ahead > 0  # notes alone take two pages
    requests_ahead = queries(sandbox, "crm")
    sandbox.clear_log()
    with never_ahead():
        usual, _ = run(TapCRM, config, {"contacts", "notes"})

    # The same RECORD, SCHEMA and STATE messages in the same order (STATE at the same page
    # boundaries), and the same requests in the same order.
    assert without_times(ahead) == without_times(usual)
    assert requests_ahead == queries(sandbox, "crm")


def test_calltracker_output_is_the_same_with_or_without_fetching_ahead(exact_sandbox):
    sandbox = exact_sandbox(
        calltracker_api=CallTrackerAPI(size=5, sizes={"calls": 180, "contacts": 120})
    )
    config = sandbox.calltracker_config()
    ahead, tap = run(TapCallTracker, config, {"calls", "contacts", "users"})
    assert tap.fetch_ahead_adapter.sent_ahead > 0
    requests_ahead = queries(sandbox, "calltracker")
    sandbox.clear_log()
    with never_ahead():
        usual, _ = run(TapCallTracker, config, {"calls", "contacts", "users"})

    assert without_times(ahead) == without_times(usual)
    assert requests_ahead == queries(sandbox, "calltracker")


def test_a_failed_page_sent_ahead_is_retried_as_usual(exact_sandbox, no_sleep):
    sandbox = exact_sandbox(crm_api=CRMAPI(size=5, sizes={"contacts": 350}))
    # The third request (sent ahead while page 2 is written) fails twice, then answers.
    sandbox.faults.fail(503, times=2, path="/contacts", after=2)
    out, tap = run(TapCRM, sandbox.crm_config(), {"contacts"})

    assert len(out.records["contacts"]) == 350
    assert out.duplicates("contacts") == []
    logged = queries(sandbox, "crm", "/contacts")
    assert len(logged) == 6
    assert logged[2] == logged[3] == logged[4]
    assert len({repr(q) for q in logged}) == 4
    assert len(no_sleep.retries) == 2
    # Requests 2, 3 and 4 went ahead; the two retries of 3 went the usual way.
    assert tap.fetch_ahead_adapter.sent_ahead == 3


def test_a_truncated_answer_sent_ahead_is_retried_as_usual(exact_sandbox, no_sleep):
    sandbox = exact_sandbox(calltracker_api=CallTrackerAPI(size=5, sizes={"calls": 160}))
    truncated = sandbox.faults.truncate(times=1, path="/calls", after=1)
    out, tap = run(TapCallTracker, sandbox.calltracker_config(), {"calls"})

    assert truncated.fired == 1
    assert len(out.records["calls"]) == 160
    assert out.duplicates("calls") == []
    assert len(no_sleep.retries) == 1
    assert tap.fetch_ahead_adapter.sent_ahead >= 1


@pytest.mark.waits
def test_no_request_goes_ahead_while_the_pace_holds_requests_back(exact_sandbox):
    sandbox = exact_sandbox(crm_api=CRMAPI(size=5, sizes={"contacts": 300}))
    # 2 requests/s: each next page is due half a second after the last request, long after
    # the page before it is read (a few milliseconds), so it is never sent early.
    out, tap = run(TapCRM, sandbox.crm_config(max_requests_per_second=2), {"contacts"})

    assert len(out.records["contacts"]) == 300
    assert tap.fetch_ahead_adapter.sent_ahead == 0
    times = [r.at for r in sandbox.requests_to("crm", "/contacts")]
    assert all(later - earlier >= 0.4 for earlier, later in itertools.pairwise(times))


def test_a_test_run_sends_nothing_ahead(exact_sandbox):
    sandbox = exact_sandbox(crm_api=CRMAPI(size=5, sizes={"contacts": 300}))
    catalog = catalog_selecting(TapCRM, sandbox.crm_config(), {"contacts"})
    tap = TapCRM(config=sandbox.crm_config(), catalog=catalog, parse_env_config=False)
    with contextlib.redirect_stdout(io.StringIO()):
        tap.run_sync_dry_run(dry_run_record_limit=1)

    assert tap.fetch_ahead_adapter.sent_ahead == 0
    assert len(sandbox.requests_to("crm", "/contacts")) == 1


# -- the adapter on its own, against the sandbox ----------------------------------------


def prepared(session: requests.Session, url: str, **params: t.Any) -> requests.PreparedRequest:
    return session.prepare_request(requests.Request("GET", url, params=params))


@pytest.fixture
def adapter_session(exact_sandbox):
    sandbox = exact_sandbox(crm_api=CRMAPI(size=250))
    config = sandbox.crm_config()
    adapter = FetchAheadAdapter()
    session = requests.Session()
    session.mount("http://", adapter)
    session.auth = (config["username"], config["password"])
    yield sandbox, session, adapter, config["api_url"]
    session.close()


def send_ahead(adapter: FetchAheadAdapter, request: requests.PreparedRequest) -> bool:
    return adapter.send_ahead(request, timeout=10, verify=True, cert=None, proxies={})


def test_an_answer_nobody_asks_for_is_read_and_dropped_before_the_next_request(adapter_session):
    sandbox, session, adapter, url = adapter_session
    assert send_ahead(adapter, prepared(session, f"{url}/contacts", page=1, per_page=10))

    answer = session.send(prepared(session, f"{url}/contacts", page=2, per_page=10))

    assert answer.status_code == 200
    assert answer.json()["data"]["page"] == 2
    assert (adapter.unused, adapter.resent) == (1, 0)
    assert [r.arg("page") for r in sandbox.requests_to("crm", "/contacts")] == ["1", "2"]


def test_an_answer_lost_on_the_way_is_asked_again(adapter_session):
    sandbox, session, adapter, url = adapter_session
    request = prepared(session, f"{url}/contacts", page=2, per_page=10)
    assert send_ahead(adapter, request)
    connection = adapter._connection
    assert connection is not None
    connection.close()  # the connection drops before the answer is read

    answer = session.send(request)

    assert answer.json()["data"]["page"] == 2
    assert adapter.resent == 1
    assert [r.arg("page") for r in sandbox.requests_to("crm", "/contacts")] == ["2", "2"]


def test_nothing_goes_ahead_through_a_proxy(adapter_session):
    _, session, adapter, url = adapter_session
    request = prepared(session, f"{url}/contacts", page=1)
    sent = adapter.send_ahead(
        request, timeout=10, verify=True, cert=None, proxies={"http": "http://127.0.0.1:9"}
    )
    assert sent is False
    assert adapter.sent_ahead == 0


# -- over HTTPS, as the real APIs answer -------------------------------------------------


class _Pages(http.server.BaseHTTPRequestHandler):
    """A page per request: ``{"page": N}`` for ``?page=N``."""

    protocol_version = "HTTP/1.1"  # keep-alive

    def do_GET(self) -> None:
        page = self.path.rsplit("page=", 1)[-1]
        body = json.dumps({"page": int(page)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: t.Any) -> None:
        pass


@pytest.fixture
def https_server(tmp_path):
    """An HTTPS server on 127.0.0.1 with a certificate from a throwaway CA; yields
    (base URL, path of the CA's certificate)."""
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    yield f"https://127.0.0.1:{server.server_address[1]}", str(bundle)
    server.shutdown()
    server.server_close()


def test_pages_go_ahead_over_https_with_the_sessions_certificate_check(https_server):
    url, bundle = https_server
    adapter = FetchAheadAdapter()
    with requests.Session() as session:
        session.mount("https://", adapter)
        session.verify = bundle
        for page in range(1, 4):
            request = prepared(session, url, page=page)
            assert adapter.send_ahead(request, timeout=10, verify=bundle, cert=None, proxies={})
            assert session.send(request).json() == {"page": page}

    assert (adapter.sent_ahead, adapter.unused, adapter.resent) == (3, 0, 0)


def test_a_certificate_the_session_would_refuse_is_refused_ahead_too(https_server):
    url, _ = https_server
    adapter = FetchAheadAdapter()
    with requests.Session() as session:
        session.mount("https://", adapter)
        request = prepared(session, url, page=1)
        # Verified against the default bundle, the throwaway CA is unknown: nothing is
        # sent ahead, and the usual send fails as requests always does.
        assert not adapter.send_ahead(request, timeout=10, verify=True, cert=None, proxies={})
        with pytest.raises(requests.exceptions.SSLError):
            session.send(request)


class _ClosingPages(_Pages):
    """HTTP/1.0: the server closes the connection after every answer."""

    protocol_version = "HTTP/1.0"


def test_pages_go_ahead_to_a_server_that_closes_every_connection():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ClosingPages)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    adapter = FetchAheadAdapter()
    try:
        with requests.Session() as session:
            session.mount("http://", adapter)
            for page in range(1, 6):
                request = prepared(session, url, page=page)
                assert send_ahead(adapter, request)
                assert session.send(request).json() == {"page": page}
    finally:
        server.shutdown()
        server.server_close()

    # Each closed connection is seen before the next request goes ahead: none is lost.
    assert (adapter.sent_ahead, adapter.unused, adapter.resent) == (5, 0, 0)


def test_the_pacer_counts_a_request_only_once_it_went_ahead():
    pacer = RequestPacer(max_requests_per_second=None, max_wait=10)
    pacer.observe(Budget(limit=100, remaining=50, reset_at=pacing.now() + 60))

    # Asking whether a request may go ahead counts nothing (it may not go: a proxy, an error).
    assert pacer.due_now()
    assert pacer.due_now()
    assert pacer.budget.remaining == 50
    pacer.sent_ahead()
    assert pacer.budget.remaining == 49
    # No budget left: nothing goes ahead; the usual path waits for the reset.
    pacer.observe(Budget(limit=100, remaining=0, reset_at=pacing.now() + 60))
    assert not pacer.due_now()
