"""The SDK's standard tap tests for tap-calltracker, against the sandbox over real HTTP."""

from __future__ import annotations

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from sandbox_api import CallTrackerAPI, Sandbox
from tap_calltracker.tap import TapCallTracker

# The generated test class needs its config when it is built, so the sandbox starts at import.
_SANDBOX = Sandbox(calltracker_api=CallTrackerAPI(size=30)).start()

TestTapCallTracker = get_tap_test_class(
    tap_class=TapCallTracker,
    config=_SANDBOX.calltracker_config(page_size=10),
    parse_env_config=False,
    suite_config=SuiteConfig(max_records_limit=25),
)
