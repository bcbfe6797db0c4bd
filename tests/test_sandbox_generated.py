"""The sandboxes' generated lists, made once per size (sandbox_api/generated.py): each
sandbox gets the records generating them would give, as objects of its own."""

from __future__ import annotations

import typing as t

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox_api import calltracker_data, crm_data, generated

GENERATORS = [
    pytest.param(generate, id=f"{module.__name__.rsplit('.', 1)[1]}.{name}")
    for module in (crm_data, calltracker_data)
    for name, generate in module.GENERATORS.items()
]


def same(a: t.Any, b: t.Any) -> bool:
    """Equal, and of the same types all the way down (1 is not 1.0, a tuple not a list)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@pytest.mark.parametrize("generate", GENERATORS)
@settings(deadline=None, derandomize=True, max_examples=5)
@given(count=st.integers(min_value=0, max_value=60))
def test_a_copy_is_what_generating_the_list_gives(generate, count):
    expected = [generate(i, count) for i in range(count)]
    assert same(generated.records(generate, count), expected)
    assert same(generated.records(generate, count), expected)  # from the cache


@pytest.mark.parametrize("generate", GENERATORS)
def test_each_copy_is_a_sandbox_own(generate):
    first = generated.records(generate, 3)
    first[0]["id"] = "changed"
    first[1].clear()
    first.pop()
    second = generated.records(generate, 3)
    assert same(second, [generate(i, 3) for i in range(3)])
