"""The calltracker paginators on their own: pages in, records and the next request out.

Each paginator is built from data alone (no stream) and fed ``Page`` objects by a small
in-memory list that answers like the API (https://developer.aircall.io/api-references/
#pagination: ``from``/``to`` on creation seconds, page numbers, ``meta.total``, a null
``next_page_link`` on the last page, same-second ties in a new order on every request).
The loop below is the SDK's (``RESTStream.request_records``): ``accept`` then ``advance``.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timezone
from itertools import groupby

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from tap_calltracker import pages
from tap_calltracker.pages import Page
from tap_calltracker.pagination import (
    ITEM_CAP,
    CreationAnchoredPaginator,
    NewestFirstPaginator,
    Window,
    WindowedPaginator,
)
from tap_calltracker.streams import STREAM_TYPES
from tap_common.http.errors import UnexpectedResponseError

EPOCH = 1_700_000_000


class FakeList:
    """A list endpoint in memory: filters by creation second, sorts by ``order_key``."""

    def __init__(
        self,
        items: list[dict],
        *,
        seed: int,
        order_key: str = "created_at",
        descending: bool = False,
        capped: bool = False,
        shuffled_pages: bool = False,
        exclusive_from: bool = True,
        exclusive_to: bool = False,
        links: bool = True,
    ) -> None:
        self.items = items
        self.order_key = order_key
        self.descending = descending
        self.capped = capped  # at the cap: total says 10,000 and the link is null
        # The right records on each page, in any order (the sort order only a hint).
        self.shuffled_pages = shuffled_pages
        self.random = random.Random(seed)
        self.requests = 0
        # ``from``: exclusive (a live account's /calls) or inclusive; ``to`` inclusive.
        self.exclusive_from = exclusive_from
        self.exclusive_to = exclusive_to  # the other convention, as no live account showed
        self.links = links  # False: no next_page_link key (a live account's /webhooks)

    def answer(self, window: Window, per_page: int) -> Page:
        self.requests += 1
        skip = (window.page - 1) * per_page
        assert skip < ITEM_CAP, "asked for a page past the API's 10,000-item cap (a 400)"
        query = window.query()
        low = query.get("from")
        if low is not None and self.exclusive_from:
            low += 1
        high = query.get("to")
        if high is not None and self.exclusive_to:
            high -= 1
        rows = [
            item
            for item in self.items
            if (low is None or item["created_at"] >= low)
            and (high is None or item["created_at"] <= high)
        ]
        rows.sort(key=lambda item: item[self.order_key], reverse=self.descending)
        shuffled: list[dict] = []
        for _, tie in groupby(rows, key=lambda item: item[self.order_key]):
            group = list(tie)
            self.random.shuffle(group)
            shuffled.extend(group)
        total = len(shuffled)
        has_next = skip + per_page < total
        if self.capped and total >= ITEM_CAP:
            total = ITEM_CAP
            has_next = has_next and skip + per_page < ITEM_CAP
        items = shuffled[skip : skip + per_page]
        if self.shuffled_pages:
            self.random.shuffle(items)
        return Page(
            path="/list",
            number=window.page,
            total=total,
            has_next=has_next and self.links,
            announced_pages=math.ceil(total / per_page),
            items=items,
            per_page=per_page,
        )


def read_all(paginator: WindowedPaginator, api: FakeList, per_page: int) -> list[dict]:
    """The SDK's paging loop: request, emit what ``accept`` selected, advance."""
    emitted: list[dict] = []
    response = requests.Response()  # the paginator decides from the page, not from this
    while not paginator.finished:
        decision = paginator.accept(api.answer(paginator.current_value, per_page))
        emitted.extend(decision.records)
        if not decision.records and not paginator.continue_if_empty(response):
            break
        paginator.advance(response)
    return emitted


def ids(records: list[dict]) -> list[int]:
    return [record["id"] for record in records]


@settings(deadline=None, derandomize=True, max_examples=50)
@given(
    seconds=st.one_of(
        st.lists(st.integers(0, 12), max_size=90),
        # Few distinct seconds for many records: crowded seconds, read in passes.
        st.lists(st.integers(0, 3), min_size=20, max_size=90),
    ),
    per_page=st.integers(3, 8),
    shuffled_pages=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_anchored_reads_every_record_once_oldest_second_first(
    seconds, per_page, shuffled_pages, seed
):
    items = [{"id": n, "created_at": EPOCH + s} for n, s in enumerate(seconds)]
    api = FakeList(items, seed=seed, shuffled_pages=shuffled_pages)
    paginator = CreationAnchoredPaginator(
        Window(None, None), anchor_key="created_at", stream_name="users", page_size=per_page
    )

    emitted = read_all(paginator, api, per_page)

    assert sorted(ids(emitted)) == list(range(len(items)))
    emitted_seconds = [record["created_at"] for record in emitted]
    assert emitted_seconds == sorted(emitted_seconds)


@settings(deadline=None, derandomize=True, max_examples=40)
@given(
    # Distinct: page numbers follow the API's order, and same-second ties in a new order
    # on every request can move a record between pages of this read (a known limit of
    # the newest-first read: --all-switches fails
    # test_more_than_10000_contacts_changed_since_the_bookmark_all_arrive_once).
    updated=st.lists(st.integers(0, 120), max_size=80, unique=True),
    bound=st.integers(0, 125),
    per_page=st.integers(1, 10),
    seed=st.integers(0, 2**16),
)
def test_newest_first_stops_at_the_first_page_reaching_the_bound(updated, bound, per_page, seed):
    items = [
        {"id": n, "created_at": EPOCH + n, "updated_at": EPOCH + u} for n, u in enumerate(updated)
    ]
    api = FakeList(items, seed=seed, order_key="updated_at", descending=True)
    paginator = NewestFirstPaginator(
        Window(None, None),
        key="updated_at",
        bound=datetime.fromtimestamp(EPOCH + bound, tz=timezone.utc),
        stream_name="contacts",
        page_size=per_page,
    )

    emitted = read_all(paginator, api, per_page)

    changed = [item["id"] for item in items if item["updated_at"] >= EPOCH + bound]
    assert sorted(ids(emitted)) == sorted(changed)
    # Newest first, the records at or after the bound fill the first pages: the page
    # holding the first older record is the last one asked for.
    last_page = max(1, math.ceil(len(items) / per_page))
    assert api.requests == min(len(changed) // per_page + 1, last_page)


@pytest.mark.parametrize("capped", [False, True], ids=["total", "capped-total"])
def test_windows_split_at_the_cap_read_every_record_once(capped):
    # One record a second: page numbers (unlike re-anchoring) rely on a stable order.
    items = [{"id": n, "created_at": EPOCH + n} for n in range(ITEM_CAP + 1_500)]
    api = FakeList(items, seed=1, capped=capped)
    paginator = WindowedPaginator(
        Window(EPOCH, EPOCH + 12_000), stream_name="user_availability", page_size=50, windowed=True
    )

    emitted = read_all(paginator, api, 50)

    assert sorted(ids(emitted)) == list(range(len(items)))


def test_newest_first_splits_lazily_past_the_cap_and_emits_each_record_once():
    items = [
        {"id": n, "created_at": EPOCH + n // 2, "updated_at": EPOCH + n} for n in range(10_400)
    ]
    api = FakeList(items, seed=2, order_key="updated_at", descending=True, capped=True)
    paginator = NewestFirstPaginator(
        Window(EPOCH, EPOCH + 6_000),
        key="updated_at",
        bound=datetime.fromtimestamp(EPOCH, tz=timezone.utc),
        stream_name="contacts",
        page_size=50,
    )

    emitted = read_all(paginator, api, 50)

    assert len(emitted) == len(items)
    assert set(ids(emitted)) == {item["id"] for item in items}


# -- the page and the declarations --------------------------------------------------------


def answer(body: bytes) -> requests.Response:
    response = requests.Response()
    response._content = body
    response.status_code = 200
    response.url = "https://api.example/v1/users?page=1"
    return response


def test_an_answer_is_read_into_one_page_once():
    response = answer(
        b'{"users": [{"id": 1}], "meta": {"total": 51, "count": 1, "current_page": 2,'
        b' "per_page": 50, "next_page_link": null}}'
    )

    page = pages.read(response, "users", 50)

    assert page == Page("/v1/users", 2, 51, False, 2, [{"id": 1}], 50)
    assert pages.read(response, "users", 50) is page


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (b'{"meta": {"total": 1, "current_page": 1}}', "expected 'users' to be a list"),
        (b'{"users": []}', "without its 'meta' page object"),
        (b'{"users": [], "meta": {"total": "1", "current_page": 1}}', "meta.total"),
    ],
)
def test_an_answer_without_its_list_or_metadata_is_one_clear_line(body, complaint):
    with pytest.raises(UnexpectedResponseError, match=complaint):
        pages.read(answer(body), "users", 50)


@pytest.mark.parametrize("stream", STREAM_TYPES, ids=lambda stream: stream.name)
def test_path_and_list_key_follow_from_the_declared_name(stream):
    declared = {"user_availability": ("/users/availabilities", "users")}
    assert (stream.path, stream.list_key) == declared.get(
        stream.name, (f"/{stream.name}", stream.name)
    )


# -- bounds of either convention, pages without links, starts that move --------------------


@settings(deadline=None, derandomize=True, max_examples=80)
@given(
    seconds=st.one_of(
        st.lists(st.integers(0, 12), max_size=90),
        st.lists(st.integers(0, 3), min_size=20, max_size=90),
    ),
    start=st.integers(0, 4),
    per_page=st.integers(3, 8),
    exclusive_from=st.booleans(),
    exclusive_to=st.booleans(),
    end=st.one_of(st.none(), st.integers(2, 14)),
    links=st.booleans(),
    moves=st.lists(st.tuples(st.integers(0, 89), st.integers(1, 3)), max_size=6),
    unread_moves=st.lists(
        st.tuples(st.integers(0, 40), st.integers(0, 89), st.integers(1, 3)), max_size=4
    ),
    seed=st.integers(0, 2**16),
)
def test_anchored_read_from_a_crowded_boundary_under_either_bound_emits_each_record_once(
    *,
    seconds,
    start,
    per_page,
    exclusive_from,
    exclusive_to,
    end,
    links,
    moves,
    unread_moves,
    seed,
):
    """Every record in the window, once, whichever convention each bound has, with or
    without links, while records already read move later mid-read (a finalized call)."""
    items = [{"id": n, "created_at": EPOCH + s} for n, s in enumerate(seconds)]
    api = FakeList(
        items, seed=seed, exclusive_from=exclusive_from, exclusive_to=exclusive_to, links=links
    )
    last = None if end is None else EPOCH + max(start, end)
    paginator = CreationAnchoredPaginator(
        Window(EPOCH + start, last),
        anchor_key="created_at",
        stream_name="calls",
        page_size=per_page,
    )

    def inside(created_at: int) -> bool:
        return created_at >= EPOCH + start and (last is None or created_at <= last)

    inside_before = {item["id"] for item in items if inside(item["created_at"])}
    response = requests.Response()
    emitted: list[dict] = []
    pending = [(n, by) for n, by in moves if n < len(items)]
    # Any record, read or not, finalized after the k-th answer.
    scheduled = sorted((k, n, by) for k, n, by in unread_moves if n < len(items))
    answers = 0
    while not paginator.finished:
        decision = paginator.accept(api.answer(paginator.current_value, per_page))
        answers += 1
        emitted.extend(dict(record) for record in decision.records)
        done = set(ids(emitted))
        # A record is finalized while the run reads: it starts later. One change between
        # two answers: two that leave the count the same, neither showing a moved id, are
        # not told from none (the paginator's docstring).
        if pending and pending[-1][0] in done:
            n, by = pending.pop()  # a record already read
            items[n]["created_at"] += by
        elif scheduled and scheduled[0][0] <= answers:
            _, n, by = scheduled.pop(0)  # any record, read or not
            items[n]["created_at"] += by
        paginator.advance(response)

    # What the window held all along; a record that moved in or out while the run read
    # may come in this run or the next (whose lookback re-reads it), never twice in one.
    held = inside_before & {item["id"] for item in items if inside(item["created_at"])}
    assert len(ids(emitted)) == len(set(ids(emitted)))  # none twice
    assert held <= set(ids(emitted))  # none lost
    assert all(inside(record["created_at"]) for record in emitted)


@settings(deadline=None, derandomize=True, max_examples=30)
@given(
    count=st.integers(0, 140),
    per_page=st.integers(1, 50),
    links=st.booleans(),
)
def test_pages_without_links_are_all_read_from_the_counts(count, per_page, links):
    items = [{"id": n, "created_at": EPOCH + n} for n in range(count)]
    api = FakeList(items, seed=3, links=links)
    paginator = WindowedPaginator(
        Window(None, None), stream_name="webhooks", page_size=per_page, windowed=False
    )

    emitted = read_all(paginator, api, per_page)

    assert ids(emitted) == list(range(count))
    assert api.requests == max(1, math.ceil(count / per_page))


@pytest.mark.parametrize("exclusive_to", [False, True], ids=["to_inclusive", "to_exclusive"])
@pytest.mark.parametrize("exclusive_from", [True, False], ids=["exclusive", "inclusive"])
def test_a_window_asks_one_second_wider_and_drops_the_seconds_outside(exclusive_from, exclusive_to):
    items = [{"id": n, "created_at": EPOCH + n // 60} for n in range(240)]  # 60 a second
    api = FakeList(
        items, seed=4, exclusive_from=exclusive_from, exclusive_to=exclusive_to, links=False
    )
    paginator = CreationAnchoredPaginator(
        Window(EPOCH + 1, EPOCH + 2), anchor_key="created_at", stream_name="calls", page_size=50
    )

    emitted = read_all(paginator, api, 50)

    assert Window(EPOCH + 1, EPOCH + 2).query() == {"from": EPOCH, "to": EPOCH + 3}
    assert sorted(ids(emitted)) == list(range(60, 180))
