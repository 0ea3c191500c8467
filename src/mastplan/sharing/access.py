"""Who sees which sharing requests and cases: the one place the rule lives.

The regulator sees everything. An operator sees its own requests only — to it another
operator's request does not exist (the same "not found" as for a missing id). An owner sees the
requests addressed to the structures it owns; a district government those on structures in its
district; a viewer what its organisation files or owns. Every read and every move of the
sharing services goes through :func:`request_filter`.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select, true

from mastplan.registry.enums import UserRole
from mastplan.registry.models import SharingRequest, Structure, User

__all__ = ["request_filter"]


def _owned_by(org_id: int) -> ColumnElement[bool]:
    return SharingRequest.structure_id.in_(select(Structure.id).where(Structure.owner_id == org_id))


def request_filter(user: User) -> ColumnElement[bool]:
    """The condition on :class:`SharingRequest` rows that ``user`` may see."""
    org = user.organisation
    match user.role:
        case UserRole.REGULATOR:
            return true()
        case UserRole.OPERATOR:
            return SharingRequest.operator_id == org.id
        case UserRole.OWNER:
            return _owned_by(org.id)
        case UserRole.DISTRICT:
            return SharingRequest.structure_id.in_(
                select(Structure.id).where(Structure.district_code == org.district_code)
            )
        case UserRole.VIEWER:
            return or_(SharingRequest.operator_id == org.id, _owned_by(org.id))
    raise AssertionError(user.role)  # pragma: no cover - the enum is closed
