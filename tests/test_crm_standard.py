"""The SDK's standard tap tests for tap-crm, against the sandbox over real HTTP."""

from __future__ import annotations

from sandbox_api import CRMAPI, Sandbox
from tap_crm.tap import TapCRM
from tests.standard_suite import standard_tests

# Bound now (the SDK needs the config to build the class), served only while the tests run.
_SANDBOX = Sandbox(CRMAPI(size=30))

TestTapCRM = standard_tests(TapCRM, _SANDBOX, _SANDBOX.crm_config(page_size=10))
