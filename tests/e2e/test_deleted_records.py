"""Deleted records reach PostgreSQL through ``meltano run``: marked after a complete read only.

Real target-postgres 0.8.1 (``activate_version`` on, ``hard_delete`` off unless a test says),
the repo's ``meltano.yml``, records deleted in the sandbox between runs.
"""

from __future__ import annotations

import json
import typing as t

import pytest
from psycopg import sql

from sandbox_api import CRMAPI
from sandbox_api.calltracker import CallTrackerAPI
from sandbox_api.deletions import record_key
from tests.e2e.conftest import TapCase, sandbox_env

pytestmark = pytest.mark.e2e

SIZE = 23  # three pages of 10
# Full-table streams with records to delete, and enough of them for two pages of 10.
DELETED = {
    "tap-crm": {"pipelines": 5, "statuses": 5},
    "tap-calltracker": {"users": 5, "tags": 5, "webhooks": 5},
}
SIZES = {"pipelines": 12, "statuses": 12, "users": 12, "tags": 12, "webhooks": 12}
# In this branch calltracker users are incremental; engineer #10 makes them FULL_TABLE.
# Meltano's metadata extra does the same here, so the test holds either way.
USERS_FULL_TABLE = {
    "TAP_CALLTRACKER__METADATA": json.dumps({"users": {"forced-replication-method": "FULL_TABLE"}})
}


# What the full-table tests select (Meltano's `select` extra, as $TAP_..._SELECT): the streams
# records are deleted from, and beside them streams whose rows must never be marked: an
# untouched full-table one and the incremental ones with their own ways of paging (an
# ACTIVATE_VERSION sent for an incremental read would mark every row it did not return).
# Each stream costs target-postgres a table (some 0.1 s of CPU per run), so not all of them.
# https://docs.meltano.com/concepts/plugins#select-extra
SELECTED = {
    "tap-crm": [*DELETED["tap-crm"], "users", "contacts", "companies", "actions"],
    "tap-calltracker": [*DELETED["tap-calltracker"], "user_availability", "contacts", "calls"],
}


def select_env(tap: TapCase) -> dict[str, str]:
    prefix = tap.name.upper().replace("-", "_")
    return {f"{prefix}__SELECT": json.dumps([f"{stream}.*" for stream in SELECTED[tap.name]])}


def make_sandbox_for(make_sandbox: t.Callable[..., t.Any]) -> t.Any:
    return make_sandbox(
        crm_api=CRMAPI(size=SIZE, sizes=SIZES),
        calltracker_api=CallTrackerAPI(size=SIZE, sizes=SIZES),
    )


def env_for(tap: TapCase, sandbox: t.Any, pg_cluster: t.Any, database: str, **extra: str) -> dict:
    return {**sandbox_env(sandbox), **pg_cluster.target_env(database), **extra}


def activate_env(tap: TapCase) -> dict[str, str]:
    prefix = tap.name.upper().replace("-", "_")
    return {f"{prefix}_EMIT_ACTIVATE_VERSION_MESSAGES": "true", **USERS_FULL_TABLE}


def deleted_at(conn: t.Any, schema: str, table: str, key: str) -> dict[t.Any, t.Any]:
    """Primary key -> ``_sdc_deleted_at`` of every row of a table."""
    query = sql.SQL("select {}, _sdc_deleted_at from {}").format(
        sql.Identifier(key), sql.Identifier(schema, table)
    )
    return dict(conn.execute(query).fetchall())


def marked_rows(conn: t.Any, schema: str, table: str) -> int:
    """Rows of a table marked deleted."""
    query = sql.SQL("select count(*) from {} where _sdc_deleted_at is not null").format(
        sql.Identifier(schema, table)
    )
    return conn.execute(query).fetchone()[0]


def delete_some(tap: TapCase, sandbox: t.Any) -> dict[str, set]:
    api = getattr(sandbox, tap.api)
    gone = {}
    for stream, count in DELETED[tap.name].items():
        # Spread over both pages: the first, a middle one and the last ones.
        rows = api.expected(stream)
        picks = [rows[i] for i in (0, 3, 6, 10, 11)[:count]]
        gone[stream] = {record_key(r) for r in api.delete(stream, [record_key(r) for r in picks])}
    return gone


# A full-table stream whose path no other stream's contains (the fault matches substrings).
FAILING = {"tap-crm": "pipelines", "tap-calltracker": "tags"}


@pytest.mark.parametrize("hard", [False, True], ids=["soft", "hard"])
def test_full_table_streams_mark_exactly_the_deleted_rows_then_restored_ones_live_again(
    meltano, pg_cluster, make_sandbox, tap_case, hard
):
    sandbox = make_sandbox_for(make_sandbox)
    database = pg_cluster.create_database(f"deleted_{tap_case.namespace}_{int(hard)}")
    extra = {
        **activate_env(tap_case),
        **select_env(tap_case),
        "TARGET_POSTGRES_HARD_DELETE": str(hard).lower(),
    }
    env = env_for(tap_case, sandbox, pg_cluster, database, **extra)
    run = ("run", "--state-id-suffix", f"deleted-{int(hard)}", tap_case.name, "target-postgres")

    meltano(*run, env=env)
    with pg_cluster.connect(database) as conn:
        tables = conn.execute(
            "select table_name from information_schema.tables where table_schema = %s",
            (tap_case.namespace,),
        ).fetchall()
        assert {row[0] for row in tables} == set(SELECTED[tap_case.name])
        before = {
            stream: deleted_at(conn, tap_case.namespace, stream, tap_case.keys[stream][0])
            for stream in DELETED[tap_case.name]
        }
    assert all(set(v.values()) == {None} for v in before.values())

    gone = delete_some(tap_case, sandbox)
    meltano(*run, env=env)

    with pg_cluster.connect(database) as conn:
        for stream, ids in gone.items():
            after = deleted_at(conn, tap_case.namespace, stream, tap_case.keys[stream][0])
            if hard:
                assert set(after) == set(before[stream]) - ids, stream
                assert set(after.values()) == {None}, stream
            else:
                marked = {key for key, when in after.items() if when is not None}
                assert marked == ids, stream
                assert set(after) == set(before[stream]), stream  # every other row intact
        # No other table lost or marked a row (but a deleted user's availability row goes
        # with it: the call API lists availabilities of existing users only).
        if "users" in gone:
            after = deleted_at(conn, tap_case.namespace, "user_availability", "id")
            retired = (
                set(before["users"]) - set(after)
                if hard
                else {key for key, when in after.items() if when is not None}
            )
            assert retired == gone["users"]
        for stream in SELECTED[tap_case.name]:
            if stream in gone or (stream == "user_availability" and "users" in gone):
                continue
            assert marked_rows(conn, tap_case.namespace, stream) == 0, stream

    if hard:
        return
    # A record that comes back is live after the next read that returns it.
    stream = next(iter(gone))
    back = sorted(gone[stream], key=str)[0]
    getattr(sandbox, tap_case.api).restore(stream, [back])
    meltano(*run, env=env)
    with pg_cluster.connect(database) as conn:
        after = deleted_at(conn, tap_case.namespace, stream, tap_case.keys[stream][0])
        assert after[back] is None
        assert {key for key, when in after.items() if when is not None} == gone[stream] - {back}


def test_a_full_read_failing_halfway_marks_no_row(meltano, pg_cluster, make_sandbox, tap_case):
    sandbox = make_sandbox_for(make_sandbox)
    database = pg_cluster.create_database(f"failing_{tap_case.namespace}")
    prefix = tap_case.name.upper().replace("-", "_")
    # Pages of 5: the 7 records left after the deletions take two pages.
    extra = {**activate_env(tap_case), **select_env(tap_case), f"{prefix}_PAGE_SIZE": "5"}
    env = env_for(tap_case, sandbox, pg_cluster, database, **extra)
    run = ("run", "--state-id-suffix", "failing", tap_case.name, "target-postgres")
    meltano(*run, env=env)

    # What a wrongly sent ACTIVATE_VERSION would retire (only in the stream that fails:
    # the other streams' reads complete and may retire what was deleted from them).
    stream = FAILING[tap_case.name]
    api = getattr(sandbox, tap_case.api)
    api.delete(stream, [record_key(r) for r in api.expected(stream)[:5]])
    path = tap_case.paths[stream]
    # Its first page answers; from the second on the API fails, retries included.
    sandbox.faults.fail(status=503, times=None, api=tap_case.api, path=path, after=1)
    result = meltano.may_fail(*run, env=env)
    assert result.returncode != 0

    with pg_cluster.connect(database) as conn:
        for name in SELECTED[tap_case.name]:
            assert marked_rows(conn, tap_case.namespace, name) == 0, name


RECONCILE = {
    "tap-crm": ("tap-crm--reconcile", "contacts"),
    "tap-calltracker": ("tap-calltracker--reconcile", "contacts"),
}


def test_reconcile_marks_exactly_the_deleted_contacts_and_leaves_the_daily_job_alone(
    meltano, pg_cluster, make_sandbox, tap_case
):
    sandbox = make_sandbox_for(make_sandbox)
    api = getattr(sandbox, tap_case.api)
    database = pg_cluster.create_database(f"reconcile_{tap_case.namespace}")
    env = env_for(tap_case, sandbox, pg_cluster, database)
    reconciler, stream = RECONCILE[tap_case.name]
    daily = ("run", "--state-id-suffix", "reconcile", tap_case.name, "target-postgres")
    reconcile = ("run", "--state-id-suffix", "reconcile", reconciler, "target-postgres")
    daily_state_id = f"sandbox:{tap_case.name}-to-target-postgres:reconcile"

    meltano(*daily, env=env)
    sandbox.clear_log()
    meltano(*daily, env=env)
    daily_requests = len(sandbox.requests_to(tap_case.api))
    state_before = meltano("state", "get", daily_state_id).stdout

    ids = [record_key(r) for r in api.expected(stream)[::2][:10]]
    api.delete(stream, ids)
    sandbox.clear_log()
    meltano(*reconcile, env=env)
    if tap_case.name == "tap-calltracker":
        assert sandbox.requests_to("calltracker", "/calls") == []  # calls stay out

    with pg_cluster.connect(database) as conn:
        after = deleted_at(conn, tap_case.namespace, stream, "id")
        assert {key for key, when in after.items() if when is not None} == set(ids)
        assert len(after) == SIZE
        for name in tap_case.keys:
            if name == stream:
                continue
            assert marked_rows(conn, tap_case.namespace, name) == 0, name
        # The reconcile wrote into the daily job's schema, not one named after itself.
        schemas = {row[0] for row in conn.execute("select nspname from pg_namespace")}
        assert reconciler.replace("-", "_") not in schemas

    # The daily job's bookmarks are untouched; its next run costs what it did before.
    assert meltano("state", "get", daily_state_id).stdout == state_before
    # A contact restored with a new modification time: that next daily run brings it back.
    api.restore(stream, [ids[0]], touch=True)
    sandbox.clear_log()
    meltano(*daily, env=env)
    assert len(sandbox.requests_to(tap_case.api)) <= daily_requests
    with pg_cluster.connect(database) as conn:
        after = deleted_at(conn, tap_case.namespace, stream, "id")
        assert after[ids[0]] is None
        assert {key for key, when in after.items() if when is not None} == set(ids[1:])
