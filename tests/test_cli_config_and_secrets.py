"""Both taps through their CLI: bad config fails before any request with one line naming
the setting, an unreachable API names ``api_url``, and secrets appear nowhere."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

import pytest

from sandbox_api import CRMAPI, Sandbox
from sandbox_api.calltracker import CallTrackerAPI
from sandbox_api.faults import Fault
from tests.singer_io import run_tap_cli


@dataclass(frozen=True)
class TapCase:
    """What differs between the two taps for these tests: data only."""

    module: str
    api: str  # the sandbox API's name
    user: str  # the credential settings
    secret_setting: str
    secret: str
    unreachable_url: str

    def sandbox(self, make_sandbox: t.Callable[..., Sandbox]) -> Sandbox:
        if self.api == "crm":
            return make_sandbox(crm_api=CRMAPI(size=25))
        return make_sandbox(calltracker_api=CallTrackerAPI(size=25))

    def config(self, sandbox: Sandbox, **overrides: t.Any) -> dict[str, t.Any]:
        if self.api == "crm":
            return sandbox.crm_config(**overrides)
        return sandbox.calltracker_config(**overrides)

    def run(self, *args: str, config: dict, tmp_path: t.Any) -> t.Any:
        return run_tap_cli(self.module, *args, config=config, tmp_path=tmp_path)


CRM = TapCase(
    "tap_crm.tap", "crm", "username", "password", "pa55-w0rd-never-logged",
    "http://127.0.0.1:9/api/v3",
)  # fmt: skip
CALLTRACKER = TapCase(
    "tap_calltracker.tap", "calltracker", "api_id", "api_token", "t0ken-never-logged",
    "http://127.0.0.1:9/v1",
)  # fmt: skip
TAPS = pytest.mark.parametrize("tap", [CRM, CALLTRACKER], ids=lambda case: case.api)


@TAPS
@pytest.mark.parametrize(
    ("change", "setting"),
    [
        ({"<user>": None}, "<user>"),
        ({"<secret>": None}, "<secret>"),
        ({"api_url": "ftp://example.com/v1"}, "api_url"),
        ({"page_size": 500}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"start_date": "last tuesday"}, "start_date"),
    ],
)
def test_bad_config_fails_before_any_request_naming_the_setting(
    make_sandbox, tmp_path, tap, change, setting
):
    names = {"<user>": tap.user, "<secret>": tap.secret_setting}
    setting = names.get(setting, setting)
    change = {names.get(name, name): value for name, value in change.items()}
    sandbox = tap.sandbox(make_sandbox)
    config = {**tap.config(sandbox), **change}
    config = {k: v for k, v in config.items() if v is not None}
    result = tap.run(config=config, tmp_path=tmp_path)

    assert result.returncode != 0
    assert setting in result.stderr
    assert "Traceback" not in result.stderr
    assert sandbox.requests_to(tap.api) == []


@TAPS
def test_unreachable_api_fails_with_one_line_naming_api_url(tmp_path, tap):
    config = {
        tap.user: "id",
        tap.secret_setting: tap.secret,
        "api_url": tap.unreachable_url,
        "max_retries": 1,
        "backoff_factor": 0.01,
    }
    result = tap.run(config=config, tmp_path=tmp_path)

    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1
    assert "api_url" in errors[0]
    assert "Traceback" not in result.stderr


@TAPS
def test_secrets_never_appear_in_logs_errors_state_or_about(make_sandbox, tmp_path, tap):
    sandbox = tap.sandbox(make_sandbox)
    sandbox.faults.fail(503, times=2, api=tap.api)
    sandbox.faults.add(
        Fault("status", status=429, times=1, api=tap.api, headers={"Retry-After": "0"})
    )
    config = tap.config(sandbox, loglevel="DEBUG")
    wrong = {**config, tap.secret_setting: tap.secret}
    ok = tap.run(config=config, tmp_path=tmp_path)
    bad = tap.run(config=wrong, tmp_path=tmp_path)
    about = tap.run("--about", "--format=json", config=wrong, tmp_path=tmp_path)

    assert ok.returncode == 0
    assert bad.returncode == 1
    for result in (ok, bad, about):
        everything = result.stdout + result.stderr
        assert config[tap.secret_setting] not in everything
        assert tap.secret not in everything
        assert "Authorization" not in everything


@TAPS
def test_bad_config_in_connection_test_mode_is_reported_without_traceback(
    make_sandbox, tmp_path, tap
):
    sandbox = tap.sandbox(make_sandbox)
    config = {**tap.config(sandbox), "page_size": 1000}
    result = tap.run("--test", config=config, tmp_path=tmp_path)

    assert result.returncode == 1
    assert "page_size" in result.stderr
    assert "Traceback" not in result.stderr
    assert sandbox.requests_to(tap.api) == []
