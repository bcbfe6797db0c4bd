"""tap-calltracker against the sandbox: every record once, every field kept, past the 10k cap."""

from __future__ import annotations

import functools
import itertools
import math
import time
from collections import Counter
from datetime import datetime, timezone

import pytest
import requests

from sandbox_api import CallTrackerAPI
from sandbox_api.calltracker import CAP_BODY, ITEM_CAP
from tap_calltracker.streams import STREAM_TYPES
from tap_calltracker.tap import TapCallTracker
from tap_common.http.errors import PaginationError
from tests.singer_io import catalog_selecting, sync

STREAMS = [s.name for s in STREAM_TYPES]
KEYS = {s.name: s.primary_keys[0] for s in STREAM_TYPES}
PAGE_SIZE = 10
# Every timestamp field name the API uses, at any depth.
TIMESTAMP_KEYS = {
    "started_at",
    "answered_at",
    "ended_at",
    "posted_at",
    "created_at",
    "updated_at",
    "tagged_at",
}
# Booleans and counts the API may send as the string "redacted" (an odd value: null).
NOT_TEXT_KEYS = {"available", "open", "is_ivr", "users_count", "numbers_count"}


def as_emitted(value: object) -> object:
    """An API record as the tap should emit it: every timestamp as ISO-8601 UTC.

    Written independently of the tap's own conversion, so a timestamp the tap forgets
    (at any depth) shows up as a difference.
    """
    if isinstance(value, list):
        return [as_emitted(item) for item in value]
    if not isinstance(value, dict):
        return value
    converted = {}
    for key, item in value.items():
        if key in NOT_TEXT_KEYS and item == "redacted":
            converted[key] = None
        elif key in TIMESTAMP_KEYS and isinstance(item, int):
            converted[key] = datetime.fromtimestamp(item, tz=timezone.utc).isoformat(
                timespec="microseconds"
            )
        elif key in TIMESTAMP_KEYS and isinstance(item, str):
            converted[key] = (
                datetime.fromisoformat(item.replace("Z", "+00:00"))
                .astimezone(timezone.utc)
                .isoformat(timespec="microseconds")
            )
        else:
            converted[key] = as_emitted(item)
    return converted


def expected_records(api: CallTrackerAPI, stream: str) -> list[dict]:
    records = [as_emitted(r) for r in api.expected(stream)]
    if stream == "company":
        records = [{"company_key": "company", **r} for r in records]
    return records


def by_key(records: list[dict], key: str) -> dict:
    return {r[key]: r for r in records}


# select(config, streams): the discovered catalog with only ``streams`` selected.
select = functools.partial(catalog_selecting, TapCallTracker)


@pytest.mark.parametrize(
    "size",
    [0, 1, PAGE_SIZE, 3 * PAGE_SIZE + 7],
    ids=["empty", "one-record", "exactly-one-full-page", "many-pages"],
)
def test_every_record_of_every_stream_arrives_exactly_once_with_all_fields(make_sandbox, size):
    api = CallTrackerAPI(size=size, sizes=dict.fromkeys(["users", "numbers", "teams"], size))
    sandbox = make_sandbox(calltracker_api=api)
    out = sync(TapCallTracker, sandbox.calltracker_config(page_size=PAGE_SIZE))

    for stream in STREAMS:
        key = KEYS[stream]
        expected = expected_records(api, stream)
        emitted = out.records.get(stream, [])
        assert out.duplicates(stream, key) == [], f"{stream}: duplicate keys"
        assert len(emitted) == len(expected), stream
        # Deep equality: no field (top-level or nested) dropped, renamed or retyped.
        assert by_key(emitted, key) == by_key(expected, key), stream


def test_arrays_keep_their_null_elements(make_sandbox):
    api = CallTrackerAPI(size=40, sizes={"webhooks": 8, "users": 10})
    sandbox = make_sandbox(calltracker_api=api)
    out = sync(TapCallTracker, sandbox.calltracker_config())

    assert any(None in call["tags"] for call in out.records["calls"])
    assert any(None in hook["events"] for hook in out.records["webhooks"])


def test_12000_calls_arrive_once_in_time_windows_without_a_refused_request(make_sandbox):
    api = CallTrackerAPI(size=3, sizes={"calls": 12_000})
    sandbox = make_sandbox(calltracker_api=api)
    config = sandbox.calltracker_config()
    started = time.monotonic()
    out = sync(TapCallTracker, config, catalog=select(config, {"calls"}))
    elapsed = time.monotonic() - started

    assert len(out.records["calls"]) == 12_000
    assert out.duplicates("calls") == []
    assert {r["id"] for r in out.records["calls"]} == {r["id"] for r in api.records["calls"]}
    starts = [r["started_at"] for r in out.records["calls"]]
    assert starts == sorted(starts)  # windows are read earliest first: still ascending
    requests_made = sandbox.requests_to("calltracker", "/calls")
    assert Counter(r.status for r in requests_made) == {200: len(requests_made)}
    assert all(int(r.arg("page")) * 50 <= ITEM_CAP for r in requests_made)
    # 240 full pages, plus the first pages of the windows that had to be split.
    assert len(requests_made) < 240 + 20
    print(f"12,000 calls: {len(requests_made)} requests, {elapsed:.1f} s")


def test_exactly_10000_calls_are_read_by_re_anchored_queries_that_never_page_deep(make_sandbox):
    api = CallTrackerAPI(size=3, sizes={"calls": ITEM_CAP})
    sandbox = make_sandbox(calltracker_api=api)
    config = sandbox.calltracker_config()
    out = sync(TapCallTracker, config, catalog=select(config, {"calls"}))

    assert len(out.records["calls"]) == ITEM_CAP
    assert out.duplicates("calls") == []
    requests_made = sandbox.requests_to("calltracker", "/calls")
    # 50, then 49 new per query (each re-reads its anchor second's call): ~2% more requests.
    assert len(requests_made) == 1 + math.ceil((ITEM_CAP - 50) / 49)
    assert all(r.arg("page") == "1" and r.status == 200 for r in requests_made)


def test_windows_meet_without_gap_or_overlap(make_sandbox):
    # Contacts changed since the bookmark are read newest first in lazily split windows.
    api = CallTrackerAPI(size=3, sizes={"contacts": 10_500})
    sandbox = make_sandbox(calltracker_api=api)
    config = sandbox.calltracker_config()
    state = {
        "bookmarks": {
            "contacts": {"replication_key": "updated_at", "replication_key_value": "2020-01-01"}
        }
    }
    out = sync(TapCallTracker, config, catalog=select(config, {"contacts"}), state=state)
    assert sorted(out.ids("contacts")) == sorted(c["id"] for c in api.records["contacts"])

    windows = sorted(
        (int(r.arg("from")), int(r.arg("to")))
        for r in sandbox.requests_to("calltracker", "/contacts")
        if r.arg("to") is not None and r.arg("page") == "1"
    )
    leaves = [
        w for w in windows if not any(o != w and w[0] <= o[0] <= o[1] <= w[1] for o in windows)
    ]
    # Each bound one second wide: the windows [a, b], [b + 1, c], ... are asked as
    # from=a-1&to=b+1, from=b&to=c+1 (their first and last seconds under either bound).
    assert leaves[0][0] == -1
    assert all(a[1] == b[0] + 1 for a, b in itertools.pairwise(leaves))


def test_more_than_the_cap_within_one_second_fails_clearly(make_sandbox):
    api = CallTrackerAPI(size=3, sizes={"calls": 10_001})
    for call in api.records["calls"]:
        call["started_at"] = 1_735_689_600
    sandbox = make_sandbox(calltracker_api=api)
    config = sandbox.calltracker_config()
    out = sync(TapCallTracker, config, catalog=select(config, {"calls"}), expect_error=True)

    assert isinstance(out.error, PaginationError)
    assert "within one second" in str(out.error)
    # Stopped at the one-second window's first page, before paging towards the cap.
    assert len(out.records["calls"]) <= 50
    assert all(r.status == 200 for r in sandbox.requests_to("calltracker"))


def test_sandbox_refuses_pages_past_the_cap_with_the_real_body(make_sandbox):
    api = CallTrackerAPI(size=3, sizes={"calls": 10_050})
    sandbox = make_sandbox(calltracker_api=api)
    response = requests.get(
        f"{sandbox.calltracker_url}/calls",
        params={"page": 201, "per_page": 50},
        auth=("ct-sandbox-api-id", "ct-sandbox-api-token"),
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json() == CAP_BODY


@pytest.mark.parametrize("stream", ["users", "user_availability"])
def test_users_and_availabilities_read_every_page(make_sandbox, stream):
    api = CallTrackerAPI(size=3, sizes={"users": 47})
    sandbox = make_sandbox(calltracker_api=api)
    config = sandbox.calltracker_config(page_size=20)
    out = sync(TapCallTracker, config, catalog=select(config, {stream}))

    assert len(out.records[stream]) == 47
    assert out.duplicates(stream) == []
    pages = [r.arg("page") for r in sandbox.requests_to("calltracker")]
    # Users re-anchor on creation time (page 1 from the last second read); the
    # availabilities endpoint, not incremental, pages by number.
    assert pages == (["1", "1", "1"] if stream == "users" else ["1", "2", "3"])


def test_next_page_links_are_absolute_and_carry_the_query(make_sandbox):
    sandbox = make_sandbox(calltracker_api=CallTrackerAPI(size=45))
    response = requests.get(
        f"{sandbox.calltracker_url}/calls",
        params={"from": 0, "order": "asc"},
        auth=("ct-sandbox-api-id", "ct-sandbox-api-token"),
        timeout=10,
    )
    meta = response.json()["meta"]
    assert meta["per_page"] == 20
    assert meta["next_page_link"].startswith(f"{sandbox.calltracker_url}/calls?")
    assert "from=0" in meta["next_page_link"]
    assert "page=2" in meta["next_page_link"]
    assert meta["previous_page_link"] is None


def test_config_from_env(make_sandbox, tmp_path, monkeypatch):
    sandbox = make_sandbox(calltracker_api=CallTrackerAPI(size=3))
    config = sandbox.calltracker_config()
    monkeypatch.chdir(tmp_path)  # no .env from the repo
    monkeypatch.setenv("TAP_CALLTRACKER_API_ID", config["api_id"])
    monkeypatch.setenv("TAP_CALLTRACKER_API_TOKEN", config["api_token"])
    monkeypatch.setenv("TAP_CALLTRACKER_API_URL", config["api_url"])
    monkeypatch.setenv("TAP_CALLTRACKER_PAGE_SIZE", "7")
    tap = TapCallTracker(config=None, parse_env_config=True)

    assert tap.config["api_url"] == config["api_url"]
    assert tap.config["page_size"] == 7
    assert tap.config["calls_lookback_days"] == 2


def test_settings_defaults():
    properties = TapCallTracker.config_jsonschema["properties"]
    assert properties["api_url"]["default"] == "https://api.aircall.io/v1"
    assert properties["page_size"]["default"] == 50
    assert properties["page_size"]["maximum"] == 50
    assert set(TapCallTracker.config_jsonschema["required"]) == {"api_id", "api_token"}
