"""Bulk upserts keyed by a natural key (``external_id``): the write path of imports and loaders.

On PostgreSQL a batch goes in by ``COPY … FROM STDIN`` (psycopg 3 ``cursor.copy()``) on the
session's own connection, so it is part of the caller's transaction: new keys straight into the
table, a batch that meets existing keys through a temporary staging table and one
``INSERT … SELECT … ON CONFLICT DO UPDATE``. SQLite, and the ``executemany`` method on either,
send the same upsert as one ``executemany``. The rows written and the counts returned are the
same whichever way.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from sqlalchemy import Table, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mastplan.registry.geometry import GeometryType

KEY_CHUNK = 5_000  # keys per IN (...) query, well under SQLite's variable limit
#: Batches smaller than this take ``executemany`` even where ``COPY`` is possible.
COPY_MIN_ROWS = 100
_STAGE_SEQ = itertools.count(1)

#: How :func:`upsert` writes: ``auto`` (``COPY`` on PostgreSQL, else ``executemany``),
#: ``copy`` (PostgreSQL only) or ``executemany`` (the path of every dialect).
WriteMethod = Literal["auto", "copy", "executemany"]


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
    session: Session,
    table: Table,
    records: list[dict[str, Any]],
    key: str = "external_id",
    *,
    method: WriteMethod = "auto",
) -> tuple[int, int]:
    """Insert ``records`` or update the rows with the same ``key``; return (inserted, updated).

    Rows whose values really change get a new ``updated_at`` and their ``version`` goes up by
    one; rows that match an existing one exactly are left alone (so a re-import or a reload
    writes nothing); ``created_at`` stays. "updated" counts the keys that existed. Runs in the
    caller's transaction. ``method`` chooses the wire path (module doc); the result is the same.
    """
    if not records:
        return 0, 0
    now = dt.datetime.now(dt.UTC)
    keys = [r[key] for r in records]
    present = existing_keys(session, table, key, keys)
    dialect = session.get_bind().dialect.name
    if _use_copy(dialect, table, records, keys, method):
        columns = list(records[0])
        if present:
            _copy_upsert(session, table, columns, records, key, now)
        else:
            _copy_rows(session, table.name, columns, records, now, _bind_processors(session, table))
        return len(records) - len(present), len(present)
    if dialect == "postgresql":
        records = _nan_to_none(records)
    rows = [{**r, "created_at": now, "updated_at": now, "version": 1} for r in records]
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


def copy_supported(table: Table) -> bool:
    """Whether ``table``'s columns all travel in COPY's text form (no geometry columns)."""
    return not any(isinstance(c.type, GeometryType) for c in table.columns)


def _use_copy(
    dialect: str, table: Table, records: list[dict[str, Any]], keys: list[Any], method: str
) -> bool:
    if method == "executemany" or dialect != "postgresql":
        if method == "copy" and dialect != "postgresql":
            raise ValueError(f"COPY needs PostgreSQL, not {dialect}")
        return False
    if method == "auto" and len(records) < COPY_MIN_ROWS:
        return False
    # A key repeated within the batch cannot go through one INSERT … ON CONFLICT (it would
    # touch a row twice) nor straight into the table (unique violation): the importer reports
    # such files as errors, and executemany keeps its earlier behaviour until then.
    return copy_supported(table) and len(set(keys)) == len(keys)


def _bind_processors(session: Session, table: Table) -> dict[str, Any]:
    """Per column, SQLAlchemy's conversion of a Python value to the database's (enums to their
    stored strings, with validation), or nothing where the value goes as it is."""
    dialect = session.get_bind().dialect
    out = {}
    for c in table.columns:
        proc = c.type.bind_processor(dialect)
        if proc is not None:
            out[c.name] = proc
    return out


def _copy_rows(
    session: Session,
    target: str,
    columns: list[str],
    records: Iterable[dict[str, Any]],
    now: dt.datetime,
    processors: dict[str, Any],
) -> None:
    """``COPY target (columns, created_at, updated_at, version) FROM STDIN`` on the session's
    connection (its transaction): the rows of ``records``, stamped ``now``, version 1."""
    procs = [processors.get(c) for c in columns]
    names = ", ".join(f'"{c}"' for c in [*columns, "created_at", "updated_at", "version"])
    dbapi = session.connection().connection.dbapi_connection
    with dbapi.cursor() as cur, cur.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
        for r in records:
            values = [r[c] if p is None else p(r[c]) for c, p in zip(columns, procs, strict=True)]
            copy.write_row([*(_plain(v) for v in values), now, now, 1])


_NATIVE = frozenset({type(None), str, float, int, bool, dt.date, dt.datetime})


def _plain(value: Any) -> Any:
    """A value as psycopg takes it: NumPy scalars become Python ones, NaN becomes NULL (as
    SQLite stores it; pandas turns a missing text value into NaN)."""
    if type(value) in _NATIVE:
        return None if value != value else value
    item = getattr(value, "item", None)
    value = item() if callable(item) else value
    return None if isinstance(value, float) and value != value else value


def _nan_to_none(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records with NaN values as None (NULL), as SQLite stores them and COPY sends them."""
    return [
        {k: None if isinstance(v, float) and v != v else v for k, v in r.items()} for r in records
    ]


def _copy_upsert(
    session: Session,
    table: Table,
    columns: list[str],
    records: list[dict[str, Any]],
    key: str,
    now: dt.datetime,
) -> None:
    """COPY into a temporary staging table, then one ``INSERT … SELECT … ON CONFLICT DO UPDATE``
    with the same rule as the executemany upsert (only rows whose values change are touched)."""
    stage = f"_mastplan_stage_{table.name}_{next(_STAGE_SEQ)}"
    quoted = [f'"{c}"' for c in [*columns, "created_at", "updated_at", "version"]]
    conn = session.connection()
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {stage} ON COMMIT DROP AS "
        f"SELECT {', '.join(quoted)} FROM {table.name} WITH NO DATA"
    )
    _copy_rows(session, stage, columns, records, now, _bind_processors(session, table))
    others = [c for c in columns if c != key]
    set_ = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in others)
    changed = " OR ".join(f'{table.name}."{c}" IS DISTINCT FROM EXCLUDED."{c}"' for c in others)
    conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(quoted)}) SELECT {', '.join(quoted)} FROM {stage} "
        f'ON CONFLICT ("{key}") DO UPDATE SET {set_}, "updated_at" = EXCLUDED."updated_at", '
        f'"version" = {table.name}."version" + 1 WHERE {changed}'
    )
    conn.exec_driver_sql(f"DROP TABLE {stage}")
