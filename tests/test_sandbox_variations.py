"""The sandbox's order and paging switches do what they say (sandbox_api/variations.py)."""

from __future__ import annotations

import requests

from sandbox_api import CRMAPI, CallTrackerAPI, crm
from sandbox_api.calltracker import API_ID, API_TOKEN
from sandbox_api.variations import bulk_edit

STAMP = "2025-03-04T05:06:07Z"


def crm_get(sandbox, path, **params):
    # team=true: every user's records, not only the API user's (sandbox_api.crm_lists).
    return requests.get(
        f"{sandbox.crm_url}{path}",
        params={"team": "true", **params},
        auth=(crm.USERNAME, crm.PASSWORD),
        timeout=10,
    )


def ct_get(sandbox, path, **params):
    return requests.get(
        f"{sandbox.calltracker_url}{path}", params=params, auth=(API_ID, API_TOKEN), timeout=10
    )


def deal_ids(response):
    return [item["deal"]["id"] for item in response.json()["data"]["deals"]]


def test_shuffle_ties_gives_a_new_order_per_request_within_a_second_only(make_sandbox):
    api = CRMAPI(size=60)
    bulk_edit(api.records["deals"], 40, STAMP)
    sandbox = make_sandbox(crm_api=api)
    params = {"sort_by": "modified_at", "order": "asc", "per_page": 100}
    stable = [deal_ids(crm_get(sandbox, "/deals", **params)) for _ in range(3)]
    assert stable[0] == stable[1] == stable[2]

    api.variations.shuffle_ties = True
    shuffled = [crm_get(sandbox, "/deals", **params).json()["data"]["deals"] for _ in range(3)]
    orders = [[i["deal"]["id"] for i in page] for page in shuffled]
    assert len({tuple(o) for o in orders}) > 1
    for page in shuffled:
        stamps = [i["deal"]["modified_at"] for i in page]
        assert stamps == sorted(stamps)  # still sorted by the second


def test_strict_since_drops_the_bound_second(make_sandbox):
    api = CRMAPI(size=20)
    bulk_edit(api.records["notes"], 5, STAMP)
    sandbox = make_sandbox(crm_api=api)
    second = 1741064767  # STAMP as unix seconds
    inclusive = crm_get(sandbox, "/notes", modified_since=second).json()["data"]["total_count"]
    api.variations.strict_since = True
    strict = crm_get(sandbox, "/notes", modified_since=second).json()["data"]["total_count"]
    assert inclusive - strict == 5


def test_status_in_200_then_normal_answers(make_sandbox):
    sandbox = make_sandbox(crm_api=CRMAPI(size=5))
    sandbox.crm.variations.status_in_200 = 1
    first = crm_get(sandbox, "/deals")
    second = crm_get(sandbox, "/deals")
    assert first.status_code == 200
    assert first.json()["status"] == 500
    assert first.json()["data"]["deals"] == []
    assert second.json()["status"] == 0
    assert len(second.json()["data"]["deals"]) == 5


def test_stale_max_page_and_what_comes_past_the_end(make_sandbox):
    sandbox = make_sandbox(crm_api=CRMAPI(size=30))
    variations = sandbox.crm.variations
    variations.stale_max_page = True
    assert crm_get(sandbox, "/filters", per_page=10).json()["data"]["max_page"] == 2
    assert len(deal_ids(crm_get(sandbox, "/deals", per_page=10, page=3))) == 10  # still there
    assert crm_get(sandbox, "/deals", per_page=10, page=4).json()["data"]["deals"] == []
    variations.past_end = "last"
    past = crm_get(sandbox, "/deals", per_page=10, page=4).json()["data"]
    assert (past["page"], len(past["deals"])) == (3, 10)
    variations.past_end = "400"
    assert crm_get(sandbox, "/deals", per_page=10, page=4).status_code == 400


def test_cap_total_caps_meta_total_and_nulls_the_link_at_the_cap(make_sandbox):
    sandbox = make_sandbox(calltracker_api=CallTrackerAPI(size=3, sizes={"calls": 10_100}))
    sandbox.calltracker.variations.cap_total = True
    first = ct_get(sandbox, "/calls", per_page=50).json()["meta"]
    last = ct_get(sandbox, "/calls", per_page=50, page=200).json()["meta"]
    assert first["total"] == 10_000
    assert first["next_page_link"] is not None
    assert last["next_page_link"] is None


def test_after_page_runs_once_after_the_nth_page(make_sandbox):
    api = CallTrackerAPI(size=30)
    sandbox = make_sandbox(calltracker_api=api)
    api.variations.after_page("contacts", 2, lambda: api.records["contacts"].pop(0))
    counts = [ct_get(sandbox, "/contacts").json()["meta"]["total"] for _ in range(4)]
    assert counts == [30, 30, 29, 29]
