"""The SDK's standard tap tests (``get_tap_test_class``) against a sandbox that is served only
while they run.

The SDK builds the test class from a finished config, so the sandbox's port must be known when
the test module is imported: the sandbox binds its port then (nothing is served yet, and a
connection would only wait). A class-scoped fixture serves it while the class's tests run
(pytest-xdist may run them in several stretches on one worker: each stretch serves it again)
and the session's end closes the port.
"""

from __future__ import annotations

import typing as t

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from sandbox_api import Sandbox


def standard_tests(
    tap_class: type, sandbox: Sandbox, config: dict[str, t.Any], max_records: int = 25
) -> type:
    """A test class for ``tap_class`` with the SDK's standard tests, served by ``sandbox``."""
    generated = get_tap_test_class(
        tap_class=tap_class,
        config=config,
        parse_env_config=False,
        suite_config=SuiteConfig(max_records_limit=max_records),
    )

    # The SDK builds the base class at run time, which a type checker cannot follow.
    class StandardTests(generated):  # type: ignore[misc, valid-type]
        @pytest.fixture(scope="class", autouse=True)
        @classmethod
        def _serving_sandbox(cls, request: pytest.FixtureRequest) -> t.Iterator[Sandbox]:
            request.config.add_cleanup(sandbox.stop)
            sandbox.start()
            yield sandbox
            sandbox.pause()

    return StandardTests
