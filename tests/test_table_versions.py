"""ACTIVATE_VERSION only after a complete full read; a version on every record."""

from __future__ import annotations

import inspect
import logging
import time
import typing as t
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from singer_sdk import Stream

from sandbox_api import CRMAPI, Sandbox
from sandbox_api.calltracker import CallTrackerAPI
from sandbox_api.deletions import record_key
from tap_calltracker.tap import TapCallTracker
from tap_common.state.table_versions import SETTING
from tap_crm.tap import TapCRM
from tests.singer_io import SingerOutput, catalog_selecting, sync

CRM_SIZES = {"pipelines": 12, "statuses": 12, "users": 6}
CALLTRACKER_SIZES = {"users": 12, "tags": 12, "webhooks": 12}


def both_apis(make_sandbox: t.Callable[..., Sandbox], size: int = 23) -> Sandbox:
    return make_sandbox(
        crm_api=CRMAPI(size=size, sizes=CRM_SIZES),
        calltracker_api=CallTrackerAPI(size=size, sizes=CALLTRACKER_SIZES),
    )


TAPS = {
    "tap-crm": (TapCRM, "crm_config"),
    "tap-calltracker": (TapCallTracker, "calltracker_config"),
}


def config(sandbox: Sandbox, tap: str, **overrides: t.Any) -> dict:
    return getattr(sandbox, TAPS[tap][1])(**{"page_size": 5, SETTING: True, **overrides})


def full_table_streams(tap: str, cfg: dict) -> set[str]:
    tap_class = TAPS[tap][0]
    streams = tap_class(config=cfg, parse_env_config=False).streams.values()
    return {s.name for s in streams if s.replication_method == "FULL_TABLE"}


def activated(out: SingerOutput) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for message in out.messages:
        if message["type"] == "ACTIVATE_VERSION":
            found.setdefault(message["stream"], []).append(message["version"])
    return found


@pytest.mark.parametrize("tap", sorted(TAPS))
def test_every_full_table_stream_activates_once_after_its_last_record(make_sandbox, tap):
    sandbox = both_apis(make_sandbox)
    cfg = config(sandbox, tap)
    out = sync(TAPS[tap][0], cfg)

    full_table = full_table_streams(tap, cfg)
    versions = {m.get("version") for m in out.messages if m["type"] == "RECORD"}
    assert len(versions) == 1
    assert None not in versions
    (version,) = versions
    # Exactly one message per full-table stream (the SDK's own, sent before the
    # records, would make two), with the records' version, and none for the others.
    # predefined_items pages without a total (the swagger documents none), so a read of
    # several pages cannot show it is complete; predefined_actions ignores 'page' in the
    # sandbox, so its one page is a snapshot.
    unprovable = {"predefined_items"} if tap == "tap-crm" else set()
    assert activated(out) == {name: [version] for name in full_table - unprovable}
    for stream in full_table - unprovable:
        kinds = [m["type"] for m in out.messages if m.get("stream") == stream]
        position = kinds.index("ACTIVATE_VERSION")
        assert "RECORD" not in kinds[position:], stream
        assert kinds.count("RECORD") >= 1, stream


@pytest.mark.parametrize("tap", sorted(TAPS))
def test_without_the_setting_no_message_but_records_still_carry_a_version(make_sandbox, tap):
    sandbox = both_apis(make_sandbox)
    out = sync(TAPS[tap][0], config(sandbox, tap, **{SETTING: False}))
    assert activated(out) == {}
    assert None not in {m.get("version") for m in out.messages if m["type"] == "RECORD"}


@pytest.mark.parametrize(
    ("tap", "api", "stream", "path"),
    [
        ("tap-crm", "crm", "pipelines", "/pipelines"),
        ("tap-calltracker", "calltracker", "tags", "/tags"),
        ("tap-calltracker", "calltracker", "user_availability", "/users/availabilities"),
    ],
)
def test_a_read_failing_halfway_sends_no_activate_version(make_sandbox, tap, api, stream, path):
    sandbox = both_apis(make_sandbox)
    cfg = config(sandbox, tap)
    catalog = catalog_selecting(TAPS[tap][0], cfg, [stream])
    # Page 1 answers, page 2 fails for good (every retry too).
    sandbox.faults.fail(status=503, times=None, api=api, path=path, after=1)
    out = sync(TAPS[tap][0], cfg, catalog=catalog, expect_error=True)
    assert out.records.get(stream)  # the first page was emitted ...
    assert activated(out) == {}  # ... and nothing told the target to retire the rest


def delete_during_read(
    sandbox: Sandbox, api: t.Any, resource: str, path: str, *, after_requests: int, ids: list
):
    """Delete ``ids`` from ``resource`` once ``after_requests`` requests to ``path`` answered."""
    sandbox.faults.then(
        lambda: api.delete(resource, ids), api=api.name, path=path, after=after_requests - 1
    )


@settings(deadline=None, derandomize=True, max_examples=25)
@given(
    case=st.sampled_from(
        [
            ("tap-crm", "crm", "pipelines", "/pipelines"),
            ("tap-calltracker", "calltracker", "tags", "/tags"),
        ]
    ),
    page_size=st.integers(min_value=2, max_value=6),
    after_requests=st.integers(min_value=1, max_value=4),
    deleted=st.lists(st.integers(min_value=0, max_value=11), min_size=1, max_size=3, unique=True),
)
def test_a_deletion_during_the_read_never_retires_a_live_record(
    case, page_size, after_requests, deleted
):
    tap, api_name, stream, path = case
    sandbox = Sandbox(
        crm_api=CRMAPI(size=5, sizes=CRM_SIZES),
        calltracker_api=CallTrackerAPI(size=5, sizes=CALLTRACKER_SIZES),
    ).start()
    try:
        api = getattr(sandbox, api_name)
        listed = {s: list(api.expected(s)) for s in (stream,)}
        ids = [record_key(listed[stream][i]) for i in deleted]
        delete_during_read(sandbox, api, stream, path, after_requests=after_requests, ids=ids)
        cfg = config(sandbox, tap, page_size=page_size)
        out = sync(TAPS[tap][0], cfg, catalog=catalog_selecting(TAPS[tap][0], cfg, [stream]))
    finally:
        sandbox.stop()
    live = {record_key(r) for r in api.expected(stream)}
    emitted = {record_key(r) for r in out.records.get(stream, [])}
    if activated(out):
        # The target keeps exactly what the read emitted: every live record must be in it.
        assert live <= emitted


def test_a_read_that_cannot_show_it_is_complete_says_so_in_one_line(make_sandbox, caplog):
    sandbox = both_apis(make_sandbox)
    ids = [record_key(r) for r in sandbox.crm.expected("pipelines")[:2]]
    delete_during_read(sandbox, sandbox.crm, "pipelines", "/pipelines", after_requests=1, ids=ids)
    cfg = config(sandbox, "tap-crm")
    with caplog.at_level(logging.WARNING):
        out = sync(TapCRM, cfg, catalog=catalog_selecting(TapCRM, cfg, ["pipelines"]))
    assert activated(out) == {}
    lines = [r.getMessage() for r in caplog.records if "ACTIVATE_VERSION" in r.getMessage()]
    assert len(lines) == 1
    assert "pipelines" in lines[0]
    assert "12 records at its start, 10 at its end" in lines[0]


def test_a_full_read_of_an_incremental_stream_activates_its_version(make_sandbox):
    """The reconcile: Meltano's ``replication-method: FULL_TABLE`` on contacts, with a bookmark."""
    sandbox = both_apis(make_sandbox)
    cfg = config(sandbox, "tap-crm")
    catalog = catalog_selecting(TapCRM, cfg, ["contacts"])
    for entry in catalog["streams"]:
        # What Meltano's metadata extra does: the stream-level metadata only; the entry
        # keeps the ``replication_method: INCREMENTAL`` discovery wrote.
        assert entry["replication_method"] == "INCREMENTAL" or entry["tap_stream_id"] != "contacts"
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["forced-replication-method"] = "FULL_TABLE"
    state = {
        "bookmarks": {
            "contacts": {
                "replication_key": "modified_at",
                "replication_key_value": "2099-01-01T00:00:00Z",
            }
        }
    }
    out = sync(TapCRM, cfg, catalog=catalog, state=state)
    assert len(out.records["contacts"]) == len(sandbox.crm.expected("contacts"))
    assert list(activated(out)) == ["contacts"]


def test_the_setting_is_declared_for_about_and_meltano():
    for tap_class in (TapCRM, TapCallTracker):
        spec = tap_class.config_jsonschema["properties"][SETTING]
        assert spec["type"] == ["boolean", "null"]
        assert spec["default"] is False


def test_the_sdk_still_works_the_way_our_override_assumes():
    """Guards for the two SDK internals this relies on (singer-sdk 0.54.x):

    * ``Stream.sync`` decides on the ``emit_activate_version_messages`` property (which we
      answer False) to send its own ACTIVATE_VERSION before the records;
    * records take their version from ``Stream._stream_version``.
    If either changes, these fail before a target sees a message in the wrong place.
    """
    sync_source = inspect.getsource(Stream.sync)
    assert "self.emit_activate_version_messages" in sync_source
    assert "_write_activate_version_message" in sync_source
    records_source = inspect.getsource(Stream._generate_record_messages)
    assert "version=self._stream_version" in records_source


def test_batch_mode_sends_no_activate_version(make_sandbox, tmp_path, caplog):
    """BATCH messages follow the read, so the message would precede the last batch."""
    sandbox = both_apis(make_sandbox)
    batch = {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": f"file://{tmp_path}"},
    }
    cfg = config(sandbox, "tap-crm", batch_config=batch)
    with caplog.at_level(logging.WARNING):
        out = sync(TapCRM, cfg, catalog=catalog_selecting(TapCRM, cfg, ["pipelines"]))
    assert [m["type"] for m in out.messages].count("BATCH") >= 1
    assert activated(out) == {}
    assert any("batch_config" in r.getMessage() for r in caplog.records)


def test_a_call_api_full_read_is_bounded_by_the_sync_start_so_new_records_do_not_block_it(
    make_sandbox,
):
    """Contacts read whole (the reconcile): ``to=<sync start>`` on every request, so a
    contact created during the read neither moves the total nor stops ACTIVATE_VERSION."""
    sandbox = both_apis(make_sandbox)
    api = sandbox.calltracker

    def create_a_contact():
        later = int(time.time()) + 60  # created after the sync started
        api.add("contacts", created_at=later, updated_at=later)

    # Right after the first contacts page is answered.
    sandbox.faults.then(create_a_contact, api="calltracker", path="/contacts")
    cfg = config(sandbox, "tap-calltracker")
    catalog = catalog_selecting(TapCallTracker, cfg, ["contacts"])
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["forced-replication-method"] = "FULL_TABLE"
    out = sync(TapCallTracker, cfg, catalog=catalog)

    (version,) = activated(out)["contacts"]
    requests = sandbox.requests_to("calltracker", "/contacts")
    assert len(requests) > 2
    # The window ends at the sync's start, asked one second wide (``Window.query``).
    assert {r.arg("to") for r in requests} == {str(version + 1)}
    assert len(out.records["contacts"]) == len(api.expected("contacts")) - 1


def test_meltano_yml_reconcile_plugins_jobs_and_schedules():
    project = yaml.safe_load((Path(__file__).parents[1] / "meltano.yml").read_text())
    extractors = {p["name"]: p for p in project["plugins"]["extractors"]}
    for tap in TAPS:
        assert {s["name"]: s.get("value") for s in extractors[tap]["settings"]}[SETTING] is False
        reconcile = extractors[f"{tap}--reconcile"]
        assert reconcile["inherit_from"] == tap
        # Rows land in the daily job's schema (the load schema defaults to the namespace).
        assert reconcile["namespace"] == extractors[tap]["namespace"]
        assert reconcile["config"] == {SETTING: True}
        assert reconcile["metadata"] == {"*": {"forced-replication-method": "FULL_TABLE"}}
    assert extractors["tap-calltracker--reconcile"]["select"] == ["*.*", "!calls.*"]
    jobs = {job["name"]: job["tasks"] for job in project["jobs"]}
    assert jobs["reconcile-crm"] == ["tap-crm--reconcile target-postgres"]
    assert jobs["reconcile-calltracker"] == ["tap-calltracker--reconcile target-postgres"]
    schedules = {s["job"]: s["interval"] for s in project["schedules"] if "job" in s}
    assert schedules["reconcile-crm"].endswith("* * 6")  # weekly
    assert schedules["reconcile-calltracker"].endswith("* * 6")
    (postgres,) = [p for p in project["plugins"]["loaders"] if p["name"] == "target-postgres"]
    loader = {s["name"]: s.get("value") for s in postgres["settings"]}
    assert loader["activate_version"] is True
    assert loader["hard_delete"] is False
