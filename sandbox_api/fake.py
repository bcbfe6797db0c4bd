"""Deterministic, realistic fake values: unicode names, nulls, empty strings, nested arrays."""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta, timezone

FIRST_NAMES = [
    "Ana",
    "José",
    "Zoë",
    "Łukasz",
    "Søren",
    "Ngọc",
    "Aoife",
    "Björn",
    "Chloé",
    "Đorđe",
    "Émilie",
    "François",
    "Gül",
    "Håkon",
    "İlkay",
    "Jürgen",
    "Kateřina",
    "Lucía",
    "Mëlanie",
    "Nuño",
    "Oğuz",
    "Paweł",
    "Ramón",
    "Siobhán",
    "Tomás",
    "Ümit",
    "Wojciech",
    "Yūki",
    "Zoltán",
    "李",
    "Ольга",
    "Δημήτρης",
    "محمد",
    "Sam",
    "Pat",
]
LAST_NAMES = [
    "O'Brien",
    "García",
    "Müller",
    "Nowak",
    "Søndergaard",
    "Nguyễn",
    "Ó Súilleabháin",
    "Łódź-Kowalska",
    "Dvořák",
    "Fernández",
    "Jørgensen",
    "Kovačević",
    "Lefèvre",
    "Öztürk",
    "Papadopoulos",
    "Rodríguez",
    "Smith",
    "Tanaka",
    "van der Berg",
    "Żółć",
    "王",
    "Иванова",
    "Ξενάκης",
    "Da Silva",
    "Murphy",
]
COMPANY_WORDS = [
    "Acme",
    "Nordlicht",
    "Café Olé",
    "Łąka",
    "Żabka",
    "Straße",
    "Kōgyō",
    "Blue Harbour",
    "Fjord & Co",
    "Ñandú",
    "Crème",
    "Brücke",
    "Škoda Parts",
    "Zürich Labs",
    "Ostrava",
]
WORDS = [
    "call",
    "follow",
    "up",
    "quote",
    "proposal",
    "renewal",
    "demo",
    "meeting",
    "contract",
    "invoice",
    "onboarding",
    "pricing",
    "résumé",
    "naïve",
    "über",
    "emoji 🎉",
    "coöperate",
]
COUNTRIES = ["IE", "US", "DE", "FR", "PL", "ES", "JP", "BR", "GB", "SE"]
EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)


def rng(*key: object) -> random.Random:
    """A random generator seeded by a stable key, so every run yields the same data."""
    digest = hashlib.sha256(repr(key).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def object_id(*key: object) -> str:
    """A 24-hex-char id in the style of a MongoDB ObjectId."""
    return hashlib.md5(repr(key).encode()).hexdigest()[:24]  # noqa: S324 - not security


def first_name(r: random.Random) -> str:
    return r.choice(FIRST_NAMES)


def last_name(r: random.Random) -> str:
    return r.choice(LAST_NAMES)


def company_name(r: random.Random) -> str:
    return f"{r.choice(COMPANY_WORDS)} {r.choice(['Ltd', 'GmbH', 'S.A.', 'sp. z o.o.', 'Inc.', ''])}".strip()


def sentence(r: random.Random, words: int = 6) -> str:
    return " ".join(r.choice(WORDS) for _ in range(words)).capitalize()


def maybe(r: random.Random, value: object, *, null: float = 0.2, empty: object = None) -> object:
    """``value`` most of the time, else null (or the API's empty value, e.g. ``""``)."""
    return empty if r.random() < null else value


def moment(index: int, total: int, r: random.Random) -> datetime:
    """Spread ``total`` items over 2024-2025, in index order, whole seconds."""
    span = 700 * 86400
    base = EPOCH + timedelta(seconds=int(span * index / max(total, 1)))
    return base + timedelta(seconds=r.randrange(0, 3600))


def iso_z(value: datetime) -> str:
    """``2016-03-29T13:23:55Z``: UTC, no fraction, as the CRM writes it."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(value: datetime) -> str:
    """``2025-09-15T13:09:37.000Z``: UTC with milliseconds, as the call API writes it."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{value.microsecond // 1000:03d}Z"
    )


def unix(value: datetime) -> int:
    return int(value.timestamp())


def phone(r: random.Random) -> str:
    return (
        f"+{r.choice([1, 33, 44, 48, 49, 353])} {r.randrange(100, 999)} {r.randrange(1000, 9999)}"
    )


def email(first: str, last: str, r: random.Random) -> str:
    ascii_first = first.encode("ascii", "ignore").decode().lower() or "user"
    ascii_last = last.encode("ascii", "ignore").decode().lower().replace(" ", "") or "x"
    return f"{ascii_first}.{ascii_last}{r.randrange(1, 99)}@example.com"
