"""Call fields the list endpoint fills only on request (https://developer.aircall.io/
api-references/#list-all-calls): ``fetch_contact``, ``fetch_short_urls``,
``fetch_call_timeline``. Without the flag, the field is null or absent."""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from sandbox_api.http import Request


def _asked(request: Request, flag: str) -> bool:
    return (request.arg(flag) or "").lower() == "true"


def call_as_listed(call: dict, request: Request) -> dict:
    """A stored call as ``GET /calls`` answers it for this request's ``fetch_*`` flags."""
    listed = dict(call)
    if not _asked(request, "fetch_contact"):
        listed["contact"] = None
    if not _asked(request, "fetch_short_urls"):
        listed.pop("recording_short_url", None)
        listed.pop("voicemail_short_url", None)
    if not _asked(request, "fetch_call_timeline"):
        listed.pop("ivr_options_selected", None)
    return listed
