"""tap-crm: every record the account holds (team, every predefined page), no API key in the data."""

from __future__ import annotations

import logging
import math

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox_api import CRMAPI, Sandbox
from sandbox_api.crm import PASSWORD, USERNAME
from sandbox_api.crm_lists import CRMListSwitches
from tap_crm.streams import CallsStream
from tap_crm.tap import TapCRM
from tests.singer_io import catalog_selecting, sync

# -- team: every user's contacts and deals -----------------------------------------------


@pytest.mark.parametrize("scoped", [True, False], ids=["api-scopes-to-user", "api-serves-all"])
def test_an_8_user_account_yields_every_users_contacts_and_deals(make_sandbox, scoped):
    api = CRMAPI(size=200, switches=CRMListSwitches(scope_to_api_user=scoped))
    sandbox = make_sandbox(crm_api=api)
    assert len(api.records["users"]) == 8
    owners = {c["owner_id"] for c in api.records["contacts"]}
    assert len(owners) == 8
    config = sandbox.crm_config()
    out = sync(TapCRM, config, catalog=catalog_selecting(TapCRM, config, {"contacts", "deals"}))

    for stream in ("contacts", "deals"):
        assert sorted(out.ids(stream)) == sorted(r["id"] for r in api.records[stream]), stream
        requests = sandbox.requests_to("crm", f"/{stream}")
        assert {r.arg("team") for r in requests} == {"true"}, stream


def test_the_sandbox_scopes_contacts_to_the_api_user_without_team(make_sandbox):
    """The switch the test above relies on: without ``team`` only the API user's share."""
    sandbox = make_sandbox(crm_api=CRMAPI(size=200))
    url = f"{sandbox.crm_url}/contacts"
    alone = requests.get(url, params={"per_page": 100}, auth=(USERNAME, PASSWORD), timeout=10)
    team = requests.get(
        url, params={"per_page": 100, "team": "true"}, auth=(USERNAME, PASSWORD), timeout=10
    )
    own = [c for c in sandbox.crm.records["contacts"] if c["owner_id"] == USERNAME]
    assert alone.json()["data"]["total_count"] == len(own) == 25
    assert team.json()["data"]["total_count"] == 200


# -- predefined items and actions: every page ---------------------------------------------


def predefined(
    make_sandbox, count: int, switches: CRMListSwitches, *, page_size: int = 100, **api
) -> tuple[Sandbox, dict]:
    sizes = {"predefined_items": count, "predefined_actions": count}
    sandbox = make_sandbox(crm_api=CRMAPI(size=3, sizes=sizes, switches=switches, **api))
    config = sandbox.crm_config(page_size=page_size)
    catalog = catalog_selecting(TapCRM, config, {"predefined_items", "predefined_actions"})
    return sandbox, {"config": config, "catalog": catalog}


def test_250_predefined_items_all_arrive_one_request_per_page(make_sandbox, caplog):
    sandbox, run = predefined(make_sandbox, 250, CRMListSwitches())
    with caplog.at_level(logging.WARNING):
        out = sync(TapCRM, run["config"], catalog=run["catalog"])

    assert out.records["predefined_items"] == sandbox.crm.records["predefined_items"]
    pages = [(r.arg("page"), r.arg("per_page")) for r in sandbox.requests_to("crm")
             if r.path == "/predefined_items"]  # fmt: skip
    assert pages == [("1", "100"), ("2", "100"), ("3", "100")]
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r for r in warned if "predefined_items" in r.getMessage()] == []


SWITCHES = st.builds(
    CRMListSwitches,
    predefined_items_ignore_page=st.booleans(),
    predefined_actions_paged=st.booleans(),
    predefined_page_metadata=st.booleans(),
)


@settings(
    deadline=None,
    derandomize=True,
    max_examples=30,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    switches=SWITCHES,
    count=st.integers(min_value=0, max_value=260),
    page_size=st.sampled_from([7, 10, 100]),
    wrapped=st.booleans(),
)
def test_every_predefined_record_arrives_once_whatever_the_api_does_with_page(
    make_sandbox, switches, count, page_size, wrapped
):
    sandbox, run = predefined(
        make_sandbox, count, switches, page_size=page_size, wrapped_predefined_items=wrapped
    )
    out = sync(TapCRM, run["config"], catalog=run["catalog"])

    for stream in ("predefined_items", "predefined_actions"):
        assert out.records.get(stream, []) == sandbox.crm.records[stream], stream
        requests = [r for r in sandbox.requests_to("crm") if r.path == f"/{stream}"]
        paged = (
            not switches.predefined_items_ignore_page
            if stream == "predefined_items"
            else switches.predefined_actions_paged
        )
        if paged:
            # A full last page costs one more (empty) page unless metadata says so.
            pages = max(math.ceil(count / page_size), 1)
            extra = count % page_size == 0 and count > 0 and not switches.predefined_page_metadata
            assert len(requests) == pages + extra, stream
        else:
            # Ignored page: page 2 repeats page 1 only when page 1 looked full.
            assert len(requests) == (2 if count >= page_size else 1), stream


def test_an_api_ignoring_page_ends_the_list_with_one_warning(make_sandbox, caplog):
    switches = CRMListSwitches(predefined_items_ignore_page=True)
    sandbox, run = predefined(make_sandbox, 250, switches)
    with caplog.at_level(logging.WARNING):
        out = sync(TapCRM, run["config"], catalog=run["catalog"])

    assert out.error is None
    assert out.records["predefined_items"] == sandbox.crm.records["predefined_items"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 2  # items, and actions (documented without paging)
    assert any("predefined_items" in w and "ignores 'page'" in w for w in warnings)


# -- no credential in any record -----------------------------------------------------------


def test_bootstrap_never_carries_the_api_key(sandbox, capsys):
    assert sandbox.crm.bootstrap()["auth_key"] == PASSWORD  # what the API answers
    config = sandbox.crm_config()
    out = sync(TapCRM, config, catalog=catalog_selecting(TapCRM, config, {"bootstrap"}))

    (record,) = out.records["bootstrap"]
    assert "auth_key" in record
    assert record["auth_key"] is None
    schema = out.schemas()["bootstrap"]["schema"]["properties"]["auth_key"]
    assert "null" in schema["type"]
    everything = "\n".join(str(m) for m in out.messages) + capsys.readouterr().err
    assert PASSWORD not in everything


def test_a_call_time_given_as_a_digit_string_is_kept_as_its_integer():
    tap = TapCRM(config={"username": "u", "password": "p"}, parse_env_config=False)
    stream = tap.streams["calls"]
    assert isinstance(stream, CallsStream)

    def written(value: object) -> object:
        (message,) = stream.conformance.record_messages({"id": "c1", "call_time_int": value})
        return message.record["call_time_int"]

    assert written("1441288746") == 1441288746
    assert written(7) == 7
    assert written(None) is None
