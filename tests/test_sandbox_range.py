"""The call API sandbox pages a time window of its index without copying it (``_Range``):
the same pages as the copied list it replaces."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox_api.calltracker import _Range


@settings(deadline=None, derandomize=True, max_examples=200)
@given(
    size=st.integers(min_value=0, max_value=40),
    bounds=st.tuples(st.integers(-5, 45), st.integers(-5, 45)),
    cut=st.tuples(st.integers(-50, 50) | st.none(), st.integers(-50, 50) | st.none()),
    descending=st.booleans(),
)
def test_a_range_pages_as_the_copied_window(size, bounds, cut, descending):
    rows = [{"id": i} for i in range(size)]
    low, high = sorted(max(0, min(b, size)) for b in bounds)
    copied = rows[low:high]
    if descending:
        copied = copied[::-1]
    window = _Range(rows, low, high, descending=descending)

    assert len(window) == len(copied)
    assert window[cut[0] : cut[1]] == copied[cut[0] : cut[1]]
