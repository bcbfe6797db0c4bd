"""End-to-end fixtures: a throwaway PostgreSQL cluster and a Meltano install, once per session.

Meltano runs on the repo's own ``meltano.yml`` in the ``sandbox`` environment, with its system
dir (plugin venvs, state database) in a temp dir, so the tests never touch a developer's
``.meltano/`` or state, and the taps are installed exactly as a user's ``meltano install`` does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import typing as t
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox_api.__main__ import tap_environment
from tests.pg import PostgresCluster

if t.TYPE_CHECKING:
    from sandbox_api import Sandbox

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


@dataclass
class Meltano:
    """``meltano`` from the test venv, on the repo's project, with a private system dir."""

    sys_dir: Path

    def env(self, extra: t.Mapping[str, str] | None = None) -> dict[str, str]:
        return clean_environ(
            MELTANO_SYS_DIR_ROOT=str(self.sys_dir),
            MELTANO_ENVIRONMENT="sandbox",
            MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
            **(extra or {}),
        )

    def __call__(
        self, *args: str, env: t.Mapping[str, str] | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(VENV_BIN / "meltano"), *args],
            cwd=REPO_ROOT,
            env=self.env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr)[-4000:]
            pytest.fail(f"meltano {' '.join(args)} exited {result.returncode}:\n{output}")
        return result

    def plugin_executable(self, kind: str, name: str) -> Path:
        """An executable from a plugin venv that ``meltano install`` made (e.g. target-jsonl)."""
        return self.sys_dir / kind / name / "venv" / "bin" / name


@pytest.fixture(scope="session")
def pg_cluster() -> t.Iterator[PostgresCluster]:
    cluster = PostgresCluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def meltano(tmp_path_factory: pytest.TempPathFactory) -> Meltano:
    """``meltano install`` once per session: both taps (editable, this repo) and both targets."""
    runner = Meltano(tmp_path_factory.mktemp("meltano-sys"))
    runner("install", timeout=600)
    return runner
