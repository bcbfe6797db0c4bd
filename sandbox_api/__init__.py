"""A local stand-in for the two real APIs, for tests, benchmarks and the README demo.

with Sandbox(CRMAPI(size=250)) as sandbox:
    config = sandbox.crm_config()   # point tap-crm at it
    sandbox.faults.fail(503)        # switch a fault on
    sandbox.crm.modify("contacts", 0, first_name="Zoë")
"""

from __future__ import annotations

from sandbox_api.calltracker import CallTrackerAPI
from sandbox_api.crm import CRMAPI
from sandbox_api.sandbox import Sandbox
from sandbox_api.server import SandboxServer

__all__ = ["CRMAPI", "CallTrackerAPI", "Sandbox", "SandboxServer"]
