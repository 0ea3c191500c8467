"""Service functions for single structures; they apply the same rules as the importers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from mastplan.errors import ImportValidationError, MastplanError, NotFoundError
from mastplan.registry import crud
from mastplan.registry.audit import Actor
from mastplan.registry.db import transaction
from mastplan.registry.fields import RowErrors
from mastplan.registry.models import Organisation, Structure
from mastplan.registry.rules import RegistryLookups, prepare_structures


def get_structure(session: Session, external_id: str) -> Structure:
    """The structure with ``external_id``; :class:`NotFoundError` if there is none."""
    obj = session.scalar(select(Structure).where(Structure.external_id == external_id))
    if obj is None:
        raise NotFoundError(f"no structure with external_id {external_id!r}")
    return obj


def _checked(session: Session, record: dict[str, Any], source: str) -> dict[str, Any]:
    errors = RowErrors(source)
    prepared = prepare_structures(
        pd.DataFrame([record]), np.array([1]), [], RegistryLookups(session), errors
    )
    if errors:
        raise ImportValidationError(errors.items, errors.total)
    return prepared.to_dict("records")[0]


def create_structure(
    session: Session, actor: Actor, record: dict[str, Any], source: str = "<input>"
) -> Structure:
    """Create one structure from a record with the import fields (``owner`` is a code)."""
    with transaction(session):
        values = _checked(session, record, source)
        if (
            session.scalar(
                select(Structure.id).where(Structure.external_id == values["external_id"])
            )
            is not None
        ):
            raise MastplanError(f"a structure with external_id {values['external_id']!r} exists")
        return crud.create(session, actor, Structure(**values))


def update_structure(
    session: Session,
    actor: Actor,
    external_id: str,
    changes: dict[str, Any],
    source: str = "<input>",
) -> Structure:
    """Change fields of a structure; the merged record must pass the same rules as a new one."""
    with transaction(session):
        obj = get_structure(session, external_id)
        current = {
            "external_id": obj.external_id,
            "kind": str(obj.kind),
            "owner": session.scalar(
                select(Organisation.code).where(Organisation.id == obj.owner_id)
            ),
            "lon_deg": obj.lon_deg,
            "lat_deg": obj.lat_deg,
            "height_m": obj.height_m,
            "mount_positions": obj.mount_positions,
            "max_payload_kg": obj.max_payload_kg,
            "available_power_kw": obj.available_power_kw,
            "fibre": obj.fibre,
            "open_for_sharing": obj.open_for_sharing,
            "status": str(obj.status),
            "name": obj.name,
            "source": obj.source,
            "synthetic": obj.synthetic,
        }
        if "external_id" in changes and changes["external_id"] != external_id:
            raise MastplanError("external_id is the upsert key and cannot be changed")
        values = _checked(session, {**current, **changes}, source)
        return crud.update(session, actor, obj, values)
