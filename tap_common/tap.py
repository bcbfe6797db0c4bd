"""Base Tap for both APIs: config checks, shared session and pacer, one-line CLI errors."""

from __future__ import annotations

import contextlib
import os
import sys
import typing as t
from functools import cached_property

import requests
from requests.utils import get_environ_proxies
from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError

from tap_common.client import EXPLAINED_FAILURES
from tap_common.errors import explain
from tap_common.pacing import RequestPacer
from tap_common.settings import check_common_config
from tap_common.writer import FastSingerWriter

if t.TYPE_CHECKING:
    import click


class APITap(Tap):
    """What both taps share beyond their streams."""

    # The tap's stream classes, in the order of the seed document.
    stream_types: t.ClassVar[list[type]] = []

    # Whether the request rate is learned from throttle answers (``rate_control``).
    learn_rate: t.ClassVar[bool] = False

    # msgspec instead of simplejson: ~15% more records/s end to end (benchmarks/README.md).
    message_writer_class = FastSingerWriter

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        # Discovery runs without validation, which is where the SDK fills in defaults.
        for name, spec in self.config_jsonschema["properties"].items():
            if "default" in spec:
                self._config.setdefault(name, spec["default"])

    def discover_streams(self) -> list:
        """One instance of each stream class."""
        return [stream_type(tap=self) for stream_type in self.stream_types]

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """The JSON schema's checks, then the ones it cannot express."""
        _coerce_numbers(self._config, self.config_jsonschema)
        errors = super()._validate_config(raise_errors=raise_errors)
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
        return session

    @cached_property
    def pacer(self) -> RequestPacer:
        """The account-wide request budget, shared by all streams."""
        return RequestPacer(
            max_requests_per_second=self.config.get("max_requests_per_second") or None,
            max_wait=float(self.config.get("max_rate_limit_wait", 300)),
            # 0 means unpaced: neither a ceiling nor a learned rate.
            learn_rate=self.learn_rate and self.config.get("max_requests_per_second") != 0,
        )

    def sync_all(self) -> None:
        """Sync; on failure, still emit the state reached so a re-run resumes."""
        try:
            super().sync_all()
        except Exception:
            self._state_writer.write_state(self.state)
            raise
        finally:
            if summary := self.pacer.summary():
                self.logger.info(summary)

    @classmethod
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:  # type: ignore[override]
        """Run a sync; an explained failure ends with one line on stderr and exit code 1."""
        with _one_line_errors(cls):
            super().invoke(*args, **kwargs)

    @classmethod
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
    try:
        yield
    except ConfigValidationError as exc:
        for error in exc.errors or [str(exc)]:
            tap_class.logger.error("Config validation error: %s", error)
        sys.exit(1)
    except EXPLAINED_FAILURES as exc:
        tap_class.logger.error("%s failed: %s", tap_class.name, explain(exc))
        sys.exit(1)
