"""Switches that make an API serve one odd value in one record (all off by default).

Neither API promises more than its documented types, and real accounts hold odd values:
a boolean sent as ``"false"``, a timestamp as 13-digit unix milliseconds or a zero date,
a string with a lone surrogate escape or a NUL, a ``modified_at`` that is null or absent
(https://developer.onepagecrm.com/api/, https://developer.aircall.io/api-references/).
A test puts such a value into any field of any record, replication and primary keys
included::

    sandbox.crm.oddities.put(sandbox.crm.records["contacts"][3], "modified_at", MISSING)

The stored record is left alone, so the API still filters and sorts it by its real
values (as a database does); only the served copy carries the odd value.
"""

from __future__ import annotations

import copy
import threading
import typing as t


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


# Put as a value: the field is left out of the served record.
MISSING: t.Final = _Missing()

# One of each odd value the taps must survive, by name.
ODD_VALUES: dict[str, t.Any] = {
    "null": None,
    "missing": MISSING,
    "lone_surrogate": "x\ud800y",
    "nul": "before\u0000after",
    "string_false": "false",
    "string_true": "true",
    "string_one": "1",
    "numeric_string": "42",
    "iso_offset": "2024-03-05T14:15:16+02:00",
    "iso_millis": "2024-03-05T12:15:16.338Z",
    "date_only": "2024-03-05",
    "unix_seconds": 1709640916,
    "unix_millis": 1709640916338,
    "zero_date": "0000-00-00 00:00:00",
    "year_zero": "0000-01-01T00:00:00Z",
    "garbage": "not a value",
    "object": {"unexpected": ["shape"]},
}


# How ``deeply_nested`` marks its value until the answer is encoded (``http.Response.json``).
DEEP_MARK: t.Final = "\u0001deeply-nested\u0001"


def deeply_nested(levels: int) -> str:
    """A value served as ``levels`` nested arrays (``[[[...]]]``), too deep for Python's
    JSON encoders to write: put it as any odd value."""
    return f"{DEEP_MARK}{levels}{DEEP_MARK}"


class Oddities:
    """The odd values to serve, per stored record (by identity: ``modify`` keeps it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # id(record) -> (the record, kept alive so its id is not reused; [(path, value)])
        self._changes: dict[int, tuple[dict, list[tuple[list[str], t.Any]]]] = {}

    def put(self, record: dict, field: str, value: t.Any = MISSING) -> None:
        """Serve ``record`` with ``value`` at ``field`` (dotted for nested objects)."""
        with self._lock:
            entry = self._changes.setdefault(id(record), (record, []))
            entry[1].append((field.split("."), value))

    def clear(self) -> None:
        with self._lock:
            self._changes.clear()

    def apply(self, record: dict) -> dict:
        """The record as served: a copy carrying its odd values, or the record itself."""
        entry = self._changes.get(id(record))
        if entry is None or entry[0] is not record:
            return record
        served = copy.deepcopy(record)
        for path, value in entry[1]:
            node = served
            for part in path[:-1]:
                node = node.setdefault(part, {})
            if value is MISSING:
                node.pop(path[-1], None)
            else:
                node[path[-1]] = value
        return served
