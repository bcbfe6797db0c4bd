"""tap-crm against the sandbox: every record once, every field kept, paging as the API does it."""

from __future__ import annotations

import json
import math
import os
from datetime import datetime, timezone

import pytest

from sandbox_api import CRMAPI
from sandbox_api.crm import PAGINATED
from tap_common.http.errors import AuthenticationError
from tap_crm.streams import STREAM_TYPES
from tap_crm.tap import TapCRM
from tests.singer_io import catalog_selecting, run_module, sync

STREAMS = [s.name for s in STREAM_TYPES]
KEYS = {s.name: s.primary_keys[0] for s in STREAM_TYPES}
PAGE_SIZE = 10


# Every date-time field name of the CRM's records, at any depth.
TIMESTAMP_KEYS = {"created_at", "modified_at", "url_expires_at"}


def as_emitted(value: object) -> object:
    """An API record as the tap should emit it: every date-time as ISO-8601 UTC with
    microseconds (written independently of the tap's own conversion)."""
    if isinstance(value, list):
        return [as_emitted(item) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        key: (
            datetime.fromisoformat(item.replace("Z", "+00:00"))
            .astimezone(timezone.utc)
            .isoformat(timespec="microseconds")
            if key in TIMESTAMP_KEYS and isinstance(item, str)
            else as_emitted(item)
        )
        for key, item in value.items()
    }


def by_key(records: list[dict], key: str) -> dict:
    return {r[key]: r for r in records}


@pytest.mark.parametrize(
    "size",
    [0, 1, PAGE_SIZE, 3 * PAGE_SIZE + 7],
    ids=["empty", "one-record", "exactly-one-full-page", "many-pages"],
)
def test_every_record_of_every_stream_arrives_exactly_once_with_all_fields(make_sandbox, size):
    sandbox = make_sandbox(crm_api=CRMAPI(size=size))
    out = sync(TapCRM, sandbox.crm_config(page_size=PAGE_SIZE))

    for stream in STREAMS:
        key = KEYS[stream]
        expected = [as_emitted(r) for r in sandbox.crm.expected(stream)]
        emitted = out.records.get(stream, [])
        assert out.duplicates(stream, key) == [], f"{stream}: duplicate keys"
        assert len(emitted) == len(expected), stream
        # Deep equality: no field (top-level or nested) dropped, renamed or retyped.
        assert by_key(emitted, key) == by_key(expected, key), stream


def test_sync_of_250_records_per_stream_reads_each_page_once(make_sandbox):
    sandbox = make_sandbox(crm_api=CRMAPI(size=250))
    out = sync(TapCRM, sandbox.crm_config())

    assert sum(len(v) for v in out.records.values()) == sum(
        len(sandbox.crm.expected(s)) for s in STREAMS
    )
    for stream in STREAMS:
        assert out.duplicates(stream, KEYS[stream]) == []
    for resource in PAGINATED:
        # Besides its pages, a newest-first read may ask once for one record, to show it
        # complete (tap_common.state.overlap.ReadProof).
        requests = [
            r for r in sandbox.requests_to("crm", f"/{resource}") if r.arg("per_page") != "1"
        ]
        # One request per page of 100, none extra.
        assert len(requests) == math.ceil(len(sandbox.crm.records[resource]) / 100), resource
        assert {r.arg("per_page") for r in requests} == {"100"}


@pytest.mark.parametrize(
    "stream",
    # predefined_actions and predefined_items page: tests/test_crm_records.py.
    ["users", "statuses", "lead_sources", "bootstrap"],
)
def test_unpaginated_endpoints_are_requested_once_without_page_params(make_sandbox, stream):
    sandbox = make_sandbox(crm_api=CRMAPI(size=150, sizes={"users": 120, "statuses": 130}))
    config = sandbox.crm_config()
    catalog = catalog_selecting(TapCRM, config, {stream})
    out = sync(TapCRM, config, catalog=catalog)

    requests = sandbox.requests_to("crm")
    assert [r.path for r in requests] == [f"/{stream}"]
    assert requests[0].query == {}
    assert len(out.records[stream]) == len(sandbox.crm.expected(stream))


def test_predefined_items_are_read_flat_or_wrapped(make_sandbox):
    sandbox = make_sandbox(crm_api=CRMAPI(size=5, wrapped_predefined_items=True))
    config = sandbox.crm_config()
    out = sync(TapCRM, config, catalog=catalog_selecting(TapCRM, config, {"predefined_items"}))

    assert out.records["predefined_items"] == sandbox.crm.records["predefined_items"]


def test_bad_credentials_fail_at_once_naming_the_settings(sandbox):
    config = sandbox.crm_config(password="wrong-key")
    out = sync(TapCRM, config, expect_error=True)

    assert isinstance(out.error, AuthenticationError)
    assert "'username' and 'password'" in str(out.error)
    assert "wrong-key" not in str(out.error)
    assert len(sandbox.requests_to("crm")) == 1  # no retries


def test_about_markdown_lists_settings_and_marks_secrets():
    result = run_module("tap_crm.tap", "--about", "--format=markdown")
    assert result.returncode == 0, result.stderr
    for setting in ("username", "password", "api_url", "start_date", "page_size"):
        assert f"| {setting}" in result.stdout
    assert "https://app.onepagecrm.com/api/v3" in result.stdout


def test_connection_test_reads_one_record_per_stream(sandbox, tmp_path):
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(sandbox.crm_config()))
    result = run_module("tap_crm.tap", "--config", str(config_file), "--test")
    assert result.returncode == 0, result.stderr
    assert "ERROR" not in result.stderr  # stopping after one record is not an error
    records = [json.loads(line) for line in result.stdout.splitlines()]
    streams = {m["stream"] for m in records if m["type"] == "RECORD"}
    assert streams == set(STREAMS)


def test_settings_are_read_from_environment_variables(sandbox):
    config = sandbox.crm_config()
    env = {
        **os.environ,
        "TAP_CRM_USERNAME": config["username"],
        "TAP_CRM_PASSWORD": config["password"],
        "TAP_CRM_API_URL": config["api_url"],
        "TAP_CRM_PAGE_SIZE": "7",
        "TAP_CRM_MAX_REQUESTS_PER_SECOND": "0",
    }
    result = run_module("tap_crm.tap", "--config", "ENV", "--test", env=env)
    assert result.returncode == 0, result.stderr
    assert {r.arg("per_page") for r in sandbox.requests_to("crm", "/contacts")} == {"7"}


def test_proxy_and_ca_settings_from_the_environment_still_apply(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/corporate.pem")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    config = {"username": "u", "password": "p", "api_url": "https://crm.example.com/api/v3"}
    session = TapCRM(config=config, parse_env_config=False).requests_session

    assert session.proxies["https"] == "http://proxy.internal:3128"
    assert session.verify == "/etc/ssl/corporate.pem"

    monkeypatch.setenv("NO_PROXY", "crm.example.com")
    session = TapCRM(config=config, parse_env_config=False).requests_session
    assert "https" not in session.proxies
