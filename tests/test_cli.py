"""Both taps' command lines: discovery, wrong credentials and bad input as one clear line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox_api import CRMAPI, CallTrackerAPI
from tap_calltracker.streams import STREAM_TYPES as CALLTRACKER_STREAMS
from tap_common.program.input_errors import InputError, check_environment, read_json_object
from tap_crm.streams import STREAM_TYPES as CRM_STREAMS
from tests.singer_io import run_module


@dataclass
class Tap:
    api: str
    module: str
    secret: str
    refusal: str  # how the API says "wrong credentials"
    settings: str
    streams: list[str]
    keys: dict[str, list[str]] = field(default_factory=dict)  # all others: ["id"]


TAPS = [
    Tap(
        "crm",
        "tap_crm.tap",
        "password",
        "refused the credentials (401",
        "check the 'username' and 'password' settings",
        [s.name for s in CRM_STREAMS],
        {"bootstrap": ["user_id"]},
    ),
    Tap(
        "calltracker",
        "tap_calltracker.tap",
        "api_token",
        "refused the credentials (403",
        "check the 'api_id' and 'api_token' settings",
        [s.name for s in CALLTRACKER_STREAMS],
        {"webhooks": ["webhook_id"], "company": ["company_key"]},
    ),
]


def run(tap: Tap, *args: str) -> subprocess.CompletedProcess:
    return run_module(tap.module, *args)


@pytest.mark.parametrize("tap", TAPS, ids=lambda tap: tap.api)
def test_bad_credentials_exit_nonzero_at_once_with_one_clear_line(make_sandbox, tmp_path, tap):
    sandbox = make_sandbox(crm_api=CRMAPI(size=3), calltracker_api=CallTrackerAPI(size=3))
    config = getattr(sandbox, f"{tap.api}_config")(**{tap.secret: "s3cr3t-wrong-key"})
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    started = time.monotonic()
    result = run(tap, "--config", str(config_file))

    assert result.returncode == 1
    assert time.monotonic() - started < 10  # interpreter start included; the API answers at once
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, result.stderr
    assert tap.refusal in errors[0]
    assert tap.settings in errors[0]
    assert "Traceback" not in result.stderr
    assert "s3cr3t-wrong-key" not in result.stderr + result.stdout
    assert len(sandbox.requests_to(tap.api)) == 1  # no retries


@pytest.mark.parametrize("tap", TAPS, ids=lambda tap: tap.api)
def test_discover_lists_every_stream_with_its_key_properties(tap):
    result = run(tap, "--discover")

    assert result.returncode == 0, result.stderr
    catalog = json.loads(result.stdout)
    keys = {s["tap_stream_id"]: s["key_properties"] for s in catalog["streams"]}
    assert sorted(keys) == sorted(tap.streams)
    assert keys == {name: tap.keys.get(name, ["id"]) for name in tap.streams}


# -- input errors: one line naming the file or variable, before any request ------------------


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if "ERROR" in line]


def assert_one_line_error(result: subprocess.CompletedProcess, *expected: str) -> None:
    assert result.returncode == 1, result.stderr
    errors = error_lines(result)
    assert len(errors) == 1, result.stderr
    for text in expected:
        assert text in errors[0], errors[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # no Singer message before the error


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("tap", TAPS, ids=lambda tap: tap.api)
def test_config_file_with_a_trailing_comma_names_file_line_and_column(tmp_path, tap):
    config = write(tmp_path, "config.json", '{\n  "api_url": "http://127.0.0.1:9",\n}\n')
    result = run(tap, "--config", config)
    assert_one_line_error(
        result, f"Config file '{config}' is not valid JSON", "trailing comma", "line 2 column 34"
    )


def test_missing_config_file_is_named(tmp_path):
    missing = str(tmp_path / "nowhere" / "config.json")
    result = run(TAPS[0], "--config", missing)
    assert_one_line_error(result, f"Config file '{missing}' does not exist")


def test_config_file_holding_a_list_is_refused(tmp_path):
    result = run(TAPS[0], "--config", write(tmp_path, "config.json", "[1, 2]"))
    assert_one_line_error(result, "must hold a JSON object, not a list")


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("TAP_CRM_PAGE_SIZE", "abc", "must be an integer, got 'abc'"),
        ("TAP_CRM_BACKOFF_FACTOR", "fast", "must be a number, got 'fast'"),
        ("TAP_CRM_STREAM_MAPS", "{not json", "must be JSON"),
    ],
)
def test_wrong_typed_environment_variable_is_named(
    make_sandbox, monkeypatch, variable, value, expected
):
    sandbox = make_sandbox(crm_api=CRMAPI(size=3))
    for name, setting in sandbox.crm_config().items():
        monkeypatch.setenv(f"TAP_CRM_{name.upper()}", str(setting))
    monkeypatch.setenv(variable, value)
    for mode in ([], ["--discover"]):
        result = run(TAPS[0], "--config", "ENV", *mode)
        assert_one_line_error(result, f"Environment variable {variable}", expected)
    assert sandbox.requests_to("crm") == []


def test_secret_environment_values_are_not_echoed(monkeypatch):
    """A secret of the wrong type is named by variable only (not possible for the string
    credentials, so checked on the function with a made-up integer secret)."""
    schema = {"properties": {"pin": {"type": ["integer"], "secret": True}}}
    monkeypatch.setenv("X_PIN", "s3cr3t")
    with pytest.raises(InputError) as raised:
        check_environment(schema, "X_")
    assert "X_PIN" in str(raised.value)
    assert "s3cr3t" not in str(raised.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"bookmarks": ', "is not valid JSON: Expecting value at line 1 column 15"),
        ("", "is empty"),
        ('{"bookmarks": []}', "'bookmarks' must be an object, not a list"),
        ('{"bookmarks": {"contacts": "2024-01-01"}}', "bookmarks['contacts'] must be an object"),
    ],
)
def test_malformed_state_file_is_named_before_any_request(make_sandbox, tmp_path, text, expected):
    sandbox = make_sandbox(crm_api=CRMAPI(size=3))
    config = write(tmp_path, "config.json", json.dumps(sandbox.crm_config()))
    state = write(tmp_path, "state.json", text)
    result = run(TAPS[0], "--config", config, "--state", state)
    assert_one_line_error(result, f"State file '{state}'", expected)
    assert sandbox.requests_to("crm") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"streams": [}', "is not valid JSON"),
        ('{"stream": []}', "must have a 'streams' list"),
        ('{"streams": [{"schema": {}}]}', "streams[0] has no 'tap_stream_id' string"),
        (
            '{"streams": [{"tap_stream_id": "contacts", "metadata": [{"selected": true}]}]}',
            "streams[0]: 'metadata' must be a list of",
        ),
    ],
)
def test_malformed_catalog_file_is_named_before_any_request(make_sandbox, tmp_path, text, expected):
    sandbox = make_sandbox(crm_api=CRMAPI(size=3))
    config = write(tmp_path, "config.json", json.dumps(sandbox.crm_config()))
    catalog = write(tmp_path, "catalog.json", text)
    result = run(TAPS[0], "--config", config, "--catalog", catalog)
    assert_one_line_error(result, f"Catalog file '{catalog}'", expected)
    assert sandbox.requests_to("crm") == []


def test_missing_state_file_is_one_line_not_a_usage_message(tmp_path):
    config = write(tmp_path, "config.json", '{"username": "u", "password": "p"}')
    missing = str(tmp_path / "state.json")
    result = run(TAPS[0], "--config", config, "--state", missing)
    assert_one_line_error(result, f"State file '{missing}' does not exist")
    assert "Usage:" not in result.stderr


def test_debug_log_level_adds_the_traceback(tmp_path):
    config = write(tmp_path, "config.json", "{,}")
    result = run_module(
        "tap_crm.tap", "--config", config, env={**os.environ, "TAP_CRM_LOGLEVEL": "DEBUG"}
    )
    assert result.returncode == 1
    assert "is not valid JSON" in result.stderr
    assert "Traceback" in result.stderr


@settings(deadline=None, derandomize=True, max_examples=50)
@given(
    document=st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=4),
    cut=st.integers(min_value=0, max_value=200),
    junk=st.sampled_from([",", "}", "{", '"', ":", "]", "x"]),
)
def test_any_config_text_is_read_whole_or_refused_in_one_line(
    tmp_path_factory, document, cut, junk
):
    """Whatever a config file holds: the same object json.loads reads, or one InputError line
    naming the file, and for JSON errors the line and column json reports."""
    text = json.dumps(document, indent=1)
    text = text[:cut] + junk + text[cut:]
    path = tmp_path_factory.mktemp("cfg") / "config.json"
    path.write_text(text)
    try:
        expected = json.loads(text)
    except ValueError:
        with pytest.raises(InputError) as raised:
            read_json_object(str(path), "Config file")
        message = str(raised.value)
        assert "\n" not in message
        assert str(path) in message
        assert re.search(r"is not valid JSON: .+ at line \d+ column \d+\.$", message), message
        return
    if isinstance(expected, dict):
        assert read_json_object(str(path), "Config file") == expected
    else:
        with pytest.raises(InputError, match="must hold a JSON object"):
            read_json_object(str(path), "Config file")


@pytest.mark.parametrize("tap", TAPS, ids=lambda tap: tap.api)
def test_unset_credentials_are_named_with_the_variables_to_set(make_sandbox, tmp_path, tap):
    sandbox = make_sandbox(crm_api=CRMAPI(size=3), calltracker_api=CallTrackerAPI(size=3))
    config = getattr(sandbox, f"{tap.api}_config")()
    user, secret = tap.settings.split("'")[1::2]
    config[user], config[secret] = None, ""  # Meltano hands unset settings over as null
    config_file = write(tmp_path, "config.json", json.dumps(config))

    result = run(tap, "--config", config_file)
    prefix = tap.module.split(".")[0].upper()
    assert_one_line_error(
        result,
        f"Settings '{user}' and '{secret}' are not set",
        f"{prefix}_{user.upper()} and {prefix}_{secret.upper()} with --config ENV",
    )
    assert sandbox.requests_to(tap.api) == []


def test_an_inherited_meltano_extractor_without_credentials_names_its_own_variables(tmp_path):
    config_file = write(tmp_path, "config.json", '{"api_url": "http://127.0.0.1:9"}')
    result = run_module(
        "tap_crm.tap",
        "--config",
        config_file,
        env={**os.environ, "MELTANO_EXTRACTOR_NAME": "tap-crm--acme"},
    )
    assert_one_line_error(
        result,
        "extractor 'tap-crm--acme' needs its own: set TAP_CRM__ACME_USERNAME and "
        "TAP_CRM__ACME_PASSWORD",
    )


def test_a_placeholder_credential_is_refused_before_any_request(make_sandbox, tmp_path):
    """'…' (as in a copied example) cannot be sent by HTTP basic auth: one line, not a
    UnicodeEncodeError traceback, and the value is not echoed."""
    sandbox = make_sandbox(crm_api=CRMAPI(size=3))
    config = write(tmp_path, "config.json", json.dumps(sandbox.crm_config(password="…key…")))
    result = run(TAPS[0], "--config", config)
    assert_one_line_error(result, "Setting 'password' holds characters HTTP basic auth cannot send")
    assert "…key…" not in result.stderr
    assert sandbox.requests_to("crm") == []
