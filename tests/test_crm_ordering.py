"""tap-crm when order is only a hint and the envelope has its own word (sandbox variations)."""

from __future__ import annotations

from datetime import datetime

import pytest
from singer_sdk.exceptions import RetriableAPIError

from sandbox_api import CRMAPI
from sandbox_api.variations import bulk_edit
from tap_common.http.errors import PaginationError
from tap_crm import pagination
from tap_crm.tap import TapCRM
from tests.singer_io import catalog_selecting, sync

MODIFIED_SINCE = [
    "contacts",
    "actions",
    "deals",
    "notes",
    "calls",
    "meetings",
    "relationship_types",
]
BULK_STAMP = "2025-03-04T05:06:07Z"


def run(sandbox, streams, *, state=None, expect_error=False, **settings):
    config = sandbox.crm_config(**settings)
    catalog = catalog_selecting(TapCRM, config, streams)
    return sync(TapCRM, config, catalog=catalog, state=state, expect_error=expect_error)


def ids(sandbox, stream):
    return sorted(r["id"] for r in sandbox.crm.records[stream])


@pytest.mark.parametrize("strict", [False, True], ids=["inclusive", "strict"])
def test_shuffled_ties_and_a_250_record_bulk_edit_lose_nothing(make_sandbox, strict):
    api = CRMAPI(size=320)
    for stream in [*MODIFIED_SINCE, "companies"]:
        bulk_edit(api.records[stream], 250, BULK_STAMP)
    api.variations.shuffle_ties = True
    api.variations.strict_since = strict
    sandbox = make_sandbox(crm_api=api)

    out = run(sandbox, [*MODIFIED_SINCE, "companies"])

    for stream in [*MODIFIED_SINCE, "companies"]:
        assert sorted(out.ids(stream)) == ids(sandbox, stream), stream
        assert out.duplicates(stream) == [], stream


def test_a_run_starting_inside_a_bulk_second_reads_all_of_it(make_sandbox):
    api = CRMAPI(size=300)
    bulk_edit(api.records["deals"], 250, BULK_STAMP)
    api.variations.shuffle_ties = True
    sandbox = make_sandbox(crm_api=api)
    state = {
        "bookmarks": {
            "deals": {"replication_key": "modified_at", "replication_key_value": BULK_STAMP}
        }
    }

    out = run(sandbox, ["deals"], state=state)

    newer = sorted(r["id"] for r in api.records["deals"] if r["modified_at"] >= BULK_STAMP)
    assert sorted(out.ids("deals")) == newer
    assert out.duplicates("deals") == []


def test_a_second_that_never_completes_ends_the_run_with_one_line(make_sandbox, monkeypatch):
    api = CRMAPI(size=260)
    bulk_edit(api.records["notes"], 250, BULK_STAMP)
    sandbox = make_sandbox(crm_api=api)
    # Counted from its start, the bulk second holds 1000 more notes than the API lists: it can
    # never be complete.
    second = int(datetime.fromisoformat(BULK_STAMP.replace("Z", "+00:00")).timestamp())
    sandbox.faults.edit(
        increase={"data.total_count": 1000},
        api="crm",
        path="/notes",
        query={"per_page": "1", "modified_since": str(second)},
    )
    monkeypatch.setattr(pagination, "MAX_PASSES", 3)
    out = run(sandbox, ["notes"], expect_error=True)

    assert isinstance(out.error, PaginationError)
    assert "3 passes" in str(out.error)
    assert "notes" in str(out.error)


@pytest.mark.parametrize("strict", [False, True], ids=["inclusive", "strict"])
def test_resuming_from_a_bookmark_reads_its_whole_second(make_sandbox, strict):
    api = CRMAPI(size=40)
    api.variations.strict_since = strict
    for record in api.records["actions"][:5]:
        record["modified_at"] = BULK_STAMP
    sandbox = make_sandbox(crm_api=api)
    state = {
        "bookmarks": {
            "actions": {"replication_key": "modified_at", "replication_key_value": BULK_STAMP}
        }
    }

    out = run(sandbox, ["actions"], state=state)

    at_or_after = {r["id"] for r in api.records["actions"] if r["modified_at"] >= BULK_STAMP}
    assert set(out.ids("actions")) == at_or_after


def test_status_500_inside_a_200_is_retried(make_sandbox):
    sandbox = make_sandbox(crm_api=CRMAPI(size=30))
    sandbox.crm.variations.status_in_200 = 2

    out = run(sandbox, ["deals", "filters"], page_size=10)

    assert sorted(out.ids("deals")) == ids(sandbox, "deals")
    assert sorted(out.ids("filters")) == ids(sandbox, "filters")
    assert [r.status for r in sandbox.requests_to("crm")][:3] == [200, 200, 200]


def test_status_500_inside_every_200_fails_with_one_line(make_sandbox):
    sandbox = make_sandbox(crm_api=CRMAPI(size=30))
    sandbox.crm.variations.status_in_200 = 1_000

    out = run(sandbox, ["filters"], expect_error=True, max_retries=1)

    assert isinstance(out.error, RetriableAPIError)
    message = str(out.error)
    assert "status 500 in its envelope" in message
    assert "/filters" in message
    assert "\n" not in message
    assert "filters" not in out.records


@pytest.mark.parametrize("past_end", ["empty", "last", "400"])
@pytest.mark.parametrize("stream", ["filters", "companies", "contacts"])
def test_a_stale_max_page_loses_nothing(make_sandbox, past_end, stream):
    # 30 records, 10 a page: max_page says 2, the list has 3 full pages.
    sandbox = make_sandbox(crm_api=CRMAPI(size=30))
    sandbox.crm.variations.stale_max_page = True
    sandbox.crm.variations.past_end = past_end

    out = run(sandbox, [stream], page_size=10)

    assert sorted(out.ids(stream)) == ids(sandbox, stream)
    assert out.duplicates(stream) == []


def test_companies_deleted_from_page_one_mid_sync_the_next_run_holds_every_survivor(make_sandbox):
    api = CRMAPI(size=250)
    sandbox = make_sandbox(crm_api=api)
    before = set(ids(sandbox, "companies"))
    newest = max(api.records["companies"], key=lambda r: r["modified_at"])
    # After page 1 (newest first) is served, its first company is deleted.
    api.variations.after_page(
        "companies", 1, lambda: (api.records["companies"].remove(newest), api._index.clear())
    )

    first = run(sandbox, ["companies"])
    second = run(sandbox, ["companies"], state=first.final_state)

    survivors = before - {newest["id"]}
    assert survivors <= set(first.ids("companies")) | set(second.ids("companies"))
    assert first.duplicates("companies") == []
    # The shift makes the first read one short of the total its first page announced, so
    # it reads the list once more (tap_common/state/short_reads.py) and holds every survivor.
    assert survivors <= set(first.ids("companies"))


@pytest.mark.parametrize("stream", ["deals", "contacts"])
def test_deleted_from_page_one_of_a_modified_since_stream_loses_nothing(make_sandbox, stream):
    api = CRMAPI(size=250)
    sandbox = make_sandbox(crm_api=api)
    oldest = min(api.records[stream], key=lambda r: r["modified_at"])
    api.variations.after_page(
        stream, 1, lambda: (api.records[stream].remove(oldest), api._index.clear())
    )

    out = run(sandbox, [stream])

    assert set(ids(sandbox, stream)) <= set(out.ids(stream))


def test_a_refused_deep_page_fails_with_one_line_naming_the_stream(make_sandbox):
    sandbox = make_sandbox(crm_api=CRMAPI(size=50))
    sandbox.crm.variations.after_page(
        "companies", 2, lambda: sandbox.faults.fail(400, times=None, path="/companies")
    )

    out = run(sandbox, ["companies"], page_size=10, expect_error=True)

    message = str(out.error)
    assert message.startswith("Stream 'companies': the API refused page 3 (400 ")
    assert "\n" not in message


def test_a_bulk_second_without_a_total_count_stops_in_one_line(make_sandbox):
    """The count of a bulk second comes from total_count: without it, no guess of 0."""
    sandbox = make_sandbox(crm_api=CRMAPI(size=30))
    bulk_edit(sandbox.crm.records["deals"], 30, BULK_STAMP)
    # The count requests (one record per page) answer without data.total_count.
    sandbox.faults.edit(drop=["data.total_count"], api="crm", query={"per_page": "1"})
    out = run(sandbox, ["deals"], expect_error=True, page_size=10)
    assert "gave no total_count" in str(out.error)
