"""Generated call-API records, one function per resource, with every field the API documents
(https://developer.aircall.io/api-references/).

Timestamps are in the API's mixed formats: unix seconds on calls, comments, call
tags and contacts; ISO-8601 strings elsewhere, with millis except on users.
"""

from __future__ import annotations

import functools
import hashlib
import random
import typing as t
import uuid
from datetime import datetime, timedelta

import msgspec

from sandbox_api import fake

Record = dict[str, t.Any]

BASE = "https://api.aircall.io/v1"
BASE_V2 = "https://api.aircall.io/v2"
USER_COUNT = 4  # users referenced from calls, teams and numbers
TIME_ZONES = ["Europe/Paris", "Etc/UTC", "America/New_York", "Europe/Dublin", "Asia/Tokyo"]
LANGUAGES = ["en-US", "fr-FR", "de-DE", "es-ES", "pl-PL"]
AVAILABILITY = ["available", "offline", "do_not_disturb", "in_call", "after_call_work"]
MISSED_REASONS = [
    "out_of_opening_hours",
    "short_abandoned",
    "abandoned_in_ivr",
    "no_available_agent",
    "agents_did_not_answer",
]
EVENTS = ["call.created", "call.ended", "call.tagged", "contact.updated", "user.opened"]
# Seen on recorded calls of 2022 (not in the reference).
HANGUP_CAUSES = ["NORMAL_CLEARING", "ORIGINATOR_CANCEL", "NO_ANSWER", None]
SYSTEM_TAGS = ["queue_callback", "conference", "follow_up_self_assign"]


# The capture's redactions: the string "redacted" in booleans and counts (and texts).
REDACTED = "redacted"


def user_iso(moment: datetime) -> str:
    """Users' ``created_at`` as ``/v2/users`` and embedded users write it: with millis."""
    return fake.iso_millis(moment)


def user(i: int, total: int) -> Record:
    """A user as ``/v2/users`` lists it (https://developer.aircall.io/api-references/#list-all-users):
    ``default_number_id``, ``substatus``, ``state``; no ``numbers``."""
    r = fake.rng("ct-user", i)
    first, last = fake.first_name(r), fake.last_name(r)
    created = fake.moment(i, total, r)
    return {
        "id": 100 + i,
        "direct_link": f"{BASE_V2}/users/{100 + i}",
        "name": f"{first} {last}",
        "email": fake.email(first, last, r),
        # Some accounts' values are redacted, a string in a boolean (an odd value).
        "available": REDACTED if i % 9 == 8 else r.random() < 0.7,
        "availability_status": r.choice(["available", "custom", "unavailable", REDACTED]),
        "substatus": fake.maybe(r, r.choice(["always_opened", "out_for_lunch", REDACTED])),
        "state": fake.maybe(r, "always_opened", null=0.5),
        "extension": fake.maybe(r, f"{i % 1000:03d}", null=0.3),
        "created_at": user_iso(created),
        "time_zone": r.choice(TIME_ZONES),
        "language": r.choice(LANGUAGES),
        "wrap_up_time": r.choice([0, 15, 30, 60]),
        "default_number_id": fake.maybe(r, 200 + i % 3, null=0.3),
    }


def user_v1(record: Record) -> Record:
    """A ``/v2/users`` user as the sunset ``/v1/users`` listed it: its v1 link and ``numbers``."""
    r = fake.rng("ct-user-numbers", record["id"])
    v1 = {k: v for k, v in record.items() if k != "default_number_id"}
    v1["direct_link"] = f"{BASE}/users/{record['id']}"
    v1["numbers"] = [number_ref(j) for j in range(r.randrange(0, 3))] + (
        [None] if record["id"] % 7 == 3 else []
    )
    return v1


def user_ref(i: int, *, with_number: bool = False) -> Record:
    """An abridged user, as embedded in calls, comments, tags and teams."""
    full = _shared_user(i % USER_COUNT)
    ref = {
        key: full[key]
        for key in (
            "id",
            "direct_link",
            "name",
            "email",
            "available",
            "availability_status",
            "created_at",
            "time_zone",
            "language",
            "extension",
            "state",
        )
    }
    ref["direct_link"] = f"{BASE}/users/{full['id']}"  # v1 links inside calls and teams
    if with_number:
        ref["wrap_up_time"] = full["wrap_up_time"]
        ref["default_number_id"] = fake.maybe(fake.rng("dn", i), 200 + i % 3, null=0.4)
    return ref


def _messages(r: random.Random, number_id: int) -> Record:
    names = [
        "welcome",
        "waiting",
        "ringing_tone",
        "unanswered_call",
        "after_hours",
        "ivr",
        "voicemail",
        "closed",
        "callback_later",
        "callback_unavailable",
    ]
    return {
        n: f"https://cdn.example.com/numbers/{number_id}/{n}.mp3" for n in names if r.random() < 0.8
    }


def number(i: int, total: int) -> Record:
    ref = _number(i, total)
    r = fake.rng("ct-number-users", i)
    ref["users"] = [user_ref(j) for j in r.sample(range(USER_COUNT), r.randrange(0, 3))]
    return ref


def number_ref(i: int) -> Record:
    return dict(_shared_number(i % 3))


@functools.cache
def _shared_user(i: int) -> Record:
    return user(i, USER_COUNT)


@functools.cache
def _shared_number(i: int) -> Record:
    return _number(i, 3)


@functools.cache
def _shared_team(i: int) -> Record:
    return team(i, 3)


def _number(i: int, total: int) -> Record:
    r = fake.rng("ct-number", i)
    created = fake.moment(i, total, r)
    number_id = 200 + i
    digits = fake.phone(r)
    record = {
        "id": number_id,
        "direct_link": f"{BASE}/numbers/{number_id}",
        "name": r.choice(["Support 🇫🇷", "Ventes", "Zentrale", "Sales US", ""]),
        "digits": digits,
        "e164_digits": digits.replace(" ", ""),
        "country": r.choice(fake.COUNTRIES),
        "time_zone": r.choice(TIME_ZONES),
        "open": REDACTED if i % 5 == 4 else fake.maybe(r, r.random() < 0.5, null=0.3),
        "availability_status": r.choice(["open", "custom", "closed"]),
        "is_ivr": fake.maybe(r, r.random() < 0.3, null=0.3),
        "live_recording_activated": r.random() < 0.5,
        "flow_editor_enabled": r.random() < 0.5,
        "priority": r.choice([None, 0, 1]),
        "messages": _messages(r, number_id),
        "created_at": fake.iso_millis(created.replace(microsecond=r.randrange(0, 1000) * 1000)),
    }
    if i % 2:  # some accounts send it (undocumented)
        record["updated_at"] = fake.iso_millis(created + timedelta(days=3))
    return record


def team(i: int, total: int) -> Record:
    r = fake.rng("ct-team", i)
    created = fake.moment(i, total, r)
    return {
        "id": 300 + i,
        "direct_link": f"{BASE}/teams/{300 + i}",
        "name": f"Équipe {fake.company_name(r)} {i}"[:64],
        "created_at": fake.iso_millis(created),
        "users": [user_ref(j, with_number=True) for j in range(r.randrange(0, USER_COUNT + 1))],
    }


def team_ref(i: int) -> Record:
    full = _shared_team(i % 3)
    return {k: full[k] for k in ("id", "direct_link", "name", "created_at")}


def tag(i: int, total: int) -> Record:
    r = fake.rng("ct-tag", i)
    record: Record = {
        "id": 400 + i,
        "direct_link": f"{BASE}/tags/{400 + i}",
        "name": r.choice(["VIP", "Rückruf", "Devis envoyé", "spam", "follow-up ✓"]) + f" {i}",
        "color": f"#{r.randrange(0, 0xFFFFFF):06X}",
        "description": r.choice([None, "", *SYSTEM_TAGS, "Clients à rappeler"]),
    }
    if i % 5 == 4:
        del record["direct_link"]  # absent in some real records
    return record


def webhook(i: int, total: int) -> Record:
    r = fake.rng("ct-webhook", i)
    created = fake.moment(i, total, r)
    webhook_id = str(uuid.UUID(int=r.getrandbits(128), version=4))
    return {
        "id": 44_000_000 + i,  # deprecated, still sent beside webhook_id
        "webhook_id": webhook_id,
        "direct_link": f"{BASE}/webhooks/{webhook_id}",
        "created_at": fake.iso_millis(created),
        "custom_name": r.choice(["Webhook", "CRM sync", "Slack → #support"]),
        "url": f"https://hooks.example.com/{i}",
        "active": r.random() < 0.8,
        "token": webhook_token(i),  # fake, but handled as the live secret a real one is
        "events": r.sample(EVENTS, r.randrange(0, 4)) + ([None] if i % 6 == 5 else []),
    }


def fingerprint(token: str) -> str:
    """What the tap emits instead of a token: 12 hex digits of its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def webhook_token(i: int) -> str:
    return f"whsec-{fake.object_id('webhook-token', i)}"


def _labelled(r: random.Random, make: t.Callable[[], str], base_id: int) -> list:
    # Ids are integers in the API reference, "any" in one client: some are strings here.
    items: list = [
        {
            "id": base_id + n if (base_id + n) % 4 else str(base_id + n),
            "label": r.choice(["Work", "Mobile", "Bureau", None]),
            "value": make(),
        }
        for n in range(r.randrange(0, 3))
    ]
    if r.random() < 0.05:
        items.append(None)
    return items


def contact(i: int, total: int) -> Record:
    r = fake.rng("ct-contact", i)
    first, last = fake.first_name(r), fake.last_name(r)
    created = fake.moment(i, total, r)
    updated = created + timedelta(seconds=r.randrange(0, 86400 * 20))
    contact_id = 5_000_000 + i
    record: Record = {
        "id": contact_id,
        "direct_link": f"{BASE}/contacts/{contact_id}",
        "first_name": fake.maybe(r, first, empty=""),
        "last_name": fake.maybe(r, last, null=0.1),
        "company_name": fake.maybe(r, fake.company_name(r), null=0.4),
        "description": fake.maybe(r, fake.sentence(r, 4), null=0.6),
        "information": fake.maybe(r, fake.sentence(r, 8), null=0.5, empty=""),
        "is_shared": r.random() < 0.8,
        "phone_numbers": _labelled(r, lambda: fake.phone(r), contact_id * 10),
        "emails": _labelled(r, lambda: fake.email(first, last, r), contact_id * 10 + 5),
        "created_at": fake.unix(created),
        "updated_at": fake.unix(updated),
    }
    if i % 4 == 1:  # older contacts carry ``urls`` (not in the reference)
        record["urls"] = _labelled(r, lambda: f"https://www.example.com/{contact_id}", contact_id)
    return record


def call_contact(i: int) -> Record:
    """The contact shown on call ``i``: one of 50, each generated once and handed out as a
    copy of its own (every call record may be edited on its own)."""
    return msgspec.json.decode(_call_contact_json(i % 50))


@functools.lru_cache(maxsize=50)
def _call_contact_json(i: int) -> bytes:
    return msgspec.json.encode(contact(i, 50))


def call(i: int, total: int) -> Record:
    r = fake.rng("ct-call", i)
    started = fake.moment(i, total, r)
    answered = r.random() < 0.7
    duration = r.randrange(5, 1800)
    call_id = 1_000_000_000 + i
    inbound = r.random() < 0.6
    return {
        "id": call_id,
        "sid": f"CA{fake.object_id('sid', i)}",
        "direct_link": f"{BASE}/calls/{call_id}",
        "direction": "inbound" if inbound else "outbound",
        "status": "done",
        "missed_call_reason": None if answered else r.choice(MISSED_REASONS),
        **({"hangup_cause": r.choice(HANGUP_CAUSES)} if i % 3 == 0 else {}),
        "started_at": fake.unix(started),
        "answered_at": fake.unix(started) + r.randrange(1, 30) if answered else None,
        "ended_at": fake.unix(started) + duration,
        "duration": duration,
        "raw_digits": "anonymous" if r.random() < 0.1 else fake.phone(r),
        "asset": fake.maybe(r, f"https://assets.example.com/calls/{call_id}", null=0.5),
        "recording": fake.maybe(r, f"https://rec.example.com/{call_id}.mp3", null=0.6),
        "voicemail": None if answered else fake.maybe(r, f"https://vm.example.com/{call_id}.mp3"),
        # Sent only with fetch_short_urls=true (calltracker.py strips them otherwise).
        "recording_short_url": f"https://short.example.com/r{call_id}" if answered else None,
        "voicemail_short_url": None if answered else f"https://short.example.com/v{call_id}",
        "archived": fake.maybe(r, r.random() < 0.1, null=0.3),
        "cost": fake.maybe(r, f"{r.randrange(0, 500) / 100:.2f}", null=0.5),
        "pricing_type": fake.maybe(r, r.choice(["in_bundle", "regular", "premium"]), null=0.5),
        "country_code_a2": r.choice(fake.COUNTRIES),
        "user": user_ref(i) if answered else None,
        "assigned_to": fake.maybe(r, user_ref(i + 1), null=0.7),
        "transferred_by": fake.maybe(r, user_ref(i + 2), null=0.9),
        "transferred_to": fake.maybe(r, user_ref(i + 3), null=0.9),
        "contact": fake.maybe(r, call_contact(i), null=0.6),
        "number": number_ref(i),
        "teams": [team_ref(i)] if inbound else [],
        "comments": [comment(r, i, n, started) for n in range(r.randrange(0, 3))],
        "tags": [call_tag(r, i, n, started) for n in range(r.randrange(0, 3))]
        + ([None] if i % 11 == 10 else []),
        "participants": _participants(r) if r.random() < 0.1 else [],
        # Sent only with fetch_call_timeline=true; elements undocumented, kept whole.
        "ivr_options_selected": [
            {"branch": r.choice(["Ventes", "Support"]), "key": str(n + 1), "position": n}
            for n in range(r.randrange(0, 3))
        ]
        if inbound
        else [],
    }


def comment(r: random.Random, i: int, n: int, after: datetime) -> Record:
    return {
        "id": 7_000_000 + i * 10 + n,
        "content": fake.sentence(r, 5),
        "posted_at": fake.unix(after) + r.randrange(60, 86400),
        "posted_by": fake.maybe(r, user_ref(i + n), null=0.3),  # null: posted through the API
    }


def call_tag(r: random.Random, i: int, n: int, after: datetime) -> Record:
    return {
        "id": 400 + (i + n) % 5,
        "name": f"Tag {(i + n) % 5}",
        "tagged_at": fake.unix(after) + r.randrange(60, 86400),
        "tagged_by": user_ref(i + n),
    }


def _participants(r: random.Random) -> list[Record]:
    return [
        {
            "id": str(100 + r.randrange(USER_COUNT)),
            "direct_link": f"{BASE}/users/100",
            "type": "user",
            "name": "Zoë Müller",
        },
        {"type": "external", "phone_number": fake.phone(r)},
        # An integer id, as another client types it.
        {"id": 5000001, "type": "contact", "name": "José García", "phone_number": fake.phone(r)},
    ]


GENERATORS: dict[str, t.Callable[[int, int], Record]] = {
    "calls": call,
    "contacts": contact,
    "numbers": number,
    "tags": tag,
    "users": user,
    "teams": team,
    "webhooks": webhook,
}


def availability(user_record: Record) -> Record:
    r = fake.rng("availability", user_record["id"])
    return {"id": user_record["id"], "availability": r.choice(AVAILABILITY)}


def company(users: list[Record], numbers: list[Record]) -> Record:
    return {
        "name": "Café Olé Télécom SAS",
        "users_count": len(users),
        "numbers_count": len(numbers),
    }
