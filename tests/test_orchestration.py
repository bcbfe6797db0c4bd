"""The Dagster definitions without a sync: the accounts file, exit codes, the taps' numbers,
and the definitions as Kubernetes and Celery load them (README "Several accounts")."""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config
from dagster_k8s import K8sRunLauncher
from hypothesis import given
from hypothesis import strategies as st

from orchestration import definitions, meltano
from orchestration.accounts import Account, AccountsFileError, load_accounts
from sandbox_api import CallTrackerAPI
from tap_common.state.progress import StreamProgress

REPO_ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "accounts.yml"
    path.write_text(yaml.safe_dump(document))
    return path


def crm(slug: str = "acme", **extra: object) -> dict:
    return {"slug": slug, "credentials": {"username": "A_USER", "password": "A_KEY"}, **extra}


def test_the_repo_accounts_file_loads():
    accounts = load_accounts(REPO_ROOT / "accounts.yml")
    assert {(a.tap, a.slug) for a in accounts} >= {("tap-crm", "acme"), ("tap-calltracker", "acme")}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"tap-crm": [crm("Acme Inc")]}, "slug 'Acme Inc' must be lower-case"),
        ({"tap-crm": [crm(), crm()]}, "lists 'acme' twice"),
        ({"tap-crm": [{"slug": "acme", "credentials": {"username": "U"}}]}, "must name a variable"),
        ({"tap-crm": [crm(settings={"password": "x"})]}, "belong in 'credentials'"),
        ({"tap-hub": []}, "top-level keys"),
        (
            {"tap-crm": [{"slug": "a", "credentials": {"username": "U", "password": "s3cr3t-!"}}]},
            "must be the name of an environment variable, not a value",
        ),
    ],
)
def test_a_bad_accounts_file_is_refused_in_one_line(tmp_path, document, message):
    with pytest.raises(AccountsFileError, match=message) as error:
        load_accounts(write(tmp_path, document))
    assert "\n" not in str(error.value)
    assert "s3cr3t" not in str(error.value)


def test_an_account_reads_its_credentials_from_the_variables_it_names():
    account = Account(
        "tap-crm", "acme", {"username": "A_USER", "password": "A_KEY"}, {"page_size": 10}
    )
    env = account.environment({"A_USER": "u1", "A_KEY": "k1"})
    assert env == {"TAP_CRM_USERNAME": "u1", "TAP_CRM_PASSWORD": "k1", "TAP_CRM_PAGE_SIZE": "10"}
    assert account.schema == "tap_crm__acme"
    with pytest.raises(AccountsFileError, match=r"environment variable A_KEY .* is not set"):
        account.environment({"A_USER": "u1"})


@pytest.mark.parametrize(
    ("code", "retried"), [(1, True), (143, False), (130, False), (-15, False), (2, False)]
)
def test_a_failed_run_is_retried_only_after_exit_code_1(code, retried):
    account = Account("tap-crm", "acme", {})
    result = meltano.MeltanoResult(code, meltano.SyncSummary(), ["last line"], 1.0)
    with pytest.raises(dg.Failure) as failure:
        definitions._outcome(account, "acme", result)
    assert failure.value.allow_retries is retried
    assert ("cancelled" in failure.value.description) is (code in meltano.CANCELLED)


@given(
    records=st.integers(0, 10**7),
    requests=st.integers(0, 10**6),
    throttles=st.integers(0, 1000),
    stream=st.sampled_from(["contacts", "calls", "deal_fields"]),
)
def test_the_taps_finished_line_is_read_back(records, requests, throttles, stream):
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(f"2026-01-01 [info] tap-crm {record.getMessage()} cmd_type=elb")

    logger = logging.getLogger(f"test_orchestration.{stream}")
    logger.propagate = False
    logger.handlers = [Collect()]
    logger.setLevel(logging.INFO)
    progress = StreamProgress(stream, logger)
    progress.records, progress.requests, progress.throttles = records, requests, throttles
    progress.finish()

    summary = meltano.SyncSummary()
    assert summary.add(lines[-1])
    assert summary.records == {stream: records}
    assert (summary.requests, summary.throttled) == (requests, throttles)


def test_definitions_validate_as_dagster_loads_them():
    dg.Definitions.validate_loadable(definitions.defs)
    assert definitions.defs.resolve_assets_def("tap_crm").op.pools == {definitions.CRM_POOL}


@pytest.mark.parametrize(("name", "executor"), [("k8s", "k8s"), ("celery", "celery_from_env")])
def test_definitions_load_under_the_readme_kubernetes_and_celery_configuration(
    monkeypatch, name, executor
):
    directory = REPO_ROOT / "docs" / "dagster" / ("kubernetes" if name == "k8s" else "celery")
    config, _ = dagster_instance_config(str(directory))  # the file validates as dagster.yaml
    if name == "k8s":
        assert config["run_launcher"]["class"] == "K8sRunLauncher"
        launcher = process_config(K8sRunLauncher.config_type(), config["run_launcher"]["config"])
        assert launcher.success, launcher.errors
    monkeypatch.setenv(definitions.EXECUTOR_VARIABLE, name)
    loaded = importlib.reload(definitions)
    try:
        dg.Definitions.validate_loadable(loaded.defs)
        job = loaded.defs.resolve_job_def("crm_accounts")
        assert job.executor_def.name == executor
    finally:
        monkeypatch.delenv(definitions.EXECUTOR_VARIABLE)
        importlib.reload(definitions)


def test_an_unknown_executor_is_refused_in_one_line(monkeypatch):
    monkeypatch.setenv(definitions.EXECUTOR_VARIABLE, "lambda")
    with pytest.raises(ValueError, match="expected 'k8s', 'celery' or nothing"):
        definitions.executor_from_environment()
    assert os.environ[definitions.EXECUTOR_VARIABLE] == "lambda"


@pytest.mark.waits
def test_an_interrupted_run_stops_its_child_with_sigterm(make_sandbox, tmp_path):
    """A cancelled step (here: an interruption raised while output is read) stops the sync
    at once with SIGTERM; the tap ends with the state it reached (tests/test_cli_signals.py)."""
    sandbox = make_sandbox(calltracker_api=CallTrackerAPI(size=3, sizes={"calls": 4000}))
    config = tmp_path / "config.json"
    config.write_text(json.dumps(sandbox.calltracker_config(page_size=10)))
    command = [str(Path(sys.executable).parent / "tap-calltracker"), "--config", str(config)]

    def interrupt(line: str) -> None:
        if "Progress of 'calls'" in line:
            raise KeyboardInterrupt

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        meltano.run(command, env=dict(os.environ), cwd=str(tmp_path), on_line=interrupt)
    assert time.monotonic() - started < meltano.STOP_GRACE_SECONDS
    sent = len(sandbox.requests_to("calltracker", "/calls"))
    assert 0 < sent < 4000 / 10  # stopped long before the last page
    time.sleep(0.5)
    assert len(sandbox.requests_to("calltracker", "/calls")) == sent  # and stays stopped
