"""Tenancies (leases) as each user may see them: who occupies which positions of which
structure, with what payload and power, since when, under which request."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mastplan.registry.enums import TenancyStatus
from mastplan.registry.models import SharingRequest, Structure, Tenancy
from mastplan.registry.users import acting
from mastplan.sharing.access import tenancy_filter

__all__ = ["list_tenancies"]


def list_tenancies(
    session: Session, user_name: str, *, structure: str | None = None, active_only: bool = True
) -> list[tuple[Tenancy, int | None]]:
    """The tenancies ``user_name`` may see, each with the sharing request that booked it (if a
    request did), newest first."""
    user, _ = acting(session, user_name)
    query = (
        select(Tenancy, SharingRequest.id)
        .outerjoin(SharingRequest, SharingRequest.tenancy_id == Tenancy.id)
        .where(tenancy_filter(user))
    )
    if active_only:
        query = query.where(Tenancy.status == TenancyStatus.ACTIVE)
    if structure:
        query = query.join(Structure, Structure.id == Tenancy.structure_id).where(
            Structure.external_id == structure
        )
    return [(t, rid) for t, rid in session.execute(query.order_by(Tenancy.id.desc()))]
