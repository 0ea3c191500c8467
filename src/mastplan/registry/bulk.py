"""Bulk upserts keyed by a natural key (``external_id``): the write path of imports and loaders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

KEY_CHUNK = 5_000  # keys per IN (...) query, well under SQLite's variable limit


def existing_keys(session: Session, table: Table, key: str, values: Sequence[Any]) -> set[Any]:
    """The subset of ``values`` already present in ``table.key``."""
    col = table.c[key]
    found: set[Any] = set()
    for i in range(0, len(values), KEY_CHUNK):
        chunk = list(values[i : i + KEY_CHUNK])
        found.update(session.execute(select(col).where(col.in_(chunk))).scalars())
    return found


def key_to_id(session: Session, table: Table, key: str, values: Sequence[Any]) -> dict[Any, int]:
    """Map natural keys to primary-key ids for the ``values`` that exist."""
    col = table.c[key]
    out: dict[Any, int] = {}
    for i in range(0, len(values), KEY_CHUNK):
        chunk = list(values[i : i + KEY_CHUNK])
        out.update(session.execute(select(col, table.c.id).where(col.in_(chunk))).all())
    return out


def upsert(
    session: Session, table: Table, records: list[dict[str, Any]], key: str = "external_id"
) -> tuple[int, int]:
    """Insert ``records`` or update the rows with the same ``key``; return (inserted, updated).

    Rows whose values really change get a new ``updated_at`` and their ``version`` goes up by
    one; rows that match an existing one exactly are left alone (so a re-import or a reload
    writes nothing); ``created_at`` stays. "updated" counts the keys that existed. Runs in the
    caller's transaction.
    """
    if not records:
        return 0, 0
    now = dt.datetime.now(dt.UTC)
    present = existing_keys(session, table, key, [r[key] for r in records])
    rows = [{**r, "created_at": now, "updated_at": now, "version": 1} for r in records]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    columns = [c for c in records[0] if c != key]
    set_ = {c: stmt.excluded[c] for c in columns}
    set_["updated_at"] = stmt.excluded.updated_at
    set_["version"] = table.c.version + 1
    changed = or_(*(table.c[c].is_distinct_from(stmt.excluded[c]) for c in columns))
    stmt = stmt.on_conflict_do_update(index_elements=[table.c[key]], set_=set_, where=changed)
    session.execute(stmt, rows)
    return len(records) - len(present), len(present)
