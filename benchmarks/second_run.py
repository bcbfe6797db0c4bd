"""Requests of a second run over the first, per tap, for a daily-sized account.

Run by hand (not a test): ``.venv/bin/python -m benchmarks.second_run`` (about a minute).
Each tap syncs every stream twice against one in-process sandbox: a first run with
``start_date`` before every record, then, after edits to about 8% of the records of
each incremental stream and a few new ones, a second run from the first run's STATE.
The figure is the second run's requests over the first's (target: at most 25%), with
records emitted per run beside it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import time
import typing as t
from collections import Counter
from datetime import datetime, timezone

from sandbox_api import CRMAPI, CallTrackerAPI, Sandbox, fake
from tap_calltracker.tap import TapCallTracker
from tap_crm.tap import TapCRM

START = "2000-01-01T00:00:00Z"
# A small team's account: large lists of contacts and activity, small reference lists.
CRM_SIZES = {
    "contacts": 3000,
    "companies": 2060,
    "deals": 1000,
    "actions": 3000,
    "notes": 2000,
    "calls": 1500,
    "meetings": 500,
    "relationship_types": 8,
    "filters": 12,
    "custom_fields": 9,
    "predefined_actions": 10,
    "predefined_items": 20,
}
CALLTRACKER_SIZES = {
    "calls": 6000,
    "contacts": 3090,
    "users": 70,
    "numbers": 20,
    "teams": 5,
    "tags": 30,
    "webhooks": 10,
}
CRM_EDITED = ("contacts", "companies", "deals", "actions", "notes", "calls", "meetings")
CALLTRACKER_EDITED = ("contacts",)
EDITED_SHARE = 0.08


def sync(tap_class: type, config: dict, state: dict | None) -> tuple[dict, Counter]:
    """Run every stream once; the final state and records per stream."""
    out = io.StringIO()
    tap = tap_class(config=config, state=state, parse_env_config=False)
    with contextlib.redirect_stdout(out):
        tap.sync_and_keep_state()
    records: Counter = Counter()
    final: dict = {}
    for line in out.getvalue().splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            records[message["stream"]] += 1
        elif message["type"] == "STATE":
            final = message["value"]
    return final, records


def edit(api: t.Any, streams: t.Sequence[str], field: str, stamp: str) -> None:
    """Edit every 12th record, the edits spread over the last day (as a day of work
    spreads them; all in one second would be a bulk edit), and add 1% new records."""
    now = time.time()
    for stream in streams:
        rows = api.records[stream]
        step = max(int(1 / EDITED_SHARE), 1)
        edited = range(0, len(rows), step)
        for n, index in enumerate(edited):
            second = int(now - 86400 * (len(edited) - n) / len(edited))
            when = (
                second
                if stamp == "unix"
                else fake.iso_z(datetime.fromtimestamp(second, timezone.utc))
            )
            api.modify(stream, index, **{field: f"edited {index}", STAMPED[stamp]: when})
        for _ in range(max(len(rows) // 100, 1)):
            api.add(stream)


STAMPED = {"unix": "updated_at", "iso": "modified_at"}


def measure(  # noqa: PLR0917 - one row of the table, named by its call
    name: str,
    tap_class: type,
    api_name: str,
    config: dict,
    sandbox: Sandbox,
    edited: t.Sequence[str],
    field: str,
    stamp: str,
) -> dict:
    sandbox.clear_log()
    state, first = sync(tap_class, config, None)
    requests_1 = len(sandbox.requests_to(api_name))
    edit(getattr(sandbox, api_name), edited, field, stamp)
    sandbox.clear_log()
    _, second = sync(tap_class, config, state)
    requests_2 = len(sandbox.requests_to(api_name))
    return {
        "tap": name,
        "run 1 requests": requests_1,
        "run 2 requests": requests_2,
        "run 2 / run 1": requests_2 / requests_1,
        "run 1 records": sum(first.values()),
        "run 2 records": sum(second.values()),
        "by stream (run 2)": dict(second),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.parse_args()
    logging.disable(logging.WARNING)
    sandbox = Sandbox(
        crm_api=CRMAPI(size=10, sizes=CRM_SIZES),
        calltracker_api=CallTrackerAPI(size=10, sizes=CALLTRACKER_SIZES),
    ).start()
    try:
        rows = [
            measure(
                "tap-crm",
                TapCRM,
                "crm",
                sandbox.crm_config(start_date=START),
                sandbox,
                CRM_EDITED,
                "background",
                "iso",
            ),
            measure(
                "tap-calltracker",
                TapCallTracker,
                "calltracker",
                sandbox.calltracker_config(start_date=START),
                sandbox,
                CALLTRACKER_EDITED,
                "information",
                "unix",
            ),
        ]
    finally:
        sandbox.stop()
    print(
        "| tap | run 1 requests | run 2 requests | run 2 / run 1 | run 1 records | run 2 records |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['tap']} | {row['run 1 requests']} | {row['run 2 requests']} | "
            f"**{row['run 2 / run 1']:.0%}** | {row['run 1 records']} | {row['run 2 records']} |"
        )
    for row in rows:
        print(f"\n{row['tap']}, records of run 2 per stream: {row['by stream (run 2)']}")


if __name__ == "__main__":
    main()
