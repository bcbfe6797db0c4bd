"""An overlap for lists the API cannot filter by the replication key.

Paging by page number over a list that changes while it is read skips a record each
time an earlier one is deleted (every later record shifts one place forward). Where
the API filters by time a stream re-anchors its queries on time instead; where it does
not (e.g. a list sorted by its update time but filtered only by creation time), the
skipped record's timestamp lies between the run's starting bookmark and its final one,
so the next run reads from the previous *complete* run's start rather than from its
end: the union of a run and the next holds every record that existed throughout.

The previous start is kept in the stream's state under ``OVERLAP_KEY`` (null: the
previous run read everything), written only when the stream completes, so a run that
is killed and resumed still reads from the last complete run's start.

A run that can show it skipped nothing leaves no overlap for the next (``ReadProof``):
only a deletion during the read shifts an unread record onto a page already read. An
insertion or an update puts a record at the top of a newest-first list and shifts the
others back (read twice, never skipped). So if, at the read's end, the list's first
page (one record) shows the same total and the same newest record as the read's first
page did, nothing was inserted or updated during the read, hence nothing was deleted
either (the total would have fallen), and no record was skipped.
"""

from __future__ import annotations

import typing as t
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

from tap_common.messages.timestamps import parse_datetime, to_instant

if t.TYPE_CHECKING:
    import requests

    from tap_common.state.paged_stream import PagedStream

OVERLAP_KEY = "overlap_from"


def overlap_start(state: t.Mapping[str, t.Any], start: datetime | None) -> datetime | None:
    """Lower bound of this run's read: ``start``, or the previous complete run's start
    if that is earlier (None: read everything)."""
    if OVERLAP_KEY not in state or start is None:
        return start
    previous = state[OVERLAP_KEY]
    if previous is None:
        return None
    return min(parse_datetime(str(previous)), start)


def remember_start(state: dict[str, t.Any], start: datetime | None) -> None:
    """Record this (complete) run's start for the next run's overlap."""
    state[OVERLAP_KEY] = None if start is None else start.isoformat()


def settle_overlap(state: dict[str, t.Any], start: datetime | None, *, proven: bool) -> None:
    """After a complete run: no overlap for the next if this read was shown to have
    skipped nothing (``ReadProof``), else this run's start (``remember_start``)."""
    if proven:
        state.pop(OVERLAP_KEY, None)
    else:
        remember_start(state, start)


class OverlappingRead:
    """A newest-first read that the next run overlaps unless it shows it skipped nothing:
    the collaborator a stream reading such a list holds.

    ``begin`` starts a read and gives its lower bound (``overlap_start``), ``note_page``
    sees every accepted page (``ReadProof``), and ``settle`` keeps in the stream's state
    whether the next run needs an overlap (``settle_after_read``).
    """

    def __init__(
        self, stream: PagedStream, view: t.Callable[[requests.Response], PageView]
    ) -> None:
        self.stream = stream
        self.view = view
        self.proof: ReadProof | None = None
        self.start: datetime | None = None

    def begin(self, context: t.Any) -> datetime | None:
        self.start = self.stream.get_starting_timestamp(context)
        self.proof = ReadProof(self.view)
        return overlap_start(self.stream.get_context_state(context), self.start)

    def note_page(self, response: requests.Response) -> None:
        if self.proof is not None:
            self.proof.saw(response)

    def settle(self, context: t.Any) -> None:
        if self.proof is not None:
            settle_after_read(self.stream, self.proof, self.start, context)


def settle_after_read(
    stream: PagedStream, proof: ReadProof, start: datetime | None, context: t.Any
) -> None:
    """After a complete newest-first read: ask the read's first query once more for one
    record (``ReadProof.proven``), say in one INFO line whether the next run needs an
    overlap and why, and keep that in the stream's state (``settle_overlap``)."""
    params = {**stream.get_url_params(context, None), "page": 1, "per_page": 1}
    proven, why = proof.proven(lambda: stream.request_once(params, context))
    stream.logger.info(
        "Stream '%s': %s (%s).",
        stream.name,
        "read shown complete, the next run reads from its bookmark"
        if proven
        else "the next run reads again from this run's start",
        why,
    )
    settle_overlap(stream.get_context_state(context), start, proven=proven)


class PageView(t.NamedTuple):
    """What one page of a newest-first list shows: the list's total, its first record's
    (key, sort value), and the whole seconds of the sort values at the page's two ends."""

    total: int | None
    newest: tuple | None
    first_second: int | None
    last_second: int | None


PAGING_PARAMS = frozenset({"page", "per_page"})


class ReadProof:
    """Whether a newest-first read, paged by page number, can be shown to have skipped
    nothing (see the module's docstring).

    ``view(response)`` says what a page shows; ``saw`` is given every page of the read,
    ``proven(probe)`` asks once more for the first page (``probe``: one record) and compares.

    Records sharing a second may come back in any order on every request (no API here
    documents a tie-breaker), so a tie that straddles a page boundary can be skipped on one
    side and repeated on the other. A tie occupies the same positions in every answer
    (only its members' order changes), so where the sort values on either side of every
    boundary differ, no tie straddled one. A read that changed its query (a new time
    window) is not shown complete either.
    """

    def __init__(self, view: t.Callable[[requests.Response], PageView]) -> None:
        self.view = view
        self.first: PageView | None = None
        self.query: frozenset | None = None
        self.previous: PageView | None = None
        self.pages = 0
        self.doubt: str | None = None
        self.open = True

    def saw(self, response: requests.Response) -> None:
        if not self.open:
            return
        self.pages += 1
        page = self.view(response)
        query = _query_without_paging(response)
        if self.first is None:
            self.first, self.query = page, query
        elif query != self.query:
            self.doubt = self.doubt or "the read was split into several queries"
        elif (
            self.previous is not None
            and page.first_second is not None
            and page.first_second == self.previous.last_second
        ):
            self.doubt = self.doubt or "records sharing a second straddled a page boundary"
        self.previous = page

    def proven(self, probe: t.Callable[[], requests.Response]) -> tuple[bool, str]:
        """(shown complete, why), asking ``probe`` only when it can tell."""
        self.open = False
        if self.first is None:
            return False, "no page of the read was seen"
        if self.pages == 1:
            return True, "one page: one snapshot of the list"
        if self.doubt:
            return False, self.doubt
        if self.first.total is None:
            return False, "the API gave no total"
        now = self.view(probe())
        if (now.total, now.newest) != (self.first.total, self.first.newest):
            return False, (
                f"the list changed during the read ({self.first.total} records, newest "
                f"{self.first.newest}, at its start; {now.total} and {now.newest} at its end)"
            )
        return True, f"{now.total} records and the same newest record at its start and end"


def page_view(total: int | None, records: t.Sequence[t.Any], key: str) -> PageView:
    """The ``PageView`` of a page's records sorted newest first by ``key``."""
    rows = [r for r in records if isinstance(r, dict)]
    if not rows:
        return PageView(total, None, None, None)
    return PageView(
        total,
        (rows[0].get("id"), rows[0].get(key)),
        _second(rows[0].get(key)),
        _second(rows[-1].get(key)),
    )


def _second(value: t.Any) -> int | None:
    instant = to_instant(value)
    return None if instant is None else int(instant.timestamp())


def _query_without_paging(response: requests.Response) -> frozenset:
    url = response.request.url if response.request is not None else response.url
    return frozenset(
        (k, v) for k, v in parse_qsl(urlsplit(str(url)).query) if k not in PAGING_PARAMS
    )
