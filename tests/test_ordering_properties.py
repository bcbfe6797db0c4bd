"""Property tests: whatever the sandbox's order/paging switches and data, nothing is lost.

CI runs a small, fixed set of examples (``derandomize=True``); set
``ORDERING_MAX_EXAMPLES=200`` for a larger run by hand.
"""

from __future__ import annotations

import os
import typing as t

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox_api import CRMAPI, CallTrackerAPI, Sandbox
from sandbox_api.variations import Variations, bulk_edit
from tap_calltracker.tap import TapCallTracker
from tap_crm.tap import TapCRM
from tests.singer_io import catalog_selecting, sync

EXAMPLES = int(os.environ.get("ORDERING_MAX_EXAMPLES", "12"))
SETTINGS = settings(
    deadline=None,
    derandomize=True,
    max_examples=EXAMPLES,
    suppress_health_check=[HealthCheck.too_slow],
)
CRM_STREAMS = ["deals", "companies"]
CT_STREAMS = ["users", "contacts", "numbers"]

variations = st.builds(
    Variations,
    shuffle_ties=st.booleans(),
    strict_since=st.booleans(),
    cap_total=st.booleans(),
    status_in_200=st.integers(0, 2),
    stale_max_page=st.booleans(),
    past_end=st.sampled_from(["empty", "last", "400"]),
    seed=st.integers(0, 1000),
)
# (kind, after which page request, which record): a list moving under the sync.
mutations = st.tuples(
    st.sampled_from(["none", "delete", "insert"]), st.integers(1, 4), st.integers(0, 10_000)
)


def plain_crm(sandbox: Sandbox, state: dict | None, **settings: t.Any):
    config = sandbox.crm_config(page_size=10, **settings)
    catalog = catalog_selecting(TapCRM, config, CRM_STREAMS)
    return sync(TapCRM, config, catalog=catalog, state=state)


def plain_ct(sandbox: Sandbox, state: dict | None, **settings: t.Any):
    config = sandbox.calltracker_config(page_size=10, **settings)
    catalog = catalog_selecting(TapCallTracker, config, CT_STREAMS)
    return sync(TapCallTracker, config, catalog=catalog, state=state)


def mutate(api: t.Any, stream: str, mutation: tuple[str, int, int]) -> None:
    kind, page, which = mutation
    if kind == "none":
        return
    resource = stream

    def action() -> None:
        rows = api.records[resource]
        if kind == "delete" and rows:
            rows.pop(which % len(rows))
        elif kind == "insert":
            api.add(resource)
        api._index.clear()

    api.variations.after_page(resource, page, action)


def ids(api: t.Any, stream: str) -> set:
    return {r["id"] for r in api.records[stream]}


@SETTINGS
@given(
    switches=variations,
    size=st.integers(15, 90),
    bulk=st.integers(0, 40),
    mutation=mutations,
    stream=st.sampled_from(CRM_STREAMS),
)
def test_crm_union_of_a_run_and_the_next_holds_every_surviving_record(
    switches, size, bulk, mutation, stream
):
    api = CRMAPI(size=size)
    for name in CRM_STREAMS:
        bulk_edit(api.records[name], min(bulk, size), "2025-03-04T05:06:07Z")
    api.variations = switches
    mutate(api, stream, mutation)
    sandbox = Sandbox(crm_api=api).start()
    try:
        before = {name: ids(api, name) for name in CRM_STREAMS}
        first = plain_crm(sandbox, None)
        second = plain_crm(sandbox, first.final_state)
    finally:
        sandbox.stop()
    for name in CRM_STREAMS:
        survivors = before[name] & ids(api, name)
        assert survivors <= set(first.ids(name)) | set(second.ids(name)), name
        if mutation[0] == "none":
            assert first.duplicates(name) == [], name
            assert set(first.ids(name)) == survivors, name


@SETTINGS
@given(
    switches=variations,
    size=st.integers(15, 90),
    crowded=st.integers(0, 30),
    mutation=mutations,
    stream=st.sampled_from(CT_STREAMS),
)
def test_calltracker_union_of_a_run_and_the_next_holds_every_surviving_record(
    switches, size, crowded, mutation, stream
):
    api = CallTrackerAPI(size=size, sizes={"users": size, "numbers": size})
    for record in api.records["numbers"][: min(crowded, size)]:
        record["created_at"] = "2025-05-06T07:08:09.500Z"  # one second, milliseconds tied
    api.variations = switches
    mutate(api, stream, mutation)
    sandbox = Sandbox(calltracker_api=api).start()
    try:
        before = {name: ids(api, name) for name in CT_STREAMS}
        first = plain_ct(sandbox, None)
        second = plain_ct(sandbox, first.final_state)
    finally:
        sandbox.stop()
    for name in CT_STREAMS:
        survivors = before[name] & ids(api, name)
        assert survivors <= set(first.ids(name)) | set(second.ids(name)), name
        if mutation[0] == "none":
            assert first.duplicates(name) == [], name
            assert set(first.ids(name)) == survivors, name


@SETTINGS
@given(
    switches=variations,
    size=st.integers(60, 120),
    kill_after=st.integers(1, 5),
    api_name=st.sampled_from(["crm", "calltracker"]),
)
def test_a_run_killed_at_any_page_and_resumed_from_its_last_state_loses_nothing(
    switches, size, kill_after, api_name
):
    switches.status_in_200 = 0  # the kill is the only failure
    if api_name == "crm":
        api: t.Any = CRMAPI(size=size)
        streams, path, run, config = ["deals"], "/deals", TapCRM, "crm_config"
    else:
        api = CallTrackerAPI(size=size, sizes={"users": size})
        streams, path, run, config = (
            ["calls", "users"],
            "/calls",
            TapCallTracker,
            "calltracker_config",
        )
    api.variations = switches
    sandbox = Sandbox(**{"crm_api" if api_name == "crm" else "calltracker_api": api})
    sandbox.start()
    api.variations.after_page(
        path.strip("/"), kill_after, lambda: sandbox.faults.fail(500, times=1, path=path)
    )
    try:
        settings_ = getattr(sandbox, config)(page_size=10, max_retries=0)
        catalog = catalog_selecting(run, settings_, streams)
        killed = sync(run, settings_, catalog=catalog, expect_error=True)
        state = killed.final_state if killed.states else None
        resumed = sync(run, settings_, catalog=catalog, state=state)
    finally:
        sandbox.stop()
    for name in streams:
        assert ids(api, name) <= set(killed.ids(name)) | set(resumed.ids(name)), name
