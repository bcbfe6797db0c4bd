"""No credential in any output or table, even one loaded by 0.1.x; renamed users get renamed.

``fixtures/schemas_0.1.0.json`` holds the SCHEMA of every stream as version 0.1.0 of the taps
discovered it (``--discover`` of the 0.1.0 release), so a warehouse table can be created here
exactly as that version created it, holding the secrets that version loaded.
"""

from __future__ import annotations

import json
import subprocess
import typing as t
from pathlib import Path

import pytest
from psycopg import sql

from sandbox_api.calltracker_data import fingerprint
from sandbox_api.crm import PASSWORD
from tests.e2e import warehouse
from tests.e2e.conftest import TAPS, VENV_BIN, clean_environ, make_both_apis, sandbox_env

if t.TYPE_CHECKING:
    from sandbox_api import Sandbox

pytestmark = pytest.mark.e2e

OLD_SCHEMAS = json.loads((Path(__file__).parent / "fixtures" / "schemas_0.1.0.json").read_text())


def secrets_of(sandbox: Sandbox) -> list[str]:
    """What must never reach a record: the CRM API key, every webhook token."""
    tokens = [w["token"] for w in sandbox.calltracker.records["webhooks"]]
    assert tokens
    assert sandbox.crm.bootstrap()["auth_key"] == PASSWORD  # the API does answer it
    return [PASSWORD, *tokens]


def target_config(pg_cluster, database: str, schema: str, path: Path) -> Path:
    """target-postgres settings as meltano.yml gives them."""
    env = pg_cluster.target_env(database)
    config = {
        "host": env["TARGET_POSTGRES_HOST"],
        "port": int(env["TARGET_POSTGRES_PORT"]),
        "user": env["TARGET_POSTGRES_USER"],
        "password": env["TARGET_POSTGRES_PASSWORD"],
        "database": database,
        "default_target_schema": schema,
        "load_method": "upsert",
        "add_record_metadata": True,
        "activate_version": True,
        "hard_delete": False,
        "use_copy": True,
        "validate_records": True,
    }
    path.write_text(json.dumps(config))
    return path


def load(meltano, config: Path, messages: list[dict] | str) -> subprocess.CompletedProcess:
    text = messages if isinstance(messages, str) else "\n".join(map(json.dumps, messages))
    return subprocess.run(
        [str(meltano.plugin_executable("loaders", "target-postgres")), "--config", str(config)],
        input=text,
        capture_output=True,
        text=True,
        env=clean_environ(**meltano.forked_plugins),
        timeout=300,
        check=False,
    )


def old_version_messages(tap: str, records: dict[str, list[dict]]) -> list[dict]:
    """Every stream's 0.1.0 SCHEMA, then the records 0.1.0 emitted for some of them."""
    messages: list[dict] = []
    for stream, spec in OLD_SCHEMAS[tap].items():
        messages.append({"type": "SCHEMA", "stream": stream, **spec})
        messages += [{"type": "RECORD", "stream": stream, "record": r} for r in records.get(stream, [])]  # fmt: skip
    return messages


def every_value_in(conn, schema: str) -> str:
    """Every row of every table of a schema, as JSON text."""
    tables = [r[0] for r in conn.execute(
        "select table_name from information_schema.tables where table_schema = %s", (schema,)
    )]  # fmt: skip
    assert tables
    return "\n".join(
        row[0]
        for table in tables
        for row in conn.execute(
            sql.SQL("select row_to_json(t)::text from {} t").format(sql.Identifier(schema, table))
        )
    )


def test_tables_loaded_by_0_1_lose_their_secrets_and_keep_loading(
    meltano, pg_cluster, make_sandbox, tmp_path
):
    sandbox = make_both_apis(make_sandbox, size=12)
    secrets = secrets_of(sandbox)
    database = pg_cluster.create_database("upgrade_from_0_1")
    crm_target = target_config(pg_cluster, database, "tap_crm", tmp_path / "crm.json")
    calltracker_target = target_config(pg_cluster, database, "tap_calltracker", tmp_path / "ct.json")  # fmt: skip

    # What 0.1.x left behind: every table in its old types, the API key and tokens in rows.
    old_bootstrap = {**sandbox.crm.bootstrap(), "next_action_dates": ["today", "tomorrow"]}
    old_bootstrap["settings"] = {"time_zone": "Europe/Dublin"}
    old_bootstrap["cost_setup"] = {"commission_percentage": 10}
    old_webhooks = [dict(w) for w in sandbox.calltracker.records["webhooks"]]
    for target, tap, records in (
        (crm_target, "tap_crm", {"bootstrap": [old_bootstrap]}),
        (calltracker_target, "tap_calltracker", {"webhooks": old_webhooks}),
    ):
        result = load(meltano, target, old_version_messages(tap, records))
        assert result.returncode == 0, result.stderr[-3000:]
    with pg_cluster.connect(database) as conn:
        for schema in ("tap_crm", "tap_calltracker"):
            assert any(s in every_value_in(conn, schema) for s in secrets), schema
        types = warehouse.column_types(conn, "tap_crm", "bootstrap")
        assert types["next_action_dates"] == "_text"  # 0.1.0: an array of strings

    # No migration step: the new version's runs, as a user's `meltano run` does them.
    env = {**sandbox_env(sandbox), **pg_cluster.target_env(database)}
    for tap in TAPS:
        meltano("run", "--state-id-suffix", "upgrade", tap.name, "target-postgres", env=env)

    with pg_cluster.connect(database) as conn:
        for schema in ("tap_crm", "tap_calltracker"):
            everything = every_value_in(conn, schema)
            assert not [s for s in secrets if s in everything], schema
        (auth_key, dates) = conn.execute(
            "select auth_key, next_action_dates from tap_crm.bootstrap"
        ).fetchone()
        assert auth_key is None
        # target-postgres 0.8.1 keeps the 0.1.x column (text[]): each object as JSON text.
        assert [json.loads(d) for d in dates] == sandbox.crm.bootstrap()["next_action_dates"]
        webhooks = conn.execute(
            "select webhook_id, token, token_fingerprint from tap_calltracker.webhooks"
        ).fetchall()
        assert len(webhooks) == len(old_webhooks)
        by_id = {w["webhook_id"]: w["token"] for w in old_webhooks}
        assert all(token is None for _, token, _ in webhooks)
        assert all(fp == fingerprint(by_id[wid]) for wid, _, fp in webhooks)
        # New and retyped columns, as target-postgres created them.
        crm_types = warehouse.column_types(conn, "tap_crm", "bootstrap")
        assert crm_types["next_action_dates"] == "_text"  # unchanged: not altered
        assert crm_types["auth_key"] == "text"
        assert warehouse.column_types(conn, "tap_crm", "contacts")["type"] == "text"
        numbers = warehouse.column_types(conn, "tap_calltracker", "numbers")
        assert (numbers["e164_digits"], numbers["updated_at"]) == ("text", "timestamp")
        hooks = warehouse.column_types(conn, "tap_calltracker", "webhooks")
        assert (hooks["token"], hooks["token_fingerprint"]) == ("text", "text")


def test_calltracker_user_renamed_between_runs_is_renamed_in_postgres(
    meltano, pg_cluster, make_sandbox
):
    sandbox = make_both_apis(make_sandbox, size=12)
    database = pg_cluster.create_database("calltracker_renames")
    env = {**sandbox_env(sandbox), **pg_cluster.target_env(database)}
    run = ("run", "--state-id-suffix", "renames", "tap-calltracker", "target-postgres")
    meltano(*run, env=env)

    user = sandbox.calltracker.modify("users", 2, name="Renée Renommée")
    team = sandbox.calltracker.modify("teams", 0, name="Équipe B")
    number = sandbox.calltracker.modify("numbers", 1, name="Ligne réaffectée")
    meltano(*run, env=env)

    with pg_cluster.connect(database) as conn:
        for table, record in (("users", user), ("teams", team), ("numbers", number)):
            rows = conn.execute(
                sql.SQL("select id, name from {}").format(sql.Identifier("tap_calltracker", table))
            ).fetchall()
            assert len(rows) == len(sandbox.calltracker.records[table]), table
            assert dict(rows)[record["id"]] == record["name"], table


def test_no_secret_in_plain_stdout_or_target_jsonl(meltano, make_sandbox, tmp_path):
    sandbox = make_both_apis(make_sandbox, size=8)
    secrets = secrets_of(sandbox)
    for tap in TAPS:
        config = tmp_path / f"{tap.name}.json"
        config.write_text(json.dumps(tap.config(sandbox)))
        plain = subprocess.run(
            [str(VENV_BIN / tap.name), "--config", str(config)],
            capture_output=True, text=True, env=clean_environ(), timeout=300, check=True,
        )  # fmt: skip
        assert '"type":"RECORD"' in plain.stdout.replace(" ", "")
        assert not [s for s in secrets if s in plain.stdout or s in plain.stderr], tap.name

        out = tmp_path / tap.name
        env = {**sandbox_env(sandbox), "TARGET_JSONL_DESTINATION_PATH": str(out)}
        meltano("run", "--state-id-suffix", "secrets", tap.name, "target-jsonl", env=env)
        written = "\n".join(p.read_text() for p in sorted(out.glob("*.jsonl")))
        assert {"bootstrap", "webhooks"} & {p.stem for p in out.glob("*.jsonl")}
        assert not [s for s in secrets if s in written], tap.name
    bootstrap = [json.loads(x) for x in (tmp_path / "tap-crm" / "bootstrap.jsonl").read_text().splitlines()]  # fmt: skip
    assert [b["auth_key"] for b in bootstrap] == [None]
