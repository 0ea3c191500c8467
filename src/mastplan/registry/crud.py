"""Audited create, update and delete of single registry objects: the one path every service uses."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from mastplan.registry.audit import Actor, entity_key, json_value, record, snapshot
from mastplan.registry.models import Base

M = TypeVar("M", bound=Base)


def create(session: Session, actor: Actor, obj: M) -> M:
    """Insert ``obj`` and record a ``create`` audit entry with its values."""
    session.add(obj)
    session.flush()
    record(session, actor, "create", obj.__tablename__, entity_key(obj), after=snapshot(obj))
    return obj


def update(session: Session, actor: Actor, obj: M, changes: dict[str, Any]) -> M:
    """Apply ``changes`` to ``obj`` and record the fields that really changed, before and after.

    Unknown field names raise ``ValueError``; a change to nothing records nothing.
    """
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
