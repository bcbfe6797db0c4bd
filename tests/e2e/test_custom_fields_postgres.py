"""`meltano run tap-crm target-postgres` with custom fields as typed columns, and without."""

from __future__ import annotations

import json

import pytest

from sandbox_api import CRMAPI
from tap_crm import schemas
from tap_crm.custom_fields import FIELD_LISTS, column_for
from tests.e2e.conftest import REPO_ROOT, sandbox_env

pytestmark = pytest.mark.e2e

STREAMS = ("contacts", "companies", "deals")
SELECT = {"TAP_CRM__SELECT": json.dumps([f"{stream}.*" for stream in STREAMS])}
BASE = {
    "contacts": schemas.CONTACT.to_dict(),
    "companies": schemas.COMPANY.to_dict(),
    "deals": schemas.DEAL.to_dict(),
}
# The column type target-postgres gives each custom-field column type.
SQL_TYPES = {"number": "numeric", "date": "date", "choices": "_text", "text": "text"}


def columns(conn, table: str) -> dict[str, str]:
    rows = conn.execute(
        "select column_name, udt_name from information_schema.columns "
        "where table_schema = 'tap_crm' and table_name = %s",
        (table,),
    )
    return dict(rows.fetchall())


def run(meltano, pg_cluster, sandbox, database: str, suffix: str, **env: str) -> None:
    meltano(
        "run",
        "--state-id-suffix",
        suffix,
        "tap-crm",
        "target-postgres",
        env={**sandbox_env(sandbox), **pg_cluster.target_env(database), **SELECT, **env},
    )


def test_custom_fields_become_typed_columns_with_every_value_and_off_the_tables_are_todays(
    meltano, pg_cluster, make_sandbox
):
    sandbox = make_sandbox(crm_api=CRMAPI(size=23))
    plain = pg_cluster.create_database("crm_custom_fields_off")
    typed = pg_cluster.create_database("crm_custom_fields_on")

    run(meltano, pg_cluster, sandbox, plain, "off")
    run(meltano, pg_cluster, sandbox, typed, "on", TAP_CRM_CUSTOM_FIELD_COLUMNS="true")

    with pg_cluster.connect(plain) as conn:
        for stream in STREAMS:
            names = {c for c in columns(conn, stream) if not c.startswith("_sdc_")}
            assert names == set(BASE[stream]["properties"]), stream
    with pg_cluster.connect(typed) as conn:
        for fields in FIELD_LISTS:
            table = columns(conn, fields.stream)
            expected = {}
            for definition in sandbox.crm.field_definitions[fields.kind]:
                if (name := column_for(fields.kind, definition)) is not None:
                    expected[name] = SQL_TYPES[name.rsplit("__", 1)[1]]
            assert {c: table[c] for c in table if c.startswith(f"{fields.kind}__")} == expected
            assert set(BASE[fields.stream]["properties"]) <= set(table)  # nothing else lost
            stored = {
                row[0]: row[1:]
                for row in conn.execute(
                    f"select id, {', '.join(expected)} from tap_crm.{fields.stream}"  # noqa: S608
                )
            }
            assert len(stored) == len(sandbox.crm.records[fields.stream])
            for record in sandbox.crm.records[fields.stream]:
                values = {
                    column_for(fields.kind, item[fields.kind]): item["value"]
                    for item in record[fields.array]
                }
                for name, value in zip(expected, stored[record["id"]], strict=True):
                    sent = values.get(name)
                    kind = name.rsplit("__", 1)[1]
                    if kind == "number":
                        sent = sent if isinstance(sent, (int, float)) else None
                        assert value == (None if sent is None else pytest.approx(sent))
                    elif kind == "date":
                        shown = None if value is None else value.isoformat()
                        assert shown == (sent if sent and sent[:2] == "20" else None)
                    elif kind == "choices":
                        assert value == (sent if isinstance(sent, list) else None)
                    else:
                        assert value == sent
        # docs/streams.md's report, before (unnest the JSON list) and after (the columns): the same.
        before, after = docs_report_queries()
        assert set(conn.execute(before).fetchall()) == set(conn.execute(after).fetchall())
        assert len(conn.execute(after).fetchall()) == 5  # four regions and contacts with none


def docs_report_queries() -> list[str]:
    page = (REPO_ROOT / "docs" / "streams.md").read_text()
    start = page.index("```sql\n-- before:")
    block = page[start + len("```sql\n") : page.index("```", start + 6)]
    return [query.strip() for query in block.split(";") if query.strip()]


def test_a_definition_added_between_two_runs_has_its_column_and_values_after_the_second(
    meltano, pg_cluster, make_sandbox
):
    sandbox = make_sandbox(crm_api=CRMAPI(size=12))
    database = pg_cluster.create_database("crm_custom_fields_added")
    env = {"TAP_CRM_CUSTOM_FIELD_COLUMNS": "true"}
    run(meltano, pg_cluster, sandbox, database, "added", **env)

    added = sandbox.crm.add_field_definition("deal_field", "date", "Signed on")
    deal = sandbox.crm.records["deals"][3]
    sandbox.crm.modify(
        "deals", 3, deal_fields=[*deal["deal_fields"], {"deal_field": added, "value": "2026-11-30"}]
    )
    run(meltano, pg_cluster, sandbox, database, "added", **env)

    name = column_for("deal_field", added)
    with pg_cluster.connect(database) as conn:
        assert columns(conn, "deals")[name] == "date"
        values = dict(conn.execute(f"select id, {name} from tap_crm.deals"))  # noqa: S608
    assert values.pop(deal["id"]).isoformat() == "2026-11-30"
    assert set(values.values()) == {None}
    assert len(values) == 11
