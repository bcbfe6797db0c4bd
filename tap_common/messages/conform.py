"""The SDK's recursive record conformance, with the schema analysed once instead of per value,
and a rule for every value that does not fit its schema.

``singer_sdk.helpers._typing._conform_record_data_types`` re-derives, for every value of
every record, what the schema says (is it a uniform list? an object with properties? an
exclusively boolean type?): a third of the tap's CPU time. ``SchemaConformer`` derives
that once per property. For values that fit their schema the output is the SDK's
(``tests/test_conform.py`` checks it against the SDK on every stream of both taps):

* properties missing from the schema are dropped (kept where ``additionalProperties``)
  and named once in a warning;
* objects with ``properties`` and uniform lists are conformed recursively;
* values JSON can hold pass unchanged when their type is declared; floats and Decimals
  go through the SDK's ``_conform_primitive_property`` (NaN and infinities become null).

Where the SDK lets a value through that does not fit (``"false"`` in a boolean field
became ``true``), a property declaring one type converts it (``tap_common.messages.values``):
booleans from ``"true"``/``"false"``/``"1"``/``"0"``, numbers from numeric text, text
from numbers, ``date-time`` and ``date`` from every timestamp form
(``tap_common.messages.timestamps``). A value that cannot be converted is written as null and
reported by the stream (``tap_common.messages.value_report``), never raised: one odd value must
not stop a sync.
"""

from __future__ import annotations

import typing as t

import singer_sdk.singerlib as singer
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers._typing import (
    _conform_primitive_property,
    _warn_unmapped_properties,
    is_object_type,
    is_uniform_list,
)
from singer_sdk.helpers._util import utc_now
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_common.messages import values
from tap_common.messages.value_report import ValueReport

if t.TYPE_CHECKING:
    import logging

    from singer_sdk import Stream

# Types json.loads produces that the SDK leaves as they are (floats and Decimals are not:
# NaN and infinities become None there).
_PLAIN = (str, int, bool, type(None))
_NO_TYPES: frozenset[type] = frozenset()

# A value that does not fit its property: (dotted path, the value as sent).
Problem = tuple[str, t.Any]


def _types(schema: dict) -> set[str]:
    declared = schema.get("type")
    if declared is None:
        return set()
    return {declared} if isinstance(declared, str) else set(declared)


def _converter(schema: dict) -> tuple[frozenset[type], t.Callable[[t.Any], t.Any] | None]:
    """(Python types that pass unchanged, converter for any other non-null value).

    Only a property declaring one kind of value (plus null) is converted; a property
    declaring several (``["string", "integer"]``), or none, takes values as the SDK does.
    """
    kinds = _types(schema) - {"null"}
    fmt = schema.get("format")
    if kinds == {"string"} and fmt == "date-time":
        return _NO_TYPES, values.to_date_time
    if kinds == {"string"} and fmt == "date":
        return _NO_TYPES, values.to_date
    if kinds == {"string"}:
        return frozenset({str}), values.to_text
    if kinds == {"boolean"}:
        return frozenset({bool}), values.to_boolean
    if kinds == {"integer"}:
        return frozenset({int}), values.to_integer
    if kinds in ({"number"}, {"integer", "number"}):
        return frozenset({int}), values.to_number
    return frozenset(_PLAIN), None


class _Property:
    """What the schema says about one property, derived once.

    ``handle(value, name, parent, unmapped, problems)`` conforms a value that is neither
    None nor of a type in ``plain``; it is chosen here, once, for the kind of property
    (converted scalar, container, other), so the per-value work is one call.
    """

    __slots__ = (
        "convert",
        "handle",
        "item_object",
        "items",
        "object",
        "plain",
        "scalars_too",
        "schema",
        "uniform_list",
    )

    def __init__(self, schema: dict) -> None:
        self.schema = schema
        self.uniform_list = bool(is_uniform_list(schema))
        self.object = _Object(schema) if is_object_type(schema) and "properties" in schema else None
        self.plain, self.convert = _converter(schema)
        # A container property that also declares scalar types (a CRM custom field value:
        # string, number or array) takes scalars as the SDK does.
        self.scalars_too = bool(_types(schema) - {"array", "object", "null"})
        if self.object is not None or self.uniform_list:
            # Scalars of such a property pass as the SDK passes them: its
            # ``_conform_primitive_property`` returns text, ints and booleans unchanged
            # unless the schema is exclusively boolean, which a container is not. Skipping
            # the call for them was 8% of the conformance of a CRM page.
            self.plain = frozenset(_PLAIN) if self.scalars_too else _NO_TYPES
            self.convert = None
        self.items: _Property | None = None
        # How a dict item of a uniform list is conformed (None: as a primitive).
        self.item_object: _Object | None = None
        if self.uniform_list:
            self.items = _Property(schema["items"])
            if is_object_type(schema["items"]):
                # As the SDK: an object item is conformed even without "properties"
                # (then every key of it is undeclared unless additionalProperties).
                self.item_object = self.items.object or _Object(
                    {"properties": {}, **schema["items"]}
                )
        handle: t.Callable[[t.Any, str, str | None, list[str], list[Problem]], t.Any]
        if self.convert is not None:  # a scalar property (containers have none)
            handle = self._converted
        elif self.uniform_list and self.object is None and not self.scalars_too:
            handle = self._list
        elif self.uniform_list or self.object is not None:
            handle = self._container
        else:
            handle = self._primitive
        self.handle = handle

    def _converted(
        self, value: t.Any, name: str, parent: str | None, _: list[str], problems: list[Problem]
    ) -> t.Any:
        converted = self.convert(value)  # type: ignore[misc]  # set whenever this is the handler
        if converted is not values.INVALID:
            return converted
        problems.append((name if parent is None else f"{parent}.{name}", value))
        return None

    def _list(
        self,
        value: t.Any,
        name: str,
        parent: str | None,
        unmapped: list[str],
        problems: list[Problem],
    ) -> t.Any:
        if type(value) is list:
            path = name if parent is None else f"{parent}.{name}"
            return _conform_list(value, self, path, unmapped, problems)
        return self._container(value, name, parent, unmapped, problems)

    def _container(
        self,
        value: t.Any,
        name: str,
        parent: str | None,
        unmapped: list[str],
        problems: list[Problem],
    ) -> t.Any:
        path = name if parent is None else f"{parent}.{name}"
        if self.uniform_list and isinstance(value, list):
            return _conform_list(value, self, path, unmapped, problems)
        if self.object is not None and isinstance(value, dict):
            return self.object.conform(value, path, unmapped, problems)
        if self.scalars_too and not isinstance(value, (list, dict)):
            return _conform_primitive_property(value, self.schema)
        problems.append((path, value))
        return None

    def _primitive(
        self, value: t.Any, _name: str, _parent: str | None, _u: list[str], _p: list[Problem]
    ) -> t.Any:
        return _conform_primitive_property(value, self.schema)


class _Object:
    """An object schema with ``properties``: conforms a dict as the SDK does."""

    __slots__ = ("additional", "properties")

    def __init__(self, schema: dict) -> None:
        self.properties = {name: _Property(sub) for name, sub in schema["properties"].items()}
        self.additional = bool(schema.get("additionalProperties"))

    def conform(
        self, record: dict, parent: str | None, unmapped: list[str], problems: list[Problem]
    ) -> dict:
        """The conformed dict: ``record`` itself when every value fits as it is (most
        nested objects), else a copy with the values that change replaced, in the same
        key order. Neither the record nor anything in it is modified."""
        output = record
        get = self.properties.get
        for name, value in record.items():
            prop = get(name)
            if prop is None:
                if not self.additional:
                    if output is record:
                        output = record.copy()
                    del output[name]
                    unmapped.append(name if parent is None else f"{parent}.{name}")
            elif value is not None and type(value) not in prop.plain:
                conformed = prop.handle(value, name, parent, unmapped, problems)
                if conformed is not value:
                    if output is record:
                        output = record.copy()
                    output[name] = conformed
        return output


def _conform_list(
    items_in: list, prop: _Property, path: str, unmapped: list[str], problems: list[Problem]
) -> list:
    """The conformed list: ``items_in`` itself when every item fits as it is."""
    items = prop.items
    assert items is not None
    item_object = prop.item_object
    plain = items.plain
    handle = items.handle
    output: list[t.Any] | None = None
    for index, item in enumerate(items_in):
        if item is None or type(item) in plain:  # never a dict: plain types are scalars
            conformed = item
        elif item_object is not None and isinstance(item, dict):
            conformed = item_object.conform(item, path, unmapped, problems)
        else:
            conformed = handle(item, f"{path}[]", None, unmapped, problems)
            if conformed is None:
                # An item that fits no declared type is left out (reported above): a
                # null item would break a list whose items are not nullable.
                if output is None:
                    output = items_in[:index]
                continue
        if output is None:
            if conformed is item:
                continue
            output = items_in[:index]
        output.append(conformed)
    return items_in if output is None else output


class SchemaConformer:
    """``conform(record)`` is the SDK's ``conform_record_data_types`` at RECURSIVE level
    for values that fit their schema; values that do not are converted or nulled."""

    def __init__(self, schema: dict) -> None:
        self._root = _Object({"properties": {}, **schema})

    def conform(
        self, record: dict, stream_name: str, logger: logging.Logger
    ) -> tuple[dict, list[Problem]]:
        """(the conformed record, the values that could not be converted: written null)."""
        unmapped: list[str] = []
        problems: list[Problem] = []
        output = self._root.conform(record, None, unmapped, problems)
        if unmapped:
            _warn_unmapped_properties(stream_name, tuple(unmapped), logger)
        return output, problems


class RecordConformance:
    """A stream's records into RECORD messages, conformed by a ``SchemaConformer``: the
    collaborator ``APIStream`` holds (``tap_common.stream.client``).

    ``record_messages`` is the SDK's ``Stream._generate_record_messages`` (0.54.x) line for
    line, except for the conformance call and what follows from it: a value that fits no
    declared type is written as null and reported (``tap_common.messages.value_report``),
    and a record left without a usable primary key is not written at all.
    """

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        # This stream's counts of odd values, summarised when its records end.
        self.value_report = ValueReport(stream.name, stream.logger)
        self._plan: _Plan | None = None
        self._left_out: dict | None = None

    def summarised(self, records: t.Iterable[dict]) -> t.Iterator[dict]:
        """``records``; once they end, one summary line per kind of odd value."""
        yield from records
        self.value_report.summary()

    def is_left_out(self, record: dict) -> bool:
        """Whether this (raw) record was not written for want of a primary key."""
        return self._left_out is record

    def keep(self, raw: dict, record: dict, keys: t.Sequence[str]) -> bool:
        """False (and reported) for a record whose primary key is missing, null or empty."""
        for key in keys:
            if record.get(key) in _NO_KEY:
                self.value_report.record_unkeyed(raw, keys)
                self._left_out = raw
                return False
        return True

    def record_messages(self, record: dict) -> t.Iterator[singer.RecordMessage]:
        """The RECORD messages of one record (its stream at RECURSIVE conformance)."""
        stream = self.stream
        keys = stream.primary_keys or ()
        schema = stream.effective_schema
        plan = self._plan
        if plan is None or plan.schema is not schema:
            plan = self._plan = _Plan(stream, schema)
        if plan.deselected:
            pop_deselected_record_properties(record, stream.schema, stream.mask)
        raw = record
        record, problems = plan.conformer.conform(record, stream.name, stream.logger)
        if problems:
            report = self.value_report
            for field, value in problems:
                report.value_nulled(raw, keys, field, value)
        if not self.keep(raw, record, keys):
            return
        version = stream._stream_version
        for stream_map in stream.stream_maps:
            mapped_record = stream_map.transform(record)
            if mapped_record is not None:  # a stream map may filter the record out
                yield singer.RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped_record,
                    version=version,
                    time_extracted=utc_now(),
                )


class _Plan:
    """What ``RecordConformance.record_messages`` needs of a stream, derived once per schema."""

    __slots__ = ("conformer", "deselected", "schema")

    def __init__(self, stream: Stream, schema: dict) -> None:
        self.schema = schema
        self.conformer = SchemaConformer(schema)
        # With nothing deselected (the usual catalog) popping deselected properties
        # walks every record for nothing.
        self.deselected = not all(stream.mask.values())


def conforms_recursively(stream: Stream) -> bool:
    """Whether ``RecordConformance`` conforms this stream's records: streams at another
    ``TYPE_CONFORMANCE_LEVEL`` keep the SDK's conformance."""
    return stream.TYPE_CONFORMANCE_LEVEL == TypeConformanceLevel.RECURSIVE


# Key values no merging target can load a row by.
_NO_KEY = (None, "")
