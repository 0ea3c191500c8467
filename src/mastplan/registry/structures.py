"""Service functions for single structures; they apply the same rules as the importers.

Who writes through the API (:func:`create_structure_as`, :func:`edit_structure`): the regulator,
and the users (not viewers) of the organisation that owns the structure, for their own
organisation's structures only. The CLI's :func:`create_structure` and :func:`update_structure`
act for an administrator and check no role.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from mastplan.errors import ImportValidationError, MastplanError, NotFoundError, RowError
from mastplan.registry import crud
from mastplan.registry.audit import Actor
from mastplan.registry.db import transaction
from mastplan.registry.enums import UserRole
from mastplan.registry.fields import RowErrors
from mastplan.registry.models import Organisation, Structure, TenancyPosition, User
from mastplan.registry.permissions import deny, refuse_viewer
from mastplan.registry.rules import RegistryLookups, prepare_structures
from mastplan.registry.users import acting


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


def require_structure_writer(user: User, owner_id: int, what: str) -> None:
    """The regulator writes any structure; a user (not a viewer) of the owner organisation
    writes that organisation's structures; nobody else."""
    if user.role is UserRole.REGULATOR:
        return
    refuse_viewer(user, what)
    if user.organisation_id != owner_id:
        raise deny(user, what, "the regulator and the users of the structure's owner")


def _create(session: Session, actor: Actor, values: dict[str, Any]) -> Structure:
    taken = select(Structure.id).where(Structure.external_id == values["external_id"])
    if session.scalar(taken) is not None:
        raise MastplanError(f"a structure with external_id {values['external_id']!r} exists")
    return crud.create(session, actor, Structure(**values))


def create_structure(
    session: Session, actor: Actor, record: dict[str, Any], source: str = "<input>"
) -> Structure:
    """Create one structure from a record with the import fields (``owner`` is a code)."""
    with transaction(session):
        return _create(session, actor, _checked(session, record, source))


def create_structure_as(
    session: Session,
    user_name: str,
    record: dict[str, Any],
    *,
    reason: str | None = None,
    source: str = "<input>",
) -> Structure:
    """Create one structure as the registered user ``user_name``: the regulator (for any
    owner) or a user of the owner organisation (see :func:`require_structure_writer`)."""
    with transaction(session):
        user, actor = acting(session, user_name, reason)
        values = _checked(session, record, source)
        require_structure_writer(user, values["owner_id"], "create structures of "
                                 f"{record.get('owner')!r}")  # fmt: skip
        return _create(session, actor, values)


def _current(session: Session, obj: Structure) -> dict[str, Any]:
    """A structure's record in the import fields (``owner`` as its code)."""
    return {
        "external_id": obj.external_id,
        "kind": str(obj.kind),
        "owner": session.scalar(select(Organisation.code).where(Organisation.id == obj.owner_id)),
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


def _locked(session: Session, external_id: str) -> Structure:
    return crud.locked(session, select(Structure).where(Structure.external_id == external_id),
                       f"no structure with external_id {external_id!r}")  # fmt: skip


def _merged(
    session: Session, obj: Structure, changes: dict[str, Any], source: str
) -> dict[str, Any]:
    """The checked values of ``obj`` with ``changes``: the same rules as a new structure, and
    no fewer mount positions than the highest one booked."""
    if "external_id" in changes and changes["external_id"] != obj.external_id:
        raise MastplanError("external_id is the upsert key and cannot be changed")
    values = _checked(session, {**_current(session, obj), **changes}, source)
    booked = session.scalar(
        select(TenancyPosition.position)
        .where(TenancyPosition.structure_id == obj.id)
        .order_by(TenancyPosition.position.desc())
        .limit(1)
    )
    if booked is not None and values["mount_positions"] < booked:
        why = f"position {booked} is booked: at least {booked}"
        raise ImportValidationError([RowError(source, 1, "mount_positions", why)])
    return values


def update_structure(
    session: Session,
    actor: Actor,
    external_id: str,
    changes: dict[str, Any],
    source: str = "<input>",
    *,
    if_version: int | None = None,
) -> Structure:
    """Change fields of a structure; the merged record must pass the same rules as a new one.
    With ``if_version``, only if the structure is still at that version (else
    :class:`~mastplan.errors.StaleVersionError`)."""
    with transaction(session):
        obj = _locked(session, external_id)
        crud.check_version(obj, if_version, f"structure {external_id}")
        return crud.update(session, actor, obj, _merged(session, obj, changes, source))


def edit_structure(
    session: Session,
    user_name: str,
    external_id: str,
    changes: dict[str, Any],
    *,
    if_version: int | None = None,
    reason: str | None = None,
    source: str = "<input>",
) -> Structure:
    """Change fields of a structure as the registered user ``user_name`` (the regulator or a
    user of its owner, who may not give it to another owner), optionally only if it is still
    at ``if_version``; one audited transaction."""
    with transaction(session):
        user, actor = acting(session, user_name, reason)
        obj = _locked(session, external_id)
        what = f"change structure {external_id}"
        require_structure_writer(user, obj.owner_id, what)
        crud.check_version(obj, if_version, f"structure {external_id}")
        values = _merged(session, obj, changes, source)
        require_structure_writer(user, values["owner_id"], what + " to that owner")
        return crud.update(session, actor, obj, values)
