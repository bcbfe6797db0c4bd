"""One odd value in one record never stops a sync, loses a record or freezes a bookmark.

Each odd value a real account may hold (``sandbox_api.oddities.ODD_VALUES``) is served
in turn in one CRM contact and in one call, in a timestamp (the replication key
included), a boolean and a text field. Every run must end normally with every record,
each valid against its stream's schema, the odd value converted or written as null with
one warning, and the bookmark where the readable values put it.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

import jsonschema
import pytest

from sandbox_api import CRMAPI, CallTrackerAPI
from sandbox_api.oddities import MISSING, ODD_VALUES
from tap_calltracker.tap import TapCallTracker
from tap_crm.tap import TapCRM
from tests.singer_io import SingerOutput, catalog_selecting, run_module, sync

# What each odd value becomes in a field of each kind; a name not listed becomes null
# with a warning ("missing" stays missing, "null" stays null, both without a warning).
AS_DATE_TIME = {
    "iso_offset": "2024-03-05T12:15:16.000000+00:00",
    "iso_millis": "2024-03-05T12:15:16.338000+00:00",
    "date_only": "2024-03-05T00:00:00.000000+00:00",
    "unix_seconds": "2024-03-05T12:15:16.000000+00:00",
    "unix_millis": "2024-03-05T12:15:16.338000+00:00",
    "numeric_string": "1970-01-01T00:00:42.000000+00:00",  # unix seconds as text
    "string_one": "1970-01-01T00:00:01.000000+00:00",
}
AS_BOOLEAN = {
    "string_false": False,
    "string_true": True,
    "string_one": True,
    "unix_seconds": True,  # a number: != 0, as the SDK converts numbers
    "unix_millis": True,
}
AS_TEXT = {
    "lone_surrogate": "x\ufffdy",
    "nul": "before\u0000after",  # kept: loaders decide (target-postgres sanitizes it)
    "string_false": "false",
    "string_true": "true",
    "string_one": "1",
    "numeric_string": "42",
    "iso_offset": ODD_VALUES["iso_offset"],
    "iso_millis": ODD_VALUES["iso_millis"],
    "date_only": ODD_VALUES["date_only"],
    "unix_seconds": "1709640916",
    "unix_millis": "1709640916338",
    "zero_date": ODD_VALUES["zero_date"],
    "year_zero": ODD_VALUES["year_zero"],
    "garbage": ODD_VALUES["garbage"],
}
KINDS = {"date-time": AS_DATE_TIME, "boolean": AS_BOOLEAN, "text": AS_TEXT}

CRM_FIELDS = {"modified_at": "date-time", "starred": "boolean", "first_name": "text"}
CALL_FIELDS = {
    "started_at": "date-time",
    "ended_at": "date-time",
    "archived": "boolean",
    "raw_digits": "text",
}


def written(instant: datetime) -> str:
    return instant.astimezone(timezone.utc).isoformat(timespec="microseconds")


def crm_instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def call_instant(value: int) -> datetime:
    return datetime.fromtimestamp(value, tz=timezone.utc)


def assert_valid(out: SingerOutput, stream: str) -> None:
    """Every record validates against the stream's SCHEMA message, formats included."""
    schema = out.schemas()[stream]["schema"]
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    for record in out.records[stream]:
        errors = [e.message for e in validator.iter_errors(record)]
        assert errors == [], record.get("id")


def nulled_warnings(caplog: pytest.LogCaptureFixture, stream: str, field: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING
        and f"Stream '{stream}'" in r.getMessage()
        and f"field '{field}'" in r.getMessage()
    ]


def check_odd_value(
    out: SingerOutput,
    caplog: pytest.LogCaptureFixture,
    *,
    stream: str,
    odd_id: object,
    field: str,
    kind: str,
    odd: str,
) -> None:
    record = next(r for r in out.records[stream] if r["id"] == odd_id)
    if ODD_VALUES[odd] is MISSING:
        assert field not in record
        return
    expected = KINDS[kind].get(odd)
    assert record[field] == expected
    warned = nulled_warnings(caplog, stream, field)
    if expected is None and ODD_VALUES[odd] is not None:
        assert len(warned) == 1, warned
        assert repr(odd_id) in warned[0]
        summary = [
            r.getMessage() for r in caplog.records if "values written as null" in r.getMessage()
        ]
        assert summary == [f"Stream '{stream}': values written as null, per field: {field}: 1"]
    else:
        assert warned == []


@pytest.mark.parametrize("field", list(CRM_FIELDS))
@pytest.mark.parametrize("odd", list(ODD_VALUES))
def test_crm_contact_with_an_odd_value(make_sandbox, caplog, odd, field):
    api = CRMAPI(size=12)
    sandbox = make_sandbox(crm_api=api)
    contacts = api.records["contacts"]
    # Not the newest record: its odd value must not decide the bookmark, and an odd
    # replication key arrives out of order among the sorted ones.
    target = sorted(contacts, key=lambda r: r["modified_at"])[5]
    api.oddities.put(target, field, ODD_VALUES[odd])
    config = sandbox.crm_config()

    with caplog.at_level(logging.WARNING):
        out = sync(TapCRM, config, catalog=catalog_selecting(TapCRM, config, ["contacts"]))

    assert sorted(out.ids("contacts")) == sorted(r["id"] for r in contacts)
    assert_valid(out, "contacts")
    check_odd_value(
        out, caplog, stream="contacts", odd_id=target["id"], field=field,
        kind=CRM_FIELDS[field], odd=odd,
    )  # fmt: skip
    newest = max(crm_instant(r["modified_at"]) for r in contacts)
    assert out.final_state["bookmarks"]["contacts"]["replication_key_value"] == written(newest)


@pytest.mark.parametrize("field", list(CALL_FIELDS))
@pytest.mark.parametrize("odd", list(ODD_VALUES))
def test_call_with_an_odd_value(make_sandbox, caplog, odd, field):
    api = CallTrackerAPI(size=12)
    sandbox = make_sandbox(calltracker_api=api)
    calls = api.records["calls"]
    target = sorted(calls, key=lambda r: r["started_at"])[5]
    api.oddities.put(target, field, ODD_VALUES[odd])
    config = sandbox.calltracker_config()

    with caplog.at_level(logging.WARNING):
        out = sync(
            TapCallTracker, config, catalog=catalog_selecting(TapCallTracker, config, ["calls"])
        )

    assert sorted(out.ids("calls")) == sorted(r["id"] for r in calls)
    assert_valid(out, "calls")
    check_odd_value(
        out, caplog, stream="calls", odd_id=target["id"], field=field,
        kind=CALL_FIELDS[field], odd=odd,
    )  # fmt: skip
    newest = max(call_instant(r["started_at"]) for r in calls)
    assert out.final_state["bookmarks"]["calls"]["replication_key_value"] == written(newest)


def test_unreadable_replication_key_is_emitted_keeps_the_bookmark_and_warns_once(
    make_sandbox, caplog
):
    api = CRMAPI(size=12)
    sandbox = make_sandbox(crm_api=api)
    contacts = sorted(api.records["contacts"], key=lambda r: r["modified_at"])
    # The newest record's value is unreadable: the bookmark stops at the one before.
    for record, value in ((contacts[-1], "garbage"), (contacts[2], None), (contacts[3], MISSING)):
        api.oddities.put(record, "modified_at", value)
    config = sandbox.crm_config()
    catalog = catalog_selecting(TapCRM, config, ["contacts"])

    with caplog.at_level(logging.WARNING):
        first = sync(TapCRM, config, catalog=catalog)

    assert len(first.records["contacts"]) == 12
    mark = first.final_state["bookmarks"]["contacts"]["replication_key_value"]
    assert mark == written(crm_instant(contacts[-2]["modified_at"]))
    unreadable = [r for r in caplog.records if "does not move the bookmark" in r.getMessage()]
    assert len(unreadable) == 1
    summary = [r for r in caplog.records if "did not move the bookmark" in r.getMessage()]
    assert "3 record(s)" in summary[0].getMessage()

    # A second run brings what changed since, odd record or not.
    changed = api.modify("contacts", 0, first_name="Changed")
    added = api.add("contacts")
    second = sync(TapCRM, config, catalog=catalog, state=first.final_state)
    assert {changed["id"], added["id"]} <= set(second.ids("contacts"))
    assert second.final_state["bookmarks"]["contacts"]["replication_key_value"] == written(
        crm_instant(added["modified_at"])
    )


@pytest.mark.parametrize("key_value", [None, MISSING, ""], ids=["null", "missing", "empty"])
def test_a_record_without_a_usable_key_is_left_out_with_one_warning(
    make_sandbox, caplog, key_value
):
    api = CRMAPI(size=12)
    sandbox = make_sandbox(crm_api=api)
    contacts = sorted(api.records["contacts"], key=lambda r: r["modified_at"])
    for record in contacts[-2:]:  # the two newest: neither may move the bookmark
        api.oddities.put(record, "id", key_value)
    config = sandbox.crm_config()

    with caplog.at_level(logging.WARNING):
        out = sync(TapCRM, config, catalog=catalog_selecting(TapCRM, config, ["contacts"]))

    assert sorted(out.ids("contacts")) == sorted(r["id"] for r in contacts[:-2])
    left_out = [r.getMessage() for r in caplog.records if "primary key" in r.getMessage()]
    assert len(left_out) == 2  # the first one, and the stream's count
    assert "2 record(s) without a usable primary key left out" in left_out[1]
    mark = out.final_state["bookmarks"]["contacts"]["replication_key_value"]
    assert mark == written(crm_instant(contacts[-3]["modified_at"]))


def test_a_call_with_an_unreadable_id_is_left_out(make_sandbox, caplog):
    api = CallTrackerAPI(size=6)
    sandbox = make_sandbox(calltracker_api=api)
    api.oddities.put(api.records["calls"][1], "id", "not-a-number")
    config = sandbox.calltracker_config()

    with caplog.at_level(logging.WARNING):
        out = sync(
            TapCallTracker, config, catalog=catalog_selecting(TapCallTracker, config, ["calls"])
        )

    assert len(out.records["calls"]) == 5
    assert any("field 'id'" in r.getMessage() for r in caplog.records)
    assert any("without a usable primary key" in r.getMessage() for r in caplog.records)


def test_crm_record_dated_2030_does_not_freeze_the_next_run(make_sandbox, caplog):
    api = CRMAPI(size=8)
    sandbox = make_sandbox(crm_api=api)
    api.modify("contacts", 2, modified_at="2030-01-01T00:00:00Z")  # the API's clock was wrong
    config = sandbox.crm_config()
    catalog = catalog_selecting(TapCRM, config, ["contacts"])

    before = datetime.now(timezone.utc)
    with caplog.at_level(logging.WARNING):
        first = sync(TapCRM, config, catalog=catalog)
    mark = first.final_state["bookmarks"]["contacts"]["replication_key_value"]
    assert before.replace(microsecond=0) <= crm_instant(mark) <= datetime.now(timezone.utc)
    assert any("after this sync started" in r.getMessage() for r in caplog.records)

    changed = api.modify("contacts", 5, first_name="After the first run")
    second = sync(TapCRM, config, catalog=catalog, state=first.final_state)
    assert changed["id"] in second.ids("contacts")


def test_call_dated_2030_does_not_freeze_the_next_run(make_sandbox):
    api = CallTrackerAPI(size=8)
    sandbox = make_sandbox(calltracker_api=api)
    api.modify("calls", 2, started_at=int(datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp()))
    config = sandbox.calltracker_config()
    catalog = catalog_selecting(TapCallTracker, config, ["calls"])

    first = sync(TapCallTracker, config, catalog=catalog)
    mark = first.final_state["bookmarks"]["calls"]["replication_key_value"]
    assert datetime.fromisoformat(mark) <= datetime.now(timezone.utc)

    added = api.add("calls")
    second = sync(TapCallTracker, config, catalog=catalog, state=first.final_state)
    assert added["id"] in second.ids("calls")


@pytest.mark.parametrize(
    "saved",
    [1735787045, "1735787045", 1735787045000, "2025-01-02T04:04:05+01:00", "2025-01-02"],
    ids=["unix-int", "unix-text", "unix-millis", "offset", "date"],
)
def test_a_saved_bookmark_in_any_form_is_accepted(make_sandbox, saved):
    api = CRMAPI(size=10)
    sandbox = make_sandbox(crm_api=api)
    config = sandbox.crm_config()
    state = {
        "bookmarks": {
            "contacts": {"replication_key": "modified_at", "replication_key_value": saved}
        }
    }

    out = sync(TapCRM, config, catalog=catalog_selecting(TapCRM, config, ["contacts"]), state=state)

    # The query asks one second early (whether modified_since is inclusive is not
    # documented; tap_crm.pagination) and the tap drops what is older than the bookmark.
    since = int(sandbox.requests_to("crm", "/contacts")[0].arg("modified_since")) + 1
    expected_since = 1735776000 if saved == "2025-01-02" else 1735787045
    assert since == expected_since
    newer = [
        r for r in api.records["contacts"] if crm_instant(r["modified_at"]).timestamp() >= since
    ]
    assert sorted(out.ids("contacts")) == sorted(r["id"] for r in newer)
    mark = out.final_state["bookmarks"]["contacts"]["replication_key_value"]
    assert len(mark) == len("2025-01-02T03:04:05.000000+00:00")


def test_a_unix_integer_bookmark_is_accepted_by_calltracker(make_sandbox):
    api = CallTrackerAPI(size=10)
    sandbox = make_sandbox(calltracker_api=api)
    config = sandbox.calltracker_config()
    middle = sorted(r["started_at"] for r in api.records["calls"])[5]
    state = {
        "bookmarks": {"calls": {"replication_key": "started_at", "replication_key_value": middle}}
    }

    out = sync(
        TapCallTracker,
        config,
        catalog=catalog_selecting(TapCallTracker, config, ["calls"]),
        state=state,
    )

    assert {r["id"] for r in api.records["calls"] if r["started_at"] >= middle} <= set(
        out.ids("calls")
    )
    newest = max(call_instant(r["started_at"]) for r in api.records["calls"])
    assert out.final_state["bookmarks"]["calls"]["replication_key_value"] == written(newest)


def test_an_unreadable_saved_bookmark_reads_from_the_beginning_with_a_warning(make_sandbox, caplog):
    sandbox = make_sandbox(crm_api=CRMAPI(size=10))
    config = sandbox.crm_config()
    state = {
        "bookmarks": {
            "contacts": {"replication_key": "modified_at", "replication_key_value": "soon"}
        }
    }
    with caplog.at_level(logging.WARNING):
        out = sync(
            TapCRM, config, catalog=catalog_selecting(TapCRM, config, ["contacts"]), state=state
        )
    assert len(out.records["contacts"]) == 10
    assert any("not a readable timestamp" in r.getMessage() for r in caplog.records)


def test_companies_without_modified_at_are_read_whole(make_sandbox):
    """As in the official Java client's recorded responses: companies with no modified_at."""
    api = CRMAPI(size=15)
    sandbox = make_sandbox(crm_api=api)
    for company in api.records["companies"]:
        api.oddities.put(company, "modified_at", MISSING)
    config = sandbox.crm_config()
    catalog = catalog_selecting(TapCRM, config, ["companies"])

    first = sync(TapCRM, config, catalog=catalog)
    assert sorted(first.ids("companies")) == sorted(r["id"] for r in api.records["companies"])
    assert_valid(first, "companies")

    # With a bookmark from an earlier run, they are still all read: none is known older.
    state = {
        "bookmarks": {
            "companies": {
                "replication_key": "modified_at",
                "replication_key_value": "2025-06-01T00:00:00.000000+00:00",
            }
        }
    }
    second = sync(TapCRM, config, catalog=catalog, state=state)
    assert len(second.records["companies"]) == 15


def test_a_saved_bookmark_in_the_future_is_kept_with_a_warning(make_sandbox, caplog):
    sandbox = make_sandbox(crm_api=CRMAPI(size=5))
    config = sandbox.crm_config()
    state = {
        "bookmarks": {
            "contacts": {"replication_key": "modified_at", "replication_key_value": 1893456000}
        }
    }
    with caplog.at_level(logging.WARNING):
        out = sync(
            TapCRM, config, catalog=catalog_selecting(TapCRM, config, ["contacts"]), state=state
        )
    assert out.records == {}
    assert [r for r in caplog.records if "is later than now" in r.getMessage()]


def test_records_out_of_order_in_a_sorted_stream_keep_the_largest_bookmark(make_sandbox):
    """The SDK raised InvalidStreamSortException; with check_sorted off it kept the last."""
    api = CRMAPI(size=10)
    sandbox = make_sandbox(crm_api=api)
    contacts = sorted(api.records["contacts"], key=lambda r: r["modified_at"])
    api.oddities.put(contacts[-1], "modified_at", "2020-01-01T00:00:00Z")  # served last, oldest
    api.oddities.put(contacts[3], "modified_at", contacts[-1]["modified_at"])  # early, newest
    config = sandbox.crm_config()

    out = sync(TapCRM, config, catalog=catalog_selecting(TapCRM, config, ["contacts"]))

    assert len(out.records["contacts"]) == 10
    mark = out.final_state["bookmarks"]["contacts"]["replication_key_value"]
    assert mark == written(crm_instant(contacts[-1]["modified_at"]))


@pytest.mark.parametrize("tap", ["crm", "calltracker"])
def test_the_cli_exits_0_with_every_record_and_valid_utf8_despite_odd_values(
    make_sandbox, tmp_path, tap
):
    """The real CLI writes bytes to stdout (msgspec): where the lone surrogate used to raise."""
    api = CRMAPI(size=10) if tap == "crm" else CallTrackerAPI(size=10)
    sandbox = make_sandbox(**{f"{tap}_api": api})
    stream, text_field, flag, stamp = (
        ("contacts", "first_name", "starred", "modified_at")
        if tap == "crm"
        else ("calls", "raw_digits", "archived", "started_at")
    )
    rows = api.records[stream]
    api.oddities.put(rows[1], text_field, ODD_VALUES["lone_surrogate"])
    api.oddities.put(rows[2], flag, "false")
    api.oddities.put(rows[3], stamp, ODD_VALUES["zero_date"])
    api.oddities.put(rows[4], stamp, ODD_VALUES["unix_millis"])
    api.oddities.put(rows[5], "id", None)
    config = sandbox.crm_config() if tap == "crm" else sandbox.calltracker_config()
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    tap_class = TapCRM if tap == "crm" else TapCallTracker
    catalog_file = tmp_path / "catalog.json"
    catalog_file.write_text(json.dumps(catalog_selecting(tap_class, config, [stream])))

    result = run_module(
        f"tap_{tap}.tap", "--config", str(config_file), "--catalog", str(catalog_file),
        timeout=120, text=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    out = SingerOutput.parse(result.stdout.decode("utf-8"))  # strict: raises if not UTF-8
    assert len(out.records[stream]) == 9  # all but the one without a key
    assert_valid(out, stream)
    by_id = {r["id"]: r for r in out.records[stream]}
    assert by_id[rows[1]["id"]][text_field] == "x\ufffdy"
    assert by_id[rows[2]["id"]][flag] is False
    assert by_id[rows[3]["id"]][stamp] is None
    assert by_id[rows[4]["id"]][stamp] == AS_DATE_TIME["unix_millis"]
    assert b"without a usable primary key" in result.stderr
