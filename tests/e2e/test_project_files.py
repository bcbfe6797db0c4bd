"""The docs and meltano.yml say what the code does: settings, defaults, secrets and streams."""

from __future__ import annotations

import subprocess

import pytest
import yaml
from singer_sdk.helpers import capabilities

from tests.e2e.conftest import REPO_ROOT, VENV_BIN, TapCase, clean_environ

DOCS = REPO_ROOT / "docs"
MELTANO_YML = yaml.safe_load((REPO_ROOT / "meltano.yml").read_text())
# Settings the SDK adds to every tap's schema; --about lists them after the tap's own.
# (Not emit_activate_version_messages: the SDK does not add it, the taps declare it.)
SDK_BUILTINS = {
    name
    for config in (
        capabilities.STREAM_MAPS_CONFIG,
        capabilities.FLATTENING_CONFIG,
        capabilities.BATCH_CONFIG,
    )
    for name in config["properties"]
}


def own_settings(tap: TapCase) -> dict[str, dict]:
    """The tap's own settings (not the SDK's built-ins), as its JSON schema declares them."""
    properties = tap.tap_class.config_jsonschema["properties"]
    return {name: spec for name, spec in properties.items() if name not in SDK_BUILTINS}


def plugin(kind: str, name: str) -> dict:
    (found,) = [p for p in MELTANO_YML["plugins"][kind] if p["name"] == name]
    return found


def doc_section(page: str, title_start: str) -> str:
    """The section of docs/<page> whose ``##`` heading starts with ``title_start``, up to the
    next heading of level 3 or higher."""
    text = (DOCS / page).read_text()
    start = text.index(f"\n## {title_start}")
    ends = [i for mark in ("\n# ", "\n## ", "\n### ") if (i := text.find(mark, start + 1)) != -1]
    return text[start : min(ends)] if ends else text[start:]


def test_docs_settings_table_is_the_taps_about_output(tap_case):
    about = subprocess.run(
        [str(VENV_BIN / tap_case.name), "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        env=clean_environ(),
        check=True,
    ).stdout.splitlines()
    header = about.index("| Setting | Required | Default | Description |")
    names = own_settings(tap_case)
    rows = [line for line in about[header + 2 :] if line.split(" | ")[0][2:] in names]
    assert len(rows) == len(names)
    table = "\n".join([*about[header : header + 2], *rows])

    assert table in doc_section("settings.md", f"{tap_case.name}\n"), (
        f"docs/settings.md's {tap_case.name} table is out of date; it should read:\n{table}"
    )


def test_docs_stream_table_matches_the_code(tap_case):
    credentials = {name: "x" for name in tap_case.tap_class.config_jsonschema["required"]}
    tap = tap_case.tap_class(config=credentials, parse_env_config=False, validate_config=False)
    section = doc_section("streams.md", f"{tap_case.name} (")
    rows = [line for line in section.splitlines() if line.startswith("| `")]

    expected = []
    for stream in tap.streams.values():
        key = f"`{stream.replication_key}`" if stream.replication_key else "—"
        keys = ", ".join(f"`{k}`" for k in stream.primary_keys)
        expected.append(
            f"| `{stream.name}` | `{stream.path}` | {keys} | {stream.replication_method} | {key} |"
        )
    assert len(rows) == len(expected)
    for prefix in expected:
        assert any(row.startswith(prefix) for row in rows), (
            f"docs/streams.md lacks the row {prefix} …"
        )


def test_meltano_yml_declares_every_tap_setting_like_the_tap(tap_case):
    extractor = plugin("extractors", tap_case.name)
    declared = {setting["name"]: setting for setting in extractor["settings"]}
    settings = own_settings(tap_case)
    assert set(declared) == set(settings)

    for name, spec in settings.items():
        setting = declared[name]
        types = set(spec["type"]) - {"null"}
        kind = {
            "string": "date_iso8601" if spec.get("format") == "date-time" else "string",
            "integer": "integer",
            "number": "decimal",
            "boolean": "boolean",
        }[types.pop()]
        assert setting.get("kind") == kind, name
        assert bool(setting.get("sensitive")) == bool(spec.get("secret")), name
        assert setting.get("value") == spec.get("default"), name

    secrets = [name for name, spec in settings.items() if spec.get("secret")]
    assert extractor["settings_group_validation"] == [secrets]
    assert extractor["pip_url"] == "-e ${MELTANO_PROJECT_ROOT}"
    assert extractor["executable"] == tap_case.name
    assert extractor["namespace"] == tap_case.namespace
    assert {"catalog", "discover", "state"} <= set(extractor["capabilities"])


def test_meltano_sandbox_environment_carries_the_sandbox_tuning(tap_case, make_sandbox):
    """What `python -m sandbox_api` cannot pass as env vars (numbers) is in meltano.yml."""
    sandbox = make_sandbox()
    numeric = {k: v for k, v in tap_case.config(sandbox).items() if not isinstance(v, str)}
    (environment,) = [e for e in MELTANO_YML["environments"] if e["name"] == "sandbox"]
    (config,) = [
        p["config"]
        for p in environment["config"]["plugins"]["extractors"]
        if p["name"] == tap_case.name
    ]
    assert config == numeric


@pytest.mark.parametrize(
    ("name", "pip_url"),
    [
        ("target-jsonl", "target-jsonl==0.1.4"),
        ("target-postgres", "meltanolabs-target-postgres==0.8.1"),
    ],
)
def test_meltano_yml_pins_the_loaders(name, pip_url):
    loader = plugin("loaders", name)
    assert loader["pip_url"] == pip_url
    assert loader["executable"] == name
    assert "variant" not in loader  # no Hub lookups


def test_meltano_yml_project_settings():
    assert MELTANO_YML["send_anonymous_usage_stats"] is False
    environments = {e["name"] for e in MELTANO_YML["environments"]}
    assert MELTANO_YML["default_environment"] in environments
    settings = {s["name"]: s for s in plugin("loaders", "target-postgres")["settings"]}
    assert settings["default_target_schema"]["value"] == "$MELTANO_EXTRACT__LOAD_SCHEMA"
    assert settings["password"]["sensitive"] is True
    assert "value" not in settings["password"]
    jsonl = {s["name"]: s for s in plugin("loaders", "target-jsonl")["settings"]}
    assert jsonl["destination_path"]["value"] == "output"
    every_setting = [
        s
        for kind in ("extractors", "loaders")
        for p in MELTANO_YML["plugins"][kind]
        for s in p.get("settings", [])  # inherited plugins declare none of their own
    ]
    assert all(s.get("kind") != "password" for s in every_setting)
