"""End-to-end fixtures: a throwaway PostgreSQL cluster and a Meltano install, once per session.

Meltano runs on the repo's own ``meltano.yml`` in the ``sandbox`` environment, with its system
dir (plugin venvs, state database) in a temp dir, so the tests never touch a developer's
``.meltano/`` or state, and the taps are installed exactly as a user's ``meltano install`` does.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import typing as t
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox_api import CRMAPI, Sandbox
from sandbox_api.__main__ import tap_environment
from sandbox_api.calltracker import CallTrackerAPI
from tap_calltracker.streams import STREAM_TYPES as CALLTRACKER_STREAMS
from tap_calltracker.tap import TapCallTracker
from tap_crm.streams import STREAM_TYPES as CRM_STREAMS
from tap_crm.tap import TapCRM
from tests import plugin_prefork, prefork
from tests.pg import PostgresCluster
from tests.singer_io import SingerOutput, sync

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# Variables a developer's shell may hold that must not leak into a test run (real credentials,
# another Meltano project or environment).
LEAKY_PREFIXES = ("TAP_", "TARGET_", "MELTANO_")


def clean_environ(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(LEAKY_PREFIXES)}
    env.update(extra)
    return env


def sandbox_env(sandbox: Sandbox, page_size: int = 10) -> dict[str, str]:
    """Point every tap at the sandbox; small pages so paging is exercised."""
    env = tap_environment(sandbox)
    for prefix in {name.split("_API_URL")[0] for name in env if name.endswith("_API_URL")}:
        env[f"{prefix}_PAGE_SIZE"] = str(page_size)
    return env


@dataclass(frozen=True)
class TapCase:
    """One of the repo's taps, and where its sandbox API lives."""

    name: str
    api: str  # the sandbox attribute: ``sandbox.crm`` / ``sandbox.calltracker``
    tap_class: type
    stream_types: list[type]

    def __str__(self) -> str:
        return self.name

    @property
    def namespace(self) -> str:
        """Meltano's default load schema for the tap."""
        return self.name.replace("-", "_")

    @property
    def keys(self) -> dict[str, tuple[str, ...]]:
        return {stream.name: tuple(stream.primary_keys) for stream in self.stream_types}

    @property
    def paths(self) -> dict[str, str]:
        """The path each stream's requests reach, as the sandbox logs it (the call API's
        users come from ``/v2/users``, beside the v1 base)."""
        moved = {"tap-calltracker": {"users": "/v2/users"}}.get(self.name, {})
        return {stream.name: moved.get(stream.name, stream.path) for stream in self.stream_types}

    def config(self, sandbox: Sandbox, **overrides: t.Any) -> dict[str, t.Any]:
        return getattr(sandbox, f"{self.api}_config")(**overrides)

    def api_records(self, sandbox: Sandbox, stream: str) -> list[dict]:
        return getattr(sandbox, self.api).expected(stream)

    def reference(self, sandbox: Sandbox) -> SingerOutput:
        """What the tap emits for the sandbox's current data, synced in-process.

        Targets are compared with this (the tap's own mapping of the API is what the
        unit tests check); its record counts are checked against the API's first.
        """
        out = sync(self.tap_class, self.config(sandbox))
        for stream in self.keys:
            emitted, held = out.records.get(stream, []), self.api_records(sandbox, stream)
            assert len(emitted) == len(held), f"{self}: {stream}"
        sandbox.clear_log()
        return out


TAPS = [
    TapCase("tap-crm", "crm", TapCRM, CRM_STREAMS),
    TapCase("tap-calltracker", "calltracker", TapCallTracker, CALLTRACKER_STREAMS),
]


def make_both_apis(make_sandbox: t.Callable[..., Sandbox], size: int) -> Sandbox:
    return make_sandbox(crm_api=CRMAPI(size=size), calltracker_api=CallTrackerAPI(size=size))


# No test talks to anything but 127.0.0.1: Meltano otherwise asks PyPI for its latest version.
# https://docs.meltano.com/reference/settings#clidisable_version_check
QUIET_MELTANO = {
    "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
    "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
}
# Imported once by the server the commands are forked from (tests/prefork.py): the CLI, and
# what a `meltano run` imports after it (seen with `python -X importtime`): the system
# database's migration check (alembic, mako), the SQLite and PostgreSQL dialects.
MELTANO_PRELOAD = (
    "meltano.cli",
    "alembic.command",
    "alembic.runtime.migration",
    "alembic.script",
    "mako.template",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.postgresql",
    "sqlite3",
    "tomllib",
)
MELTANO = {"entry": "meltano.cli:main", "argv0": str(VENV_BIN / "meltano")}
# The plugins `meltano run` starts as processes, forked from a server of their own venv
# (tests/plugin_prefork.py), and what each imports before it reads its input.
PLUGIN_PRELOAD = {
    ("extractors", "tap-crm"): ("tap_crm.tap", "tap_calltracker.tap"),
    ("extractors", "tap-calltracker"): ("tap_crm.tap", "tap_calltracker.tap"),
    ("loaders", "target-postgres"): (
        "target_postgres.target",
        "sqlalchemy.dialects.postgresql.psycopg",
        "psycopg",
    ),
}


def run_meltano(
    args: t.Sequence[str], env: t.Mapping[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """``meltano <args>`` in the repo: forked from a process that has imported Meltano
    (tests/prefork.py), or started as a plain process with PREFORK=0."""
    if not prefork.enabled():
        return subprocess.run(
            [str(VENV_BIN / "meltano"), *args],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    server = prefork.server_for(MELTANO_PRELOAD, clean_environ(**QUIET_MELTANO))
    return server.run(MELTANO, args, env=env, cwd=REPO_ROOT, timeout=timeout)


@dataclass
class Meltano:
    """``meltano`` from the test venv, on the repo's project, with a private system dir."""

    sys_dir: Path
    plugin_servers: str | None = None  # where the plugin prefork servers listen, if any

    @property
    def forked_plugins(self) -> dict[str, str]:
        """What a plugin executable needs in its environment to be forked (if servers run)."""
        return {plugin_prefork.ENV: self.plugin_servers} if self.plugin_servers else {}

    def env(self, extra: t.Mapping[str, str] | None = None) -> dict[str, str]:
        return {
            **clean_environ(
                MELTANO_SYS_DIR_ROOT=str(self.sys_dir),
                MELTANO_ENVIRONMENT="sandbox",
                **QUIET_MELTANO,
                **self.forked_plugins,
            ),
            **(extra or {}),
        }

    def may_fail(
        self, *args: str, env: t.Mapping[str, str] | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """``meltano <args>``, whatever its exit code."""
        return run_meltano(args, self.env(env), timeout)

    def __call__(
        self, *args: str, env: t.Mapping[str, str] | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        result = self.may_fail(*args, env=env, timeout=timeout)
        if result.returncode != 0:
            output = (result.stdout + result.stderr)[-4000:]
            pytest.fail(f"meltano {' '.join(args)} exited {result.returncode}:\n{output}")
        return result

    def plugin_executable(self, kind: str, name: str) -> Path:
        """An executable from a plugin venv that ``meltano install`` made (e.g. target-jsonl)."""
        return self.sys_dir / kind / name / "venv" / "bin" / name


@pytest.fixture(params=TAPS, ids=str)
def tap_case(request: pytest.FixtureRequest) -> TapCase:
    return request.param


@pytest.fixture(scope="session")
def pg_cluster() -> t.Iterator[PostgresCluster]:
    cluster = PostgresCluster.start()
    yield cluster
    cluster.stop()


def installed_plugins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A system dir where ``meltano install`` ran once per test run: both taps (editable,
    this repo) and both targets. pytest-xdist workers share it (the first one installs, the
    others wait on a lock), so the install is paid once, not once per worker."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's temp dir, above each worker's own
    shared = base / "meltano-installed"
    with (base / "meltano-installed.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        done = base / "meltano-installed.done"  # venvs hold absolute paths: no rename
        if not done.exists():
            Meltano(shared)("install", timeout=600)
            for kind, plugin in PLUGIN_PRELOAD:
                plugin_prefork.install_launcher(
                    shared / kind / plugin / "venv" / "bin" / plugin, f"{kind}__{plugin}"
                )
            done.touch()
    return shared


@pytest.fixture(scope="session")
def meltano(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[Meltano]:
    """Meltano with every plugin installed and a system database of its own (this worker's:
    state written by one worker's tests never meets another's); the taps and target-postgres
    forked from servers of this worker's (tests/plugin_prefork.py), unless PREFORK=0."""
    shared = installed_plugins(tmp_path_factory)
    servers = plugin_prefork.PluginServers() if prefork.enabled() else None
    if servers is not None:
        for (kind, plugin), preload in PLUGIN_PRELOAD.items():
            servers.start(
                shared / kind / plugin / "venv" / "bin" / "python", f"{kind}__{plugin}", preload
            )
    sys_dir = tmp_path_factory.mktemp("meltano-sys")
    for entry in shared.iterdir():
        # Plugin venvs are only read by runs (Meltano writes a run's files under run/).
        if entry.is_dir() and entry.name not in {"run", "logs"}:
            (sys_dir / entry.name).symlink_to(entry, target_is_directory=True)
    shutil.copy(shared / "meltano.db", sys_dir / "meltano.db")  # migrated, no state yet
    if servers is None:
        yield Meltano(sys_dir)
        return
    servers.wait_ready()
    yield Meltano(sys_dir, servers.directory)
    servers.close()
