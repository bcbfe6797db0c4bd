"""The second run re-reads only what the first could not show complete (tap_common.state.overlap)."""

from __future__ import annotations

import pytest

from sandbox_api import CRMAPI, CallTrackerAPI
from tap_calltracker.tap import TapCallTracker
from tap_common.state.overlap import OVERLAP_KEY
from tap_crm.tap import TapCRM
from tests.singer_io import catalog_selecting, sync

START = "2000-01-01T00:00:00Z"  # before every sandbox record: run 1 reads them all


def run(tap_class, config, stream, state=None):
    catalog = catalog_selecting(tap_class, config, [stream])
    return sync(tap_class, config, catalog=catalog, state=state)


CASES = {
    "crm-companies": (TapCRM, "crm", "companies", "crm_config"),
    "calltracker-contacts": (TapCallTracker, "calltracker", "contacts", "calltracker_config"),
}


def api_of(sandbox, name):
    return getattr(sandbox, name)


@pytest.fixture(params=sorted(CASES))
def case(request, make_sandbox):
    tap_class, api, stream, config = CASES[request.param]
    sandbox = make_sandbox(crm_api=CRMAPI(size=60), calltracker_api=CallTrackerAPI(size=60))
    return tap_class, sandbox, api, stream, getattr(sandbox, config)(page_size=10, start_date=START)


def modify(api, stream, indexes):
    for i in indexes:
        if stream == "companies":
            api.modify(stream, i, name=f"Renamed {i}")
        else:
            api.modify(stream, i, information=f"edited {i}")


def test_a_read_shown_complete_leaves_no_overlap_and_the_next_run_reads_only_changes(case):
    tap_class, sandbox, api_name, stream, config = case
    api = api_of(sandbox, api_name)

    first = run(tap_class, config, stream)
    assert len(first.records[stream]) == 60
    assert OVERLAP_KEY not in first.final_state["bookmarks"][stream]
    modify(api, stream, [3, 17, 41])
    sandbox.clear_log()

    second = run(tap_class, config, stream, state=first.final_state)

    changed = {api.records[stream][i]["id"] for i in (3, 17, 41)}
    emitted = set(second.ids(stream))
    assert changed <= emitted
    # The three changes, and at most the records of the bookmark's second again.
    assert len(emitted - changed) <= 1, len(emitted)
    # One page reaches past the bookmark, and one probe shows the read complete.
    assert len(sandbox.requests_to(api_name, f"/{stream}")) <= 3


def test_a_read_during_which_a_record_was_deleted_keeps_the_overlap(case):
    tap_class, sandbox, api_name, stream, config = case
    api = api_of(sandbox, api_name)
    doomed = api.records[stream][30]["id"]
    # After the read's second page (envelope errors, under --all-switches, come first).
    api.variations.after_page(
        stream, 2 + api.variations.status_in_200, lambda: api.delete(stream, [doomed])
    )

    first = run(tap_class, config, stream)

    assert first.final_state["bookmarks"][stream][OVERLAP_KEY] is not None
    second = run(tap_class, config, stream, state=first.final_state)
    survivors = {r["id"] for r in api.records[stream]}
    assert survivors <= set(first.ids(stream)) | set(second.ids(stream))
    assert len(second.records[stream]) >= len(survivors) - 1  # read again from the start


def test_a_read_during_which_a_record_was_added_keeps_the_overlap(case):
    tap_class, sandbox, api_name, stream, config = case
    api = api_of(sandbox, api_name)
    api.variations.after_page(stream, 2 + api.variations.status_in_200, lambda: api.add(stream))

    first = run(tap_class, config, stream)

    assert first.final_state["bookmarks"][stream][OVERLAP_KEY] is not None
