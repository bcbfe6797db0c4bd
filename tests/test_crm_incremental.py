"""tap-crm incremental sync: request filters, bookmarks, second runs and resumption."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import datetime

import pytest

from sandbox_api import CRMAPI
from tap_crm.tap import TapCRM
from tests.singer_io import catalog_selecting, sync

SERVER_FILTERED = [
    "contacts",
    "actions",
    "deals",
    "notes",
    "calls",
    "meetings",
    "relationship_types",
]
INCREMENTAL = [*SERVER_FILTERED, "companies"]
CONFIG = {"username": "u", "password": "p", "api_url": "http://127.0.0.1:9/api/v3"}


def url_params(stream_name: str, *, state: dict | None = None, **config) -> dict:
    """The query parameters the stream would send for its first page."""
    tap = TapCRM(config={**CONFIG, **config}, state=state, parse_env_config=False)
    stream = tap.streams[stream_name]
    stream._write_starting_replication_value(None)  # what the SDK does when a sync starts
    return stream.get_url_params(None, None)


def as_written(iso_z: str) -> str:
    """``2025-01-02T03:04:05Z`` as the tap writes timestamps: UTC with microseconds."""
    return datetime.fromisoformat(iso_z.replace("Z", "+00:00")).isoformat(timespec="microseconds")


def bookmark(stream: str, value: str) -> dict:
    return {
        "bookmarks": {stream: {"replication_key": "modified_at", "replication_key_value": value}}
    }


@pytest.mark.parametrize("stream", SERVER_FILTERED)
def test_first_run_without_start_date_reads_everything_oldest_first(stream):
    params = url_params(stream)
    team = {"team": "true"} if stream in {"contacts", "deals"} else {}  # every user's records
    assert params == {"page": 1, "per_page": 100, "sort_by": "modified_at", "order": "asc", **team}


@pytest.mark.parametrize("stream", SERVER_FILTERED)
def test_start_date_bounds_the_first_run_as_unix_seconds(stream):
    params = url_params(stream, start_date="2024-03-01T00:00:00Z")
    # One second early: whether modified_since is inclusive is undocumented (tap_crm.pagination).
    assert params["modified_since"] == 1709251200 - 1


def test_contacts_resume_from_bookmark_sends_modified_since():
    state = bookmark("contacts", "2025-01-02T03:04:05Z")
    assert url_params("contacts", state=state)["modified_since"] == 1735787045 - 1


def test_bookmark_wins_over_an_older_start_date_and_loses_to_a_newer_one():
    state = bookmark("deals", "2025-01-02T03:04:05Z")
    assert (
        url_params("deals", state=state, start_date="2024-01-01")["modified_since"]
        == 1735787045 - 1
    )
    assert (
        url_params("deals", state=state, start_date="2025-06-01")["modified_since"]
        == 1748736000 - 1
    )


def test_companies_read_newest_first_without_modified_since():
    params = url_params("companies", state=bookmark("companies", "2025-01-02T03:04:05Z"))
    assert params == {"page": 1, "per_page": 100, "sort_by": "modified_at", "order": "desc"}


@pytest.mark.parametrize("stream", ["users", "pipelines", "filters", "custom_fields", "statuses"])
def test_full_table_streams_send_no_filter(stream):
    params = url_params(stream, start_date="2024-03-01T00:00:00Z")
    assert "modified_since" not in params
    assert "sort_by" not in params


def test_second_run_emits_only_changed_and_new_records_with_minimal_requests(make_sandbox):
    sandbox = make_sandbox(crm_api=CRMAPI(size=230))
    config = sandbox.crm_config()
    catalog = catalog_selecting(TapCRM, config, INCREMENTAL)

    first = sync(TapCRM, config, catalog=catalog)
    for stream in INCREMENTAL:
        assert len(first.records[stream]) == 230
        assert first.final_state["bookmarks"][stream]["replication_key_value"] == as_written(
            max(r["modified_at"] for r in sandbox.crm.records[stream])
        )

    changed: dict[str, set[str]] = {}
    for stream in INCREMENTAL:
        modified = [sandbox.crm.modify(stream, i, text="geändert") for i in (3, 150)]
        added = sandbox.crm.add(stream)
        changed[stream] = {r["id"] for r in [*modified, added]}
    sandbox.clear_log()

    second = sync(TapCRM, config, catalog=catalog, state=first.final_state)
    # Companies are read whole, with an overlap: see test_crm_moving_lists.py.
    for stream in SERVER_FILTERED:
        emitted = set(second.ids(stream))
        assert changed[stream] <= emitted, stream
        extra = emitted - changed[stream]
        # At most the inclusive boundary: records sharing the old bookmark's second.
        old_mark = first.final_state["bookmarks"][stream]["replication_key_value"]
        assert all(
            r["modified_at"] == old_mark for r in second.records[stream] if r["id"] in extra
        ), stream
        assert second.duplicates(stream) == []
        assert len(sandbox.requests_to("crm", f"/{stream}")) == 1, stream  # one page holds it all

    sandbox.clear_log()
    third = sync(TapCRM, config, catalog=catalog, state=second.final_state)
    for stream in SERVER_FILTERED:
        assert len(sandbox.requests_to("crm", f"/{stream}")) == 1, stream
        # Only the records at the inclusive boundary come back.
        mark = second.final_state["bookmarks"][stream]["replication_key_value"]
        assert {r["modified_at"] for r in third.records.get(stream, [])} <= {mark}, stream


def test_bookmark_survives_a_run_that_returns_nothing(make_sandbox):
    sandbox = make_sandbox(crm_api=CRMAPI(size=5))
    config = sandbox.crm_config()
    catalog = catalog_selecting(TapCRM, config, INCREMENTAL)
    state = {
        "bookmarks": {
            s: {"replication_key": "modified_at", "replication_key_value": "2030-01-01T00:00:00Z"}
            for s in INCREMENTAL
        }
    }

    out = sync(TapCRM, config, catalog=catalog, state=state)

    assert out.records == {}
    for stream in INCREMENTAL:
        assert (
            out.final_state["bookmarks"][stream]["replication_key_value"] == "2030-01-01T00:00:00Z"
        )


def test_sorted_stream_emits_state_at_every_page_boundary(make_sandbox):
    sandbox = make_sandbox(crm_api=CRMAPI(size=45))
    config = sandbox.crm_config(page_size=10)
    out = sync(TapCRM, config, catalog=catalog_selecting(TapCRM, config, ["contacts"]))

    marks, last_emitted = [], None
    for message in out.messages:
        if message["type"] == "RECORD":
            last_emitted = message["record"]["modified_at"]
        elif message["type"] == "STATE":
            value = message["value"]["bookmarks"].get("contacts", {}).get("replication_key_value")
            if value and value not in marks:
                assert value == last_emitted  # the bookmark covers exactly what was emitted
                marks.append(value)
    pages = len(sandbox.requests_to("crm", "/contacts"))
    assert pages >= 5
    assert len(marks) >= pages - 1  # one advancing STATE per page boundary, at least


def test_interrupted_run_resumes_from_last_state_without_losing_records(make_sandbox):
    sandbox = make_sandbox(crm_api=CRMAPI(size=95))
    config = sandbox.crm_config(page_size=10, max_retries=0)
    catalog = catalog_selecting(TapCRM, config, ["actions", "contacts"])
    # actions sync first (streams run in name order); contacts fail on their 4th page.
    sandbox.faults.fail(500, api="crm", path="/contacts", after=3)
    first = sync(TapCRM, config, catalog=catalog, expect_error=True)
    # Three pages of 10, each after the first re-anchored on the previous page's last record.
    assert len(first.records["contacts"]) == 28
    assert len(first.records["actions"]) == 95  # finished before the failure, state emitted
    assert first.final_state["bookmarks"]["actions"]["replication_key_value"]

    sandbox.clear_log()
    second = sync(TapCRM, config, catalog=catalog, state=first.final_state)
    union = set(first.ids("contacts")) | set(second.ids("contacts"))
    assert union == {r["id"] for r in sandbox.crm.records["contacts"]}
    # Resumed where it stopped (67 records left, plus the inclusive boundary), not from the start.
    assert len(sandbox.requests_to("crm", "/contacts")) <= math.ceil((95 - 28 + 1) / 9)
    assert len(second.records.get("actions", [])) <= 1  # only its inclusive boundary


def test_killed_tap_resumes_from_the_last_state_it_printed(make_sandbox, tmp_path):
    sandbox = make_sandbox(crm_api=CRMAPI(size=60))
    config = sandbox.crm_config(page_size=10)
    # The tap is killed while waiting for its 4th page.
    hold = sandbox.faults.slow(30, api="crm", path="/contacts", after=3)
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    catalog_file = tmp_path / "catalog.json"
    catalog_file.write_text(json.dumps(catalog_selecting(TapCRM, config, ["contacts"])))
    tap = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tap_crm.tap",
            "--config",
            str(config_file),
            "--catalog",
            str(catalog_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    first_ids, last_state = [], None
    try:
        for line in tap.stdout:
            message = json.loads(line)
            if message["type"] == "RECORD":
                first_ids.append(message["record"]["id"])
            elif message["type"] == "STATE":
                last_state = message["value"]
                if len(first_ids) == 28:
                    break  # the page-boundary STATE printed before page 4 was requested
        tap.kill()  # SIGKILL: no chance to write a final STATE
    finally:
        hold.release()
        tap.wait(10)
        tap.stdout.close()
    assert len(first_ids) == 28  # pages of 10, each after the first repeating one boundary record

    second = sync(
        TapCRM, config, catalog=catalog_selecting(TapCRM, config, ["contacts"]), state=last_state
    )
    assert set(first_ids) | set(second.ids("contacts")) == {
        r["id"] for r in sandbox.crm.records["contacts"]
    }
    assert len(second.records["contacts"]) <= 33  # resumed near page 4, not from the start


def test_a_record_edited_during_the_sync_does_not_hide_another(make_sandbox):
    sandbox = make_sandbox(crm_api=CRMAPI(size=45))
    config = sandbox.crm_config(page_size=10)
    contacts = sandbox.crm.records["contacts"]
    first_page = sorted(contacts, key=lambda r: (r["modified_at"], r["id"]))[:10]
    # Once page 1 is answered, a user edits a contact the tap has read: it moves to the end.
    sandbox.faults.then(
        lambda: sandbox.crm.modify("contacts", contacts.index(first_page[2]), job_title="CTO"),
        api="crm",
        path="/contacts",
    )
    out = sync(TapCRM, config, catalog=catalog_selecting(TapCRM, config, ["contacts"]))

    assert set(out.ids("contacts")) == {r["id"] for r in contacts}
