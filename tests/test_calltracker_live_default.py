"""tap-calltracker against the sandbox in its default behaviour, which is what a live
Aircall account answered (``/calls`` ``from`` exclusive and ``to`` inclusive, ``/webhooks``
without page links, ``/v1/users`` gone, a finalized call's ``started_at`` one second
later): every record of every stream once, and the next run from its STATE holds every
edit and every new record. Also: answers that are not the page asked, and the six months
of calls the API serves.
"""

from __future__ import annotations

import json
import time
from collections import Counter

import fastjsonschema

from sandbox_api import CallTrackerAPI
from tap_calltracker.streams import STREAM_TYPES
from tap_calltracker.tap import TapCallTracker
from tests.singer_io import SingerOutput, catalog_selecting, run_tap_cli

KEYS = {"webhooks": "webhook_id", "company": "company_key"}
LISTS = [stream.name for stream in STREAM_TYPES if stream.name != "company"]


def crowd(api: CallTrackerAPI, every: int, size: int) -> int:
    """Put ``size`` consecutive calls into one second at every ``every``-th call (more than
    a page each, so a page lies wholly inside one second); the number of crowded seconds."""
    calls = sorted(api.records["calls"], key=lambda call: call["started_at"])
    crowded = 0
    for start in range(0, len(calls) - size, every):
        second = calls[start]["started_at"]
        for call in calls[start : start + size]:
            shift = second - call["started_at"]
            call["started_at"] = second
            for key in ("answered_at", "ended_at"):
                if call.get(key) is not None:
                    call[key] += shift
        crowded += 1
    api._index.clear()
    return crowded


def run(
    tmp_path, config: dict, state: dict | None = None, streams: list[str] | None = None
) -> SingerOutput:
    args: tuple[str, ...] = ()
    if streams is not None:
        path = tmp_path / "catalog.json"
        path.write_text(json.dumps(catalog_selecting(TapCallTracker, config, streams)))
        args = ("--catalog", str(path))
    if state is not None:
        path = tmp_path / "state.json"
        path.write_text(json.dumps(state))
        args = (*args, "--state", str(path))
    done = run_tap_cli("tap_calltracker.tap", *args, config=config, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    return SingerOutput.parse(done.stdout, None)


def assert_every_record_once(out: SingerOutput, api: CallTrackerAPI) -> None:
    for stream in [*LISTS, "company"]:
        key = KEYS.get(stream, "id")
        want = Counter(record.get(key, "company") for record in api.expected(stream))
        got = Counter(out.ids(stream, key))
        assert got == want, stream
    schemas = out.schemas()
    for stream, records in out.records.items():
        assert schema_errors(schemas[stream]["schema"], records) == [], stream


def schema_errors(schema: dict, records: list[dict]) -> list[str]:
    """What breaks ``schema`` (formats included) in each of ``records``. fastjsonschema
    compiles the schema to Python once; jsonschema walks it anew for every value, half a
    millisecond per call record here (https://horejsek.github.io/python-fastjsonschema/)."""
    validate = fastjsonschema.compile(schema)
    errors = []
    for record in records:
        try:
            validate(record)
        except fastjsonschema.JsonSchemaValueException as exc:
            errors.append(exc.message)
    return errors


def test_the_schema_check_catches_a_bad_type_and_a_bad_date_time():
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "started_at": {"type": ["string", "null"], "format": "date-time"},
        },
    }
    good = {"id": 1, "started_at": "2026-09-30T12:00:00.000000+00:00"}
    assert schema_errors(schema, [good, {"id": 2, "started_at": None}]) == []
    assert schema_errors(schema, [{"id": "1"}, {"id": 3, "started_at": "yesterday"}]) == [
        "data.id must be integer",
        "data.started_at must be date-time",
    ]


def test_every_record_of_all_streams_once_then_every_edit_and_new_record(make_sandbox, tmp_path):
    api = CallTrackerAPI(size=25, sizes={"calls": 12_000, "webhooks": 120, "users": 70})
    assert crowd(api, every=400, size=70) >= 25
    sandbox = make_sandbox(calltracker_api=api)
    config = sandbox.calltracker_config(page_size=50)

    first = run(tmp_path, config)

    assert_every_record_once(first, api)
    paths = {r.path for r in sandbox.requests_to("calltracker")}
    assert "/v2/users" in paths
    assert "/users" not in paths  # v1 answers 404 (the default): not even tried

    # Edits within the calls' lookback (the newest two days read), a third of them with
    # the start moved by finalizing; new records in every list.
    newest = max(call["started_at"] for call in api.records["calls"])
    recent = [i for i, c in enumerate(api.records["calls"]) if c["started_at"] > newest - 86_400]
    edited = recent[:: max(1, len(recent) // 30)][:30]
    for n, index in enumerate(edited):
        change = {"tags": [], "comments": [{"id": 900_000 + n, "content": f"edit {n}"}]}
        if n % 3 == 0:
            api.finalize(index, **change)
        else:
            api.modify("calls", index, **change)
    added = {stream: api.add(stream) for stream in LISTS if stream != "user_availability"}
    edited_contacts = {api.modify("contacts", i)["id"] for i in range(0, 25, 5)}
    sandbox.clear_log()

    second = run(tmp_path, config, state=first.final_state)

    calls = {record["id"]: record for record in second.records["calls"]}
    for index in edited:
        call = api.records["calls"][index]
        assert calls[call["id"]]["comments"] == call["comments"]
        assert calls[call["id"]]["started_at"] == second_iso(call["started_at"])
    assert second.duplicates("calls") == []
    for stream, record in added.items():
        key = KEYS.get(stream, "id")
        assert record[key] in second.ids(stream, key), stream
    assert edited_contacts <= set(second.ids("contacts"))
    assert second.duplicates("contacts") == []


def second_iso(unix: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", time.gmtime(unix))


def test_an_answer_for_another_page_is_asked_again_not_taken_as_the_end(make_sandbox, tmp_path):
    # After a redirect that dropped the query string, the API answers page 1 at its
    # default 20 per page whatever was asked: taken as is, page 2 at 50 a page would skip
    # items 21 to 50, or page 1 would look like the list's end.
    api = CallTrackerAPI(size=3, sizes={"tags": 130})
    api.variations.wrong_page_answers = 2
    sandbox = make_sandbox(calltracker_api=api)
    config = sandbox.calltracker_config(page_size=50)
    out = run(tmp_path, config, streams=["tags"])
    assert sorted(out.ids("tags")) == sorted(tag["id"] for tag in api.records["tags"])
    assert out.duplicates("tags") == []


def test_a_dropped_query_on_every_answer_stops_in_one_line(make_sandbox, tmp_path):
    api = CallTrackerAPI(size=3, sizes={"tags": 130})
    api.variations.wrong_page_answers = 10_000
    sandbox = make_sandbox(calltracker_api=api)
    config = {**sandbox.calltracker_config(page_size=50), "max_retries": 1}
    done = run_tap_cli("tap_calltracker.tap", config=config, tmp_path=tmp_path)
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if "per_page" in line and "asked" in line]
    assert lines, done.stderr[-2000:]
    assert "Traceback" not in done.stderr


def test_calls_older_than_the_served_six_months_are_said_once_not_walked(make_sandbox, tmp_path):
    api = CallTrackerAPI(size=3, sizes={"calls": 400})
    api.variations.calls_horizon_days = 183
    served = [api.add("calls") for _ in range(30)]  # started now: within the horizon
    sandbox = make_sandbox(calltracker_api=api)
    config = {**sandbox.calltracker_config(page_size=50), "start_date": "2019-01-01T00:00:00Z"}
    done = run_tap_cli("tap_calltracker.tap", config=config, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    out = SingerOutput.parse(done.stdout, None)
    assert sorted(out.ids("calls")) == sorted(call["id"] for call in served)
    calls = sandbox.requests_to("calltracker", "/calls")
    assert len(calls) <= 3  # not one request per empty window back to 2019
    notes = [line for line in done.stderr.splitlines() if "six months" in line]
    assert len(notes) == 1, done.stderr[-2000:]
    assert "INFO" in notes[0]
