"""Under an orchestrator: state kept outside the container, jobs and schedules, several accounts."""

from __future__ import annotations

import json
import shutil

import pytest
from psycopg import sql

from sandbox_api import CRMAPI
from sandbox_api.crm import MODIFIED_SINCE
from tap_crm.streams import STREAM_TYPES
from tests import pg
from tests.e2e import warehouse
from tests.e2e.conftest import Meltano, sandbox_env

pytestmark = pytest.mark.e2e

CRM_KEYS = {stream.name: tuple(stream.primary_keys) for stream in STREAM_TYPES}


def system_database_uri(pg_cluster, name: str) -> str:
    """Meltano's system database in PostgreSQL, through psycopg 3 (``meltano[postgres]``)."""
    database = pg_cluster.create_database(name)
    return f"postgresql+psycopg://{pg.USER}:{pg.PASSWORD}@127.0.0.1:{pg_cluster.port}/{database}"


def test_state_in_postgres_survives_a_container_that_starts_empty(
    pg_cluster, make_sandbox, tmp_path
):
    sandbox = make_sandbox(crm_api=CRMAPI(size=60))
    env = {
        **sandbox_env(sandbox),
        **pg_cluster.target_env(pg_cluster.create_database("orchestrated")),
        "MELTANO_DATABASE_URI": system_database_uri(pg_cluster, "meltano_system"),
    }
    container = Meltano(tmp_path / "dot-meltano")  # this run's `.meltano/`

    container("install", "tap-crm", "target-postgres", env=env, timeout=600)
    container("run", "tap-crm", "target-postgres", env=env)
    first_run = len(sandbox.requests_to("crm"))

    # A new container: nothing left of the last one's `.meltano/` (venvs, sqlite database).
    shutil.rmtree(container.sys_dir)
    sandbox.clear_log()
    container("install", "tap-crm", "target-postgres", env=env, timeout=600)
    assert not (container.sys_dir / "meltano.db").exists()
    container("run", "tap-crm", "target-postgres", env=env)
    second_run = sandbox.requests_to("crm")

    # The saved state came back from PostgreSQL: every incremental stream asked for changes
    # only, and the run made a fraction of the first run's requests.
    for resource in MODIFIED_SINCE:
        requests = [r for r in second_run if r.path == f"/{resource}"]
        assert requests, resource
        assert all(r.arg("modified_since") for r in requests), resource
    print(f"requests: first run {first_run}, after a fresh container {len(second_run)}")
    # Full-table streams and companies (no modified_since) are read whole on every run.
    assert len(second_run) <= first_run * 0.6
    state = json.loads(
        container("state", "get", "sandbox:tap-crm-to-target-postgres", env=env).stdout
    )
    assert "contacts" in state["singer_state"]["bookmarks"]


def test_schedule_list_shows_a_daily_job_per_tap(meltano):
    schedules = json.loads(meltano("schedule", "list", "--format=json").stdout)["schedules"]
    jobs = {
        s["name"]: (s["interval"], s["job"]["name"], s["job"]["tasks"]) for s in schedules["job"]
    }
    assert jobs == {
        "crm-daily": ("@daily", "crm-to-postgres", ["tap-crm target-postgres"]),
        "calltracker-daily": (
            "@daily",
            "calltracker-to-postgres",
            ["tap-calltracker target-postgres"],
        ),
        # The weekly reconcile (deleted records), hours away from the daily runs.
        "reconcile-crm-weekly": (
            "0 12 * * 6",
            "reconcile-crm",
            ["tap-crm--reconcile target-postgres"],
        ),
        "reconcile-calltracker-weekly": (
            "0 14 * * 6",
            "reconcile-calltracker",
            ["tap-calltracker--reconcile target-postgres"],
        ),
    }


def account_env(name: str, sandbox) -> dict[str, str]:
    """An inherited extractor's own settings: ``tap-crm--acme`` reads ``TAP_CRM__ACME_*``."""
    prefix = f"TAP_CRM__{name.upper()}_"
    config = sandbox.crm_config()
    return {
        f"{prefix}USERNAME": config["username"],
        f"{prefix}PASSWORD": config["password"],
        f"{prefix}API_URL": config["api_url"],
        f"{prefix}PAGE_SIZE": "10",
    }


def two_accounts(make_sandbox):
    """Two accounts of one API, told apart by size and by a name in every contact."""
    accounts = {
        "acme": make_sandbox(crm_api=CRMAPI(size=7)),
        "globex": make_sandbox(crm_api=CRMAPI(size=16)),
    }
    for name, sandbox in accounts.items():
        for index, contact in enumerate(sandbox.crm.records["contacts"]):
            # Keep modified_at: this test is about accounts, not records edited in one second.
            sandbox.crm.modify(
                "contacts",
                index,
                company_name=f"{name} customer",
                modified_at=contact["modified_at"],
            )
    return accounts


def test_two_accounts_load_into_two_schemas_with_nothing_of_one_in_the_other(
    meltano, pg_cluster, make_sandbox
):
    accounts = two_accounts(make_sandbox)
    parent = make_sandbox(crm_api=CRMAPI(size=3))  # tap-crm's own account: must not be used
    database = pg_cluster.create_database("accounts")
    env = {
        **sandbox_env(parent),
        **pg_cluster.target_env(database),
        **account_env("acme", accounts["acme"]),
        **account_env("globex", accounts["globex"]),
    }

    meltano("run", "crm-accounts-to-postgres", env=env)

    assert parent.requests_to("crm") == []
    with pg_cluster.connect(database) as conn:
        for name, sandbox in accounts.items():
            schema = f"tap_crm__{name}"
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
            assert names == [(f"{name} customer",)]
    states = meltano("state", "list").stdout.split()
    assert "sandbox:tap-crm--acme-to-target-postgres" in states
    assert "sandbox:tap-crm--globex-to-target-postgres" in states


def test_an_account_without_its_own_credentials_fails_in_one_line(
    meltano, pg_cluster, make_sandbox
):
    parent = make_sandbox(crm_api=CRMAPI(size=3))
    env = {
        **sandbox_env(parent),  # tap-crm's credentials and URL are set ...
        **pg_cluster.target_env(pg_cluster.create_database("no_credentials")),
    }
    # ... tap-crm--globex's are not.
    result = meltano.may_fail("run", "tap-crm--globex", "target-postgres", env=env)

    output = result.stdout + result.stderr
    assert result.returncode != 0
    expected = (
        "Settings 'username' and 'password' are not set; extractor 'tap-crm--globex' needs "
        "its own: set TAP_CRM__GLOBEX_USERNAME and TAP_CRM__GLOBEX_PASSWORD."
    )
    assert [line for line in output.splitlines() if "are not set" in line] == [
        line for line in output.splitlines() if expected in line
    ]
    assert sum(expected in line for line in output.splitlines()) == 1, output[-3000:]
    assert "Traceback" not in output
    assert parent.requests_to("crm") == []  # tap-crm's account was not used
