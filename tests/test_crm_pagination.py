"""The CRM paginators on their own: pages in, records and the next request out.

Each paginator is driven here without any stream, as ``RESTStream.request_records``
drives it (accept a page, then ``advance``): it needs nothing but the pages it is handed
and, for a bulk second, the count it asks for in ``count_needed``. The paging behaviour
against the sandbox is pinned by test_crm_ordering.py and test_ordering_properties.py.
"""

from __future__ import annotations

import logging
import math
import random
import typing as t
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tap_common.http.errors import PaginationError
from tap_crm import pagination
from tap_crm.pages import Page
from tap_crm.pagination import (
    ModifiedSincePasses,
    NewestFirstPasses,
    PageNumbers,
    PlainPages,
    SeekToken,
)

EPOCH = 1_700_000_000


def contact(number: int, second: int) -> dict:
    modified = datetime.fromtimestamp(EPOCH + second, tz=timezone.utc).isoformat()
    return {"id": f"c{number:04d}", "modified_at": modified}


def page_of(records: list[dict], number: int, per_page: int, total: int) -> Page:
    return Page(
        where="/contacts",
        items=[{"contact": record} for record in records],
        records=records,
        number=number,
        max_page=max(1, math.ceil(total / per_page)),
        total_count=total,
        per_page=per_page,
    )


class ShuffledAPI:
    """``GET /contacts?sort_by=modified_at&order=asc&modified_since=S``, ties in a new
    order on every request (as an unstable sort would answer)."""

    def __init__(self, records: list[dict], seed: int, *, early: bool = False) -> None:
        self.records = records
        self.random = random.Random(seed)
        # Whether a query also returns the second before ``since``: an inclusive
        # ``modified_since`` asked one second early (the tap does so until it knows).
        self.early = early

    def second(self, record: dict) -> int:
        return int(datetime.fromisoformat(record["modified_at"]).timestamp())

    def query(self, since: int | None) -> list[dict]:
        first = None if since is None else since - 1 if self.early else since
        found = [r for r in self.records if first is None or self.second(r) >= first]
        self.random.shuffle(found)
        return sorted(found, key=self.second)

    def page(self, token: SeekToken, per_page: int) -> Page:
        found = self.query(token.since)
        start = (token.page - 1) * per_page
        return page_of(found[start : start + per_page], token.page, per_page, len(found))

    def count_in(self, second: int) -> int:
        return sum(1 for record in self.records if self.second(record) == second)


def drive(paginator: t.Any, next_page: t.Callable[[t.Any], Page], count: t.Any = None) -> list:
    """``RESTStream.request_records`` in miniature: request, parse, advance."""
    emitted: list = []
    while not paginator.finished:
        records = paginator.accept(next_page(paginator.current_value))
        emitted += records
        if getattr(paginator, "count_needed", None) is not None:
            paginator.counted(count(paginator.count_needed))
        if not records and not paginator.continue_if_empty(None):
            break
        paginator.advance(None)
    return emitted


@settings(deadline=None, derandomize=True, max_examples=40)
@given(
    seconds=st.lists(st.integers(0, 6), min_size=0, max_size=40),
    per_page=st.integers(2, 5),
    seed=st.integers(0, 1000),
    early=st.booleans(),
)
def test_modified_since_passes_emit_every_record_once_whatever_the_tie_order(
    seconds: list[int], per_page: int, seed: int, early: bool
) -> None:
    api = ShuffledAPI([contact(i, s) for i, s in enumerate(seconds)], seed, early=early)
    paginator = ModifiedSincePasses("contacts", since=None, page_size=per_page)

    emitted = drive(paginator, lambda token: api.page(token, per_page), api.count_in)

    ids = [record["id"] for record in emitted]
    assert sorted(ids) == sorted(r["id"] for r in api.records)
    # Oldest first, so a bookmark taken after any record covers everything before it.
    assert [api.second(r) for r in emitted] == sorted(api.second(r) for r in emitted)


def test_a_bulk_second_asks_for_its_count_and_continues_after_it() -> None:
    # Five records in second 3, pages of two: the second is read in a pass, then counted.
    records = [contact(i, 3) for i in range(5)] + [contact(9, 4)]
    api = ShuffledAPI(records, seed=1)
    paginator = ModifiedSincePasses("contacts", since=EPOCH + 3, page_size=2)
    asked: list[int] = []

    def count(second: int) -> int:
        asked.append(second)
        return api.count_in(second)

    emitted = drive(paginator, lambda token: api.page(token, 2), count)

    assert sorted(r["id"] for r in emitted) == sorted(r["id"] for r in records)
    assert asked
    assert set(asked) == {EPOCH + 3}


def test_a_bulk_second_that_never_completes_stops_after_max_passes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pagination, "MAX_PASSES", 2)
    records = [contact(i, 3) for i in range(4)]
    api = ShuffledAPI(records, seed=1)
    paginator = ModifiedSincePasses("contacts", since=EPOCH + 3, page_size=2)

    # The API counts one record more in the second than it ever lists.
    with pytest.raises(PaginationError, match=f"the second {EPOCH + 3} holds 5 records"):
        drive(paginator, lambda token: api.page(token, 2), lambda s: api.count_in(s) + 1)


def test_newest_first_passes_read_the_list_again_until_its_count_is_read() -> None:
    # Pass 1 skips c0002 (a page boundary moved); pass 2 reads it.
    answers = {
        (1, 1): [contact(1, 5), contact(0, 5)],
        (2, 1): [contact(0, 5)],
        (1, 2): [contact(2, 5), contact(1, 5)],
        (2, 2): [contact(0, 5)],
    }

    def next_page(token: t.Any) -> Page:
        return page_of(answers[token.page, token.pass_number], token.page, 2, 3)

    paginator = NewestFirstPasses("companies", emit_key="modified_at", emit_from=None)
    emitted = drive(paginator, next_page)

    assert [r["id"] for r in emitted] == ["c0001", "c0000", "c0002"]


def test_page_numbers_follow_max_page_and_refuse_a_page_other_than_asked() -> None:
    paginator = PageNumbers("pipelines")
    assert paginator.accept(page_of([{"id": "a"}, {"id": "b"}], 1, 2, 3)) == [
        {"id": "a"},
        {"id": "b"},
    ]
    paginator.advance(None)
    assert paginator.current_value == 2
    with pytest.raises(PaginationError, match="asked /contacts for page 2"):
        paginator.accept(page_of([{"id": "a"}], 1, 2, 3))


def test_plain_pages_without_metadata_end_at_a_repeated_page(
    caplog: pytest.LogCaptureFixture,
) -> None:
    paginator = PlainPages("predefined_items", page_size=2, logger=logging.getLogger("t"))
    items = [{"id": "a"}, {"id": "b"}]
    bare = Page("/predefined_items", items, items, None, None, None, 2)

    assert paginator.accept(bare) == items  # a full page: there may be more
    paginator.advance(None)
    assert paginator.accept(bare) == []  # the same page again: the API ignores 'page'
    assert paginator.repeated
    assert "repeats page 1" in caplog.text
