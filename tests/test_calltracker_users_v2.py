"""tap-calltracker: users from ``/v2/users`` (v1 "List all Users" was sunset on 2026-09-30).

Whatever ``/v1/users`` answers (404 as live, 410, or still served), every user comes once
from v2, the streams after ``users`` still sync and the run exits 0. The v2 base is the
v1 ``api_url``'s sibling, a proxy's path prefix kept.
"""

from __future__ import annotations

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from sandbox_api import CallTrackerAPI
from tap_calltracker.client import v2_base
from tap_calltracker.tap import TapCallTracker
from tap_common.http.errors import TapError
from tests.singer_io import SingerOutput, catalog_selecting, run_tap_cli, sync


@pytest.mark.parametrize("v1_users", ["404", "410", "served"])
def test_seventy_users_come_once_from_v2_and_later_streams_still_sync(
    make_sandbox, tmp_path, v1_users
):
    api = CallTrackerAPI(size=5, sizes={"users": 70, "webhooks": 30})
    api.variations.v1_users = v1_users
    sandbox = make_sandbox(calltracker_api=api)
    done = run_tap_cli(
        "tap_calltracker.tap", config=sandbox.calltracker_config(page_size=20), tmp_path=tmp_path
    )

    assert done.returncode == 0, done.stderr[-2000:]
    out = SingerOutput.parse(done.stdout, None)
    ids = out.ids("users")
    assert sorted(ids) == sorted(r["id"] for r in api.records["users"])
    assert len(ids) == len(set(ids)) == 70
    # Every stream after users in the catalog's order, webhooks included.
    assert sorted(out.ids("webhooks", "webhook_id")) == sorted(
        w["webhook_id"] for w in api.records["webhooks"]
    )
    assert len(out.records["user_availability"]) == 70
    user_paths = {r.path for r in sandbox.requests_to("calltracker") if "users" in r.path}
    assert user_paths == {"/v2/users", "/users/availabilities"}
    v2 = out.records["users"]
    assert all(u["direct_link"].startswith("https://api.aircall.io/v2/users/") for u in v2)
    assert any(u.get("default_number_id") for u in v2)
    assert all(u["created_at"].endswith("+00:00") for u in v2)
    # The v1 columns stay declared (an existing table only gains columns).
    schema = out.schemas()["users"]["schema"]["properties"]
    assert {"numbers", "default_number_id", "substatus", "state"} <= set(schema)


def test_the_sandbox_answers_v1_users_as_its_switch_says(make_sandbox):

    api = CallTrackerAPI(size=3)
    sandbox = make_sandbox(calltracker_api=api)
    auth = ("ct-sandbox-api-id", "ct-sandbox-api-token")
    answer = requests.get(f"{sandbox.calltracker_url}/users", auth=auth, timeout=5)
    assert (answer.status_code, answer.json()) == (404, {"message": "Not Found"})
    api.variations.v1_users = "410"
    assert requests.get(f"{sandbox.calltracker_url}/users", auth=auth, timeout=5).status_code == 410
    api.variations.v1_users = "served"
    v1 = requests.get(f"{sandbox.calltracker_url}/users", auth=auth, timeout=5).json()
    assert all("numbers" in u and "/v1/users/" in u["direct_link"] for u in v1["users"])
    v2 = requests.get(f"{sandbox.base_url}/v2/users?per_page=2", auth=auth, timeout=5).json()
    assert all("numbers" not in u and "default_number_id" in u for u in v2["users"])
    assert v2["meta"]["next_page_link"].startswith(f"{sandbox.base_url}/v2/users?")


@pytest.mark.parametrize(
    ("v1", "v2"),
    [
        ("https://api.aircall.io/v1", "https://api.aircall.io/v2"),
        ("https://api.aircall.io/v1/", "https://api.aircall.io/v2"),
        ("https://proxy.example.com/aircall/v1", "https://proxy.example.com/aircall/v2"),
        ("http://127.0.0.1:8080/a/v1/b/v1", "http://127.0.0.1:8080/a/v1/b/v2"),
    ],
)
def test_the_v2_base_is_the_v1_base_sibling(v1, v2):
    assert v2_base(v1) == v2


@given(st.lists(st.sampled_from(["aircall", "v1", "api", "x-y"]), max_size=4))
def test_a_proxy_prefix_is_kept_whole(segments):
    prefix = "".join(f"/{s}" for s in segments)
    assert v2_base(f"https://proxy.example.com{prefix}/v1") == (
        f"https://proxy.example.com{prefix}/v2"
    )


def test_an_api_url_that_is_not_a_v1_base_stops_in_one_line(make_sandbox):
    with pytest.raises(TapError, match="must be the API's v1 base"):
        v2_base("https://proxy.example.com/aircall")
    sandbox = make_sandbox(calltracker_api=CallTrackerAPI(size=2))
    config = sandbox.calltracker_config(api_url=sandbox.base_url + "/aircall")
    out = sync(
        TapCallTracker,
        config,
        catalog=catalog_selecting(TapCallTracker, config, ["users"]),
        expect_error=True,
    )
    assert isinstance(out.error, TapError)
    assert "\n" not in str(out.error)
