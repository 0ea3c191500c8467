"""Who sees which sharing requests, cases and tenancies: the one place the rule lives.

The regulator sees everything. An operator sees its own requests only — to it another
operator's request does not exist (the same "not found" as for a missing id). An owner sees the
requests addressed to the structures it owns; a district government those on structures in its
district; a viewer what its organisation files or owns. Tenancies (and their terms: positions,
payload, power) follow the same rule. Every read and every move of the sharing services goes
through :func:`request_filter` or :func:`tenancy_filter`.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select, true

from mastplan.registry.enums import UserRole
from mastplan.registry.models import SharingRequest, Structure, Tenancy, User

__all__ = ["request_filter", "tenancy_filter"]


def _owned_by(structure_id: ColumnElement, org_id: int) -> ColumnElement[bool]:
    return structure_id.in_(select(Structure.id).where(Structure.owner_id == org_id))


def _scoped(user: User, operator_id: ColumnElement, structure_id: ColumnElement):
    """The rows of a table with an operator and a structure that ``user`` may see."""
    org = user.organisation
    match user.role:
        case UserRole.REGULATOR:
            return true()
        case UserRole.OPERATOR:
            return operator_id == org.id
        case UserRole.OWNER:
            return _owned_by(structure_id, org.id)
        case UserRole.DISTRICT:
            return structure_id.in_(
                select(Structure.id).where(Structure.district_code == org.district_code)
            )
        case UserRole.VIEWER:
            return or_(operator_id == org.id, _owned_by(structure_id, org.id))
    raise AssertionError(user.role)  # pragma: no cover - the enum is closed


def request_filter(user: User) -> ColumnElement[bool]:
    """The condition on :class:`SharingRequest` rows that ``user`` may see."""
    return _scoped(user, SharingRequest.operator_id, SharingRequest.structure_id)


def tenancy_filter(user: User) -> ColumnElement[bool]:
    """The condition on :class:`Tenancy` rows (and so their terms) that ``user`` may see."""
    return _scoped(user, Tenancy.operator_id, Tenancy.structure_id)
