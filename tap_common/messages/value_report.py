"""What a stream did with values that did not fit its schema, said once, not per record.

The first value per field that had to be written as null is one WARNING naming the
stream, the record's key and the field; the end of the stream is one line with the
count per field. Records without a usable primary key (which no merging target can
load) and records whose replication key cannot be read are counted the same way.
"""

from __future__ import annotations

import typing as t
from collections import Counter

if t.TYPE_CHECKING:
    import logging

# How much of an odd value a log line shows.
_SHOWN = 60


def shown(value: t.Any) -> str:
    """A short, one-line rendering of a value for a log line."""
    text = repr(value)
    return text if len(text) <= _SHOWN else f"{text[: _SHOWN - 3]}..."


def key_of(record: dict, key_properties: t.Sequence[str]) -> str:
    """The record's primary key as ``id='abc'`` for a log line."""
    if not key_properties:
        return "(no key)"
    return ", ".join(f"{name}={shown(record.get(name))}" for name in key_properties)


class ValueReport:
    """Counts for one stream; ``summary()`` logs them and starts over."""

    def __init__(self, stream_name: str, logger: logging.Logger) -> None:
        self.stream_name = stream_name
        self.logger = logger
        self.nulled: Counter[str] = Counter()
        self.unkeyed: Counter[str] = Counter()
        self.unreadable_bookmark = 0
        self.future_bookmark = 0

    def value_nulled(self, record: dict, keys: t.Sequence[str], field: str, value: t.Any) -> None:
        if field not in self.nulled:
            self.logger.warning(
                "Stream '%s', record %s: field '%s' held %s, which is not a valid value "
                "of its type; written as null (further such values are counted).",
                self.stream_name,
                key_of(record, keys),
                field,
                shown(value),
            )
        self.nulled[field] += 1

    def record_unkeyed(self, record: dict, keys: t.Sequence[str]) -> None:
        """A record whose primary key is missing, null or empty: not emitted."""
        held = key_of(record, keys)
        if not self.unkeyed:
            self.logger.warning(
                "Stream '%s': a record without a usable primary key (%s) was left out: "
                "no merging target can load it (further ones are counted).",
                self.stream_name,
                held,
            )
        self.unkeyed[held] += 1

    def bookmark_unreadable(self, record: dict, keys: t.Sequence[str], field: str) -> None:
        if not self.unreadable_bookmark:
            self.logger.warning(
                "Stream '%s', record %s: replication key '%s' is %s, not a readable "
                "timestamp; the record is emitted but does not move the bookmark.",
                self.stream_name,
                key_of(record, keys),
                field,
                shown(record.get(field, "missing")),
            )
        self.unreadable_bookmark += 1

    def bookmark_in_future(self, record: dict, keys: t.Sequence[str], value: str, cap: str) -> None:
        if not self.future_bookmark:
            self.logger.warning(
                "Stream '%s', record %s: replication key %s is after this sync started; "
                "the bookmark stops at %s so the next run still reads later changes.",
                self.stream_name,
                key_of(record, keys),
                value,
                cap,
            )
        self.future_bookmark += 1

    def summary(self) -> None:
        """One line per kind of problem seen since the last summary, then start over."""
        name = self.stream_name
        if self.nulled:
            counts = ", ".join(f"{field}: {n}" for field, n in sorted(self.nulled.items()))
            self.logger.warning("Stream '%s': values written as null, per field: %s", name, counts)
        if self.unkeyed:
            held = ", ".join(f"{key} x{n}" for key, n in self.unkeyed.most_common(5))
            self.logger.warning(
                "Stream '%s': %d record(s) without a usable primary key left out (%s).",
                name,
                sum(self.unkeyed.values()),
                held,
            )
        if self.unreadable_bookmark:
            self.logger.warning(
                "Stream '%s': %d record(s) with an unreadable replication key did not move "
                "the bookmark.",
                name,
                self.unreadable_bookmark,
            )
        if self.future_bookmark:
            self.logger.warning(
                "Stream '%s': %d record(s) dated after the sync started; bookmark capped.",
                name,
                self.future_bookmark,
            )
        self.nulled.clear()
        self.unkeyed.clear()
        self.unreadable_bookmark = self.future_bookmark = 0
