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
"""

from __future__ import annotations

import typing as t
from datetime import datetime

from tap_common.timestamps import parse_datetime

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
