"""Every record of both taps validates against the SCHEMA message the tap sent for its stream.

The sandbox serves the shapes the official clients' recorded responses show (bootstrap's
``next_action_dates`` objects, a string ``commission_percentage`` and ``not_working_days``,
contacts' ``type``, numbers' ``e164_digits``, participants' string and integer ids...): a
validating target (``validate_records`` in meltano.yml) must accept every record.
"""

from __future__ import annotations

import pytest
from jsonschema import Draft7Validator, FormatChecker

from sandbox_api import CRMAPI, CallTrackerAPI
from sandbox_api.crm_lists import CRMListSwitches
from tap_calltracker.tap import TapCallTracker
from tap_crm.tap import TapCRM
from tests.singer_io import SingerOutput, sync

FORMATS = FormatChecker()


def test_the_format_checker_really_checks_date_time():
    # Without rfc3339-validator installed, jsonschema silently skips "date-time".
    assert "date-time" in FORMATS.checkers
    validator = Draft7Validator({"type": "string", "format": "date-time"}, format_checker=FORMATS)
    assert not validator.is_valid("2025-13-45 nonsense")
    assert validator.is_valid("2025-01-02T03:04:05+00:00")


def invalid_records(out: SingerOutput) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for stream, message in out.schemas().items():
        validator = Draft7Validator(message["schema"], format_checker=FORMATS)
        for record in out.records.get(stream, []):
            for error in validator.iter_errors(record):
                problems.setdefault(stream, []).append(
                    f"{list(error.absolute_path)}: {error.message[:120]}"
                )
    return {stream: errors[:5] for stream, errors in problems.items()}


@pytest.mark.parametrize("size", [1, 60])
def test_every_crm_record_validates_against_its_schema(make_sandbox, size):
    api = CRMAPI(size=size, switches=CRMListSwitches(predefined_page_metadata=True))
    sandbox = make_sandbox(crm_api=api)
    out = sync(TapCRM, sandbox.crm_config(page_size=25))

    assert set(out.records) == set(out.schemas())  # every stream emitted records
    assert invalid_records(out) == {}
    (bootstrap,) = out.records["bootstrap"]
    assert bootstrap["next_action_dates"][0] == {"number": 2, "period": "days"}
    assert isinstance(bootstrap["settings"]["not_working_days"], str)
    assert isinstance(bootstrap["cost_setup"]["commission_percentage"], str)
    assert any(c.get("type") == "individual" for c in out.records["contacts"]) or size < 5


@pytest.mark.parametrize("size", [1, 60])
def test_every_calltracker_record_validates_against_its_schema(make_sandbox, size):
    sandbox = make_sandbox(calltracker_api=CallTrackerAPI(size=size))
    out = sync(TapCallTracker, sandbox.calltracker_config(page_size=20))

    assert set(out.records) == set(out.schemas())
    assert invalid_records(out) == {}
    numbers = out.records["numbers"]
    assert all(n["e164_digits"] for n in numbers)
    if size > 50:
        participant_ids = {
            type(p.get("id"))
            for call in out.records["calls"]
            for p in call["participants"]
            if p and p.get("id") is not None
        }
        assert participant_ids == {str, int}
        phone_ids = {
            type(p["id"])
            for contact in out.records["contacts"]
            for p in contact["phone_numbers"]
            if p
        }
        assert phone_ids == {str, int}


def test_records_that_break_the_schema_are_caught_by_this_check(make_sandbox):
    """The check itself can fail: a record with a wrongly typed field is reported."""
    sandbox = make_sandbox(crm_api=CRMAPI(size=2))
    out = sync(TapCRM, sandbox.crm_config())
    out.records["contacts"][0]["starred"] = "yes"
    out.records["bootstrap"][0]["next_action_dates"] = ["today"]
    problems = invalid_records(out)
    assert set(problems) == {"contacts", "bootstrap"}
