"""Switches for what the APIs' documentation leaves open about order and paging.

Each switch's default is what a live account was seen to do where one was (``/calls``
bounds, ``/webhooks`` links, ``/v1/users``, a call's moved start, ``/contacts`` bounds); the
others are off by default. The taps must pass with every position of every switch
(``tests/test_every_switch_position.py``):

* ``shuffle_ties``: records sharing a second (the sort key's resolution) come back in a
  new order on every request, as a database orders ties arbitrarily unless told
  (MongoDB: https://www.mongodb.com/docs/manual/reference/method/cursor.sort/#sort-consistency).
  On the call API this also shuffles the milliseconds within a second.
* ``strict_since``: the CRM's ``modified_since`` keeps records strictly after the
  second (undocumented whether it is ``>`` or ``>=``).
* ``cap_total``: the call API's ``meta.total`` stops at 10,000 and ``next_page_link`` is
  null at the cap, as other clients of it assume.
* ``status_in_200``: the next N CRM list answers are HTTP 200 whose envelope says
  ``"status": 500`` with an empty list.
* ``stale_max_page``: the CRM's ``max_page`` is one less than the real page count;
  ``past_end`` says what a page past the end answers: ``"empty"``, ``"last"`` (the last
  page again) or ``"400"``.
* ``v1_users``: what the call API's ``/v1/users`` answers after the sunset of v1 "List all
  Users" (2026-09-30, https://developer.aircall.io/api-references/#list-all-users): ``"404"``
  (the default: ``{"message": "Not Found"}``, as an unknown route), ``"410"`` or
  ``"served"`` (the v1 shape, with ``numbers``). ``/v2/users`` is served in every position.
* ``contacts_bounds``: how the call API's ``/contacts`` ``from``/``to`` treat their own
  second (on ``created_at``): ``"inclusive"`` (the default, as a live account answered),
  ``"from_exclusive"``, ``"to_exclusive"`` or ``"exclusive"``.
* ``early_modified_at``: the CRM serves one record in five with a ``modified_at`` that
  reads earlier than the time ``modified_since`` and the sort use: ``"date_only"`` (its
  date, ``YYYY-MM-DD``) or ``"seconds"`` (7 seconds earlier, a clock off); ``""``: off.
* ``inclusive_calls_from``: the call API's ``from`` keeps calls started at that second
  (``started_at >= from``), as its reference reads; a live account answered exclusive
  (``started_at > from``, ``to`` inclusive), the default.
* ``exclusive_from_elsewhere``: ``from`` is exclusive on numbers, users and
  availabilities too (no live account has shown their bound).
* ``no_links``: every call-API list's ``meta`` lacks ``next_page_link`` and
  ``previous_page_link`` (a live account's ``/webhooks`` never sends them, the default).
* ``start_move``: seconds a call's ``started_at`` moves when it is finalized
  (``CallTrackerAPI.finalize``); a live account moved one by 1 s, the default.
* ``calls_horizon_days``: only calls started in the last N days are served (the
  reference documents six months); an older window answers an empty list. Off (None)
  by default: the generated calls lie in 2024-2025.
* ``wrong_page_answers``: the next N call-API list answers are page 1 at the default
  ``per_page`` whatever was asked, as after a redirect that dropped the query string.
* ``after_page(resource, n, action)``: ``action()`` runs once, right after the n-th page
  request of ``resource`` is answered (inserts and deletes while a sync pages).
"""

from __future__ import annotations

import random
import threading
import typing as t
from dataclasses import dataclass, field
from itertools import groupby


@dataclass
class Variations:
    shuffle_ties: bool = False
    strict_since: bool = False
    cap_total: bool = False
    status_in_200: int = 0
    stale_max_page: bool = False
    past_end: str = "empty"
    v1_users: str = "404"
    contacts_bounds: str = "inclusive"
    early_modified_at: str = ""
    inclusive_calls_from: bool = False
    exclusive_from_elsewhere: bool = False
    no_links: bool = False
    start_move: int = 1
    calls_horizon_days: int | None = None
    wrong_page_answers: int = 0
    seed: int = 12
    _hooks: dict[str, list[list]] = field(default_factory=dict)
    _pages_served: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    @classmethod
    def everything(cls, past_end: str = "last") -> Variations:
        """Every switch on (a few envelope errors), for the by-hand ``--all-switches`` run."""
        return cls(
            shuffle_ties=True,
            strict_since=True,
            cap_total=True,
            status_in_200=2,
            stale_max_page=True,
            past_end=past_end,
            v1_users="served",
            inclusive_calls_from=True,
            exclusive_from_elsewhere=True,
            no_links=True,
            start_move=90,
            wrong_page_answers=1,
        )

    # -- order -------------------------------------------------------------------

    def order_ties(self, rows: list[dict], second_of: t.Callable[[dict], t.Any]) -> list[dict]:
        """``rows`` (sorted by ``second_of``) with each same-second run shuffled, if on."""
        if not self.shuffle_ties:
            return rows
        out: list[dict] = []
        with self._lock:
            for _, group in groupby(rows, key=second_of):
                tie = list(group)
                if len(tie) > 1:
                    self._random.shuffle(tie)
                out.extend(tie)
        return out

    # -- envelope ----------------------------------------------------------------

    def take_status_error(self) -> bool:
        """Whether this answer is a 200 with an error status in its envelope."""
        with self._lock:
            if self.status_in_200 <= 0:
                return False
            self.status_in_200 -= 1
            return True

    def take_wrong_page(self) -> bool:
        """Whether this answer ignores the query's page and per_page (a dropped query)."""
        with self._lock:
            if self.wrong_page_answers <= 0:
                return False
            self.wrong_page_answers -= 1
            return True

    # -- lists that move ---------------------------------------------------------

    def after_page(self, resource: str, n: int, action: t.Callable[[], t.Any]) -> None:
        """Run ``action`` once, after the n-th page request of ``resource``."""
        with self._lock:
            self._hooks.setdefault(resource, []).append([n, action])

    def page_served(self, resource: str) -> None:
        """Count a page request of ``resource``; run the hooks due now."""
        with self._lock:
            served = self._pages_served.get(resource, 0) + 1
            self._pages_served[resource] = served
            due = [hook for hook in self._hooks.get(resource, []) if hook[0] == served]
        for _, action in due:
            action()


def bulk_edit(records: list[dict], count: int, stamp: str, field_name: str = "modified_at") -> None:
    """Stamp ``count`` records (spread over the list) with one second: a bulk update."""
    step = max(len(records) // max(count, 1), 1)
    for record in records[::step][:count]:
        record[field_name] = stamp
