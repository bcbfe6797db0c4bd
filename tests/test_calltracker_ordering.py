"""tap-calltracker when order is only a hint, totals are capped and lists move (variations)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from sandbox_api import CallTrackerAPI, calltracker_data
from tap_calltracker.tap import TapCallTracker
from tests.singer_io import catalog_selecting, sync

SECOND = "2025-05-06T07:08:09"


def run(sandbox, streams, *, state=None, expect_error=False, **settings):
    config = sandbox.calltracker_config(**settings)
    catalog = catalog_selecting(TapCallTracker, config, streams)
    return sync(TapCallTracker, config, catalog=catalog, state=state, expect_error=expect_error)


def ids(api, stream):
    return sorted(r["id"] for r in api.records[stream])


def remove(api, stream, record):
    def action():
        api.records[stream].remove(record)
        api._index.clear()

    return action


def test_numbers_with_milliseconds_out_of_order_complete_and_every_stream_after_them(
    make_sandbox,
):
    api = CallTrackerAPI(size=5)
    # Two numbers in one second, listed in id order: .902 before .053.
    api.add("numbers", created_at=f"{SECOND}.902Z")
    api.add("numbers", created_at=f"{SECOND}.053Z")
    sandbox = make_sandbox(calltracker_api=api)

    out = run(sandbox, ["numbers", "tags", "teams", "users", "user_availability", "webhooks"])

    assert out.error is None
    assert sorted(out.ids("numbers")) == ids(api, "numbers")
    for stream in ["tags", "teams", "users", "user_availability", "webhooks"]:
        assert out.records.get(stream), stream


@pytest.mark.parametrize("stream", ["numbers", "users", "calls"])
def test_shuffled_ties_and_a_crowded_second_lose_nothing(make_sandbox, stream):
    api = CallTrackerAPI(size=120, sizes={"users": 120, "numbers": 120})
    # 70 records in one second: more than a page of 50, in a new order on every request.
    for record in api.records[stream][10:80]:
        if stream == "calls":
            record["started_at"] = 1_746_515_289
        else:
            millis = api.records[stream].index(record)
            record["created_at"] = f"{SECOND}.{millis:03d}Z"
    api.variations.shuffle_ties = True
    sandbox = make_sandbox(calltracker_api=api)

    out = run(sandbox, [stream])

    assert sorted(out.ids(stream)) == ids(api, stream)
    assert out.duplicates(stream) == []


def test_capped_total_and_null_link_12000_calls_arrive_once(make_sandbox):
    api = CallTrackerAPI(size=3, sizes={"calls": 12_000})
    api.variations.cap_total = True
    sandbox = make_sandbox(calltracker_api=api)

    out = run(sandbox, ["calls"])

    assert sorted(out.ids("calls")) == ids(api, "calls")
    assert out.duplicates("calls") == []
    assert all(r.status == 200 for r in sandbox.requests_to("calltracker"))


@pytest.mark.parametrize("with_bookmark", [False, True], ids=["first-run", "changed-since"])
def test_capped_total_and_null_link_12000_contacts_arrive_once(make_sandbox, with_bookmark):
    api = CallTrackerAPI(size=3, sizes={"contacts": 12_000})
    api.variations.cap_total = True
    sandbox = make_sandbox(calltracker_api=api)
    state = None
    if with_bookmark:
        mark = {"replication_key": "updated_at", "replication_key_value": "2020-01-01T00:00:00Z"}
        state = {"bookmarks": {"contacts": mark}}

    out = run(sandbox, ["contacts"], state=state)

    assert sorted(out.ids("contacts")) == ids(api, "contacts")
    assert out.duplicates("contacts") == []
    assert all(r.status == 200 for r in sandbox.requests_to("calltracker"))


def test_a_query_of_exactly_10000_changed_contacts_is_split(make_sandbox):
    api = CallTrackerAPI(size=3, sizes={"contacts": 10_000})
    api.variations.cap_total = True
    sandbox = make_sandbox(calltracker_api=api)
    mark = {"replication_key": "updated_at", "replication_key_value": "2020-01-01T00:00:00Z"}

    out = run(sandbox, ["contacts"], state={"bookmarks": {"contacts": mark}})

    assert sorted(out.ids("contacts")) == ids(api, "contacts")
    assert any(r.arg("to") is not None for r in sandbox.requests_to("calltracker"))


@pytest.mark.parametrize("stream", ["users", "contacts"])
@pytest.mark.parametrize("second_run_state", [False, True], ids=["first-run", "later-run"])
def test_deleted_from_page_one_mid_sync_the_next_run_holds_every_survivor(
    make_sandbox, stream, second_run_state
):
    api = CallTrackerAPI(size=130, sizes={"users": 130})
    sandbox = make_sandbox(calltracker_api=api)
    state, earlier = None, set()
    if second_run_state:
        # A complete earlier run, then every contact changes, or 60 users are new.
        done = run(sandbox, [stream])
        state, earlier = done.final_state, set(done.ids(stream))
        now = int(time.time())
        if stream == "contacts":
            for index in range(len(api.records[stream])):
                api.modify(stream, index, updated_at=now - 500 + index)
            earlier = set()  # every contact changed: each must come again
        else:
            for i in range(60):
                moment = datetime.fromtimestamp(now - 500 + i, tz=timezone.utc)
                api.add("users", created_at=calltracker_data.user_iso(moment))
    before = set(ids(api, stream))
    key = "updated_at" if stream == "contacts" and second_run_state else "created_at"
    in_scope = [r for r in api.records[stream] if stream == "contacts" or r["id"] not in earlier]
    order = sorted(in_scope, key=lambda r: (str(r[key]), r["id"]))
    first_on_page_one = order[-1] if key == "updated_at" else order[0]
    api.variations.after_page(stream, 1, remove(api, stream, first_on_page_one))
    api.variations._pages_served.clear()

    first = run(sandbox, [stream], state=state)
    second = run(sandbox, [stream], state=first.final_state)

    survivors = before - {first_on_page_one["id"]}
    assert survivors <= earlier | set(first.ids(stream)) | set(second.ids(stream))
    assert first.duplicates(stream) == []
