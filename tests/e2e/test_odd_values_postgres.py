"""Odd values through `meltano run tap-crm target-postgres`: a NUL, a lone surrogate, no modified_at."""

from __future__ import annotations

import pytest

from sandbox_api import CRMAPI
from sandbox_api.oddities import MISSING
from tests.e2e.conftest import sandbox_env

pytestmark = pytest.mark.e2e


def test_a_note_with_a_nul_and_other_odd_values_load_into_postgres(
    meltano, pg_cluster, make_sandbox
):
    sandbox = make_sandbox(crm_api=CRMAPI(size=12))
    crm = sandbox.crm
    # PostgreSQL text cannot hold U+0000: target-postgres rejects the record unless its
    # sanitize_null_text_characters is on (meltano.yml), which writes U+FFFD instead.
    note = crm.modify("notes", 2, text="before\u0000after")
    contact = crm.records["contacts"][4]
    crm.oddities.put(contact, "first_name", "Zo\ud800")  # JSON "\ud800": not valid Unicode
    crm.oddities.put(contact, "starred", "false")
    for company in crm.records["companies"][:3]:
        crm.oddities.put(company, "modified_at", MISSING)
    database = pg_cluster.create_database("crm_odd_values")
    env = {**sandbox_env(sandbox), **pg_cluster.target_env(database)}

    meltano("run", "--state-id-suffix", "odd-values", "tap-crm", "target-postgres", env=env)

    with pg_cluster.connect(database) as conn:
        text = conn.execute("select text from tap_crm.notes where id = %s", (note["id"],))
        assert text.fetchone()[0] == "before\ufffdafter"
        row = conn.execute(
            "select first_name, starred from tap_crm.contacts where id = %s", (contact["id"],)
        ).fetchone()
        assert row == ("Zo\ufffd", False)
        for table in ("notes", "contacts", "companies"):
            count = conn.execute(f"select count(*) from tap_crm.{table}").fetchone()[0]  # noqa: S608
            assert count == 12, table
