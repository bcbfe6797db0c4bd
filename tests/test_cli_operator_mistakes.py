"""Operator mistakes seen before the first request, in one line naming what to change: a
catalog's unknown stream, a selected stream whose schema lost its key or replication key, a
stream map that drops the key, a misspelt setting, an 'api_url' without its version
segment; both taps, through the CLI."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from sandbox_api import CRMAPI, CallTrackerAPI
from tap_calltracker.tap import TapCallTracker
from tap_crm.tap import TapCRM
from tests.singer_io import SingerOutput, run_module, select_streams

TAPS = [
    pytest.param((TapCRM, "tap_crm.tap", "crm", "contacts", "username"), id="crm"),
    pytest.param(
        (TapCallTracker, "tap_calltracker.tap", "calltracker", "calls", "api_id"),
        id="calltracker",
    ),
]


def lines(result: subprocess.CompletedProcess, level: str) -> list[str]:
    return [line for line in result.stderr.splitlines() if f"| {level}" in line]


def setup(make_sandbox, tmp_path, tap, **settings):
    tap_class, _module, api, stream, _ = tap
    sandbox = make_sandbox(crm_api=CRMAPI(size=5), calltracker_api=CallTrackerAPI(size=5))
    config = getattr(sandbox, f"{api}_config")(**settings)
    catalog = select_streams(
        tap_class(config=config, parse_env_config=False).catalog_dict, {stream}
    )
    return sandbox, config, catalog


def run(tmp_path, module, config, catalog=None):
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    args = ["--config", str(config_path)]
    if catalog is not None:
        catalog_path = tmp_path / "catalog.json"
        catalog_path.write_text(json.dumps(catalog))
        args += ["--catalog", str(catalog_path)]
    return run_module(module, *args)


def entry(catalog: dict, stream: str) -> dict:
    return next(e for e in catalog["streams"] if e["tap_stream_id"] == stream)


def assert_one_error_before_any_request(result, sandbox, api, *expected):
    assert result.returncode == 1, result.stderr
    errors = lines(result, "ERROR")
    assert len(errors) == 1, result.stderr
    for text in expected:
        assert text in errors[0], errors[0]
    assert "Traceback" not in result.stderr
    assert sandbox.requests_to(api) == []


@pytest.mark.parametrize("tap", TAPS)
def test_a_catalog_selecting_only_an_unknown_stream_is_an_error(make_sandbox, tmp_path, tap):
    _, module, api, stream, _ = tap
    sandbox, config, catalog = setup(make_sandbox, tmp_path, tap)
    typo = stream[:3] + stream[4] + stream[3] + stream[5:]  # contacts -> contcats
    entry(catalog, stream)["tap_stream_id"] = typo
    entry(catalog, typo)["stream"] = typo

    result = run(tmp_path, module, config, catalog)

    assert_one_error_before_any_request(
        result, sandbox, api, "selects no stream this tap has", f"'{typo}'", f"'{stream}'?"
    )
    assert result.stdout == ""


@pytest.mark.parametrize("tap", TAPS)
def test_an_unknown_stream_beside_a_selected_one_is_one_warning(make_sandbox, tmp_path, tap):
    _, module, _api, stream, _ = tap
    _sandbox, config, catalog = setup(make_sandbox, tmp_path, tap)
    extra = json.loads(json.dumps(entry(catalog, stream)))
    extra["tap_stream_id"] = extra["stream"] = "no_such_stream"
    catalog["streams"].append(extra)

    result = run(tmp_path, module, config, catalog)

    assert result.returncode == 0, result.stderr
    warnings = [line for line in lines(result, "WARNING") if "no_such_stream" in line]
    assert len(warnings) == 1, result.stderr
    assert "does not have" in warnings[0]
    assert len(SingerOutput.parse(result.stdout).records[stream]) == 5


@pytest.mark.parametrize("which", ["key", "replication_key"])
@pytest.mark.parametrize("tap", TAPS)
def test_a_selected_stream_whose_schema_lost_its_key_is_an_error(
    make_sandbox, tmp_path, tap, which
):
    tap_class, module, api, stream, _ = tap
    sandbox, config, catalog = setup(make_sandbox, tmp_path, tap)
    instance = tap_class(config=config, parse_env_config=False).streams[stream]
    field = instance.primary_keys[0] if which == "key" else instance.replication_key
    del entry(catalog, stream)["schema"]["properties"][field]

    result = run(tmp_path, module, config, catalog)

    role = "key property" if which == "key" else "replication key"
    assert_one_error_before_any_request(
        result, sandbox, api, f"stream '{stream}' is selected", f"no '{field}', its {role}"
    )


@pytest.mark.parametrize(
    "stream_map",
    [{"id": None}, {"__else__": None, "name": "id"}, {"__key_properties__": ["uid"]}],
    ids=["key-removed", "only-other-properties-kept", "key-renamed-to-nothing"],
)
@pytest.mark.parametrize("tap", TAPS)
def test_a_stream_map_that_drops_the_key_is_one_line(make_sandbox, tmp_path, tap, stream_map):
    _, module, api, stream, _ = tap
    sandbox, config, catalog = setup(make_sandbox, tmp_path, tap)
    config["stream_maps"] = {stream: stream_map}

    result = run(tmp_path, module, config, catalog)

    assert_one_error_before_any_request(
        result, sandbox, api, "Setting 'stream_maps'", "key propert"
    )


@pytest.mark.parametrize("tap", TAPS)
def test_a_misspelt_setting_is_one_warning_naming_the_nearest(make_sandbox, tmp_path, tap):
    _, module, _api, _stream, user_setting = tap
    _sandbox, config, catalog = setup(make_sandbox, tmp_path, tap)
    config["pagesize"] = 3  # beside every setting it needs: the run goes on

    result = run(tmp_path, module, config, catalog)

    assert result.returncode == 0, result.stderr
    warnings = [line for line in lines(result, "WARNING") if "pagesize" in line]
    assert len(warnings) == 1, result.stderr
    assert "did you mean 'page_size'?" in warnings[0]

    # A misspelt required one: the warning names it, the error says it is not set.
    config[user_setting[:1] + user_setting[2:]] = config.pop(user_setting)
    result = run(tmp_path, module, config, catalog)
    assert result.returncode == 1
    assert any(f"did you mean '{user_setting}'?" in line for line in lines(result, "WARNING"))
    assert len(lines(result, "ERROR")) == 1, result.stderr


@pytest.mark.parametrize("tap", TAPS)
def test_an_api_url_without_its_version_segment_says_so(make_sandbox, tmp_path, tap):
    _, module, _api, _stream, _ = tap
    _sandbox, config, catalog = setup(make_sandbox, tmp_path, tap)
    config["api_url"] = re.sub(r"/v\d+/?$", "", config["api_url"])

    result = run(tmp_path, module, config, catalog)

    assert result.returncode == 1
    errors = lines(result, "ERROR")
    assert len(errors) == 1, result.stderr
    assert "404" in errors[0]
    assert "check its host and its version segment" in errors[0]
    assert "Traceback" not in result.stderr
