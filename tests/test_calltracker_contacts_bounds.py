"""tap-calltracker ``contacts``: ``from``/``to`` are inclusive on ``created_at`` as a live
account answered; the tap does not depend on it (every convention: every contact once).

A live account answered ``/contacts?from=X&to=Y`` with the contacts created in [X, Y], also
with ``order_by=updated_at`` (https://developer.aircall.io/api-references/#list-all-contacts
says only "timestamp"). The sandbox's ``contacts_bounds`` switch serves the other conventions.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox_api import CallTrackerAPI
from sandbox_api.calltracker import API_ID, API_TOKEN
from tap_calltracker.tap import TapCallTracker
from tests.singer_io import catalog_selecting, sync

CONVENTIONS = ["inclusive", "from_exclusive", "to_exclusive", "exclusive"]


def contacts_api(count: int, crowded: dict[int, int]) -> CallTrackerAPI:
    """``count`` contacts; ``crowded`` puts that many consecutive contacts into one second."""
    api = CallTrackerAPI(size=0, sizes={"contacts": count})
    rows = sorted(api.records["contacts"], key=lambda r: (r["created_at"], r["id"]))
    for start, size in crowded.items():
        second = rows[min(start, count - 1)]["created_at"]
        for row in rows[start : start + size]:
            row["created_at"] = second
            row["updated_at"] = max(row["updated_at"], second)
    api._index.clear()
    return api


def ids_of(url: str, **query: object) -> list[int]:
    params = {"per_page": 50, **query}
    ids: list[int] = []
    for page in range(1, 100):
        answer = requests.get(
            f"{url}/contacts",
            params={**params, "page": page},
            auth=(API_ID, API_TOKEN),
            timeout=5,
        ).json()
        ids += [c["id"] for c in answer["contacts"]]
        if not answer["contacts"]:
            return ids
    return ids


@pytest.mark.parametrize("order_by", ["created_at", "updated_at"])
def test_the_sandbox_default_is_inclusive_on_both_ends(make_sandbox, order_by):
    api = contacts_api(30, {10: 4})
    sandbox = make_sandbox(calltracker_api=api)
    url = sandbox.calltracker_url
    rows = sorted(api.records["contacts"], key=lambda r: r["created_at"])
    low, high = rows[10]["created_at"], rows[20]["created_at"]
    inside = {r["id"] for r in rows if low <= r["created_at"] <= high}
    assert set(ids_of(url, order_by=order_by, **{"from": low, "to": high})) == inside
    api.variations.contacts_bounds = "exclusive"
    strictly = {r["id"] for r in rows if low < r["created_at"] < high}
    assert set(ids_of(url, order_by=order_by, **{"from": low, "to": high})) == strictly
    assert strictly < inside


def run(sandbox, state=None, **config):
    config = sandbox.calltracker_config(**config)
    catalog = catalog_selecting(TapCallTracker, config, ["contacts"])
    return sync(TapCallTracker, config, catalog=catalog, state=state)


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_every_contact_once_in_a_first_run_and_every_edit_in_the_next(make_sandbox, convention):
    api = contacts_api(90, {0: 3, 17: 12, 40: 5, 89: 1})
    api.variations.contacts_bounds = convention
    sandbox = make_sandbox(calltracker_api=api)

    first = run(sandbox, page_size=5)
    counts = Counter(first.ids("contacts"))
    assert sorted(counts) == sorted(r["id"] for r in api.records["contacts"])
    assert set(counts.values()) == {1}

    now = int(time.time())
    edited = {api.modify("contacts", i, updated_at=now - 5 + i % 3)["id"] for i in range(0, 90, 7)}
    added = {api.add("contacts")["id"] for _ in range(3)}
    second = run(sandbox, state=first.final_state, page_size=5)
    assert edited | added <= set(second.ids("contacts"))
    assert second.duplicates("contacts") == []


@pytest.mark.parametrize("convention", CONVENTIONS)
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    count=st.integers(1, 60),
    crowded=st.dictionaries(st.integers(0, 59), st.integers(2, 14), max_size=3),
    page_size=st.sampled_from([2, 5, 11, 50]),
)
def test_property_every_contact_once_under_every_convention(
    make_sandbox, convention, count, crowded, page_size
):
    api = contacts_api(count, crowded)
    api.variations.contacts_bounds = convention
    sandbox = make_sandbox(calltracker_api=api)
    out = run(sandbox, page_size=page_size)
    assert sorted(out.ids("contacts")) == sorted(r["id"] for r in api.records["contacts"])
