"""tap-crm: a record the API returns for ``modified_since=S`` although its ``modified_at``
reads earlier than S (a date-only value, a clock off by seconds) is emitted once per run.

The API's filter (on its own clock) says the record changed at or after S; only the value
it shows says otherwise. Dropping it as "already read" lost the edit in silence, run after
run. The sandbox's ``early_modified_at`` switch serves one record in five so.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox_api import CRMAPI, fake
from tap_crm.tap import TapCRM
from tests.singer_io import catalog_selecting, sync

STREAMS = ["contacts", "deals", "notes"]


def run(sandbox, state=None, **config):
    config = sandbox.crm_config(**config)
    catalog = catalog_selecting(TapCRM, config, STREAMS)
    return sync(TapCRM, config, catalog=catalog, state=state)


@pytest.mark.parametrize("how", ["date_only", "seconds"])
@pytest.mark.parametrize("strict", [False, True], ids=["since-inclusive", "since-strict"])
def test_an_edit_dated_before_the_bound_that_returned_it_is_emitted_once(make_sandbox, how, strict):
    api = CRMAPI(size=60)
    api.variations.strict_since = strict
    now = datetime.now(timezone.utc).replace(microsecond=0)
    for stream in STREAMS:  # the bookmark: a record changed 100 s ago
        api.modify(stream, 59, modified_at=fake.iso_z(now - timedelta(seconds=100)))
    sandbox = make_sandbox(crm_api=api)
    first = run(sandbox, page_size=10)
    for stream in STREAMS:
        assert len(first.records[stream]) == 60

    # Edits 2 s after the bookmark, some served dated before it (a date, or 7 s earlier).
    api.variations.early_modified_at = how
    edited_at = fake.iso_z(now - timedelta(seconds=98))
    edited = {
        stream: {
            api.modify(stream, i, text="edited", modified_at=edited_at)["id"]
            for i in range(0, 60, 3)
        }
        for stream in STREAMS
    }
    second = run(sandbox, state=first.final_state, page_size=10)
    for stream in STREAMS:
        counts = Counter(second.ids(stream))
        assert edited[stream] <= set(counts), stream  # every edit, early-dated ones too
        assert set(counts.values()) == {1}, stream  # once per run
        shown = {r["id"]: r["modified_at"] for r in second.records[stream]}
        # Some edits really were served dated before the bookmark.
        mark = first.final_state["bookmarks"][stream]["replication_key_value"]
        assert mark == (now - timedelta(seconds=100)).isoformat(timespec="microseconds")
        assert any(shown[i] < mark for i in edited[stream]), stream
        # An early-dated record does not move the bookmark back.
        assert second.final_state["bookmarks"][stream]["replication_key_value"] >= mark


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    size=st.integers(1, 50),
    page_size=st.sampled_from([3, 7, 25]),
    how=st.sampled_from(["date_only", "seconds"]),
    strict=st.booleans(),
    first_early=st.booleans(),
)
def test_property_every_record_once_per_run_and_every_edit_next_run(
    make_sandbox, size, page_size, *, how, strict, first_early
):
    api = CRMAPI(size=size)
    api.variations.strict_since = strict
    if first_early:
        api.variations.early_modified_at = how
    sandbox = make_sandbox(crm_api=api)
    first = run(sandbox, page_size=page_size)
    for stream in STREAMS:
        assert sorted(first.ids(stream)) == sorted(r["id"] for r in api.records[stream])

    api.variations.early_modified_at = how
    edited = {
        stream: {api.modify(stream, i, text="edited")["id"] for i in range(0, size, 2)}
        for stream in STREAMS
    }
    second = run(sandbox, state=first.final_state, page_size=page_size)
    for stream in STREAMS:
        assert edited[stream] <= set(second.ids(stream)), stream
        assert second.duplicates(stream) == [], stream
