"""Many accounts on Dagster, in process: each account a partition, its own schema and state.

The definitions are ``orchestration.definitions.build_definitions`` for an accounts file of
sandbox accounts; each partition's run is a real ``meltano run`` of the repo's project into
the session's PostgreSQL (tests/e2e/conftest.py).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import dagster as dg
import pytest
import yaml
from psycopg import sql

from orchestration.accounts import load_accounts
from orchestration.definitions import MeltanoProject, build_definitions, register_accounts
from sandbox_api import CRMAPI, CallTrackerAPI
from sandbox_api.crm import MODIFIED_SINCE
from tap_common.messages.timestamps import to_instant
from tap_crm.streams import STREAM_TYPES as CRM_STREAMS
from tests import plugin_prefork, prefork
from tests.e2e import warehouse
from tests.e2e.conftest import MELTANO_PRELOAD, VENV_BIN

pytestmark = pytest.mark.e2e

CRM_KEYS = {stream.name: tuple(stream.primary_keys) for stream in CRM_STREAMS}
CRM_SLUGS = ("north", "south", "east")
CALL_SLUGS = ("alpha", "beta")
# The backfill's calendar: three windows, the last ending before the sandbox's last calls.
WINDOWS = dg.TimeWindowPartitionsDefinition(
    start="2024-01-01", end="2025-09-01", cron_schedule="0 0 1 1,9 *", fmt="%Y-%m-%d"
)
BACKFILL_END = datetime(2025, 9, 1, tzinfo=timezone.utc)


# Where the launcher below finds the server it forks `meltano` from.
MELTANO_PREFORK = "TESTS_MELTANO_PREFORK_DIR"


@pytest.fixture(scope="module")
def meltano_command(tmp_path_factory):
    """``meltano`` for the partitions' runs, and what its environment needs: a launcher
    (tests/plugin_prefork.py) whose command is forked from a server that has imported
    Meltano (about a second of CPU saved per run), or the venv's ``meltano`` with PREFORK=0.
    """
    if not prefork.enabled():
        yield str(VENV_BIN / "meltano"), {}
        return
    servers = plugin_prefork.PluginServers()
    servers.start(VENV_BIN / "python", "meltano", MELTANO_PRELOAD)
    launcher = tmp_path_factory.mktemp("meltano-launcher") / "meltano"
    launcher.write_text(
        plugin_prefork.LAUNCHER.format(
            python=str(VENV_BIN / "python"),
            script=str(VENV_BIN / "meltano"),
            env=MELTANO_PREFORK,
            key="meltano",
        )
    )
    launcher.chmod(0o755)
    servers.wait_ready()
    yield str(launcher), {MELTANO_PREFORK: servers.directory}
    servers.close()


def account_entry(tap: str, slug: str, url: str) -> dict:
    """An accounts-file entry whose credentials are in variables named after the slug."""
    names = ("username", "password") if tap == "tap-crm" else ("api_id", "api_token")
    return {
        "slug": slug,
        "credentials": {name: f"T26_{slug.upper()}_{name.upper()}" for name in names},
        "settings": {"api_url": url, "page_size": 10},
    }


def credentials(tap: str, slug: str, sandbox, *, wrong: bool = False) -> dict[str, str]:
    config = sandbox.crm_config() if tap == "tap-crm" else sandbox.calltracker_config()
    names = ("username", "password") if tap == "tap-crm" else ("api_id", "api_token")
    values = {f"T26_{slug.upper()}_{n.upper()}": str(config[n]) for n in names}
    if wrong:
        values[f"T26_{slug.upper()}_{names[1].upper()}"] = "not-the-key"
    return values


@pytest.fixture
def setup(meltano, meltano_command, pg_cluster, make_sandbox, tmp_path, monkeypatch):  # noqa: PLR0917
    """Three CRM accounts, two call-API companies, one CRM account with a wrong key, and a
    company for the backfill; the accounts file, the definitions, an ephemeral instance."""
    crm = {slug: make_sandbox(crm_api=CRMAPI(size=4 + 3 * i)) for i, slug in enumerate(CRM_SLUGS)}
    for slug, sandbox in crm.items():
        for index, contact in enumerate(sandbox.crm.records["contacts"]):
            # Tell the accounts apart in every contact (modified_at kept: not a change).
            sandbox.crm.modify(
                "contacts",
                index,
                company_name=f"{slug} customer",
                modified_at=contact["modified_at"],
            )
    calls = {
        slug: make_sandbox(calltracker_api=CallTrackerAPI(size=5 + 4 * i))
        for i, slug in enumerate(CALL_SLUGS)
    }
    wrong = make_sandbox(crm_api=CRMAPI(size=3))
    history = make_sandbox(calltracker_api=CallTrackerAPI(size=3, sizes={"calls": 36}))
    document = {
        "tap-crm": [account_entry("tap-crm", s, crm[s].crm_url) for s in CRM_SLUGS]
        + [account_entry("tap-crm", "wrong", wrong.crm_url)],
        "tap-calltracker": [
            account_entry("tap-calltracker", s, calls[s].calltracker_url) for s in CALL_SLUGS
        ]
        + [account_entry("tap-calltracker", "history", history.calltracker_url)],
    }
    accounts_path = tmp_path / "accounts.yml"
    accounts_path.write_text(yaml.safe_dump(document))
    for slug, sandbox in crm.items():
        for name, value in credentials("tap-crm", slug, sandbox).items():
            monkeypatch.setenv(name, value)
    for name, value in credentials("tap-crm", "wrong", wrong, wrong=True).items():
        monkeypatch.setenv(name, value)
    for slug, sandbox in [*calls.items(), ("history", history)]:
        for name, value in credentials("tap-calltracker", slug, sandbox).items():
            monkeypatch.setenv(name, value)

    database = pg_cluster.create_database(f"dagster_{tmp_path.name[-20:].lower()}")
    executable, prefork_env = meltano_command
    project = MeltanoProject(
        executable=executable,
        env=meltano.env({**pg_cluster.target_env(database), **prefork_env}),
    )
    defs = build_definitions(
        accounts_path,
        retry_policy=dg.RetryPolicy(max_retries=1, delay=0),
        backfill_windows=WINDOWS,
        meltano_project=project,
    )
    # Its local artifacts in the test's folder: without a tempdir the instance makes a
    # TemporaryDirectory that is only cleaned up (with a ResourceWarning) when collected.
    instance = dg.DagsterInstance.ephemeral(tempdir=str(tmp_path / "dagster"))
    register_accounts(instance, load_accounts(accounts_path))
    return {
        "crm": crm,
        "calls": calls,
        "wrong": wrong,
        "history": history,
        "defs": defs,
        "instance": instance,
        "project": project,
        "database": database,
    }


def materialize(
    setup, asset: str, partition: str | dg.MultiPartitionKey
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [setup["defs"].resolve_assets_def(asset)],
        partition_key=partition,
        instance=setup["instance"],
        raise_on_error=False,
    )


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    (event,) = result.asset_materializations_for_node(asset)
    return {key: value.value for key, value in event.metadata.items()}


def test_accounts_sync_each_into_its_own_schema_and_the_wrong_one_fails_alone(
    setup, pg_cluster, meltano
):
    first = {slug: materialize(setup, "tap_crm", slug) for slug in (*CRM_SLUGS, "wrong")}
    first |= {slug: materialize(setup, "tap_calltracker", slug) for slug in CALL_SLUGS}

    assert {slug: r.success for slug, r in first.items()} == {
        **dict.fromkeys((*CRM_SLUGS, *CALL_SLUGS), True),
        "wrong": False,
    }
    # Exit code 1 is retried once (the test's policy), then the partition fails.
    assert len([r for r in setup["wrong"].requests_to("crm") if r.status == 401]) == 2
    (failure,) = [e for e in first["wrong"].all_events if e.event_type_value == "STEP_FAILURE"]
    told = failure.event_specific_data.user_failure_data
    assert told.description == "tap-crm 'wrong' failed (exit 1)."
    assert "The API refused the credentials (401" in told.metadata["output"].value

    with pg_cluster.connect(setup["database"]) as conn:
        schemas = {
            row[0] for row in conn.execute("select schema_name from information_schema.schemata")
        }
        assert {"tap_crm", "tap_calltracker"}.isdisjoint(schemas)  # nobody's shared place
        # The failed account may have a schema (its SCHEMA messages came first), no rows.
        tables = conn.execute(
            "select table_name from information_schema.tables where table_schema = 'tap_crm__wrong'"
        ).fetchall()
        for (table,) in tables:
            query = sql.SQL("select count(*) from {}").format(
                sql.Identifier("tap_crm__wrong", table)
            )
            assert conn.execute(query).fetchone() == (0,), table
        for slug, sandbox in setup["crm"].items():
            schema = f"tap_crm__{slug}"
            problems = {
                stream: diff
                for stream, key in CRM_KEYS.items()
                if (
                    diff := warehouse.differences(
                        conn, schema, stream, key, sandbox.crm.expected(stream)
                    )
                )
            }
            assert problems == {}, schema
            names = conn.execute(
                sql.SQL("select distinct company_name from {}").format(
                    sql.Identifier(schema, "contacts")
                )
            ).fetchall()
            assert names == [(f"{slug} customer",)]
            shown = metadata(first[slug], "tap_crm")
            assert shown["records_by_stream"]["contacts"] == len(sandbox.crm.expected("contacts"))
            assert shown["requests"] >= len(CRM_KEYS)
            assert shown["throttled_answers"] == 0
            assert shown["schema"] == schema
        for slug, sandbox in setup["calls"].items():
            schema = f"tap_calltracker__{slug}"
            stored = sorted(r["id"] for r in warehouse.rows(conn, schema, "calls"))
            assert stored == sorted(c["id"] for c in sandbox.calltracker.expected("calls"))
            shown = metadata(first[slug], "tap_calltracker")
            assert shown["records_by_stream"]["calls"] == len(stored)

    # A second materialization reads only what changed, per account.
    changed = setup["crm"]["south"].crm.modify("contacts", 0, company_name="south, changed")
    for sandbox in (*setup["crm"].values(), *setup["calls"].values()):
        sandbox.clear_log()
    second = {slug: materialize(setup, "tap_crm", slug) for slug in CRM_SLUGS}
    second |= {slug: materialize(setup, "tap_calltracker", slug) for slug in CALL_SLUGS}
    assert all(r.success for r in second.values())
    for slug, sandbox in setup["crm"].items():
        for resource in MODIFIED_SINCE:
            requests = sandbox.requests_to("crm", f"/{resource}")
            assert requests, (slug, resource)
            assert all(r.arg("modified_since") for r in requests), (slug, resource)
        assert metadata(second[slug], "tap_crm")["records_by_stream"].get("contacts", 0) < len(
            sandbox.crm.expected("contacts")
        )
    for slug, sandbox in setup["calls"].items():
        assert all(r.arg("from") for r in sandbox.requests_to("calltracker", "/calls")), slug
    with pg_cluster.connect(setup["database"]) as conn:
        (name,) = conn.execute(
            "select company_name from tap_crm__south.contacts where id = %s", (changed["id"],)
        ).fetchone()
        assert name == "south, changed"
    states = meltano("state", "list").stdout.split()
    assert {f"sandbox:tap-crm-to-target-postgres:{s}" for s in CRM_SLUGS} <= set(states)


def test_a_calls_backfill_in_three_windows_loads_every_call_once(setup, pg_cluster, meltano):
    history = setup["history"]
    windows = WINDOWS.get_partition_keys()
    assert len(windows) == 3

    counts = {}
    for window in windows:
        key = dg.MultiPartitionKey({"account": "history", "window": window})
        result = materialize(setup, "tap_calltracker_calls_backfill", key)
        assert result.success, window
        counts[window] = metadata(result, "tap_calltracker_calls_backfill")[
            "records_by_stream"
        ].get("calls", 0)

    wanted = [
        c
        for c in history.calltracker.expected("calls")
        if c["started_at"] < BACKFILL_END.timestamp()
    ]
    assert 0 < len(wanted) < len(history.calltracker.expected("calls"))
    # Every call of the backfill's range read by exactly one window, and loaded once.
    assert sum(counts.values()) == len(wanted)
    assert all(counts.values()), counts
    with pg_cluster.connect(setup["database"]) as conn:
        stored = [r["id"] for r in warehouse.rows(conn, "tap_calltracker__history", "calls")]
    assert sorted(stored) == sorted(c["id"] for c in wanted)  # each once, none past the end
    # Each window has its state; the daily run's state was never made or moved.
    states = meltano("state", "list").stdout.split()
    assert "sandbox:tap-calltracker-to-target-postgres:history" not in states
    for window in windows:
        state_id = f"sandbox:tap-calltracker-to-target-postgres:history.calls.{window}"
        state = json.loads(meltano("state", "get", state_id).stdout)
        bookmark = state["singer_state"]["bookmarks"]["calls"]["replication_key_value"]
        end = WINDOWS.time_window_for_partition_key(window).end
        assert to_instant(bookmark) <= end, window
