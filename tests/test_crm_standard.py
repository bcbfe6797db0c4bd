"""The SDK's standard tap tests for tap-crm, against the sandbox over real HTTP."""

from __future__ import annotations

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from sandbox_api import CRMAPI, Sandbox
from tap_crm.tap import TapCRM

# The generated test class needs its config when it is built, so the sandbox starts at import.
_SANDBOX = Sandbox(CRMAPI(size=30)).start()

TestTapCRM = get_tap_test_class(
    tap_class=TapCRM,
    config=_SANDBOX.crm_config(page_size=10),
    parse_env_config=False,
    suite_config=SuiteConfig(max_records_limit=25),
)
