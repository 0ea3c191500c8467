"""Service functions for tenancies: which operator occupies which mount positions of a structure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mastplan.errors import MastplanError, NotFoundError
from mastplan.registry import crud
from mastplan.registry.audit import Actor
from mastplan.registry.db import transaction
from mastplan.registry.enums import OrgKind, StructureStatus, TenancyStatus
from mastplan.registry.models import Structure, Tenancy, TenancyPosition
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


def lock_structure(session: Session, structure_id: int) -> Structure:
    """The structure, re-read and row-locked until the transaction ends (``FOR UPDATE`` on
    PostgreSQL; SQLite's writing transaction holds the database's one write lock already).

    Every booking of a structure's capacity takes this lock first, so that two bookings of the
    same structure run one after the other and each sees what the other booked.
    """
    st = session.execute(
        select(Structure)
        .where(Structure.id == structure_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if st is None:
        raise NotFoundError(f"no structure with id {structure_id}")
    return st


def book(
    session: Session,
    actor: Actor,
    st: Structure,
    operator_id: int,
    *,
    positions: Sequence[int] = (),
    count: int | None = None,
    payload_kg: float = 0.0,
    power_kw: float = 0.0,
    site_id: int | None = None,
    start_on: dt.date | None = None,
) -> Tenancy:
    """Book mount positions, payload and power of ``st`` for an operator: a new tenancy.

    Give ``positions`` by number, or ``count`` to take the lowest free ones. Runs under the
    structure's row lock (:func:`lock_structure`), and the key on (structure, position) makes a
    double booking impossible even for a writer that skipped the lock. Raises
    :class:`CapacityError` ("no capacity on ...") naming what is short.
    """
    with transaction(session):
        st = lock_structure(session, st.id)
        where = f"no capacity on structure {st.external_id}"
        if st.status is not StructureStatus.IN_SERVICE:
            raise CapacityError(f"{where}: it is {st.status.value}")
        free = free_positions(session, st.id, st.mount_positions)
        if positions:
            wanted = sorted(set(int(p) for p in positions))
            outside = [p for p in wanted if not 1 <= p <= st.mount_positions]
            if outside:
                raise CapacityError(f"{where}: it has positions 1..{st.mount_positions}, not "
                                    f"{outside}")  # fmt: skip
            taken = [p for p in wanted if p not in free]
            if taken:
                raise CapacityError(f"{where}: position(s) {taken} already occupied")
        else:
            n = 1 if count is None else int(count)
            if n < 1:
                raise CapacityError("a tenancy needs at least one mount position")
            if len(free) < n:
                raise CapacityError(f"{where}: {n} position(s) asked, {len(free)} free")
            wanted = free[:n]
        used_kg, used_kw = session.execute(
            select(
                func.coalesce(func.sum(Tenancy.payload_kg), 0.0),
                func.coalesce(func.sum(Tenancy.power_kw), 0.0),
            ).where(Tenancy.structure_id == st.id, Tenancy.status == TenancyStatus.ACTIVE)
        ).one()
        if used_kg + payload_kg > st.max_payload_kg + 1e-9:
            raise CapacityError(f"{where}: payload {payload_kg:g} kg exceeds the "
                                f"{st.max_payload_kg - used_kg:g} kg left")  # fmt: skip
        if used_kw + power_kw > st.available_power_kw + 1e-9:
            raise CapacityError(f"{where}: power {power_kw:g} kW exceeds the "
                                f"{st.available_power_kw - used_kw:g} kW left")  # fmt: skip
        tenancy = Tenancy(
            structure_id=st.id,
            operator_id=operator_id,
            site_id=site_id,
            status=TenancyStatus.ACTIVE,
            payload_kg=payload_kg,
            power_kw=power_kw,
            start_on=start_on or dt.date.today(),
            positions=[TenancyPosition(structure_id=st.id, position=p) for p in wanted],
        )
        try:
            return crud.create(session, actor, tenancy)
        except IntegrityError:
            raise CapacityError(
                f"{where}: position(s) {wanted} were taken by another writer"
            ) from None


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
    """Let ``operator`` occupy ``positions`` of ``structure`` (external ids); see :func:`book`."""
    with transaction(session):
        st = get_structure(session, structure)
        op = get_organisation(session, operator)
        if op.kind != OrgKind.OPERATOR:
            raise MastplanError(f"{operator} is not an operator")
        if not positions:
            raise CapacityError("a tenancy needs at least one mount position")
        return book(
            session,
            actor,
            st,
            op.id,
            positions=positions,
            payload_kg=payload_kg,
            power_kw=power_kw,
            site_id=get_site(session, site).id if site else None,
            start_on=start_on,
        )


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
