"""The audit log: every write records who, when, what, before/after, why and under which request,
in the same transaction as the write itself."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import shapely
from sqlalchemy import inspect
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
    )
    session.add(entry)
    return entry
