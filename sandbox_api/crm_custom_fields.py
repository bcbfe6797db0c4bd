"""The sandbox account's custom-field definitions, and each record's values for them.

Every type the API defines (https://github.com/OnePageCRM/swagger, ``swagger.yaml``,
``components/schemas/Custom_field``, ``Company_field`` and ``Deal_field``: ``type``) is
defined once on each kind of record; anniversary fields exist on contacts only. Some
records hold a value of the wrong type (live accounts do: a value entered before a field's
type was changed), so that the taps' handling of odd values is exercised.
"""

from __future__ import annotations

import typing as t

from sandbox_api import fake

# Definition key in a record's list item -> the types that kind of record can have.
# Every type of the swagger's Custom_field.type; company and deal fields have all but
# anniversary (Company_field.type, Deal_field.type).
CONTACT_TYPES = (
    "anniversary",
    "date",
    "multi_line_text",
    "multiple_choice",
    "number",
    "select_box",
    "single_line_text",
    "external_id",
    "section_divider",
)
# Definition key in a record's list item -> the types that kind of record can have.
TYPES: dict[str, tuple[str, ...]] = {
    "custom_field": CONTACT_TYPES,
    "company_field": CONTACT_TYPES[1:],
    "deal_field": CONTACT_TYPES[1:],
}
NAMES = {
    "anniversary": "Jahrestag",
    "date": "Renewal date",
    "multi_line_text": "Notes (long)",
    "multiple_choice": "Interests",
    "number": "Budget €",
    "select_box": "Region",
    "single_line_text": "Contract type",
    "external_id": "ERP id",
    "section_divider": "— Billing —",
}
CHOICES = ["Nord", "Süd", "West", "Ost"]
# Every WRONG_EVERY-th record holds a value of the wrong type in its number, date and
# multiple-choice fields.
WRONG_EVERY = 11
WRONG_VALUES = {"number": "n/a", "date": "next spring", "multiple_choice": 42}


def definition(wrapper: str, field_type: str, position: int, key: object = None) -> dict:
    """One definition as the API lists it (``/custom_fields``, ``/bootstrap``)."""
    field: dict[str, t.Any] = {
        "id": fake.object_id(wrapper, field_type if key is None else key),
        "name": NAMES.get(field_type, field_type),
        "type": field_type,
        "position": position,
    }
    if field_type in {"multiple_choice", "select_box"}:
        field["choices"] = list(CHOICES)
    if field_type == "anniversary":
        field["reminder_days"] = 7
    return field


def definitions(wrapper: str) -> list[dict]:
    """The account's definitions for one kind of record, one per type."""
    return [definition(wrapper, kind, n) for n, kind in enumerate(TYPES[wrapper])]


def value(field: dict, i: int) -> t.Any:
    """Record ``i``'s value for ``field``: of the field's type, or now and then not."""
    kind = field["type"]
    if i % WRONG_EVERY == WRONG_EVERY - 1 and kind in WRONG_VALUES:
        return WRONG_VALUES[kind]
    if kind in {"date", "anniversary"}:
        return f"20{20 + i % 10}-{1 + i % 12:02d}-{1 + i % 28:02d}"
    if kind == "number":
        return i * 10 + 0.5 if i % 2 else i * 10
    if kind == "multiple_choice":
        return [CHOICES[i % 4], CHOICES[(i + 1) % 4]]
    if kind == "select_box":
        return CHOICES[i % 4]
    if kind == "multi_line_text":
        return f"Zeile 1 ({i})\nZeile 2"
    if kind == "external_id":
        return f"ERP-{i:06d}"
    if kind == "section_divider":
        return None
    return f"Rahmenvertrag {i}"


def field_values(wrapper: str, i: int) -> list[dict]:
    """Record ``i``'s list of ``{<wrapper>: definition, value}``: every third record has no
    custom values at all (the API then omits the fields and their section divider)."""
    if i % 3 == 2:
        return []
    return [{wrapper: field, "value": value(field, i)} for field in definitions(wrapper)]
