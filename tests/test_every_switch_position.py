"""Completeness under every position of every sandbox switch (``sandbox_api.variations``).

The switches stand for what no live account has shown (the order of ties, a bound's
inclusivity, a link's presence, ...). For each position, and for all of them at once, a
first run emits every record of every stream once, and a run from its STATE, after edits
and new records, emits every edit and every new record, each once.
"""

from __future__ import annotations

from collections import Counter

import pytest

from sandbox_api import CRMAPI, CallTrackerAPI
from sandbox_api.variations import Variations
from tap_calltracker.streams import STREAM_TYPES as CALL_STREAMS
from tap_calltracker.tap import TapCallTracker
from tap_crm.streams import STREAM_TYPES as CRM_STREAMS
from tap_crm.tap import TapCRM
from tests.singer_io import SingerOutput, sync

CALL_KEYS = {s.name: s.primary_keys[0] for s in CALL_STREAMS}
CRM_KEYS = {s.name: s.primary_keys[0] for s in CRM_STREAMS}

CALL_POSITIONS = {
    "live-defaults": {},
    "inclusive_calls_from": {"inclusive_calls_from": True},
    "exclusive_from_elsewhere": {"exclusive_from_elsewhere": True},
    "no_links": {"no_links": True},
    "start_move-90": {"start_move": 90},
    "shuffle_ties": {"shuffle_ties": True},
    "contacts-from_exclusive": {"contacts_bounds": "from_exclusive"},
    "contacts-to_exclusive": {"contacts_bounds": "to_exclusive"},
    "contacts-exclusive": {"contacts_bounds": "exclusive"},
    "v1_users-410": {"v1_users": "410"},
    "v1_users-served": {"v1_users": "served"},
    "wrong_page_answers": {"wrong_page_answers": 2},
}
CRM_POSITIONS = {
    "defaults": {},
    "shuffle_ties": {"shuffle_ties": True},
    "strict_since": {"strict_since": True},
    "status_in_200": {"status_in_200": 2},
    "stale_max_page-empty": {"stale_max_page": True, "past_end": "empty"},
    "stale_max_page-last": {"stale_max_page": True, "past_end": "last"},
    "early_modified_at-date_only": {"early_modified_at": "date_only"},
    "early_modified_at-seconds": {"early_modified_at": "seconds"},
}


def every_record_once(out: SingerOutput, api: CallTrackerAPI | CRMAPI, keys: dict) -> None:
    for stream, key in keys.items():
        expected = api.expected(stream)
        if stream == "company":
            assert len(out.records[stream]) == 1
            continue
        assert Counter(out.ids(stream, key)) == Counter(r[key] for r in expected), stream


def crowd_calls(api: CallTrackerAPI, size: int) -> None:
    """``size`` calls share each of a few seconds, more than a page holds."""
    calls = sorted(api.records["calls"], key=lambda call: call["started_at"])
    for start in range(0, len(calls) - size, len(calls) // 4):
        for call in calls[start : start + size]:
            call["started_at"] = calls[start]["started_at"]
    api._index.clear()


def switch_to(api: CallTrackerAPI | CRMAPI, positions: dict[str, dict], position: str) -> None:
    """Set the sandbox's switches to ``position`` (``everything``: all of them on)."""
    if position == "everything":
        api.variations = Variations.everything()
        return
    for name, value in positions[position].items():
        assert hasattr(api.variations, name), name  # a misspelt switch would test nothing
        setattr(api.variations, name, value)


@pytest.mark.parametrize("position", [*CALL_POSITIONS, "everything"])
def test_call_api_every_record_once_then_every_change(make_sandbox, position):
    api = CallTrackerAPI(size=12, sizes={"calls": 240, "contacts": 60, "webhooks": 45})
    crowd_calls(api, size=14)
    # Two calls started now, within the lookback of the next run: one to edit, one to move.
    recent = [len(api.records["calls"]), len(api.records["calls"]) + 1]
    for _ in recent:
        api.add("calls")
    sandbox = make_sandbox(calltracker_api=api)
    switch_to(api, CALL_POSITIONS, position)
    config = sandbox.calltracker_config(page_size=10)

    first = sync(TapCallTracker, config)
    every_record_once(first, api, CALL_KEYS)

    moved = api.finalize(recent[0], comments=[{"id": 1, "content": "finalized"}])
    edited = api.modify("calls", recent[1], comments=[{"id": 2, "content": "edited"}])
    contact = api.modify("contacts", 3)
    added = {name: api.add(name) for name in ("calls", "contacts", "tags", "webhooks")}
    second = sync(TapCallTracker, config, state=first.final_state)

    calls = {record["id"]: record for record in second.records["calls"]}
    assert calls[moved["id"]]["comments"] == moved["comments"]
    assert second.duplicates("calls") == []
    assert calls[edited["id"]]["comments"] == edited["comments"]
    assert contact["id"] in second.ids("contacts")
    assert second.duplicates("contacts") == []
    for name, record in added.items():
        assert record[CALL_KEYS[name]] in second.ids(name, CALL_KEYS[name]), name


@pytest.mark.parametrize("position", [*CRM_POSITIONS, "everything"])
def test_crm_every_record_once_then_every_change(make_sandbox, position):
    api = CRMAPI(size=23)
    sandbox = make_sandbox(crm_api=api)
    switch_to(api, CRM_POSITIONS, position)
    config = sandbox.crm_config(page_size=10)

    first = sync(TapCRM, config)
    every_record_once(first, api, CRM_KEYS)

    edited = {name: api.modify(name, 5)["id"] for name in ("contacts", "deals", "notes")}
    added = {name: api.add(name)["id"] for name in ("contacts", "companies", "actions")}
    second = sync(TapCRM, config, state=first.final_state)

    for name, record_id in {**edited, **added}.items():
        assert record_id in second.ids(name), name
        assert second.duplicates(name) == [], name
