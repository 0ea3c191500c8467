"""Audited create, update and delete of single registry objects: the one path every service uses.

Optimistic concurrency lives here too: :func:`check_version` is the one check that an object is
still at the version a caller read (its ``version`` column, bumped by every write), and
:func:`update` makes it when given ``if_version``. Callers load the object with its row lock
(:func:`locked`) inside their write transaction, so the check and the write see the same row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from sqlalchemy import Select, inspect
from sqlalchemy.orm import Session

from mastplan.errors import NotFoundError, StaleVersionError
from mastplan.registry.audit import Actor, entity_key, json_value, record, snapshot
from mastplan.registry.models import Base

M = TypeVar("M", bound=Base)


def create(session: Session, actor: Actor, obj: M) -> M:
    """Insert ``obj`` and record a ``create`` audit entry with its values."""
    session.add(obj)
    session.flush()
    record(session, actor, "create", obj.__tablename__, entity_key(obj), after=snapshot(obj))
    return obj


def locked(session: Session, query: Select, missing: str | None = None) -> Any:
    """The one object ``query`` selects, its row locked for this transaction and read afresh
    (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the writer holds the database lock from
    ``BEGIN IMMEDIATE``, see :func:`mastplan.registry.db.transaction`). Without a row: ``None``,
    or :class:`~mastplan.errors.NotFoundError` with the message ``missing`` when given."""
    obj = session.scalar(query.with_for_update().execution_options(populate_existing=True))
    if obj is None and missing is not None:
        raise NotFoundError(missing)
    return obj


def check_version(obj: Base, if_version: int | None, label: str | None = None) -> None:
    """Raise :class:`~mastplan.errors.StaleVersionError` unless ``obj`` is at ``if_version``
    (nothing to check when it is ``None``). ``label`` names the object in the message (default:
    its table and key)."""
    if if_version is None or obj.version == if_version:
        return
    label = label or f"{obj.__tablename__} {entity_key(obj)}"
    raise StaleVersionError(f"{label} is at version {obj.version}, not {if_version}: read it again")


def touch(session: Session, obj: M) -> M:
    """Bump ``obj``'s version (and ``updated_at``) without an audit entry of its own: for a
    change that lives in other rows (its links, its yearly figures) and is audited there."""
    obj.updated_at = dt.datetime.now(dt.UTC)
    session.flush()
    return obj


def update(
    session: Session,
    actor: Actor,
    obj: M,
    changes: dict[str, Any],
    *,
    if_version: int | None = None,
    label: str | None = None,
) -> M:
    """Apply ``changes`` to ``obj`` and record the fields that really changed, before and after.

    Unknown field names raise ``ValueError``; a change to nothing records nothing. With
    ``if_version``, ``obj`` must still be at that version (:func:`check_version`).
    """
    check_version(obj, if_version, label)
    columns = {a.key for a in inspect(obj).mapper.column_attrs}
    unknown = sorted(set(changes) - columns)
    if unknown:
        raise ValueError(f"{obj.__tablename__} has no field(s) {', '.join(unknown)}")
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key, value in changes.items():
        old = getattr(obj, key)
        if json_value(old) != json_value(value):
            before[key] = json_value(old)
            after[key] = json_value(value)
            setattr(obj, key, value)
    if after:
        session.flush()
        record(session, actor, "update", obj.__tablename__, entity_key(obj), before, after)
    return obj


def delete(session: Session, actor: Actor, obj: Base) -> None:
    """Delete ``obj`` and record its last values."""
    before = snapshot(obj)
    key = entity_key(obj)
    session.delete(obj)
    session.flush()
    record(session, actor, "delete", obj.__tablename__, key, before=before)
