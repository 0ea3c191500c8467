"""Tenancies (leases) as each user may see them: who occupies which positions of which
structure, with what payload and power, since when, under which request."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mastplan.errors import NotFoundError
from mastplan.registry.enums import TenancyStatus
from mastplan.registry.models import SharingRequest, Structure, Tenancy, User
from mastplan.registry.users import acting
from mastplan.sharing.access import tenancy_filter

__all__ = ["get_tenancy", "list_tenancies", "visible_tenancies"]


def visible_tenancies(
    session: Session,
    user: User,
    *,
    structure: str | int | None = None,
    active_only: bool = True,
    before_id: int | None = None,
    limit: int | None = None,
) -> list[tuple[Tenancy, int | None]]:
    """The tenancies ``user`` may see, each with the sharing request that booked it (if a
    request did), newest first; ``structure`` is an external id (str) or a database id (int)."""
    query = (
        select(Tenancy, SharingRequest.id)
        .outerjoin(SharingRequest, SharingRequest.tenancy_id == Tenancy.id)
        .where(tenancy_filter(user))
    )
    if active_only:
        query = query.where(Tenancy.status == TenancyStatus.ACTIVE)
    if isinstance(structure, int):
        query = query.where(Tenancy.structure_id == structure)
    elif structure:
        query = query.join(Structure, Structure.id == Tenancy.structure_id).where(
            Structure.external_id == structure
        )
    if before_id is not None:
        query = query.where(Tenancy.id < before_id)
    query = query.order_by(Tenancy.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [(t, rid) for t, rid in session.execute(query)]


def list_tenancies(
    session: Session, user_name: str, *, structure: str | None = None, active_only: bool = True
) -> list[tuple[Tenancy, int | None]]:
    """:func:`visible_tenancies` of the user named ``user_name``."""
    user, _ = acting(session, user_name)
    return visible_tenancies(session, user, structure=structure, active_only=active_only)


def get_tenancy(session: Session, user: User, tenancy_id: int) -> tuple[Tenancy, int | None]:
    """Tenancy ``tenancy_id`` (any status) with its request, as ``user`` may see it; "not found"
    when it may not."""
    row = session.execute(
        select(Tenancy, SharingRequest.id)
        .outerjoin(SharingRequest, SharingRequest.tenancy_id == Tenancy.id)
        .where(Tenancy.id == tenancy_id, tenancy_filter(user))
    ).first()
    if row is None:
        raise NotFoundError(f"no tenancy {tenancy_id}")
    return row[0], row[1]
