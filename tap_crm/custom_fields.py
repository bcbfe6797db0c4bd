"""Custom fields as typed columns (the ``custom_field_columns`` setting, off by default).

Contacts, companies and deals carry their custom fields as a list of
``{<kind>: {id, name, type, ...}, value}`` (https://github.com/OnePageCRM/swagger,
``swagger.yaml``: ``Contact.custom_fields``, ``Company.company_fields``,
``Deal.deal_fields``); the account's definitions are listed by ``/bootstrap`` in one
request (``custom_fields``, ``company_fields``, ``deal_fields``). With the setting on,
discovery reads them and each of the three streams gains one column per definition:

* **Name**: ``<kind>__<definition id>__<column type>``, e.g.
  ``custom_field__5aad9b039007ba18c9ebad13__number``. The id never changes, so a field
  renamed in the CRM keeps its column and its history; the current name is the column's
  description. The column type is in the name because a table's column never changes its
  type (target-postgres adds columns, never alters one): a field whose type changes to
  one stored differently gets a new column, and the old one keeps the values loaded before.
* **Type**: number -> number; date and anniversary -> date; multiple choice -> array of
  text; select box, single- and multi-line text and external id -> text; a section
  divider (a heading in the CRM's form, no value) has no column. A type this module does
  not know becomes text.
* **Values** are copied from the record's list; the stream's schema conformance nulls a
  value that does not fit (``"n/a"`` in a number field) and reports it once per field.
  The list itself is still emitted as it was.

The values are filled from each record's own list, so a sync with a saved catalog needs
no definitions: the catalog's columns are the ones filled.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

SETTING = "custom_field_columns"


@dataclass(frozen=True)
class FieldList:
    """Where one kind of record holds its custom fields."""

    stream: str  # the stream whose records carry them
    array: str  # the record's property holding the list, also bootstrap's key
    kind: str  # the key of the definition in each list item


FIELD_LISTS = (
    FieldList("contacts", "custom_fields", "custom_field"),
    FieldList("companies", "company_fields", "company_field"),
    FieldList("deals", "deal_fields", "deal_field"),
)
BY_STREAM = {fields.stream: fields for fields in FIELD_LISTS}

# The API's field types (swagger ``Custom_field.type``) -> the column's type.
COLUMN_TYPES = {
    "number": "number",
    "date": "date",
    "anniversary": "date",
    "multiple_choice": "choices",
    "select_box": "text",
    "single_line_text": "text",
    "multi_line_text": "text",
    "external_id": "text",
}
NO_COLUMN = frozenset({"section_divider"})
COLUMN_SCHEMAS: dict[str, dict[str, t.Any]] = {
    "number": {"type": ["number", "null"]},
    "date": {"type": ["string", "null"], "format": "date"},
    "choices": {"type": ["array", "null"], "items": {"type": ["string"]}},
    "text": {"type": ["string", "null"]},
}


def column_type(field_type: object) -> str | None:
    """The column type of a field type, or None for a field that has no column."""
    if field_type in NO_COLUMN:
        return None
    return COLUMN_TYPES.get(field_type, "text") if isinstance(field_type, str) else None


def column_name(kind: str, field_id: str, kind_of_column: str) -> str:
    """``custom_field__<id>__number``: the id kept to letters, digits and underscores, so
    that every target can name a column by it."""
    return f"{kind}__{re.sub(r'[^0-9A-Za-z_]', '_', field_id).lower()}__{kind_of_column}"


def column_for(kind: str, definition: object) -> str | None:
    """The column a definition's values go to, or None (a divider, no id)."""
    if not isinstance(definition, dict):
        return None
    field_id = definition.get("id")
    column = column_type(definition.get("type"))
    if not isinstance(field_id, str) or not field_id or column is None:
        return None
    return column_name(kind, field_id, column)


def columns(fields: FieldList, definitions: Iterable[object]) -> dict[str, dict]:
    """The schema properties of a stream's custom-field columns, in the CRM's order."""
    properties: dict[str, dict] = {}
    for definition in definitions:
        name = column_for(fields.kind, definition)
        if name is None:
            continue
        assert isinstance(definition, dict)  # column_for says so
        column = COLUMN_SCHEMAS[name.rsplit("__", 1)[1]]
        properties[name] = {
            **column,
            "description": (
                f"Custom field '{definition.get('name')}' ({definition.get('type')}), "
                f"id {definition['id']}; from the record's {fields.array}."
            ),
        }
    return properties


def definitions_from_bootstrap(bootstrap: Mapping[str, t.Any]) -> dict[str, list[object]]:
    """Stream name -> the account's definitions for its records, from ``/bootstrap``."""
    found: dict[str, list[object]] = {}
    for fields in FIELD_LISTS:
        items = bootstrap.get(fields.array) or []
        found[fields.stream] = [
            item.get(fields.kind, item) if isinstance(item, dict) else item for item in items
        ]
    return found


def with_columns(schema: dict, properties: Mapping[str, dict]) -> dict:
    """``schema`` with ``properties`` added (a copy: the class's schema stays as it is)."""
    return {**schema, "properties": {**schema["properties"], **properties}}


class ColumnFiller:
    """Copies a record's custom-field values into the columns its stream's schema has."""

    def __init__(self, fields: FieldList, properties: Iterable[str]) -> None:
        self.fields = fields
        prefix = f"{fields.kind}__"
        self.columns = tuple(name for name in properties if name.startswith(prefix))

    def fill(self, row: dict) -> None:
        """Every column of the schema set: the record's value, or null when it has none
        (so that a merging target clears a value removed in the CRM)."""
        values: dict[str, t.Any] = dict.fromkeys(self.columns)
        items = row.get(self.fields.array)
        for item in items if isinstance(items, list) else ():
            if isinstance(item, dict):
                name = column_for(self.fields.kind, item.get(self.fields.kind))
                if name in values:
                    values[name] = item.get("value")
        row.update(values)


def filler_for(stream_name: str, schema: Mapping[str, t.Any]) -> ColumnFiller | None:
    """The filler of a stream whose schema has custom-field columns, else None."""
    fields = BY_STREAM.get(stream_name)
    if fields is None:
        return None
    filler = ColumnFiller(fields, schema.get("properties") or {})
    return filler if filler.columns else None
