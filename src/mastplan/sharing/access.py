"""Who sees which sharing requests, cases and tenancies: the one place the rule lives.

The regulator sees everything. An operator sees its own requests only — to it another
operator's request does not exist (the same "not found" as for a missing id). An owner sees the
requests addressed to the structures it owns; a district government those on structures in its
district; a viewer what its organisation files or owns. Tenancies (and their terms: positions,
payload, power) follow the same rule. Every read and every move of the sharing services goes
through :func:`request_filter` or :func:`tenancy_filter`.

Sites follow :func:`site_filter`: a site that is built, on air or retired is public (it stands
and transmits); a planned or approved one is its operator's plan and confidential — another
operator never sees it, in a list or by its id.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select, true

from mastplan.registry.enums import OrgKind, SiteStatus, UserRole
from mastplan.registry.models import SharingRequest, Site, Structure, Tenancy, User

__all__ = [
    "FEE_ROLES",
    "PUBLIC_SITE_STATUSES",
    "request_filter",
    "sees_fees",
    "site_filter",
    "tenancy_filter",
]

#: Sites in these states stand or stood on the air: anyone may see them.
PUBLIC_SITE_STATUSES = frozenset({SiteStatus.BUILT, SiteStatus.ON_AIR, SiteStatus.RETIRED})


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


def site_filter(user: User) -> ColumnElement[bool]:
    """The condition on :class:`Site` rows that ``user`` may see.

    Built, on-air and retired sites are public. Planned and approved sites are their operator's
    plans: the regulator, district governments and viewers of a government unit see them all;
    an operator (and a viewer of an operator) sees its own; an owner (and a viewer of an owner)
    those on its structures. To anyone else they do not exist.
    """
    org = user.organisation
    public = Site.status.in_(sorted(PUBLIC_SITE_STATUSES))
    match user.role:
        case UserRole.REGULATOR | UserRole.DISTRICT:
            return true()
        case UserRole.OPERATOR:
            return or_(public, Site.operator_id == org.id)
        case UserRole.OWNER:
            return or_(public, _owned_by(Site.structure_id, org.id))
        case UserRole.VIEWER:
            if org.kind is OrgKind.GOVERNMENT_UNIT:
                return true()
            return or_(public, Site.operator_id == org.id, _owned_by(Site.structure_id, org.id))
    raise AssertionError(user.role)  # pragma: no cover - the enum is closed


#: Roles that see fee amounts: the parties to a request (operator, owner) and the regulator.
FEE_ROLES = frozenset({UserRole.REGULATOR, UserRole.OPERATOR, UserRole.OWNER})


def sees_fees(user: User) -> bool:
    """Whether ``user`` may see the fee amounts of the requests it may see."""
    return user.role in FEE_ROLES
