"""`meltano run tap-crm target-postgres` into a real PostgreSQL, twice: full load, then changes."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from sandbox_api import CRMAPI
from sandbox_api.crm import MODIFIED_SINCE
from tap_crm.streams import STREAM_TYPES
from tests.e2e import warehouse
from tests.e2e.conftest import TAPS, make_both_apis, sandbox_env

pytestmark = pytest.mark.e2e

CRM_KEYS = {stream.name: tuple(stream.primary_keys) for stream in STREAM_TYPES}
SIZE = 23  # three pages of 10 for the paginated streams


def run_crm_to_postgres(meltano, pg_cluster, sandbox, database: str, state_suffix: str):
    env = {**sandbox_env(sandbox), **pg_cluster.target_env(database)}
    meltano("run", "--state-id-suffix", state_suffix, "tap-crm", "target-postgres", env=env)


def assert_tables_match_sandbox(conn, sandbox) -> None:
    problems = {
        stream: diff
        for stream, key in CRM_KEYS.items()
        if (
            diff := warehouse.differences(
                conn, "tap_crm", stream, key, sandbox.crm.expected(stream)
            )
        )
    }
    assert problems == {}


def test_meltano_run_loads_every_crm_stream_with_keys_types_and_values(
    meltano, pg_cluster, make_sandbox
):
    sandbox = make_sandbox(crm_api=CRMAPI(size=SIZE))
    sandbox.crm.modify("contacts", 0, first_name="Zoë 🎉", job_title=None)
    database = pg_cluster.create_database("crm_full_load")

    run_crm_to_postgres(meltano, pg_cluster, sandbox, database, "full-load")

    with pg_cluster.connect(database) as conn:
        # Every stream: PK constraint, no duplicate keys, every row, every field's value.
        assert_tables_match_sandbox(conn, sandbox)
        types = warehouse.column_types(conn, "tap_crm", "contacts")
        assert types["modified_at"] == "timestamp"  # naive UTC
        assert types["google_contacts_data"] == "jsonb"  # nested object
        assert types["address_list"] == "_jsonb"  # list of objects: jsonb[]
        contact = conn.execute(
            "select first_name, job_title, google_contacts_data from tap_crm.contacts where id = %s",
            (sandbox.crm.records["contacts"][0]["id"],),
        ).fetchone()
        assert contact[:2] == ("Zoë 🎉", None)
        assert contact[2] == sandbox.crm.records["contacts"][0]["google_contacts_data"]
        nested = conn.execute(
            "select count(*) from tap_crm.contacts where cardinality(address_list) > 0"
        ).fetchone()[0]
        assert nested == sum(1 for c in sandbox.crm.records["contacts"] if c["address_list"])


def test_second_meltano_run_reads_only_changes_and_upserts_them(meltano, pg_cluster, make_sandbox):
    sandbox = make_sandbox(crm_api=CRMAPI(size=SIZE))
    database = pg_cluster.create_database("crm_incremental")
    run_crm_to_postgres(meltano, pg_cluster, sandbox, database, "incremental")
    first_run_pages = len(sandbox.requests_to("crm", "/contacts"))

    sandbox.crm.modify("contacts", 3, last_name="Müller-Lüdenscheidt")
    sandbox.crm.modify("deals", 5, name="Renewal 2027")
    sandbox.crm.modify("companies", 7, name="Neue Firma GmbH")
    added_contact = sandbox.crm.add("contacts", first_name="Ngọc")
    sandbox.crm.add("notes", text="Second-run note")
    sandbox.clear_log()

    run_crm_to_postgres(meltano, pg_cluster, sandbox, database, "incremental")

    with pg_cluster.connect(database) as conn:
        # Changed rows updated, new rows inserted, nothing duplicated, nothing lost.
        assert_tables_match_sandbox(conn, sandbox)
        assert conn.execute(
            "select first_name from tap_crm.contacts where id = %s", (added_contact["id"],)
        ).fetchone() == ("Ngọc",)

    # Meltano handed the saved state back: filtered requests, one page instead of three.
    for resource in MODIFIED_SINCE:
        requests = sandbox.requests_to("crm", f"/{resource}")
        assert requests, resource
        assert all(r.arg("modified_since") for r in requests), resource
    assert len(sandbox.requests_to("crm", "/contacts")) == 1 < first_run_pages
    # companies has no modified_since: newest change first, from page 1, ending at the first
    # page that reaches the bookmark (the first run was shown complete, so no overlap).
    company_pages = [
        r.arg("page") for r in sandbox.requests_to("crm", "/companies") if r.arg("per_page") != "1"
    ]
    assert company_pages == ["1"]

    state = json.loads(
        meltano("state", "get", "sandbox:tap-crm-to-target-postgres:incremental").stdout
    )
    bookmark = state["singer_state"]["bookmarks"]["contacts"]["replication_key_value"]
    newest = max(c["modified_at"] for c in sandbox.crm.records["contacts"])
    assert _instant(bookmark) == _instant(newest)


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_calltracker_into_postgres_then_only_changes_are_read_and_upserted(
    meltano, pg_cluster, make_sandbox
):
    tap = TAPS[1]
    sandbox = make_both_apis(make_sandbox, size=SIZE)
    database = pg_cluster.create_database("calltracker")
    env = {**sandbox_env(sandbox), **pg_cluster.target_env(database)}
    run = ("run", "--state-id-suffix", "incremental", tap.name, "target-postgres")

    meltano(*run, env=env)
    with pg_cluster.connect(database) as conn:
        assert_tables_match_reference(conn, tap, tap.reference(sandbox))

    sandbox.calltracker.modify("contacts", 2, first_name="Łukasz", information=None)
    new_call = sandbox.calltracker.add("calls")
    sandbox.calltracker.add("contacts", first_name="Søren")
    sandbox.clear_log()
    meltano(*run, env=env)

    # Calls from the bookmark (less the lookback); contacts newest-updated first.
    calls = sandbox.requests_to("calltracker", "/calls")
    assert calls
    assert all(r.arg("from") for r in calls)
    contacts = sandbox.requests_to("calltracker", "/contacts")
    assert [(r.arg("order_by"), r.arg("order")) for r in contacts] == [("updated_at", "desc")]
    with pg_cluster.connect(database) as conn:
        assert_tables_match_reference(conn, tap, tap.reference(sandbox))
        assert conn.execute(
            "select first_name from tap_calltracker.contacts where id = %s",
            (sandbox.calltracker.records["contacts"][2]["id"],),
        ).fetchone() == ("Łukasz",)
        assert conn.execute(
            "select count(*) from tap_calltracker.calls where id = %s", (new_call["id"],)
        ).fetchone() == (1,)

    state = json.loads(
        meltano("state", "get", "sandbox:tap-calltracker-to-target-postgres:incremental").stdout
    )
    bookmark = state["singer_state"]["bookmarks"]["calls"]["replication_key_value"]
    assert _instant(bookmark).timestamp() == new_call["started_at"]


def assert_tables_match_reference(conn, tap, reference) -> None:
    """Every stream's table holds exactly what the tap emits (keys, rows, values)."""
    problems = {
        stream: diff
        for stream, key in tap.keys.items()
        if (
            diff := warehouse.differences(
                conn, tap.namespace, stream, key, reference.records.get(stream, [])
            )
        )
    }
    assert problems == {}
