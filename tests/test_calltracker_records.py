"""tap-calltracker: users/numbers/teams whole every run, the calls' fetch_* fields, no token."""

from __future__ import annotations

import functools
import hashlib
import itertools

import pytest

from sandbox_api import CallTrackerAPI
from tap_calltracker.tap import TapCallTracker
from tests.singer_io import catalog_selecting, sync

FULL_TABLE = ["users", "numbers", "teams"]
FLAGS = ["fetch_contact", "fetch_short_urls", "fetch_call_timeline"]

# select(config, streams): the discovered catalog with only ``streams`` selected.
select = functools.partial(catalog_selecting, TapCallTracker)


def test_users_numbers_teams_are_read_whole_and_changes_arrive(make_sandbox):
    api = CallTrackerAPI(size=5, sizes={"users": 30, "numbers": 12, "teams": 7})
    sandbox = make_sandbox(calltracker_api=api)
    # A start_date after every record's creation: calls still point at these.
    config = sandbox.calltracker_config(start_date="2029-01-01T00:00:00Z")
    catalog = select(config, set(FULL_TABLE))
    first = sync(TapCallTracker, config, catalog=catalog)
    for stream in FULL_TABLE:
        assert sorted(first.ids(stream)) == sorted(r["id"] for r in api.records[stream]), stream
        assert "replication_key" not in first.final_state["bookmarks"].get(stream, {}), stream
        assert not first.schemas()[stream].get("bookmark_properties"), stream

    renamed = api.modify("users", 4, name="Renée Renamed")["id"]
    api.modify("numbers", 2, name="Reassigned line")
    api.modify("teams", 1, name="Équipe renommée")
    second = sync(TapCallTracker, config, catalog=catalog, state=first.final_state)

    for stream in FULL_TABLE:
        assert sorted(second.ids(stream)) == sorted(r["id"] for r in api.records[stream]), stream
    names = {r["id"]: r["name"] for r in second.records["users"]}
    assert names[renamed] == "Renée Renamed"
    assert "Reassigned line" in {r["name"] for r in second.records["numbers"]}
    assert "Équipe renommée" in {r["name"] for r in second.records["teams"]}


@pytest.mark.parametrize("switches", list(itertools.product([True, False], repeat=3)), ids=str)
def test_each_fetch_flag_is_sent_by_default_and_can_be_turned_off(make_sandbox, switches):
    api = CallTrackerAPI(size=40)
    sandbox = make_sandbox(calltracker_api=api)
    settings = dict(zip(FLAGS, switches, strict=True))
    config = sandbox.calltracker_config(**settings)
    out = sync(TapCallTracker, config, catalog=select(config, {"calls"}))

    for request in sandbox.requests_to("calltracker", "/calls"):
        sent = {flag for flag in FLAGS if request.arg(flag) == "true"}
        assert sent == {flag for flag, on in settings.items() if on}
    calls = {c["id"]: c for c in api.records["calls"]}
    emitted = out.records["calls"]
    assert len(emitted) == 40
    checks = {
        "fetch_contact": ("contact",),
        "fetch_short_urls": ("recording_short_url", "voicemail_short_url"),
        "fetch_call_timeline": ("ivr_options_selected",),
    }
    for flag, fields in checks.items():
        for field in fields:
            values = [(r.get(field), calls[r["id"]][field]) for r in emitted]
            if settings[flag]:
                # What the account holds, for every call (the contact's timestamps as ISO).
                assert [v is None for v, _ in values] == [h is None for _, h in values], field
                assert any(v for v, _ in values), field
            else:
                assert all(v is None for v, _ in values), field


def test_fetch_flags_default_to_on():
    properties = TapCallTracker.config_jsonschema["properties"]
    for flag in FLAGS:
        assert properties[flag]["default"] is True
        assert properties[flag]["description"]


def test_webhook_tokens_never_leave_the_tap_but_can_be_told_apart(make_sandbox, capsys):
    api = CallTrackerAPI(size=3, sizes={"webhooks": 6})
    sandbox = make_sandbox(calltracker_api=api)
    config = sandbox.calltracker_config()
    out = sync(TapCallTracker, config, catalog=select(config, {"webhooks"}))

    tokens = [w["token"] for w in api.records["webhooks"]]
    emitted = out.records["webhooks"]
    assert len(emitted) == 6
    assert all("token" in r and r["token"] is None for r in emitted)
    fingerprints = [r["token_fingerprint"] for r in emitted]
    assert fingerprints == [hashlib.sha256(t.encode()).hexdigest()[:12] for t in tokens]
    assert len(set(fingerprints)) == 6
    everything = "\n".join(str(m) for m in out.messages) + capsys.readouterr().err
    assert not any(token in everything for token in tokens)
