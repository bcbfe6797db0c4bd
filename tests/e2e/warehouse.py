"""Read back what target-postgres wrote, and compare it with what the sandbox API holds."""

from __future__ import annotations

import typing as t
from collections import Counter
from datetime import date, datetime, timezone
from decimal import Decimal

from psycopg import sql
from psycopg.rows import dict_row

if t.TYPE_CHECKING:
    import psycopg

PRIMARY_KEY_COLUMNS = """
    select a.attname
    from pg_constraint c
    join pg_class r on r.oid = c.conrelid
    join pg_namespace n on n.oid = r.relnamespace
    join pg_attribute a on a.attrelid = r.oid and a.attnum = any(c.conkey)
    where c.contype = 'p' and n.nspname = %s and r.relname = %s
    order by array_position(c.conkey, a.attnum)
"""


def primary_key(conn: psycopg.Connection, schema: str, table: str) -> tuple[str, ...]:
    return tuple(row[0] for row in conn.execute(PRIMARY_KEY_COLUMNS, (schema, table)))


def column_types(conn: psycopg.Connection, schema: str, table: str) -> dict[str, str]:
    """Column name -> Postgres type name (``_jsonb`` is an array of jsonb)."""
    rows = conn.execute(
        "select column_name, udt_name from information_schema.columns "
        "where table_schema = %s and table_name = %s",
        (schema, table),
    )
    return dict(rows.fetchall())


def rows(conn: psycopg.Connection, schema: str, table: str) -> list[dict[str, t.Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            sql.SQL("select * from {}").format(sql.Identifier(schema, table))
        ).fetchall()


def same_value(stored: t.Any, sent: t.Any) -> bool:
    """Whether a Postgres value is the JSON value the API sent, allowing for column types."""
    if stored is None or sent is None:
        return stored is sent
    if isinstance(stored, datetime):
        # target-postgres stores date-times as naive UTC (`timestamp without time zone`).
        parsed = datetime.fromisoformat(str(sent).replace("Z", "+00:00"))
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
        return stored == parsed
    if isinstance(stored, date):
        return stored.isoformat() == sent
    if isinstance(stored, Decimal):
        return stored == Decimal(str(sent))
    if isinstance(stored, (dict, list)):
        return same_json(stored, sent)
    return stored == sent  # str, int, bool


def same_json(stored: t.Any, sent: t.Any) -> bool:
    """jsonb / arrays: equal, except that nested timestamps are written as ISO-8601 UTC with
    microseconds whatever form the API sent them in."""
    if isinstance(stored, dict) and isinstance(sent, dict):
        return stored.keys() == sent.keys() and all(same_json(stored[k], sent[k]) for k in stored)
    if isinstance(stored, list) and isinstance(sent, list):
        return len(stored) == len(sent) and all(map(same_json, stored, sent))
    if isinstance(stored, str) and isinstance(sent, str) and stored != sent:
        return (instant := _instant(stored)) is not None and instant == _instant(sent)
    return stored == sent


def _instant(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def differences(
    conn: psycopg.Connection,
    schema: str,
    table: str,
    key: tuple[str, ...],
    expected: list[dict],
) -> list[str]:
    """Everything about one table that differs from the API's records; empty when it matches."""
    problems = []
    if (found_key := primary_key(conn, schema, table)) != key:
        problems.append(f"primary key constraint is {found_key}, expected {key}")
    stored = rows(conn, schema, table)
    counts = Counter(tuple(row[k] for k in key) for row in stored)
    if duplicates := [k for k, n in counts.items() if n > 1]:
        problems.append(f"duplicate keys {duplicates[:5]}")
    if len(stored) != len(expected):
        problems.append(f"{len(stored)} rows, the API has {len(expected)}")
    by_key = {tuple(row[k] for k in key): row for row in stored}
    for record in expected:
        row = by_key.get(tuple(record[k] for k in key))
        if row is None:
            problems.append(f"missing row {[record[k] for k in key]}")
            continue
        for field, value in record.items():
            if not same_value(row.get(field), value):
                problems.append(f"{field}: stored {row.get(field)!r}, sent {value!r}")
    return problems[:20]
