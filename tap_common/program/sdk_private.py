"""Every place the taps lean on a private part of singer-sdk 0.54.9, in one module.

The SDK's public hooks (``request_decorator``, ``validate_response``, ``backoff_*``,
``get_records``, ``apply_catalog``, ``invoke``, ...) carry almost everything; what they
cannot reach is overridden by a thin method that hands over to a public method of ours:
the tap's two here (``PrivateTapOverrides``), the stream's two on ``APIStream``
(tap_common/stream/client.py). Each is listed in ``PRIVATE_SDK_USES`` with its reason. The guard
tests in tests/test_sdk_private.py fail when the SDK changes under one of them: the
signature we were written against, the SDK caller that still calls it, and a real run.

None of these overrides a method the SDK marks ``@typing.final`` (``Tap.sync_all``,
``Stream.sync``, ...): tests/test_sdk_private.py checks every class of both taps.
"""

from __future__ import annotations

import functools
import typing as t
from dataclasses import dataclass

from typing_extensions import override

from tap_common.messages import signals

if t.TYPE_CHECKING:
    from types import FrameType

    from singer_sdk import Tap as _TapBase
else:
    _TapBase = object


class ChecksConfig(t.Protocol):
    """What ``PrivateTapOverrides`` calls on its tap (``tap_common.program.tap.APITap``,
    which imports this module)."""

    def check_config(
        self, sdk_checks: t.Callable[[], list[str]], *, raise_errors: bool
    ) -> list[str]: ...


class PrivateTapOverrides(_TapBase):
    """First base of ``APITap``: the tap's private SDK overrides."""

    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        # The SDK registers it for SIGTERM and SIGINT (``PluginBase.__init__``); its own
        # writes the state and exits 0, so a cancelled job would report success.
        signals.handle_termination(signum)

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # The SDK validates the config here (``PluginBase.__init__``), the one place that
        # sees the config before discovery, env parsing included; ours adds the checks a
        # JSON schema cannot express (tap_common/program/tap.py).
        sdk_checks = functools.partial(super()._validate_config, raise_errors=raise_errors)
        return t.cast("ChecksConfig", self).check_config(sdk_checks, raise_errors=raise_errors)


@dataclass(frozen=True)
class PrivateUse:
    """One private part of the SDK we depend on."""

    sdk_name: str  # e.g. "singer_sdk.streams.core.Stream._increment_stream_state"
    kind: t.Literal["override", "call", "attribute", "import"]
    where: str  # our module
    why: str
    sdk_source: str  # file and line in singer-sdk 0.54.9
    guard: str  # the test in tests/test_sdk_private.py


PRIVATE_SDK_USES: tuple[PrivateUse, ...] = (
    PrivateUse(
        "singer_sdk.streams.core.Stream._increment_stream_state",
        "override",
        "tap_common.stream.client (APIStream._increment_stream_state -> "
        "tap_common.state.bookmarks.InstantBookmarks.increment)",
        "bookmarks compared as instants, capped at the sync's start, never a sort exception",
        "singer_sdk/streams/core.py:812, called at :1265",
        "test_private_overrides_match_the_sdk, test_bookmark_moves_through_the_override",
    ),
    PrivateUse(
        "singer_sdk.streams.core.Stream._generate_record_messages",
        "override",
        "tap_common.stream.client (APIStream._generate_record_messages -> "
        "tap_common.messages.conform.RecordConformance.record_messages)",
        "conformance with the schema analysed once, odd values nulled and reported",
        "singer_sdk/streams/core.py:909, called at :968",
        "test_private_overrides_match_the_sdk, test_records_go_through_the_override",
    ),
    PrivateUse(
        "singer_sdk.tap_base.Tap._handle_termination",
        "override",
        "tap_common.program.sdk_private (-> tap_common.messages.signals.handle_termination)",
        "SIGTERM/SIGINT end the sync with exit 143/130 instead of the SDK's exit 0",
        "singer_sdk/tap_base.py:507, registered at plugin_base.py:285 and :287",
        "test_private_overrides_match_the_sdk (and tests/test_cli_signals.py)",
    ),
    PrivateUse(
        "singer_sdk.plugin_base.PluginBase._validate_config",
        "override",
        "tap_common.program.sdk_private (-> tap_common.program.tap.APITap.check_config)",
        "required settings, env variables and cross-setting checks in one line each",
        "singer_sdk/plugin_base.py:447, called at :273",
        "test_private_overrides_match_the_sdk (and tests/test_cli.py)",
    ),
    PrivateUse(
        "singer_sdk.streams.rest._HTTPStream._request",
        "call",
        "tap_common.stream.client (APIStream.request_once)",
        "the SDK's own send-and-validate, for a request beside the paging (a count)",
        "singer_sdk/streams/rest.py:414, decorated at :635",
        "test_the_sdk_still_decorates_its_request, test_request_metric_has_the_url_tag",
    ),
    PrivateUse(
        "singer_sdk.streams.rest._HTTPStream.request_decorator (its exception tuple)",
        "attribute",
        "tap_common.stream.client (RETRIED_ERRORS)",
        "the SDK passes logger=self.logger to backoff, which logs every retry a second "
        "time; no hook turns that off, so the decorator is rebuilt with the SDK's tuple",
        "singer_sdk/streams/rest.py:397",
        "test_retried_errors_are_the_sdks",
    ),
    PrivateUse(
        "singer_sdk.streams.core.Stream._write_state_message",
        "call",
        "tap_common.stream.client (APIStream.waiting_as_asked)",
        "a STATE line at each page boundary of a sorted stream, so a killed run resumes",
        "singer_sdk/streams/core.py:850",
        "test_private_calls_exist",
    ),
    PrivateUse(
        "singer_sdk.streams.core.Stream._sync_records",
        "call",
        "tap_common.state.batches (announced_batches, for APIStream.get_batches)",
        "the SDK's record loop feeding the batcher, as the SDK's get_batches calls it, so "
        "a failed read's records become a last batch announced before its STATE",
        "singer_sdk/streams/core.py:1178, called at :1561",
        "test_private_calls_exist (and tests/test_batch_resume.py)",
    ),
    PrivateUse(
        "singer_sdk.streams.core.Stream._stream_version",
        "attribute",
        "tap_common.state.table_versions (TableVersions.read)",
        "every record carries the sync's version, incremental ones included",
        "singer_sdk/streams/core.py:137, read at :937",
        "test_private_calls_exist (and tests/test_table_versions.py)",
    ),
    PrivateUse(
        "singer_sdk.streams.core.Stream._tap",
        "attribute",
        "tap_common.stream.client, tap_common.state.table_versions",
        "the tap-wide session, pacer, start time and message writer a stream shares",
        "singer_sdk/streams/core.py (Stream.__init__)",
        "test_private_calls_exist",
    ),
    PrivateUse(
        "singer_sdk.plugin_base.PluginBase._config, _env_var_prefix",
        "attribute",
        "tap_common.program.tap (APITap.__init__, APITap.check_config)",
        "defaults filled in for discovery; env variables named in config errors",
        "singer_sdk/plugin_base.py",
        "test_private_calls_exist",
    ),
    PrivateUse(
        "singer_sdk.plugin_base._ConfigInput",
        "import",
        "tap_common.program.tap (APITap.cb_config, APITap.invoke)",
        "cb_discover and cb_test read it from the click context",
        "singer_sdk/plugin_base.py:63",
        "test_private_calls_exist (and tests/test_cli.py)",
    ),
    PrivateUse(
        "singer_sdk.helpers._state.PROGRESS_MARKERS, PROGRESS_MARKER_NOTE",
        "import",
        "tap_common.state.bookmarks",
        "an unsorted stream's bookmark kept where the SDK promotes it at the end",
        "singer_sdk/helpers/_state.py",
        "test_private_calls_exist",
    ),
    PrivateUse(
        "singer_sdk.helpers._typing._conform_primitive_property, _warn_unmapped_properties,"
        " is_object_type, is_uniform_list; helpers._catalog.pop_deselected_record_properties;"
        " helpers._util.utc_now",
        "import",
        "tap_common.messages.conform",
        "the SDK's own conformance pieces, so values that fit come out as the SDK's",
        "singer_sdk/helpers/_typing.py, _catalog.py, _util.py",
        "test_private_calls_exist (and tests/test_conform.py)",
    ),
)
