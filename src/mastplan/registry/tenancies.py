"""Service functions for tenancies: which operator occupies which mount positions of a structure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mastplan.errors import MastplanError
from mastplan.registry import crud
from mastplan.registry.audit import Actor
from mastplan.registry.db import transaction
from mastplan.registry.enums import OrgKind, TenancyStatus
from mastplan.registry.models import Tenancy, TenancyPosition
from mastplan.registry.organisations import get_organisation
from mastplan.registry.sites import get_site
from mastplan.registry.structures import get_structure


class CapacityError(MastplanError):
    """The structure has no room for what was asked."""


def free_positions(session: Session, structure_id: int, mount_positions: int) -> list[int]:
    """The mount positions of a structure that no tenancy occupies."""
    used = set(
        session.scalars(
            select(TenancyPosition.position).where(TenancyPosition.structure_id == structure_id)
        )
    )
    return [p for p in range(1, mount_positions + 1) if p not in used]


def create_tenancy(
    session: Session,
    actor: Actor,
    *,
    structure: str,
    operator: str,
    positions: Sequence[int],
    payload_kg: float = 0.0,
    power_kw: float = 0.0,
    site: str | None = None,
    start_on: dt.date | None = None,
) -> Tenancy:
    """Let ``operator`` occupy ``positions`` of ``structure`` (external id).

    The database's key on (structure, position) makes a double booking impossible even under
    concurrent writers; payload and power are checked against what the structure has left.
    """
    with transaction(session):
        st = get_structure(session, structure)
        op = get_organisation(session, operator)
        if op.kind != OrgKind.OPERATOR:
            raise MastplanError(f"{operator} is not an operator")
        positions = sorted(set(int(p) for p in positions))
        if not positions:
            raise CapacityError("a tenancy needs at least one mount position")
        outside = [p for p in positions if not 1 <= p <= st.mount_positions]
        if outside:
            raise CapacityError(
                f"structure {structure} has positions 1..{st.mount_positions}, not {outside}"
            )
        taken = [
            p for p in positions if p not in free_positions(session, st.id, st.mount_positions)
        ]
        if taken:
            raise CapacityError(f"structure {structure}: position(s) {taken} already occupied")
        load = session.execute(
            select(
                func.coalesce(func.sum(Tenancy.payload_kg), 0.0),
                func.coalesce(func.sum(Tenancy.power_kw), 0.0),
            ).where(Tenancy.structure_id == st.id, Tenancy.status == TenancyStatus.ACTIVE)
        ).one()
        if load[0] + payload_kg > st.max_payload_kg + 1e-9:
            raise CapacityError(
                f"structure {structure}: payload {payload_kg} kg exceeds the "
                f"{st.max_payload_kg - load[0]:g} kg left"
            )
        if load[1] + power_kw > st.available_power_kw + 1e-9:
            raise CapacityError(
                f"structure {structure}: power {power_kw} kW exceeds the "
                f"{st.available_power_kw - load[1]:g} kW left"
            )
        tenancy = Tenancy(
            structure_id=st.id,
            operator_id=op.id,
            site_id=get_site(session, site).id if site else None,
            status=TenancyStatus.ACTIVE,
            payload_kg=payload_kg,
            power_kw=power_kw,
            start_on=start_on or dt.date.today(),
            positions=[TenancyPosition(structure_id=st.id, position=p) for p in positions],
        )
        try:
            return crud.create(session, actor, tenancy)
        except IntegrityError:
            raise CapacityError(
                f"structure {structure}: position(s) {positions} were taken by another writer"
            ) from None


def release_tenancy(
    session: Session, actor: Actor, tenancy_id: int, end_on: dt.date | None = None
) -> Tenancy:
    """End a tenancy and free its mount positions."""
    with transaction(session):
        tenancy = session.get(Tenancy, tenancy_id)
        if tenancy is None:
            raise MastplanError(f"no tenancy {tenancy_id}")
        if tenancy.status == TenancyStatus.RELEASED:
            raise MastplanError(f"tenancy {tenancy_id} is already released")
        tenancy.positions.clear()
        return crud.update(
            session,
            actor,
            tenancy,
            {"status": TenancyStatus.RELEASED, "end_on": end_on or dt.date.today()},
        )
