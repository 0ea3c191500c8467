"""The audit log: every write records who, when, what, before/after, why and under which request,
in the same transaction as the write itself.

The entries are chained by hash: each stores the SHA-256 of its content and of the previous
entry's hash (``prev_hash``), computed when the session flushes them, so a later edit or
deletion of any entry breaks the chain at that point (:func:`verify_chain`). Appends are
serialised — a transaction-scoped advisory lock on PostgreSQL; SQLite has one writer at a time —
so concurrent writers never fork the chain. Deleting the newest entries leaves a shorter chain
that still verifies: compare the head hash :func:`verify_chain` reports with one kept elsewhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import shapely
from sqlalchemy import event, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from mastplan.registry.models import AuditEntry, Base

# Columns that change on every write and say nothing a reader needs in before/after.
_NOISE = frozenset({"created_at", "updated_at", "version"})


@dataclass(frozen=True)
class Actor:
    """Who is writing, why, and the request id that ties one command's writes together."""

    user: str
    reason: str | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    organisation: str | None = None


def json_value(value: Any) -> Any:
    """Turn a column value into something JSON can hold (geometries become digest and bounds)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, shapely.Geometry):
        wkb = shapely.to_wkb(value)
        return {
            "geometry_type": value.geom_type,
            "bounds": [round(b, 7) for b in value.bounds],
            "wkb_sha256": hashlib.sha256(wkb).hexdigest(),
        }
    return value


def snapshot(obj: Base) -> dict[str, Any]:
    """The column values of a mapped object, JSON-ready, without bookkeeping columns."""
    mapper = inspect(obj).mapper
    return {
        attr.key: json_value(getattr(obj, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in _NOISE
    }


def entity_key(obj: Base) -> str:
    """The identity of a mapped object as text: its primary key value(s)."""
    ident = inspect(obj).identity
    if ident is None:
        raise ValueError("object has no identity yet: flush before recording it")
    return ",".join(str(v) for v in ident)


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry to the session's current transaction."""
    entry = AuditEntry(
        at=dt.datetime.now(dt.UTC),
        actor=actor.user,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
        reason=actor.reason,
        request_id=actor.request_id,
        organisation=actor.organisation,
    )
    session.add(entry)
    return entry


# --- the hash chain -----------------------------------------------------------------------------

#: ``prev_hash`` of the first entry.
GENESIS = "0" * 64
#: Key of the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK = 0x6D617374  # "mast"
_HASHED = ("at", "actor", "organisation", "action", "entity", "entity_id", "before", "after",
           "reason", "request_id")  # fmt: skip


def _utc_text(at: dt.datetime) -> str:
    """A timestamp as UTC text, the same whether the database kept the zone (PostgreSQL) or not."""
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")


def entry_hash(values: dict[str, Any], prev_hash: str) -> str:
    """SHA-256 (hex) of an entry's content (canonical JSON) chained to ``prev_hash``."""
    content = {k: values.get(k) for k in _HASHED}
    content["at"] = _utc_text(content["at"])
    body = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _values(entry: AuditEntry) -> dict[str, Any]:
    return {k: getattr(entry, k) for k in _HASHED}


def _lock_chain(session_or_conn: Session | Connection) -> None:
    if session_or_conn.get_bind().dialect.name == "postgresql":
        session_or_conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK})


@event.listens_for(Session, "before_flush")
def _chain_new_entries(session: Session, _context: Any, _instances: Any) -> None:
    """Hash the entries this flush inserts, in insertion order, after the stored head."""
    new = [o for o in session.new if isinstance(o, AuditEntry)]
    if not new:
        return
    new.sort(key=lambda o: inspect(o).insert_order)
    with session.no_autoflush:
        _lock_chain(session)
        head = session.execute(
            select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
        ).scalar()
    prev = head or GENESIS
    for entry in new:
        if entry.at is None:
            entry.at = dt.datetime.now(dt.UTC)
        entry.prev_hash = prev
        entry.hash = prev = entry_hash(_values(entry), prev)


@dataclass(frozen=True)
class ChainReport:
    """What :func:`verify_chain` found: entries checked, the head hash, the first break."""

    entries: int
    head: str
    broken_at: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify_chain(session: Session, batch: int = 5000) -> ChainReport:
    """Recompute the chain in id order; the first entry whose content or link disagrees breaks
    it (an edited entry, or the one after a deleted entry)."""
    prev, count, last_id = GENESIS, 0, None
    while True:
        query = select(AuditEntry).order_by(AuditEntry.id).limit(batch)
        if last_id is not None:
            query = query.where(AuditEntry.id > last_id)
        rows = session.execute(query).scalars().all()
        if not rows:
            return ChainReport(count, prev)
        for entry in rows:
            if entry.prev_hash != prev:
                why = "its link to the previous entry is broken (an entry before it was deleted "
                why += "or changed)" if entry.prev_hash else "it has no hash"
                return ChainReport(count, prev, entry.id, why)
            if entry.hash != entry_hash(_values(entry), prev):
                return ChainReport(count, prev, entry.id, "its content was changed after writing")
            prev, count, last_id = entry.hash, count + 1, entry.id
        session.expunge_all()


def chain_existing(connection: Connection) -> int:
    """Hash the entries that have none yet (those written before the chain existed), in id
    order after the last hashed one; used by the migration that added the chain."""
    table = AuditEntry.__table__
    cols = [table.c.id, table.c.hash, *(table.c[k] for k in _HASHED)]
    prev = GENESIS
    done = 0
    for row in connection.execute(select(*cols).order_by(table.c.id)).mappings().all():
        if row["hash"] is not None:
            prev = row["hash"]
            continue
        h = entry_hash(dict(row), prev)
        connection.execute(
            table.update().where(table.c.id == row["id"]).values(prev_hash=prev, hash=h)
        )
        prev, done = h, done + 1
    return done
