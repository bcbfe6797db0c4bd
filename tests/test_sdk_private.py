"""Guards for the private parts of singer-sdk the taps rely on (tap_common/program/sdk_private.py).

Each fails when the SDK changes under us: a private method's signature, the SDK code that
still calls it, a method the SDK makes ``@final``, and a real run through each override.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import logging
import pkgutil
import signal
import textwrap
import types
import typing as t

import pytest
import requests
import singer_sdk
from singer_sdk import RESTStream, Stream, Tap
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.plugin_base import PluginBase, _ConfigInput

import tap_calltracker
import tap_common
import tap_crm
from sandbox_api import CRMAPI
from tap_calltracker.tap import TapCallTracker
from tap_common.messages.conform import RecordConformance
from tap_common.messages.signals import InterruptibleWriter
from tap_common.program.sdk_private import PRIVATE_SDK_USES, PrivateTapOverrides
from tap_common.state.bookmarks import InstantBookmarks
from tap_common.stream.client import RETRIED_ERRORS, APIStream
from tap_crm.tap import TapCRM
from tests.singer_io import catalog_selecting, sync

TAPS = (TapCRM, TapCallTracker)

# What each private override was written against (singer-sdk 0.54.9).
OVERRIDDEN = {
    (Stream, "_increment_stream_state"): (
        "(self, latest_record: 'types.Record', *, context: 'types.Context | None' = None) -> 'None'"
    ),
    (Stream, "_generate_record_messages"): (
        "(self, record: 'types.Record') -> 't.Generator[singer.RecordMessage, None, None]'"
    ),
    (Tap, "_handle_termination"): "(self, signum: 'int', frame: 'FrameType | None') -> 'None'",
    (PluginBase, "_validate_config"): "(self, *, raise_errors: 'bool' = True) -> 'list[str]'",
}
# Where the SDK calls each of them: (function, text its source must contain).
CALLERS = {
    "_increment_stream_state": (
        Stream._sync_records,
        "self._increment_stream_state(record, context=current_context)",
    ),
    "_generate_record_messages": (
        Stream._write_record_message,
        "self._generate_record_messages(record)",
    ),
    "_handle_termination": (
        PluginBase._setup_signal_handlers,
        "signal.signal(signal.SIGTERM, self._handle_termination)",
    ),
    "_validate_config": (PluginBase.__init__, "self._validate_config(raise_errors="),
}


def our_classes() -> list[type]:
    """Every class of ours a tap run uses: both taps, their streams, the message writer."""
    classes: set[type] = {InterruptibleWriter}
    for tap_class in TAPS:
        classes.add(tap_class)
        classes.update(tap_class.stream_types)
    found: set[type] = set()
    for cls in classes:
        found.update(c for c in cls.__mro__ if not is_sdk(c) and c is not object)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


def is_sdk(cls: type) -> bool:
    return cls.__module__.split(".")[0] in {"singer_sdk", "typing", "abc", "builtins"}


def sdk_bases(cls: type) -> list[type]:
    return [c for c in cls.__mro__ if is_sdk(c) and c is not object]


def final_overrides(cls: type) -> list[str]:
    """``Class.name`` for each attribute ``cls`` defines that an SDK base marks ``@final``."""
    found = []
    for name in vars(cls):
        for base in sdk_bases(cls):
            attr = vars(base).get(name)
            target = attr.fget if isinstance(attr, property) else attr
            target = getattr(target, "__func__", target)  # classmethod, staticmethod
            if getattr(target, "__final__", False):
                found.append(f"{cls.__qualname__}.{name} (final in {base.__qualname__})")
    return found


def private_sdk_overrides(cls: type) -> list[str]:
    """Names ``cls`` defines that are private (one underscore) on one of its SDK bases."""
    return sorted(
        name
        for name in vars(cls)
        if name.startswith("_")
        and not name.startswith("__")
        and name not in {"_abc_impl", "_is_protocol"}  # set by abc and typing, not by us
        and any(name in vars(base) for base in sdk_bases(cls))
    )


# -- no @final override ------------------------------------------------------------------


def test_no_class_of_ours_overrides_a_final_sdk_method():
    class Overrider(Tap):  # what the check must catch
        def sync_all(self) -> None: ...

    assert final_overrides(Overrider) == [
        "test_no_class_of_ours_overrides_a_final_sdk_method"
        ".<locals>.Overrider.sync_all (final in Tap)"
    ]
    assert [entry for cls in our_classes() for entry in final_overrides(cls)] == []


# -- every private override in one place ---------------------------------------------------


def test_every_private_override_lives_in_its_home_and_is_listed():
    """Private SDK methods are overridden by two classes only, the tap's (sdk_private.py)
    and the stream's base (APIStream), and each override is in the registry."""
    listed = {use.sdk_name.rsplit(".", 1)[1] for use in PRIVATE_SDK_USES if use.kind == "override"}
    home = {APIStream, PrivateTapOverrides}
    for cls in our_classes():
        names = private_sdk_overrides(cls)
        if cls in home:
            assert set(names) <= listed, cls
        else:
            assert names == [], f"{cls.__qualname__} overrides private SDK names {names}"
    assert listed == {name for (_, name) in OVERRIDDEN}
    assert all(issubclass(tap, PrivateTapOverrides) for tap in TAPS)
    assert all(issubclass(s, APIStream) for tap in TAPS for s in tap.stream_types)


def test_registry_names_guards_that_exist():
    for use in PRIVATE_SDK_USES:
        assert use.why, use
        assert use.where, use
        assert use.sdk_source, use
        guards = [g.strip() for g in use.guard.split("(")[0].split(",")]
        for guard in guards:
            assert guard in globals(), f"{use.sdk_name}: no guard test {guard}"


def test_private_overrides_match_the_sdk():
    for (owner, name), expected in OVERRIDDEN.items():
        sdk_method = getattr(owner, name)
        assert str(inspect.signature(sdk_method)) == expected, (
            f"singer-sdk changed {owner.__qualname__}.{name}: review tap_common/program/sdk_private.py"
        )
        caller, call = CALLERS[name]
        assert call in inspect.getsource(caller), (
            f"singer-sdk no longer calls {name} from {caller.__qualname__}"
        )


# -- the request path --------------------------------------------------------------------


def test_the_sdk_still_decorates_its_request():
    """The limiter and retries sit in ``request_decorator`` around the SDK's ``_request``,
    which must still send, log the metric and call ``validate_response``."""
    assert "self.request_decorator(self._request)" in inspect.getsource(RESTStream.request_records)
    source = inspect.getsource(RESTStream._request)
    assert "self.requests_session.send(" in source
    assert "self._write_request_duration_log(" in source
    assert "self.validate_response(response)" in source
    assert str(inspect.signature(RESTStream._request)) == (
        "(self, prepared_request: 'requests.PreparedRequest', context: 'Context | None')"
        " -> 'requests.Response'"
    )


def test_retried_errors_are_the_sdks():
    """``RETRIED_ERRORS`` is the tuple of the SDK's ``request_decorator``, which still hands
    backoff the stream's logger (the reason ours is rebuilt with ``logger=None``)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(RESTStream.request_decorator)))
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "backoff.on_exception"
    ]
    assert len(calls) == 1
    sdk_tuple = calls[0].args[1]
    assert isinstance(sdk_tuple, ast.Tuple)
    sdk_names = sorted(ast.unparse(e).rsplit(".", 1)[-1] for e in sdk_tuple.elts)
    assert sdk_names == sorted(e.__name__ for e in RETRIED_ERRORS)
    keywords = {k.arg: ast.unparse(k.value) for k in calls[0].keywords}
    assert keywords["logger"] == "self.logger"
    assert set(keywords) == {"max_tries", "on_backoff", "jitter", "logger"}


def test_request_metric_has_the_url_tag(make_sandbox, monkeypatch, caplog):
    """The SDK's ``_request`` does the sending, so its metric keeps the URL tag."""
    sandbox = make_sandbox(crm_api=CRMAPI(size=3))
    monkeypatch.setattr(APIStream, "_LOG_REQUEST_METRIC_URLS", True)
    config = sandbox.crm_config()
    with caplog.at_level(logging.INFO, logger=singer_sdk.metrics.METRICS_LOGGER_NAME):
        out = sync(TapCRM, config, catalog=catalog_selecting(TapCRM, config, ["deals"]))
    assert len(out.records["deals"]) == 3
    points = [
        r.args[0]
        for r in caplog.records
        if r.getMessage().startswith("METRIC:") and "http_request_duration" in r.getMessage()
    ]
    assert points, "no request metric logged"
    assert all("/deals?page=" in point.tags.get("url", "") for point in points)


# -- the other private calls ---------------------------------------------------------------


def test_private_calls_exist():
    assert str(inspect.signature(Stream._write_state_message)) == "(self) -> 'None'"
    assert "self._sync_records(context, write_messages=False)" in inspect.getsource(
        Stream.get_batches
    )
    assert list(inspect.signature(Stream._sync_records).parameters) == [
        "self",
        "context",
        "write_messages",
    ]
    stream_init = inspect.getsource(Stream.__init__)
    assert "self._stream_version" in stream_init
    assert "self._tap = tap" in stream_init
    assert "version=self._stream_version" in inspect.getsource(Stream._generate_record_messages)
    plugin_source = inspect.getsource(PluginBase)
    assert "self._config" in plugin_source
    assert "_env_var_prefix" in plugin_source
    assert [f.name for f in __import__("dataclasses").fields(_ConfigInput)] == [
        "config",
        "parse_env",
    ]
    state = importlib.import_module("singer_sdk.helpers._state")
    assert {"PROGRESS_MARKERS", "PROGRESS_MARKER_NOTE"} <= set(vars(state))
    typing_helpers = importlib.import_module("singer_sdk.helpers._typing")
    for name in ("_conform_primitive_property", "_warn_unmapped_properties"):
        assert callable(getattr(typing_helpers, name))
    assert callable(
        importlib.import_module("singer_sdk.helpers._catalog").pop_deselected_record_properties
    )
    assert callable(importlib.import_module("singer_sdk.helpers._util").utc_now)


# -- each override, through a real run -----------------------------------------------------


def counting(monkeypatch: pytest.MonkeyPatch, owner: type, name: str) -> list[t.Any]:
    calls: list[t.Any] = []
    original = getattr(owner, name)

    def spy(self: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
        calls.append(args[0] if args else None)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(owner, name, spy)
    return calls


def crm_run(make_sandbox: t.Any, stream: str) -> t.Any:
    sandbox = make_sandbox(crm_api=CRMAPI(size=5))
    config = sandbox.crm_config()
    return sync(TapCRM, config, catalog=catalog_selecting(TapCRM, config, [stream]))


def test_bookmark_moves_through_the_override(make_sandbox, monkeypatch):
    calls = counting(monkeypatch, InstantBookmarks, "increment")
    out = crm_run(make_sandbox, "contacts")
    assert len(calls) == len(out.records["contacts"]) == 5
    bookmark = out.final_state["bookmarks"]["contacts"]["replication_key_value"]
    assert bookmark.endswith("+00:00")
    assert "." in bookmark  # our microsecond UTC form


def test_records_go_through_the_override(make_sandbox, monkeypatch):
    def spy_generator(self: t.Any, record: dict) -> t.Any:
        calls.append(record)
        yield from original(self, record)

    calls: list[dict] = []
    original = RecordConformance.record_messages
    monkeypatch.setattr(RecordConformance, "record_messages", spy_generator)
    out = crm_run(make_sandbox, "deals")
    assert len(calls) == len(out.records["deals"]) == 5


def test_validate_config_goes_through_the_override(make_sandbox, monkeypatch):
    """Our checks run where the SDK validates (a check its JSON schema cannot express)."""
    calls = counting(monkeypatch, TapCRM, "check_config")
    config = {**make_sandbox(crm_api=CRMAPI(size=1)).crm_config(), "api_url": "ftp://host/x"}
    with pytest.raises(ConfigValidationError) as raised:
        TapCRM(config=config, parse_env_config=False, validate_config=True)
    assert "must be an http(s) URL" in str(raised.value.errors or raised.value)
    assert len(calls) == 1


def test_termination_handler_is_ours(make_sandbox):
    tap = TapCRM(config=make_sandbox(crm_api=CRMAPI(size=1)).crm_config(), parse_env_config=False)
    handler = signal.getsignal(signal.SIGTERM)
    assert getattr(handler, "__func__", None) is PrivateTapOverrides._handle_termination
    assert getattr(handler, "__self__", None) is tap


def test_request_once_is_a_paced_retried_request(make_sandbox):
    """The count beside the paging goes through the same decorator as every page."""
    sandbox = make_sandbox(crm_api=CRMAPI(size=7))
    tap = TapCRM(config=sandbox.crm_config(), parse_env_config=False)
    stream = tap.streams["deals"]
    response = stream.request_once({"page": 1, "per_page": 1})
    assert isinstance(response, requests.Response)
    assert isinstance(response.json()["data"]["total_count"], int)
    (sent,) = sandbox.requests_to("crm", "/deals")
    assert sent.query == {"page": ["1"], "per_page": ["1"]}  # the caller's parameters only
    assert stream.progress.requests == 1


# -- @override on every override -----------------------------------------------------------


@pytest.mark.parametrize("package", [tap_common, tap_crm, tap_calltracker])
def test_every_override_is_marked(package: types.ModuleType):
    """Each method of our packages that overrides a base class's says so (``@override``),
    so the type checker reports it when the base's method goes or changes."""
    unmarked = []
    # Sub-packages too (tap_common's layers).
    for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        module = importlib.import_module(info.name)
        for cls in vars(module).values():
            if not inspect.isclass(cls) or cls.__module__ != module.__name__:
                continue
            for name, value in vars(cls).items():
                if name.startswith("__") or (name.startswith("_") and name.endswith("_")):
                    continue  # dunder and Enum's _sunder_ names are Python's, not overrides
                if inspect.isclass(value) or (
                    not callable(value)
                    and not isinstance(
                        value, (property, functools.cached_property, classmethod, staticmethod)
                    )
                ):
                    continue  # a class attribute (a value, a class), not a method
                if not any(name in vars(base) for base in cls.__mro__[1:]):
                    continue
                target = value.fget if isinstance(value, property) else value
                target = getattr(target, "func", getattr(target, "__func__", target))
                if not getattr(target, "__override__", False):
                    unmarked.append(f"{module.__name__}.{cls.__name__}.{name}")
    assert unmarked == []
