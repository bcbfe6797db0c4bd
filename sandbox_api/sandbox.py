"""Both fake APIs behind one server, with ready-made tap configs pointing at them."""

from __future__ import annotations

import typing as t

from sandbox_api import calltracker, crm
from sandbox_api.server import SandboxAPIBase, SandboxServer


class Sandbox(SandboxServer):
    """``Sandbox(crm=CRMAPI(size=250)).start()``; ``crm_config()`` is a tap-crm config for it.

    ``calltracker_config()`` is the same for tap-calltracker.
    """

    def __init__(
        self,
        crm_api: crm.CRMAPI | None = None,
        port: int = 0,
        calltracker_api: calltracker.CallTrackerAPI | None = None,
    ) -> None:
        self.crm = crm_api or crm.CRMAPI()
        self.calltracker = calltracker_api or calltracker.CallTrackerAPI()
        apis: list[SandboxAPIBase] = [self.crm, self.calltracker]
        super().__init__(apis, port=port)

    @property
    def crm_url(self) -> str:
        return self.url_for(self.crm)

    def crm_config(self, **overrides: t.Any) -> dict[str, t.Any]:
        """tap-crm settings for this sandbox: fast retries, requests unpaced (0: no ceiling
        and no learned rate)."""
        return {
            "username": crm.USERNAME,
            "password": crm.PASSWORD,
            "api_url": self.crm_url,
            "backoff_factor": 0.01,
            "max_requests_per_second": 0,
            **overrides,
        }

    @property
    def calltracker_url(self) -> str:
        return self.url_for(self.calltracker)

    def calltracker_config(self, **overrides: t.Any) -> dict[str, t.Any]:
        """tap-calltracker settings for this sandbox: fast retries, no fixed request-rate cap."""
        return {
            "api_id": calltracker.API_ID,
            "api_token": calltracker.API_TOKEN,
            "api_url": self.calltracker_url,
            "backoff_factor": 0.01,
            "max_requests_per_second": 0,
            **overrides,
        }
