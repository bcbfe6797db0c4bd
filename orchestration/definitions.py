"""The Dagster definitions: one asset per API, partitioned by account, and a calls backfill.

``dagster dev`` and ``dagster definitions validate`` find ``defs`` through ``[tool.dagster]``
in pyproject.toml. ``build_definitions`` makes the same definitions for another accounts
file, retry policy or backfill calendar (the tests use it).
"""

import os
import sys
import typing as t
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from orchestration import meltano
from orchestration.accounts import Account, AccountsFileError, load_accounts

REPO_ROOT = Path(__file__).resolve().parents[1]

CRM_PARTITIONS = "crm_accounts"
CALLTRACKER_PARTITIONS = "calltracker_accounts"
PARTITIONS = {"tap-crm": CRM_PARTITIONS, "tap-calltracker": CALLTRACKER_PARTITIONS}
# OnePageCRM throttles per client address: CRM accounts synced from one machine share its
# budget, so they share a pool (limit 1 unless raised: README "Several accounts").
CRM_POOL = "crm_api"

# Exit code 1 (the tap or the target failed: an outage, a timeout) is retried after a delay
# that doubles; a cancelled run (143/130) and any other code are not (``_outcome``).
DEFAULT_RETRY = dg.RetryPolicy(max_retries=3, delay=60, backoff=dg.Backoff.EXPONENTIAL)
# The calls backfill's windows: one per month since 2020, each run syncing [start, end).
DEFAULT_BACKFILL_WINDOWS = dg.MonthlyPartitionsDefinition(start_date="2020-01-01")


class MeltanoProject(dg.ConfigurableResource):
    """Where the Meltano project is and how to run it."""

    project_dir: str = str(REPO_ROOT)
    # `meltano` beside this Python (the package's venv), unless told.
    executable: str = str(Path(sys.executable).parent / "meltano")
    loader: str = "target-postgres"
    # Variables added to the process environment for every run (e.g. MELTANO_ENVIRONMENT).
    env: dict[str, str] = {}  # noqa: RUF012  # a pydantic field: each instance gets a copy

    def sync(
        self,
        context: dg.AssetExecutionContext,
        account: Account,
        *,
        state_suffix: str,
        extra: t.Mapping[str, str] | None = None,
    ) -> dg.MaterializeResult:
        """``meltano run --state-id-suffix <suffix> <tap> <loader>`` for one account."""
        try:
            account_env = account.environment(os.environ)
        except AccountsFileError as error:
            raise dg.Failure(description=str(error), allow_retries=False) from None
        env = {
            **os.environ,
            **self.env,
            **account_env,
            # The account's own schema (target-postgres's default_target_schema).
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": account.schema,
            **(extra or {}),
        }
        command = [
            self.executable,
            "run",
            "--state-id-suffix",
            state_suffix,
            account.tap,
            self.loader,
        ]
        context.log.info(f"{account.tap} '{account.slug}': {' '.join(command[1:])}")
        result = meltano.run(command, env=env, cwd=self.project_dir, on_line=_relay(context))
        return _outcome(account, state_suffix, result)


def _relay(context: dg.AssetExecutionContext) -> t.Callable[[str], None]:
    """The taps' progress and error lines into the run's log; the rest at debug level."""

    def relay(line: str) -> None:
        if "Progress of" in line or "Finished '" in line:
            context.log.info(line)
        elif "error" in line.lower():
            context.log.warning(line)
        else:
            context.log.debug(line)

    return relay


def _outcome(account: Account, suffix: str, result: meltano.MeltanoResult) -> dg.MaterializeResult:
    """Success with the run's numbers as metadata, or a Failure whose retry follows the code."""
    if result.returncode != 0:
        what = "was cancelled" if result.cancelled else f"failed (exit {result.returncode})"
        raise dg.Failure(
            description=f"{account.tap} '{account.slug}' {what}.",
            metadata={"output": dg.MetadataValue.text("\n".join(result.tail))},
            allow_retries=result.returncode == 1,
        )
    summary = result.summary
    records = dict(sorted(summary.records.items()))
    return dg.MaterializeResult(
        metadata={
            "last_sync": dg.MetadataValue.timestamp(datetime.now(timezone.utc)),
            "records": sum(records.values()),
            "records_by_stream": dg.MetadataValue.json(records),
            "requests": summary.requests,
            "throttled_answers": summary.throttled,
            "seconds_waited": round(summary.waited_seconds, 1),
            "duration_seconds": round(result.seconds, 1),
            "schema": account.schema,
            "state_id_suffix": suffix,
        }
    )


def _account(tap: str, slug: str, path: Path | None) -> Account:
    for account in load_accounts(path):
        if account.tap == tap and account.slug == slug:
            return account
    msg = f"{tap} account '{slug}' is not in the accounts file (removed since it was added?)."
    raise dg.Failure(description=msg, allow_retries=False)


# Where steps run: ORCHESTRATION_EXECUTOR=k8s (a pod per step) or celery (a Celery worker
# per step; broker from DAGSTER_CELERY_BROKER_URL); unset: processes on this machine.
EXECUTOR_VARIABLE = "ORCHESTRATION_EXECUTOR"


def executor_from_environment() -> dg.ExecutorDefinition | None:
    """The executor ``ORCHESTRATION_EXECUTOR`` names (None: Dagster's default)."""
    name = os.environ.get(EXECUTOR_VARIABLE, "")
    if name == "k8s":
        from dagster_k8s import k8s_job_executor  # noqa: PLC0415  # only where it runs

        return k8s_job_executor
    if name == "celery":
        from dagster_celery import celery_executor  # noqa: PLC0415  # only where it runs

        return celery_executor.configured(
            {"broker": {"env": "DAGSTER_CELERY_BROKER_URL"}}, name="celery_from_env"
        )
    if name:
        msg = f"{EXECUTOR_VARIABLE}={name!r}: expected 'k8s', 'celery' or nothing."
        raise ValueError(msg)
    return None


def build_definitions(
    accounts_path: Path | None = None,
    *,
    executor: dg.ExecutorDefinition | None = None,
    retry_policy: dg.RetryPolicy = DEFAULT_RETRY,
    backfill_windows: dg.TimeWindowPartitionsDefinition = DEFAULT_BACKFILL_WINDOWS,
    meltano_project: MeltanoProject | None = None,
) -> dg.Definitions:
    """Assets, jobs, the daily schedule and the accounts sensor for one accounts file."""
    crm_partitions = dg.DynamicPartitionsDefinition(name=CRM_PARTITIONS)
    calltracker_partitions = dg.DynamicPartitionsDefinition(name=CALLTRACKER_PARTITIONS)

    @dg.asset(
        name="tap_crm",
        partitions_def=crm_partitions,
        pool=CRM_POOL,
        retry_policy=retry_policy,
        kinds={"meltano", "postgres"},
        description="One OnePageCRM account (a partition) into its schema tap_crm__<slug>.",
    )
    def crm_account(
        context: dg.AssetExecutionContext, meltano: MeltanoProject
    ) -> dg.MaterializeResult:
        slug = context.partition_key
        return meltano.sync(context, _account("tap-crm", slug, accounts_path), state_suffix=slug)

    @dg.asset(
        name="tap_calltracker",
        partitions_def=calltracker_partitions,
        retry_policy=retry_policy,
        kinds={"meltano", "postgres"},
        description=(
            "One Aircall company (a partition) into its schema tap_calltracker__<slug>; "
            "companies have rate limits of their own, so they run in parallel."
        ),
    )
    def calltracker_account(
        context: dg.AssetExecutionContext, meltano: MeltanoProject
    ) -> dg.MaterializeResult:
        slug = context.partition_key
        account = _account("tap-calltracker", slug, accounts_path)
        return meltano.sync(context, account, state_suffix=slug)

    @dg.asset(
        name="tap_calltracker_calls_backfill",
        partitions_def=dg.MultiPartitionsDefinition(
            {"account": calltracker_partitions, "window": backfill_windows}
        ),
        retry_policy=retry_policy,
        kinds={"meltano", "postgres"},
        description=(
            "Calls of one company in one time window [start, end) (end_date), with a state of "
            "their own: a backfill never moves the daily run's bookmarks."
        ),
    )
    def calls_backfill(
        context: dg.AssetExecutionContext, meltano: MeltanoProject
    ) -> dg.MaterializeResult:
        keys = t.cast("dg.MultiPartitionKey", context.partition_key).keys_by_dimension
        account = _account("tap-calltracker", keys["account"], accounts_path)
        window = backfill_windows.time_window_for_partition_key(keys["window"])
        start, end = (
            moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") for moment in window
        )
        suffix = f"{account.slug}.calls.{keys['window']}"
        return meltano.sync(
            context,
            account,
            state_suffix=suffix,
            extra={
                "TAP_CALLTRACKER_START_DATE": start,
                "TAP_CALLTRACKER_END_DATE": end,
                # https://docs.meltano.com/concepts/plugins#select-extra
                "TAP_CALLTRACKER__SELECT": '["calls.*"]',
            },
        )

    crm_job = dg.define_asset_job("crm_accounts", selection=[crm_account])
    calltracker_job = dg.define_asset_job("calltracker_accounts", selection=[calltracker_account])

    @dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
    def accounts_file_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        """Partitions follow the accounts file: a new line adds one, a removed line removes it."""
        return dg.SensorResult(
            dynamic_partitions_requests=partition_requests(
                context.instance, load_accounts(accounts_path)
            )
        )

    def daily(job: UnresolvedAssetJobDefinition, partitions: str) -> dg.ScheduleDefinition:
        @dg.schedule(name=f"{job.name}_daily", job=job, cron_schedule="0 0 * * *")
        def every_account(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
            """One run per account: each fails, retries and shows its numbers on its own."""
            return [
                dg.RunRequest(
                    run_key=f"{slug}-{context.scheduled_execution_time:%Y%m%d}", partition_key=slug
                )
                for slug in context.instance.get_dynamic_partitions(partitions)
            ]

        return every_account

    return dg.Definitions(
        assets=[crm_account, calltracker_account, calls_backfill],
        jobs=[crm_job, calltracker_job],
        schedules=[daily(crm_job, CRM_PARTITIONS), daily(calltracker_job, CALLTRACKER_PARTITIONS)],
        sensors=[accounts_file_sensor],
        resources={"meltano": meltano_project or MeltanoProject()},
        executor=executor,
    )


def partition_requests(
    instance: dg.DagsterInstance, accounts: list[Account]
) -> list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest]:
    """What brings the instance's partitions in line with ``accounts``."""
    requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest] = []
    for tap, name in PARTITIONS.items():
        wanted = [a.slug for a in accounts if a.tap == tap]
        present = set(instance.get_dynamic_partitions(name))
        if added := [slug for slug in wanted if slug not in present]:
            requests.append(dg.AddDynamicPartitionsRequest(name, added))
        if removed := sorted(present - set(wanted)):
            requests.append(dg.DeleteDynamicPartitionsRequest(name, removed))
    return requests


def register_accounts(instance: dg.DagsterInstance, accounts: list[Account]) -> None:
    """Apply ``partition_requests`` directly (what the sensor's result does)."""
    for request in partition_requests(instance, accounts):
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(
                request.partitions_def_name, list(request.partition_keys)
            )
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)


defs = build_definitions(executor=executor_from_environment())
