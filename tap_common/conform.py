"""The SDK's recursive record conformance, with the schema analysed once instead of per value.

``singer_sdk.helpers._typing._conform_record_data_types`` re-derives, for every value of
every record, what the schema says (is it a uniform list? an object with properties? an
exclusively boolean type?): a third of the tap's CPU time. ``SchemaConformer`` derives
that once per property and applies the same rules, so the output is the same record
(``tests/test_conform.py`` checks it against the SDK on every stream of both taps):

* properties missing from the schema are dropped (kept where ``additionalProperties``)
  and named once in a warning;
* objects with ``properties`` and uniform lists are conformed recursively;
* values JSON can hold (str, int, bool, None) pass unchanged, except that an exclusively
  boolean property becomes ``value != 0``; anything else (floats, Decimals, datetimes,
  bytes) goes through the SDK's own ``_conform_primitive_property``.
"""

from __future__ import annotations

import typing as t

import singer_sdk.singerlib as singer
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers._typing import (
    _conform_primitive_property,
    _is_exclusive_boolean_type,
    _warn_unmapped_properties,
    is_object_type,
    is_uniform_list,
)
from singer_sdk.helpers._util import utc_now
from singer_sdk.helpers.conform import TypeConformanceLevel

if t.TYPE_CHECKING:
    import logging

    from singer_sdk import Stream

# Types json.loads produces that the SDK leaves as they are (floats and Decimals are not:
# NaN and infinities become None there).
_PLAIN = (str, int, bool, type(None))


class _Property:
    """What the schema says about one property, derived once."""

    __slots__ = ("exclusive_boolean", "item_object", "items", "object", "schema", "uniform_list")

    def __init__(self, schema: dict) -> None:
        self.schema = schema
        self.uniform_list = bool(is_uniform_list(schema))
        self.object = _Object(schema) if is_object_type(schema) and "properties" in schema else None
        self.exclusive_boolean = _is_exclusive_boolean_type(schema)
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


class _Object:
    """An object schema with ``properties``: conforms a dict as the SDK does."""

    __slots__ = ("additional", "properties")

    def __init__(self, schema: dict) -> None:
        self.properties = {name: _Property(sub) for name, sub in schema["properties"].items()}
        self.additional = bool(schema.get("additionalProperties"))

    def conform(self, record: dict, parent: str | None, unmapped: list[str]) -> dict:
        output: dict[str, t.Any] = {}
        properties = self.properties
        for name, value in record.items():
            prop = properties.get(name)
            if prop is None:
                if self.additional:
                    output[name] = value
                else:
                    unmapped.append(name if parent is None else f"{parent}.{name}")
                continue
            if type(value) in _PLAIN:  # inlined: most values are plain
                if prop.exclusive_boolean:
                    output[name] = None if value is None else value != 0
                else:
                    output[name] = value
            else:
                output[name] = _conform_value(value, prop, name, parent, unmapped)
        return output


def _conform_value(
    value: t.Any, prop: _Property, name: str, parent: str | None, unmapped: list[str]
) -> t.Any:
    if type(value) in _PLAIN:
        if prop.exclusive_boolean:
            return None if value is None else value != 0
        return value
    if isinstance(value, list) and prop.uniform_list:
        path = name if parent is None else f"{parent}.{name}"
        return _conform_list(value, prop, path, unmapped)
    if isinstance(value, dict) and prop.object is not None:
        path = name if parent is None else f"{parent}.{name}"
        return prop.object.conform(value, path, unmapped)
    return _conform_primitive_property(value, prop.schema)


def _conform_list(values: list, prop: _Property, path: str, unmapped: list[str]) -> list:
    items = prop.items
    assert items is not None
    item_schema = items.schema
    item_object = prop.item_object
    output = []
    for item in values:
        if item_object is not None and isinstance(item, dict):
            output.append(item_object.conform(item, path, unmapped))
        elif type(item) in _PLAIN and not items.exclusive_boolean:
            output.append(item)
        else:
            output.append(_conform_primitive_property(item, item_schema))
    return output


class SchemaConformer:
    """``conform(record)`` equals the SDK's ``conform_record_data_types`` at RECURSIVE level."""

    def __init__(self, schema: dict) -> None:
        self._root = _Object({"properties": {}, **schema})

    def conform(self, record: dict, stream_name: str, logger: logging.Logger) -> dict:
        unmapped: list[str] = []
        output = self._root.conform(record, None, unmapped)
        if unmapped:
            _warn_unmapped_properties(stream_name, tuple(unmapped), logger)
        return output


class FastConformStream:
    """Mixin for a ``Stream``: records are conformed by a ``SchemaConformer``.

    Replaces the SDK's ``Stream._generate_record_messages`` (0.54.x) line for line, except
    for the conformance call. Streams at another ``TYPE_CONFORMANCE_LEVEL`` use the SDK's.
    """

    def _generate_record_messages(self, record: dict) -> t.Iterator[singer.RecordMessage]:
        stream = t.cast("Stream", self)
        if stream.TYPE_CONFORMANCE_LEVEL != TypeConformanceLevel.RECURSIVE:
            yield from super()._generate_record_messages(record)  # type: ignore[misc]
            return
        schema = stream.effective_schema
        conformer = self.__dict__.get("_schema_conformer")
        if conformer is None or conformer[0] is not schema:
            # With nothing deselected (the usual catalog) popping deselected properties
            # walks every record for nothing.
            deselected = not all(stream.mask.values())
            conformer = (schema, SchemaConformer(schema), deselected)
            self.__dict__["_schema_conformer"] = conformer
        if conformer[2]:
            pop_deselected_record_properties(record, stream.schema, stream.mask)
        record = conformer[1].conform(record, stream.name, stream.logger)
        for stream_map in stream.stream_maps:
            mapped_record = stream_map.transform(record)
            if mapped_record is not None:  # a stream map may filter the record out
                yield singer.RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped_record,
                    version=stream._stream_version,
                    time_extracted=utc_now(),
                )
