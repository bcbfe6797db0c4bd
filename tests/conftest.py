"""Fixtures: a sandbox API on 127.0.0.1 per test, and waits made instant."""

from __future__ import annotations

import typing as t

import pytest

from sandbox_api import CRMAPI, Sandbox
from tap_common import pacing


@pytest.fixture
def make_sandbox() -> t.Iterator[t.Callable[..., Sandbox]]:
    """Start sandboxes on free loopback ports; all are stopped after the test."""
    started: list[Sandbox] = []

    def start(**kwargs: t.Any) -> Sandbox:
        sandbox = Sandbox(**kwargs).start()
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sandbox(make_sandbox: t.Callable[..., Sandbox]) -> Sandbox:
    """A sandbox with 25 records per CRM list."""
    return make_sandbox(crm_api=CRMAPI(size=25))


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record rate-limit and pacing waits instead of sleeping through them."""
    waits: list[float] = []
    monkeypatch.setattr(pacing, "sleep", waits.append)
    return waits
