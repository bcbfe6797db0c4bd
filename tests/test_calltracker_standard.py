"""The SDK's standard tap tests for tap-calltracker, against the sandbox over real HTTP."""

from __future__ import annotations

from sandbox_api import CallTrackerAPI, Sandbox
from tap_calltracker.tap import TapCallTracker
from tests.standard_suite import standard_tests

# Bound now (the SDK needs the config to build the class), served only while the tests run.
_SANDBOX = Sandbox(calltracker_api=CallTrackerAPI(size=30))

TestTapCallTracker = standard_tests(
    TapCallTracker, _SANDBOX, _SANDBOX.calltracker_config(page_size=10)
)
