"""Generated CRM records, one function per resource, with every field of the API's
schemas (https://github.com/OnePageCRM/swagger).

Records are the inner objects (what the tap emits); ``crm.py`` wraps them in the API's
list items and envelopes.
"""

from __future__ import annotations

import random
import typing as t
from datetime import timedelta

from sandbox_api import crm_custom_fields, fake

Record = dict[str, t.Any]

CONTACT_STATUSES = [("lead", "Lead"), ("prospect", "Prospect"), ("customer", "Customer")]
LEAD_SOURCES = ["advertisement", "email_web", "other", "referral", "trade_show"]
# An 8-user account. User 0 is the API user: its id is the basic-auth user name.
USER_COUNT = 8
API_USER_ID = "5aba31ea9007ba0f570c92d4"
API_KEY = "sandbox-api-key"  # the API user's API key: the basic-auth password, fake


def user_id(index: int) -> str:
    """Id of one of the first users, for owner/assignee references."""
    slot = index % USER_COUNT
    return API_USER_ID if slot == 0 else fake.object_id("user", slot)


def _stamps(i: int, total: int, r: random.Random) -> tuple[str, str]:
    created = fake.moment(i, total, r)
    modified = created + timedelta(seconds=r.randrange(0, 86400 * 30))
    return fake.iso_z(created), fake.iso_z(modified)


def _type_values(r: random.Random, kinds: list[str], make: t.Callable[[], str]) -> list[dict]:
    return [{"type": r.choice(kinds), "value": make()} for _ in range(r.randrange(0, 3))]


def _custom_field(r: random.Random, i: int) -> dict:
    kind = r.choice(["single_line_text", "multiple_choice", "number", "anniversary"])
    field: dict[str, t.Any] = {
        "id": fake.object_id("cf", i),
        "name": f"Field {i} ✓",
        "type": kind,
        "position": i,
    }
    if kind == "multiple_choice":
        field["choices"] = ["Rot", "Grün", "Blau"]
    if kind == "anniversary":
        field["reminder_days"] = r.choice([None, 7])
    return field


def _attachment(r: random.Random, key: object) -> dict:
    return {
        "id": fake.object_id("att", key),
        "filename": "offer.pdf",
        "custom_filename": r.choice(["", "Angebot für Müller.pdf"]),
        "size": r.randrange(1000, 900000),
        "pinned": r.random() < 0.3,
        "pinned_at": fake.maybe(r, "2024-05-05T10:00:00Z", null=0.7),
        "storage_provider": r.choice(["amazon", "google_drive", "dropbox", "evernote"]),
        "url": f"https://files.example.com/{fake.object_id('file', key)}",
        "url_expires_at": "2030-01-01T00:00:00Z",
        "thumbnail": fake.maybe(r, {"url": "https://files.example.com/thumb.png"}, null=0.5),
    }


def contact(i: int, total: int) -> Record:
    r = fake.rng("contact", i)
    first, last = fake.first_name(r), fake.last_name(r)
    created, modified = _stamps(i, total, r)
    status_key, status_text = r.choice(CONTACT_STATUSES)
    return {
        "id": fake.object_id("contact", i),
        "type": fake.maybe(r, "individual", null=0.3),
        "title": r.choice(["", "Mr", "Ms", "Dr"]),
        "first_name": first,
        "last_name": last,
        "job_title": fake.maybe(r, r.choice(["CEO", "Einkäuferin", "Directeur"]), empty=""),
        "company_id": fake.maybe(r, fake.object_id("company", i % 50)),
        "company_name": fake.maybe(r, fake.company_name(r), empty=""),
        "company_size": fake.maybe(r, r.randrange(1, 5000)),
        "owner_id": user_id(i),
        "status": status_text,
        "status_id": fake.object_id("status", status_key),
        "lead_source": r.choice(LEAD_SOURCES),
        "lead_source_id": r.choice([*LEAD_SOURCES, ""]),
        "tags": r.sample(["vip", "newsletter", "größe-l", "2024"], r.randrange(0, 3)),
        "starred": r.random() < 0.2,
        "background": fake.maybe(r, fake.sentence(r, 10), empty=""),
        "letter": last[0].upper(),
        "photo_url": r.choice(["", "https://img.example.com/p.png"]),
        "pending_deal": r.random() < 0.4,
        "total_pendings": r.randrange(0, 20000),
        "total_deals_count": r.randrange(0, 10),
        "urls": _type_values(r, ["website", "blog", "linkedin"], lambda: "https://example.com"),
        "phones": _type_values(r, ["work", "mobile", "skype"], lambda: fake.phone(r)),
        "emails": _type_values(r, ["work", "home"], lambda: fake.email(first, last, r)),
        "address_list": [
            {
                "type": r.choice(["work", "billing", None]),
                "address": "Hauptstraße 5",
                "city": r.choice(["Kraków", "München", "Dublin"]),
                "state": r.choice(["", "Bayern"]),
                "zip_code": r.choice(["80331", None]),
                "country_code": r.choice(fake.COUNTRIES),
            }
            for _ in range(r.randrange(0, 2))
        ],
        "custom_fields": crm_custom_fields.field_values("custom_field", i),
        "sales_closed_for": [user_id(i + 1)] if r.random() < 0.2 else [],
        "closed_sales": [
            {"user_id": user_id(i), "closed_at": 1714000000 + i, "comment": "Gewonnen 🎉"}
        ]
        if r.random() < 0.2
        else [],
        "email_sync_available": fake.maybe(r, True),
        "email_sync_enabled": fake.maybe(r, False),
        "enhanceable": fake.maybe(r, r.random() < 0.5),
        "google_contacts_data": fake.maybe(
            r, {"etag": "x1", "resource_name": "people/c1"}, null=0.8
        ),
        "created_at": created,
        "modified_at": modified,
    }


def user(i: int, total: int) -> Record:
    r = fake.rng("user", i)
    first, last = fake.first_name(r), fake.last_name(r)
    return {
        "id": user_id(i) if i < USER_COUNT else fake.object_id("user", i),
        "first_name": first,
        "last_name": last,
        "email": fake.email(first, last, r),
        "company_name": "Sandbox Ltd",
        "account_rights": r.sample(["account_owner", "admin", "export", "pipeline"], 2),
        "account_role": fake.maybe(r, "admin"),
        "photo_url": r.choice(["", "https://img.example.com/u.png"]),
        "country_code": r.choice(fake.COUNTRIES),
        "bcc_email": fake.maybe(r, "bcc-123@example.com", null=0.7),
        "google_contacts_email": fake.maybe(r, None),
        "virtual_group_id": fake.maybe(r, fake.object_id("vg", 1), null=0.6),
    }


def company(i: int, total: int) -> Record:
    r = fake.rng("company", i)
    created, modified = _stamps(i, total, r)
    return {
        "id": fake.object_id("company", i),
        "name": fake.company_name(r),
        "description": fake.maybe(r, fake.sentence(r, 8), empty=""),
        "phone": fake.maybe(r, fake.phone(r)),
        "url": fake.maybe(r, "https://example.com", empty=""),
        "address": fake.maybe(
            r,
            {
                "address": "Rue de l'Église 3",
                "city": "Liège",
                "state": "",
                "zip_code": None,
                "country_code": "BE",
            },
        ),
        "company_fields": crm_custom_fields.field_values("company_field", i),
        "syncing_status": r.random() < 0.5,
        "syncing_tags": r.random() < 0.5,
        "synced_status_id": None,
        "synced_tags": [],
        "contacts_count": r.randrange(0, 40),
        "won_deals_count": r.randrange(0, 10),
        "pending_deals_count": r.randrange(0, 10),
        "total_won_amount": round(r.uniform(0, 100000), 2),
        "total_pending_amount": round(r.uniform(0, 50000), 2),
        "contacts": [
            {
                "contact": {"id": fake.object_id("contact", i * 3 + n), "first_name": "Eva"},
                "next_action": None,
                "next_actions": [],
                "queued_actions": [],
                "next_action_conflicts": [],
            }
            for n in range(r.randrange(0, 3))
        ],
        "pending_deals": [{"deal": {"id": fake.object_id("deal", i), "name": "Lizenz"}}]
        if r.random() < 0.3
        else [],
        "image": fake.maybe(r, "", empty=None),
        "photo_url": fake.maybe(r, ""),
        "created_at": created,
        "modified_at": modified,
    }


def action(i: int, total: int) -> Record:
    r = fake.rng("action", i)
    created, modified = _stamps(i, total, r)
    status = r.choice(["asap", "date", "date_time", "waiting", "queued", "done"])
    return {
        "id": fake.object_id("action", i),
        "assignee_id": user_id(i),
        "contact_id": fake.object_id("contact", i),
        "text": fake.sentence(r, 4),
        "status": status,
        "date": "2025-03-01" if status in {"date", "date_time"} else None,
        "exact_time": 1740830400 if status == "date_time" else None,
        "position": r.randrange(0, 5) if status == "queued" else None,
        "done": status == "done",
        "done_at": "2025-03-02" if status == "done" else None,
        "externally_controlled": fake.maybe(r, False),
        "created_at": created,
        "modified_at": modified,
    }


def deal(i: int, total: int) -> Record:
    r = fake.rng("deal", i)
    created, modified = _stamps(i, total, r)
    status = r.choice(["pending", "won", "lost"])
    amount = r.choice([1000, 2499.99, 150.5])
    return {
        "id": fake.object_id("deal", i),
        "contact_id": fake.object_id("contact", i),
        "owner_id": user_id(i),
        "pipeline_id": fake.maybe(r, fake.object_id("pipeline", 0)),
        "sales_pipeline_id": fake.maybe(r, fake.object_id("pipeline", 0)),
        "name": f"Deal {i}: {fake.company_name(r)}",
        "text": fake.maybe(r, "[b]Wichtig[/b] – renewal", empty=""),
        "status": status,
        "stage": r.choice([None, 10, 50, 90]),
        "date": created[:10],
        "expected_close_date": "2025-12-31" if status == "pending" else None,
        "close_date": None if status == "pending" else "2025-06-30",
        "amount": amount,
        "cost": fake.maybe(r, 100),
        "margin": fake.maybe(r, 900.5),
        "total_amount": amount * 2,
        "total_cost": 200,
        "commission": fake.maybe(r, 50.25),
        "commission_percentage": fake.maybe(r, 5),
        "months": r.choice([1, 1, 12]),
        "commission_base": r.choice(["amount", "margin", None]),
        "commission_type": r.choice(["none", "percentage", "absolute"]),
        "reason_lost_id": fake.object_id("reason", 1) if status == "lost" else None,
        "deal_fields": crm_custom_fields.field_values("deal_field", i),
        "has_deal_items": True,
        "deal_items": [
            {
                "id": fake.object_id("item", i, n),
                "deal_id": fake.object_id("deal", i),
                "name": "Beratung",
                "description": fake.maybe(r, "Stunden", empty=""),
                "qty": 2,
                "price": 99.5,
                "cost": 10,
                "amount": 199,
                "position": n,
                "predefined_item_id": fake.maybe(r, fake.object_id("predefined_item", 1)),
                "created_at": created,
                "modified_at": modified,
            }
            for n in range(r.randrange(1, 3))
        ],
        "author": "Jane D.",
        "has_related_notes": r.random() < 0.5,
        "attachments": [_attachment(r, ("deal", i))] if r.random() < 0.3 else [],
        "contact_info": {
            "contact_name": f"{fake.first_name(r)} {fake.last_name(r)}",
            "company": fake.company_name(r),
            "contact_owner_id": fake.maybe(r, user_id(i)),
        },
        "owner": {"id": user_id(i), "name": "Jane Doe", "email": "jane@example.com"},
        "linked_contacts": [
            {
                "id": fake.object_id("contact", i + 1),
                "contact_name": "Zoë Nowak",
                "company": "Łąka",
                "photo_url": "",
            }
        ]
        if r.random() < 0.3
        else [],
        "previous_pipeline_stages": fake.maybe(r, {fake.object_id("pipeline", 0): 10}, null=0.7),
        "created_at": created,
        "modified_at": modified,
    }


def note(i: int, total: int) -> Record:
    r = fake.rng("note", i)
    created, modified = _stamps(i, total, r)
    linked = r.random() < 0.3
    return {
        "id": fake.object_id("note", i),
        "contact_id": fake.object_id("contact", i),
        "text": fake.sentence(r, 12),
        "date": created[:10],
        "linked_deal_id": fake.object_id("deal", i) if linked else None,
        "linked_deal_name": "Deal" if linked else "",
        "author": "Jürgen M.",
        "attachments": [_attachment(r, ("note", i))] if r.random() < 0.2 else [],
        "created_at": created,
        "modified_at": modified,
    }


def relationship_type(i: int, total: int) -> Record:
    r = fake.rng("relationship_type", i)
    created, modified = _stamps(i, total, r)
    symmetrical = r.random() < 0.5
    variants = ["Partner"] if symmetrical else ["Parent", "Child"]
    return {
        "id": fake.object_id("relationship_type", i),
        "symmetrical": symmetrical,
        "relationship_variants": [
            {"id": fake.object_id("variant", i, n), "name": name} for n, name in enumerate(variants)
        ],
        "created_at": created,
        "modified_at": modified,
    }


def pipeline(i: int, total: int) -> Record:
    r = fake.rng("pipeline", i)
    return {
        "id": fake.object_id("pipeline", i),
        "name": f"Pipeline {i} – Vertrieb",
        "type": r.choice(["sales", "delivery"]),
        "default": i == 0,
        "won_column_enabled": r.random() < 0.5,
        "won_column_name": "Gewonnen",
        "stages": [{"stage": s, "label": f"Stage {s}"} for s in (10, 50, 90)],
    }


def status(i: int, total: int) -> Record:
    r = fake.rng("status", i)
    key = CONTACT_STATUSES[i % 3][0] if i < 3 else f"custom{i}"
    return {
        "id": fake.object_id("status", key),
        "status": key,
        "text": key.capitalize(),
        "description": fake.maybe(r, "Kontakte im Gespräch", empty=""),
        "color": f"{r.randrange(0, 0xFFFFFF):06x}",
        "counts": r.randrange(0, 100),
        "total_count": r.randrange(0, 500),
        "action_stream_count": r.randrange(0, 50),
        "team_counts": [{"user_id": user_id(n), "counts": n} for n in range(2)],
    }


def lead_source(i: int, total: int) -> Record:
    r = fake.rng("lead_source", i)
    slug = LEAD_SOURCES[i] if i < len(LEAD_SOURCES) else f"source_{i}"
    return {
        "id": slug,
        "text": slug.replace("_", " ").title(),
        "counts": r.randrange(0, 100),
        "total_count": r.randrange(0, 500),
        "action_stream_count": r.randrange(0, 50),
        "team_counts": [{"user_id": user_id(0), "counts": 3}],
    }


def filter_(i: int, total: int) -> Record:
    return {
        "id": fake.object_id("filter", i),
        "name": f"Meine Deals {i}",
        "conditions": [["deal_owner_id", "is", user_id(i)], ["status", "is", "lead"]],
    }


def predefined_action(i: int, total: int) -> Record:
    r = fake.rng("predefined_action", i)
    return {
        "id": fake.object_id("predefined_action", i),
        "text": f"Nachfassen {i}",
        "days": r.randrange(1, 30),
        "action_group_id": fake.maybe(r, fake.object_id("group", 1)),
        "position": fake.maybe(r, i),
    }


def predefined_item(i: int, total: int) -> Record:
    r = fake.rng("predefined_item", i)
    return {
        "id": fake.object_id("predefined_item", i),
        "name": f"Artikel {i}",
        "description": fake.maybe(r, "Größe M", empty=""),
        "cost": 12.5,
        "price": r.choice([19.99, 100, 0]),
        "type": fake.maybe(r, "product"),
        "position": i,
        "item_group_id": fake.object_id("item_group", 0),
    }


def field_definitions(
    lists: dict[str, list[dict]] | None = None,
) -> dict[str, list[dict]]:
    """Bootstrap's ``custom_fields``, ``company_fields`` and ``deal_fields``: the account's
    definitions, each wrapped in its kind's key as the API lists them."""
    lists = lists or {w: crm_custom_fields.definitions(w) for w in crm_custom_fields.TYPES}
    return {f"{wrapper}s": [{wrapper: d} for d in defs] for wrapper, defs in lists.items()}


def custom_field(i: int, total: int) -> Record:
    r = fake.rng("custom_field", i)
    field = _custom_field(r, i)
    field.setdefault("choices", [])
    field.setdefault("reminder_days", None)
    field["mandatory"] = fake.maybe(r, False)
    return field


def call(i: int, total: int) -> Record:
    r = fake.rng("call", i)
    created, modified = _stamps(i, total, r)
    return {
        "id": fake.object_id("call", i),
        "contact_id": fake.object_id("contact", i),
        "text": fake.maybe(r, "Rückruf erbeten", empty=""),
        "call_result": r.choice(["interested", "not_interested", "left_message", "no_answer"]),
        "call_time_int": 1704067200 + i * 600,
        "via": r.choice(["unknown", "jabber", "talkdesk", "phone"]),
        "phone_number": fake.phone(r),
        "recording_link": fake.maybe(r, "https://rec.example.com/1.mp3", null=0.7),
        "author": "Søren K.",
        "attachments": [_attachment(r, ("call", i))] if r.random() < 0.1 else [],
        "index": i,
        "created_at": created,
        "modified_at": modified,
    }


def meeting(i: int, total: int) -> Record:
    r = fake.rng("meeting", i)
    created, modified = _stamps(i, total, r)
    return {
        "id": fake.object_id("meeting", i),
        "contact_id": fake.object_id("contact", i),
        "text": fake.maybe(r, "Kick-off vor Ort", empty=""),
        "meeting_time_int": 1704067200 + i * 3600,
        "place": fake.maybe(r, "Café Zentral, Wien", empty=""),
        "author": "Ana G.",
        "attachments": [_attachment(r, ("meeting", i))] if r.random() < 0.1 else [],
        "index": i,
        "created_at": created,
        "modified_at": modified,
    }


def bootstrap(users: list[Record]) -> Record:
    """The single ``/bootstrap`` object, for the first user."""
    me = users[0] if users else user(0, 1)
    return {
        "user_id": me["id"],
        # The real API answers the API user's API key here (the basic-auth password).
        "auth_key": API_KEY,
        "account_type": "pro",
        "user": {"user": me},
        "team": [{"user": u} for u in users],
        "settings": {
            "reminder": {"type": "email", "hour": 8},
            "time_zone": "Europe/Dublin",
            "not_working_days": "weekend",
            "date_format": "dd/mm/yyyy",
            "time_with_ampm": False,
            "listing_size": 25,
            "currency": "EUR",
            "currency_symbol": "€",
            "separator": ",",
            "delimiter": ".",
            "popular_countries": ["IE", "GB"],
            "deal_stages": [{"label": "Angebot", "stage": 50}],
            "pipelines": [{"pipeline": pipeline(0, 1)}],
            "default_contact_type": "individual",
            "show_tidy_stream": True,
            "show_company_fields_with_contact": False,
            "company_address_enabled": True,
            "company_phone_enabled": True,
            "send_push_notifications": False,
            "bcc_email_enabled": True,
            "reason_lost_enabled": True,
            "virtual_groups_enabled": False,
            "contact_attributes_default_types": {
                "address": "work",
                "email": "work",
                "phone": "mobile",
                "url": "website",
            },
        },
        "cost_setup": {
            "cost_enabled": True,
            "cost_required": False,
            "commission_base": "margin",
            "commission_percentage": "12.5",
        },
        # The account's definitions; the sandbox's CRMAPI.bootstrap serves its own, which
        # tests can add to.
        **field_definitions(),
        "filters": [{"filter": filter_(0, 1)}],
        "call_results": {
            "interested": "Interessiert",
            "not_interested": "Kein Interesse",
            "left_message": "Nachricht hinterlassen",
            "no_answer": "Keine Antwort",
            "other": "Andere",
        },
        "call_results_order": [
            "interested",
            "not_interested",
            "left_message",
            "no_answer",
            "other",
        ],
        "next_action_dates": [
            {"number": 2, "period": "days"},
            {"number": 1, "period": "weeks"},
            {"number": 3, "period": "months"},
        ],
        "predefined_actions": [{"predefined_action": predefined_action(0, 1)}],
        "predefined_action_groups": [{"id": fake.object_id("group", 1), "name": "Standard"}],
        "reason_losts": [{"id": fake.object_id("reason", 1), "name": "Zu teuer", "position": 0}],
        "subscription_plan": {"name": "pro_monthly", "display_name": "Pro (monatlich)"},
        "current_card_scans_number": 3,
        "max_card_scans_limit": 50,
        "virtual_groups": [{"id": fake.object_id("vg", 1), "name": "Team Süd", "default": False}],
        "contact_titles": ["Mr", "Mrs", "Ms", "Dr"],
    }


# Generators by resource; bootstrap is derived from users.
GENERATORS: dict[str, t.Callable[[int, int], Record]] = {
    "contacts": contact,
    "users": user,
    "companies": company,
    "actions": action,
    "deals": deal,
    "notes": note,
    "relationship_types": relationship_type,
    "pipelines": pipeline,
    "statuses": status,
    "lead_sources": lead_source,
    "filters": filter_,
    "predefined_actions": predefined_action,
    "predefined_items": predefined_item,
    "custom_fields": custom_field,
    "calls": call,
    "meetings": meeting,
}
