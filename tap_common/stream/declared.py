"""Streams declared as data: one call per API resource, the behaviour in a base class.

Both taps list their streams as ``declare(Base, "name", SCHEMA, key=value, ...)``: the
name, schema and whatever differs (list key, primary key, extra query parameters) are
data; what differs in behaviour is a base class (or a hook on one).
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream

S = t.TypeVar("S", bound="type[Stream]")


def class_name(stream_name: str) -> str:
    """``user_availability`` -> ``UserAvailabilityStream`` (how the stream shows in logs)."""
    return "".join(part.title() for part in stream_name.split("_")) + "Stream"


def declare(base: S, name: str, schema: dict, /, **attributes: t.Any) -> S:
    """A subclass of ``base`` for the API resource ``name``, with ``attributes`` set on it.

    ``base`` derives what follows from the name (path, record selector) in
    ``__init_subclass__`` or a property, so nothing is written twice.
    """
    namespace = {"name": name, "schema": schema, "__module__": base.__module__, **attributes}
    return t.cast("S", type(class_name(name), (base,), namespace))
