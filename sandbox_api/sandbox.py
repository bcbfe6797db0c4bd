"""Both fake APIs behind one server, with ready-made tap configs pointing at them."""

from __future__ import annotations

import typing as t

from sandbox_api import crm
from sandbox_api.server import SandboxAPIBase, SandboxServer


class Sandbox(SandboxServer):
    """``Sandbox(crm=CRMAPI(size=250)).start()``; ``crm_config()`` is a tap-crm config for it."""

    def __init__(self, crm_api: crm.CRMAPI | None = None, port: int = 0) -> None:
        self.crm = crm_api or crm.CRMAPI()
        apis: list[SandboxAPIBase] = [self.crm]
        super().__init__(apis, port=port)

    @property
    def crm_url(self) -> str:
        return self.url_for(self.crm)

    def crm_config(self, **overrides: t.Any) -> dict[str, t.Any]:
        """tap-crm settings for this sandbox: fast retries, no fixed request-rate cap."""
        return {
            "username": crm.USERNAME,
            "password": crm.PASSWORD,
            "api_url": self.crm_url,
            "backoff_factor": 0.01,
            "max_requests_per_second": 0,
            **overrides,
        }
