"""tap_common's layers: every import goes down, none reaches the taps (tap_common/__init__.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tap_common

LAYERS = ("messages", "http", "state", "stream", "program")  # lowest first
ABOVE_TAP_COMMON = ("tap_crm", "tap_calltracker", "orchestration", "sandbox_api", "tests")
PACKAGE = Path(tap_common.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> list[str]:
    """Every module an import statement of ``path`` names, TYPE_CHECKING and local ones too."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from tap_common.http import pacing`` names the module tap_common.http.pacing.
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "tap_common" or len(parts) < 2 or parts[1] not in LAYERS:
        return None
    return LAYERS.index(parts[1])


def test_every_module_lives_in_a_layer():
    loose = [module_name(p) for p in MODULES if p.parent == PACKAGE and p.name != "__init__.py"]
    assert loose == []
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"} == set(
        LAYERS
    )


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_imports_only_go_down(path: Path):
    own = layer(module_name(path))
    upward = []
    for target in imported(path):
        if target.split(".")[0] in ABOVE_TAP_COMMON or (
            own is not None and (rank := layer(target)) is not None and rank > own
        ):
            upward.append(target)
    assert upward == [], f"{module_name(path)} imports from a layer above it"


def test_the_check_sees_an_upward_import(tmp_path: Path):
    """The check itself: an import from a higher layer or a tap is found."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import typing as t\n"
        "if t.TYPE_CHECKING:\n"
        "    from tap_common.program.tap import APITap\n"
        "from tap_crm import streams\n"
    )
    assert "tap_common.program.tap.APITap" in imported(probe)
    assert layer("tap_common.program.tap.APITap") > layer("tap_common.messages.values")
    assert "tap_crm.streams" in imported(probe)


def test_a_stream_is_its_declaration_and_at_most_three_classes_of_ours():
    """What a stream does is readable from its declaration and a few classes: the base of
    its API, at most one behaviour, and APIStream (behaviours it holds are collaborators)."""
    from tap_calltracker.streams import STREAM_TYPES as CALL_STREAMS  # noqa: PLC0415
    from tap_crm.streams import STREAM_TYPES as CRM_STREAMS  # noqa: PLC0415

    ours = ("tap_common", "tap_crm", "tap_calltracker")
    deep = {
        stream.name: [cls.__qualname__ for cls in stream.__mro__]
        for stream in (*CRM_STREAMS, *CALL_STREAMS)
        if len([cls for cls in stream.__mro__ if cls.__module__.split(".")[0] in ours]) > 4
    }
    assert deep == {}
