"""The practical upper bound: one ``requests.Session``, the tap's pages, one JSON line per record.

No SDK, no schema, no state: fetch, ``json.loads``, select, ``json.dumps``, write. The
requests are the taps' own: the CRM sorted by ``modified_at`` ascending in pages of 100;
the call API in creation-time (``from``/``to``) windows halved until each holds fewer than
its 10,000-item cap, pages of 50. Usage:

    python -m benchmarks.raw_loop {crm|calltracker} BASE_URL USER PASSWORD SUMMARY.json RESOURCE...
"""

from __future__ import annotations

import json
import sys
import time
import typing as t

import requests

CRM_WRAPPERS = {"contacts": "contact", "deals": "deal", "notes": "note"}
# The tap's extra parameters: contacts and deals of the whole team, not only the API
# user's (https://developer.onepagecrm.com/api/ GET /contacts, query parameter ``team``).
CRM_PARAMS = {"contacts": {"team": "true"}, "deals": {"team": "true"}}
CALL_CAP = 10_000


def crm_records(session: requests.Session, base_url: str, name: str) -> t.Iterator[dict]:
    page = 1
    while True:
        params: dict[str, t.Any] = {
            "page": page,
            "per_page": 100,
            "sort_by": "modified_at",
            "order": "asc",
            **CRM_PARAMS.get(name, {}),
        }
        response = session.get(f"{base_url}/{name}", params=params, timeout=60)
        response.raise_for_status()
        data = response.json()["data"]
        for item in data[name]:
            yield item[CRM_WRAPPERS[name]]
        if data["page"] >= data["max_page"]:
            return
        page += 1


def call_records(
    session: requests.Session, base_url: str, name: str, start: int = 0, end: int | None = None
) -> t.Iterator[dict]:
    """Page through (start, end]; a window at the cap is split in halves first.

    ``from`` is asked as exclusive, as a live account answers ``/calls``; on ``/contacts``
    (inclusive) the record at a split's middle second would come twice, which the record
    count shows and the benchmark's rates ignore (a handful in 100,000).
    """
    end = int(time.time()) + 86_400 if end is None else end
    params: dict[str, t.Any] = {"per_page": 50, "order": "asc", "from": start, "to": end}
    if name == "contacts":
        params["order_by"] = "created_at"
    page = 1
    while True:
        response = session.get(f"{base_url}/{name}", params={**params, "page": page}, timeout=60)
        response.raise_for_status()
        body = response.json()
        if page == 1 and body["meta"]["total"] >= CALL_CAP and start < end:
            middle = (start + end) // 2
            yield from call_records(session, base_url, name, start, middle)
            yield from call_records(session, base_url, name, middle, end)
            return
        yield from body[name]
        if not body["meta"]["next_page_link"]:
            return
        page += 1


def main() -> None:
    api, base_url, user, password, summary_path, *names = sys.argv[1:]
    session = requests.Session()
    session.auth = (user, password)
    read = crm_records if api == "crm" else call_records
    out = sys.stdout
    counts = {}
    for name in names:
        count = 0
        for record in read(session, base_url, name):
            out.write(json.dumps(record) + "\n")
            count += 1
        counts[name] = {"records": count, "error": None}
    out.flush()
    with open(summary_path, "w") as handle:
        json.dump({"resources": counts}, handle)


if __name__ == "__main__":
    main()
