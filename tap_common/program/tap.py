"""Base Tap for both APIs: config checks, shared session and pacer, one-line CLI errors,
honest exit codes on SIGTERM / SIGINT."""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import sys
import typing as t
from functools import cached_property

import click
import requests
from requests.utils import get_environ_proxies
from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError, MappingError
from singer_sdk.plugin_base import _ConfigInput
from singer_sdk.singerlib.encoding.simple import StateMessage
from typing_extensions import override

from tap_common.http.errors import explain
from tap_common.http.fetch_ahead import FetchAheadAdapter
from tap_common.http.pacing import RequestPacer
from tap_common.messages import signals
from tap_common.program.input_errors import (
    InputError,
    check_environment,
    check_required,
    read_catalog,
    read_json_object,
    read_state,
)
from tap_common.program.operator_checks import check_catalog, warn_unknown_settings
from tap_common.program.sdk_private import PrivateTapOverrides
from tap_common.program.settings import check_common_config
from tap_common.stream.client import EXPLAINED_FAILURES


class APITap(PrivateTapOverrides, Tap):
    """What both taps share beyond their streams."""

    # The tap's stream classes, in the order the tap lists them (``--discover``).
    stream_types: t.ClassVar[list[type]] = []

    # Whether the request rate is learned from throttle answers (``rate_control``).
    learn_rate: t.ClassVar[bool] = False

    # msgspec instead of simplejson: ~15% more records/s end to end (benchmarks/README.md);
    # signals are held while a message is being written (tap_common/messages/signals.py).
    message_writer_class = signals.InterruptibleWriter

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self._parse_env = bool(kwargs.get("parse_env_config"))
        try:
            super().__init__(*args, **kwargs)
        except ValueError:
            # The SDK's int() of a TAP_*_<SETTING> variable: name the variable instead.
            if self._parse_env:
                check_environment(self.config_jsonschema, self._env_var_prefix)
            raise
        # Discovery runs without validation, which is where the SDK fills in defaults.
        for name, spec in self.config_jsonschema["properties"].items():
            if "default" in spec:
                self._config.setdefault(name, spec["default"])

    @override
    def discover_streams(self) -> list:
        """One instance of each stream class."""
        return [stream_type(tap=self) for stream_type in self.stream_types]

    def check_config(
        self, sdk_checks: t.Callable[[], list[str]], *, raise_errors: bool = True
    ) -> list[str]:
        """The JSON schema's checks (``sdk_checks``), then the ones it cannot express (the
        SDK's private ``_validate_config`` hands over to this: tap_common/program/sdk_private.py)."""
        if getattr(self, "_parse_env", False):
            check_environment(self.config_jsonschema, self._env_var_prefix)
        if raise_errors:
            # The SDK's own settings (stream_maps, batch_config, ...) count as known.
            with_builtins = copy.deepcopy(self.config_jsonschema)
            self.append_builtin_config(with_builtins)
            warn_unknown_settings(self._config, with_builtins, self.name)
            check_required(self._config, self.config_jsonschema, self.name)
        _coerce_numbers(self._config, self.config_jsonschema)
        errors = sdk_checks()
        if raise_errors:
            check_common_config(self._config)
        return errors

    @cached_property
    def requests_session(self) -> requests.Session:
        """One keep-alive connection pool for all streams.

        requests re-reads proxy settings from the environment on every request (about
        0.6 ms each). The tap talks to one host, so they are resolved once here instead;
        HTTP(S)_PROXY, NO_PROXY and REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE still apply.
        """
        session = requests.Session()
        session.proxies = get_environ_proxies(str(self.config.get("api_url", "")))
        session.verify = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )
        session.trust_env = False
        # One adapter for every URL: it holds the next page's answer when it was sent ahead.
        session.mount("https://", self.fetch_ahead_adapter)
        session.mount("http://", self.fetch_ahead_adapter)
        return session

    @cached_property
    def fetch_ahead_adapter(self) -> FetchAheadAdapter:
        """The session's transport: sends the next page's request while a page's records
        are written (``tap_common.http.fetch_ahead``)."""
        return FetchAheadAdapter()

    @cached_property
    def pacer(self) -> RequestPacer:
        """The account-wide request budget, shared by all streams."""
        return RequestPacer(
            max_requests_per_second=self.config.get("max_requests_per_second") or None,
            max_wait=float(self.config.get("max_rate_limit_wait", 300)),
            # 0 means unpaced: neither a ceiling nor a learned rate.
            learn_rate=self.learn_rate and self.config.get("max_requests_per_second") != 0,
        )

    def sync_and_keep_state(self) -> None:
        """``sync_all``; if it stops early, emit the state reached so a re-run resumes.

        The state written last holds every bookmark of records already emitted; unsorted
        streams keep their ``progress_markers``, which the next run discards, so it
        resumes from their previous bookmark and loses nothing.
        """
        signals.GUARD.reset()
        try:
            self.sync_all()
        except (Exception, signals.SyncInterrupted):
            signals.GUARD.stop()  # a signal is no longer raised again (tap_common/messages/signals.py)
            # Written even when unchanged since the last STATE (the SDK's StateWriter would
            # skip it): whoever keeps the output's last STATE line keeps the state reached.
            self.write_message(StateMessage(value=self.state))
            raise
        finally:
            if summary := self.pacer.summary():
                self.logger.info(summary)

    @classmethod
    @override
    def invoke(  # type: ignore[override]  # --state/--catalog are paths here (str), not click.File
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: _ConfigInput | None = None,
        state: str | None = None,
        catalog: str | None = None,
    ) -> None:
        """Run a sync, as ``Tap.invoke`` does, with every input read before any request and
        every failure ending in one line and a non-zero exit code."""
        with _one_line_errors(cls):
            if about:
                cls.print_about(about_format)
                sys.exit(0)
            cls.print_version(print_fn=cls.logger.info)
            config = config or _ConfigInput()
            catalog_read = None if catalog is None else read_catalog(catalog)
            tap = cls(
                config=config.config,
                state=None if state is None else read_state(state),
                catalog=catalog_read,
                parse_env_config=config.parse_env,
                validate_config=True,
            )
            if catalog_read is not None:
                check_catalog(catalog_read, tap.streams, f"Catalog file '{catalog}'")
            tap.sync_and_keep_state()

    @classmethod
    @override
    def get_singer_command(cls) -> click.Command:
        """The SDK's command, with ``--state`` and ``--catalog`` taken as paths.

        The SDK opens them as ``click.File``: a missing file is then a click usage error
        and a malformed one a traceback; ``invoke`` reads them with clear errors instead.
        """
        command = super().get_singer_command()
        for param in command.params:
            if param.name in {"state", "catalog"}:
                param.type = click.STRING
        return command

    @classmethod
    @override
    def cb_config(
        cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]
    ) -> _ConfigInput:
        """``--config`` files (and ``ENV``), read with one-line errors.

        The SDK's callback runs eagerly, before ``invoke``, and a trailing comma or a
        missing file ends there in a traceback. It returns the SDK's private ``_ConfigInput``
        because ``cb_discover`` and ``cb_test`` read that from the click context; guarded
        by tests/test_cli.py.
        """
        with _one_line_errors(cls):
            merged: dict[str, t.Any] = {}
            for path in value:
                if path != "ENV":
                    merged |= read_json_object(path, "Config file")
            return _ConfigInput(config=merged, parse_env="ENV" in value)

    @classmethod
    @override
    def cb_discover(cls, ctx: click.Context, param: click.Option, value: bool) -> None:
        """``--discover``, with the same one-line errors as a sync."""
        with _one_line_errors(cls):
            super().cb_discover(ctx, param, value)

    @classmethod
    @override
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        """``--test``, with the same one-line errors as a sync."""
        with _one_line_errors(cls):
            super().cb_test(ctx, param, value)


def _coerce_numbers(config: dict, schema: dict) -> None:
    """Number settings given as strings (``TAP_CRM_BACKOFF_FACTOR=0.5``): the SDK's env
    parsing coerces integers and booleans, but not numbers."""
    for name, spec in schema["properties"].items():
        value = config.get(name)
        if isinstance(value, str) and "number" in spec.get("type", []):
            with contextlib.suppress(ValueError):
                config[name] = float(value)


@contextlib.contextmanager
def _one_line_errors(tap_class: type[APITap]) -> t.Iterator[None]:
    """Known failures end in one ERROR line and a non-zero exit; the traceback only at DEBUG."""
    logger = tap_class.logger
    debug = logger.isEnabledFor(logging.DEBUG)
    try:
        yield
    except signals.SyncInterrupted as exc:
        logger.error(
            "%s was interrupted by %s (exit code %d); the last STATE message it wrote is "
            "where the next run resumes.",
            tap_class.name,
            exc,
            exc.exit_code,
            exc_info=debug,
        )
        sys.exit(exc.exit_code)
    except InputError as exc:
        logger.error("%s", exc, exc_info=debug)
        sys.exit(1)
    except ConfigValidationError as exc:
        for error in exc.errors or [str(exc)]:
            logger.error("Config validation error: %s", error, exc_info=debug)
        sys.exit(1)
    except MappingError as exc:
        # The SDK's stream-map checks (singer_sdk/mapper.py), e.g. a map whose output drops
        # the key: "Invalid key properties for 'contacts': [id]. ...".
        hint = (
            " Keep the key in the map's output, or give the map '__key_properties__' "
            "naming properties it keeps."
            if "key properties" in str(exc)
            else ""
        )
        logger.error("Setting 'stream_maps': %s%s", str(exc).rstrip(), hint, exc_info=debug)
        sys.exit(1)
    except EXPLAINED_FAILURES as exc:
        logger.error("%s failed: %s", tap_class.name, explain(exc), exc_info=debug)
        sys.exit(1)
