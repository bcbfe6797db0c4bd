"""Read resources with dlt's ``rest_api_source`` and the configuration the taps were specified from.

Runs inside ``benchmarks/.venv-dlt`` (dlt is never a project dependency), so it imports
nothing from this repository. Usage:

    python dlt_run.py {crm|calltracker} BASE_URL USER PASSWORD SUMMARY.json RESOURCE...

Items go to stdout as JSON lines (dlt's own orjson encoder, as its extract step writes
them); the summary file gets the item count per resource and any error that stopped one.
"""

from __future__ import annotations

import json
import sys
import time

# dlt lives in benchmarks/.venv-dlt only, never beside the project's type checker.
from dlt.common import json as dlt_json  # type: ignore[import-not-found]
from dlt.sources.rest_api import rest_api_source  # type: ignore[import-not-found]


def _page_number() -> dict:
    # The seeds' paginator is {"type": "page_number", "page_param": "page", "limit_param":
    # "per_page", "limit": N}. dlt 1.x's page_number paginator takes no limit/limit_param
    # (the config is rejected), so per_page moves to the endpoint's params; pages start at
    # 1; neither API has a "total" pages field, so paging stops at the first empty page.
    return {"type": "page_number", "page_param": "page", "base_page": 1, "total_path": None}


# The seed resources of the large streams, as written in shared/seeds/*.md.
SEED_RESOURCES = {
    "crm": {
        "contacts": {"path": "/contacts", "data_selector": "data.contacts.*.contact"},
        "deals": {"path": "/deals", "data_selector": "data.deals.*.deal"},
        "notes": {"path": "/notes", "data_selector": "data.notes.*.note"},
    },
    "calltracker": {
        "calls": {"path": "/calls", "data_selector": "calls"},
        "contacts": {"path": "/contacts", "data_selector": "contacts"},
    },
}
SEED_LIMIT = {"crm": 100, "calltracker": 50}
# As the tap and the raw loop ask: the whole team's contacts and deals (without it the API
# lists the API user's own only, https://developer.onepagecrm.com/api/ GET /contacts), so
# all three read the same records.
TEAM = {("crm", "contacts"), ("crm", "deals")}


def seed_config(api: str, base_url: str, user: str, password: str, names: list[str]) -> dict:
    resources = [
        {
            "name": name,
            "endpoint": {
                **SEED_RESOURCES[api][name],
                "params": {
                    "per_page": SEED_LIMIT[api],
                    **({"team": "true"} if (api, name) in TEAM else {}),
                },
                "paginator": _page_number(),
            },
        }
        for name in names
    ]
    return {
        "client": {
            "base_url": base_url,
            # The seeds say "basic"; dlt 1.x names that type "http_basic" (the one change).
            "auth": {"type": "http_basic", "username": user, "password": password},
        },
        "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
        "resources": resources,
    }


def main() -> None:
    api, base_url, user, password, summary_path, *names = sys.argv[1:]
    out = sys.stdout.buffer
    summary: dict = {"resources": {}}
    started = time.perf_counter()
    for name in names:
        # One source per resource, so a resource that fails does not hide the others' counts.
        source = rest_api_source(seed_config(api, base_url, user, password, [name]))
        count = 0
        error = None
        try:
            for item in source.with_resources(name):
                out.write(dlt_json.dumpb(item) + b"\n")
                count += 1
        except Exception as exc:  # report how far dlt got, whatever stopped it
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
        summary["resources"][name] = {"records": count, "error": error}
    out.flush()
    summary["seconds"] = time.perf_counter() - started
    with open(summary_path, "w") as handle:
        json.dump(summary, handle)


if __name__ == "__main__":
    main()
