"""The accounts file: each account of each API, as data.

.. code-block:: yaml

    tap-crm:
      - slug: acme
        credentials: {username: ACME_CRM_USER, password: ACME_CRM_KEY}
        settings: {start_date: "2024-01-01"}
    tap-calltracker:
      - slug: acme
        credentials: {api_id: ACME_AIRCALL_ID, api_token: ACME_AIRCALL_TOKEN}

``credentials`` names the environment variables that hold each secret setting: the file
never holds a secret. ``settings`` are any other settings of the tap, for this account.
"""

from __future__ import annotations

import os
import re
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import yaml  # type: ignore[import-untyped]  # no stubs in the venv

# The file read when none is named: ORCHESTRATION_ACCOUNTS_FILE, else accounts.yml at the root.
DEFAULT_FILE = Path(__file__).resolve().parents[1] / "accounts.yml"
FILE_VARIABLE = "ORCHESTRATION_ACCOUNTS_FILE"

# Each tap's secret settings: what `credentials` must name, and nothing else.
CREDENTIALS = {
    "tap-crm": ("username", "password"),
    "tap-calltracker": ("api_id", "api_token"),
}
# A slug becomes a schema name (tap_crm__<slug>) and a state ID suffix: lower-case letters,
# digits and underscores, so it needs no quoting in PostgreSQL.
SLUG = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class AccountsFileError(ValueError):
    """The accounts file is unusable; the message is one line naming the entry at fault."""


@dataclass(frozen=True)
class Account:
    """One account of one API."""

    tap: str  # tap-crm or tap-calltracker
    slug: str
    credentials: dict[str, str]  # setting -> name of the environment variable holding it
    settings: dict[str, t.Any] = field(default_factory=dict)

    @property
    def schema(self) -> str:
        """Where the account's tables land: ``tap_crm__acme``."""
        return f"{self.tap.replace('-', '_')}__{self.slug}"

    def environment(self, environ: t.Mapping[str, str]) -> dict[str, str]:
        """The tap's ``TAP_<NAME>_<SETTING>`` variables for this account (Meltano reads them
        before meltano.yml: https://docs.meltano.com/guide/configuration#configuration-layers).

        Raises ``AccountsFileError`` naming a credential variable that is not set.
        """
        prefix = self.tap.upper().replace("-", "_")
        env = {f"{prefix}_{name.upper()}": _text(value) for name, value in self.settings.items()}
        for setting, variable in self.credentials.items():
            value = environ.get(variable)
            if not value:
                msg = (
                    f"{self.tap} account '{self.slug}': environment variable {variable} "
                    f"(its '{setting}') is not set."
                )
                raise AccountsFileError(msg)
            env[f"{prefix}_{setting.upper()}"] = value
        return env


def accounts_file() -> Path:
    return Path(os.environ.get(FILE_VARIABLE) or DEFAULT_FILE)


def load_accounts(path: Path | None = None) -> list[Account]:
    """Every account in the file (``accounts_file()`` if none given), checked."""
    path = path or accounts_file()
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        msg = f"Accounts file {path}: cannot be read ({error.__class__.__name__}: {error})."
        raise AccountsFileError(" ".join(msg.split())) from error
    if not isinstance(document, dict) or set(document) - set(CREDENTIALS):
        msg = f"Accounts file {path}: top-level keys must be among {sorted(CREDENTIALS)}."
        raise AccountsFileError(msg)
    accounts = []
    for tap, entries in document.items():
        seen: set[str] = set()
        for index, entry in enumerate(entries or []):
            account = _account(path, tap, index, entry)
            if account.slug in seen:
                msg = f"Accounts file {path}: {tap} lists '{account.slug}' twice."
                raise AccountsFileError(msg)
            seen.add(account.slug)
            accounts.append(account)
    return accounts


def _account(path: Path, tap: str, index: int, entry: t.Any) -> Account:
    where = f"Accounts file {path}: {tap} entry {index + 1}"
    if not isinstance(entry, dict) or not isinstance(entry.get("slug"), str):
        raise AccountsFileError(f"{where} needs a 'slug'.")
    slug = entry["slug"]
    if not SLUG.match(slug):
        msg = f"{where}: slug {slug!r} must be lower-case letters, digits and '_' (at most 40)."
        raise AccountsFileError(msg)
    if unknown := set(entry) - {"slug", "credentials", "settings"}:
        raise AccountsFileError(f"{where} ('{slug}'): unknown keys {sorted(unknown)}.")
    credentials = entry.get("credentials") or {}
    wanted = CREDENTIALS[tap]
    if not isinstance(credentials, dict) or set(credentials) != set(wanted):
        msg = f"{where} ('{slug}'): 'credentials' must name a variable for each of {list(wanted)}."
        raise AccountsFileError(msg)
    for setting, variable in credentials.items():
        if not isinstance(variable, str) or not VARIABLE.match(variable):
            # Not echoed: a secret pasted here by mistake must not reach a log.
            msg = (
                f"{where} ('{slug}'): credentials.{setting} must be the name of an "
                "environment variable, not a value."
            )
            raise AccountsFileError(msg)
    settings = entry.get("settings") or {}
    if not isinstance(settings, dict):
        raise AccountsFileError(f"{where} ('{slug}'): 'settings' must be a mapping.")
    if secret := set(settings) & set(wanted):
        msg = f"{where} ('{slug}'): {sorted(secret)} belong in 'credentials', as variable names."
        raise AccountsFileError(msg)
    return Account(tap, slug, dict(credentials), dict(settings))


def _text(value: t.Any) -> str:
    """A setting as Meltano reads it from the environment (booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
