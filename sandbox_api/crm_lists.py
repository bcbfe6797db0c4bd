"""CRM list behaviours the documentation describes loosely, with a switch for each reading.

* ``team`` (swagger: "Include contacts owned by other users", on ``GET /contacts``; the
  official Java client also sends it on deals): without it, contacts and deals are scoped
  to the API user. ``scope_to_api_user=False`` is an API that serves everyone regardless.
* ``/predefined_items`` pages with ``page``/``per_page`` (default 10, maximum 100) and its
  documented response has no page metadata. ``predefined_items_ignore_page`` serves every
  item on every page; ``predefined_page_metadata`` adds ``page``/``max_page``/... anyway.
* ``/predefined_actions`` documents no parameters: by default it ignores paging and serves
  every action; ``predefined_actions_paged`` pages it like ``/predefined_items``.
"""

from __future__ import annotations

import math
import typing as t
from dataclasses import dataclass

from sandbox_api.crm_data import API_USER_ID

if t.TYPE_CHECKING:
    from sandbox_api.http import Request

# Lists that take ``team`` and are scoped to the API user without it.
TEAM_SCOPED = {"contacts", "deals"}
DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 100


@dataclass
class CRMListSwitches:
    scope_to_api_user: bool = True
    predefined_items_ignore_page: bool = False
    predefined_actions_paged: bool = False
    predefined_page_metadata: bool = False

    def scoped(self, resource: str, rows: list[dict], request: Request) -> list[dict]:
        """Rows the request may see: the API user's own unless ``team`` is true."""
        if resource not in TEAM_SCOPED or not self.scope_to_api_user:
            return rows
        if (request.arg("team") or "").lower() in {"true", "1"}:
            return rows
        return [row for row in rows if row.get("owner_id") == API_USER_ID]

    def predefined_page(self, resource: str, items: list[dict], request: Request) -> dict:
        """``data`` of ``/predefined_items`` or ``/predefined_actions`` for this request."""
        paged = (
            not self.predefined_items_ignore_page
            if resource == "predefined_items"
            else self.predefined_actions_paged
        )
        if not paged:
            return {resource: list(items)}
        page = max(request.int_arg("page", 1), 1)
        per_page = min(max(request.int_arg("per_page", DEFAULT_PER_PAGE), 1), MAX_PER_PAGE)
        data: dict[str, t.Any] = {resource: items[(page - 1) * per_page : page * per_page]}
        if self.predefined_page_metadata:
            data.update(
                total_count=len(items),
                page=page,
                per_page=per_page,
                max_page=math.ceil(len(items) / per_page),
            )
        return data
