"""Fixtures: a sandbox API on 127.0.0.1 per test, and waits made instant (``no_sleep``)."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import typing as t

import pytest

from sandbox_api import CRMAPI, Sandbox
from sandbox_api.variations import Variations
from tap_common.http import pacing

# The programs tests start (taps, Meltano, the targets in the venvs ``meltano install``
# makes, which uv installs without bytecode) keep their compiled modules instead of compiling
# every module again on each of some hundred process starts, on a machine that sets
# PYTHONDONTWRITEBYTECODE (this one does): target-postgres --about takes 1.8 s without its
# bytecode, 0.65 s with it. https://docs.python.org/3/using/cmdline.html#envvar-PYTHONDONTWRITEBYTECODE
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--all-switches",
        action="store_true",
        default=False,
        help="run every sandbox with every ordering/paging variation switched on (by hand)",
    )


# End-to-end tests by what one takes (seconds, measured; others count 5): Meltano runs, mostly.
E2E_SECONDS = {
    "test_accounts_sync_each_into_its_own_schema_and_the_wrong_one_fails_alone": 25,
    "test_reconcile_marks_exactly_the_deleted_contacts_and_leaves_the_daily_job_alone": 21,
    "test_state_in_postgres_survives_a_container_that_starts_empty": 20,
    "test_full_table_streams_mark_exactly_the_deleted_rows_then_restored_ones_live_again": 12,
    "test_tables_loaded_by_0_1_lose_their_secrets_and_keep_loading": 10,
    "test_demo_without_credentials_syncs_both_taps_from_the_sandbox_into_jsonl": 10,
    "test_a_calls_backfill_in_three_windows_loads_every_call_once": 6,
    "test_calltracker_into_postgres_then_only_changes_are_read_and_upserted": 10,
    "test_second_meltano_run_reads_only_changes_and_upserts_them": 10,
    "test_two_accounts_load_into_two_schemas_with_nothing_of_one_in_the_other": 10,
    "test_a_full_read_failing_halfway_marks_no_row": 8,
    "test_calltracker_user_renamed_between_runs_is_renamed_in_postgres": 8,
}


# Unit tests that take seconds (on 2 cores, under the whole suite's load): each worker runs
# those of its share first, so that what is left to steal at the end is short.
UNIT_SECONDS = {
    "test_crm_output_is_the_same_with_or_without_fetching_ahead": 5,
    "test_incremental_calls_window_from_the_bookmark_past_the_cap": 5,
    "test_exactly_10000_calls_are_read_by_re_anchored_queries_that_never_page_deep": 5,
    "test_12000_calls_arrive_once_in_time_windows_without_a_refused_request": 5,
    "test_capped_total_and_null_link_12000_calls_arrive_once": 4,
    "test_crm_sync_with_server_errors_and_rate_limit_delivers_every_record_once": 4,
    "test_every_record_of_all_streams_once_then_every_edit_and_new_record": 3,
    "test_signal_mid_sync_exits_non_zero_with_last_state_and_resume_loses_nothing": 3,
    "test_crm_union_of_a_run_and_the_next_holds_every_surviving_record": 3,
    "test_a_response_that_always_trickles_fails_in_one_line": 3,
    "test_a_run_killed_at_any_page_and_resumed_from_its_last_state_loses_nothing": 3,
    "test_capped_total_and_null_link_12000_contacts_arrive_once": 3,
    "test_property_every_record_once_per_run_and_every_edit_next_run": 3,
    "test_cap_total_caps_meta_total_and_nulls_the_link_at_the_cap": 3,
    "test_calltracker_union_of_a_run_and_the_next_holds_every_surviving_record": 2,
    "test_every_predefined_record_arrives_once_whatever_the_api_does_with_page": 2,
    "test_contacts_first_run_gets_past_the_cap_in_creation_windows": 2,
    "test_more_than_10000_contacts_changed_since_the_bookmark_all_arrive_once": 2,
    "test_windows_meet_without_gap_or_overlap": 2,
}


# Unit tests each worker runs before its first end-to-end test, while the one-time
# `meltano install` runs in the background (``_install_meltano_early``).
LEAD_IN = 40


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: a worker per CPU, and one for the tests that wait on a real clock."""
    return (os.cpu_count() or 1) + 1


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Spread the end-to-end tests over the pytest-xdist workers, longest first, and give
    the tests that wait on a real clock (``waits``) a worker of their own.

    ``worksteal`` gives each of the N workers a contiguous 1/N of this list and lets an idle
    worker take the END of a busy one's share. So the list is N shares of equal length. With
    three workers or more the last share starts with the waiting tests, which sleep beside
    the CPU-bound tests of the others instead of after them, and has no e2e test. The other
    shares each have their part of the e2e tests (balanced by ``E2E_SECONDS``, longest first)
    after a few unit tests and before the rest: every one of those workers runs Meltano from
    the start (no chain of Meltano runs on one worker), and what is left to steal at the end
    is short tests (the units after them longest first, by ``UNIT_SECONDS``). Every worker
    computes the same order (pytest-xdist requires it).
    """
    workers = max(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")), 1)
    e2e = [item for item in items if item.get_closest_marker("e2e") is not None]
    waiting = [item for item in items if item.get_closest_marker("waits") is not None]
    placed = {id(item) for item in (*e2e, *waiting)}
    units = [item for item in items if id(item) not in placed]
    e2e_shares = workers - 1 if workers >= 3 else workers

    def seconds(item: pytest.Item) -> int:
        return E2E_SECONDS.get(getattr(item, "originalname", item.name), 5)

    groups: list[list[pytest.Item]] = [[] for _ in range(workers)]
    loads = [0] * e2e_shares
    for item in sorted(e2e, key=seconds, reverse=True):  # stable: ties keep file order
        share = loads.index(min(loads))
        groups[share].append(item)
        loads[share] += seconds(item)
    groups[-1] = waiting + groups[-1]
    ordered: list[pytest.Item] = []
    for share, group in enumerate(groups):
        # The scheduler's split: share i ends at len(items) * (i + 1) // workers.
        size = len(items) * (share + 1) // workers - len(ordered)
        own = [units.pop(0) for _ in range(min(max(size - len(group), 0), len(units)))]
        lead_in = 0 if group[: len(waiting)] == waiting and waiting else LEAD_IN
        rest = sorted(own[lead_in:], key=lambda item: -UNIT_SECONDS.get(_name(item), 0))
        ordered += own[:lead_in] + group + rest
    ordered += units
    items[:] = ordered


def _name(item: pytest.Item) -> str:
    return getattr(item, "originalname", item.name)


_priority_lowered = False


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Under pytest-xdist, a worker lowers its CPU priority (nice 5) before its first test
    that does not wait on a real clock; the programs it starts inherit it. A test that waits
    (``waits``) then gets a CPU as soon as it wants one, as on an idle machine, and its
    timing holds while the other workers keep both cores busy.
    https://man7.org/linux/man-pages/man2/nice.2.html"""
    global _priority_lowered  # noqa: PLW0603 (once per worker process)
    if _priority_lowered or not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    if item.get_closest_marker("waits") is None:
        os.nice(5)
        _priority_lowered = True


@pytest.fixture(scope="session", autouse=True)
def _install_meltano_early(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Start the end-to-end tests' ``meltano install`` in a thread when the session has any:
    it runs while the first tests do. The ``meltano`` fixture waits for it (or does it)."""
    if not any(item.get_closest_marker("e2e") for item in request.session.items):
        return
    from tests.e2e.conftest import installed_plugins  # noqa: PLC0415 (psycopg, meltano: e2e only)

    tmp_path_factory.getbasetemp()  # created here, on the test thread
    threading.Thread(
        target=_quietly, args=(installed_plugins, tmp_path_factory), daemon=True
    ).start()


def _quietly(function: t.Callable[..., object], *args: object) -> None:
    """Run ``function`` in a background thread; a failure is the ``meltano`` fixture's to
    report (it runs the install again, in the test that needs it)."""
    with contextlib.suppress(BaseException):  # pytest.fail raises a BaseException
        function(*args)


@pytest.fixture
def make_sandbox(request: pytest.FixtureRequest) -> t.Iterator[t.Callable[..., Sandbox]]:
    """Start sandboxes on free loopback ports; all are stopped after the test.

    With ``--all-switches`` every sandbox starts with ``Variations.everything()``.
    """
    started: list[Sandbox] = []
    all_switches = request.config.getoption("--all-switches")

    def start(**kwargs: t.Any) -> Sandbox:
        sandbox = Sandbox(**kwargs)
        if all_switches:
            sandbox.crm.variations = Variations.everything()
            sandbox.calltracker.variations = Variations.everything()
        sandbox.start()
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sandbox(make_sandbox: t.Callable[..., Sandbox]) -> Sandbox:
    """A sandbox with 25 records per CRM list."""
    return make_sandbox(crm_api=CRMAPI(size=25))


class Waits(list[float]):
    """The waits a sync asked for, none of them slept: the tap's own (rate limits and pacing,
    through ``tap_common.http.pacing.sleep``) in the list, the retry backoff's in ``retries``."""

    def __init__(self) -> None:
        super().__init__()
        self.retries: list[float] = []


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> Waits:
    """Make every wait of an in-process sync instant, and record it (see ``Waits``).

    Retries sleep in the ``backoff`` package through ``time.sleep``: it is replaced for the
    test's own thread only, so the sandbox's server threads keep their real clock.
    """
    waits = Waits()
    test_thread = threading.get_ident()
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        if threading.get_ident() == test_thread:
            waits.retries.append(seconds)
        else:
            real_sleep(seconds)

    monkeypatch.setattr(pacing, "sleep", waits.append)
    monkeypatch.setattr(time, "sleep", sleep)
    return waits
