"""Service functions for sites: lifecycle transitions and sectors.

Through the API a site moves as the registered user who asks (:func:`transition_site_as`):
its operator's users (not viewers) and the regulator; a site the user may not see
(:func:`mastplan.sharing.access.site_filter`) does not exist for it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mastplan.errors import InvalidTransitionError, NotFoundError
from mastplan.registry import crud
from mastplan.registry.audit import Actor
from mastplan.registry.db import transaction
from mastplan.registry.enums import SITE_TRANSITIONS, SiteStatus, UserRole
from mastplan.registry.models import Sector, Site, User
from mastplan.registry.permissions import deny, refuse_viewer
from mastplan.registry.users import acting

# The date column stamped when a site enters each status.
STATUS_DATE = {
    SiteStatus.PLANNED: "planned_on",
    SiteStatus.APPROVED: "approved_on",
    SiteStatus.BUILT: "built_on",
    SiteStatus.ON_AIR: "on_air_on",
    SiteStatus.RETIRED: "retired_on",
}


def get_site(session: Session, external_id: str) -> Site:
    """The site with ``external_id``; :class:`NotFoundError` if there is none."""
    site = session.scalar(select(Site).where(Site.external_id == external_id))
    if site is None:
        raise NotFoundError(f"no site with external_id {external_id!r}")
    return site


def _move(session: Session, actor: Actor, site: Site, to: SiteStatus, on: dt.date | None) -> Site:
    if to not in SITE_TRANSITIONS[SiteStatus(site.status)]:
        allowed = (
            ", ".join(sorted(s.value for s in SITE_TRANSITIONS[SiteStatus(site.status)])) or "none"
        )
        raise InvalidTransitionError(
            f"site {site.external_id}: cannot go from {SiteStatus(site.status)} to {to} "
            f"(allowed: {allowed})"
        )
    return crud.update(session, actor, site, {"status": to, STATUS_DATE[to]: on or dt.date.today()})


def transition_site(
    session: Session,
    actor: Actor,
    external_id: str,
    to: SiteStatus | str,
    on: dt.date | None = None,
    *,
    if_version: int | None = None,
) -> Site:
    """Move a site along its lifecycle (planned → approved → built → on air → retired).

    Only the moves in :data:`~mastplan.registry.enums.SITE_TRANSITIONS` exist; the date of the
    new status is stamped (today unless ``on`` is given). With ``if_version``, only if the site
    is still at that version (else :class:`~mastplan.errors.StaleVersionError`).
    """
    to = SiteStatus(to)
    with transaction(session):
        site = crud.locked(session, select(Site).where(Site.external_id == external_id),
                           f"no site with external_id {external_id!r}")  # fmt: skip
        crud.check_version(site, if_version, f"site {external_id}")
        return _move(session, actor, site, to, on)


def require_site_writer(user: User, site: Site, what: str) -> None:
    """The regulator moves any site; a user (not a viewer) of the site's operator its own."""
    if user.role is UserRole.REGULATOR:
        return
    refuse_viewer(user, what)
    if user.role is not UserRole.OPERATOR or user.organisation_id != site.operator_id:
        raise deny(user, what, "the site's operator and the regulator")


def transition_site_as(
    session: Session,
    user_name: str,
    external_id: str,
    to: SiteStatus | str,
    on: dt.date | None = None,
    *,
    if_version: int | None = None,
    reason: str | None = None,
) -> Site:
    """Move a site along its lifecycle as the registered user ``user_name`` (its operator or
    the regulator), optionally only if it is still at ``if_version``; a site the user may not
    see is "not found". One audited transaction."""
    from mastplan.sharing.access import site_filter

    to = SiteStatus(to)
    with transaction(session):
        user, actor = acting(session, user_name, reason)
        query = select(Site).where(Site.external_id == external_id, site_filter(user))
        site = crud.locked(session, query, f"no site {external_id!r}")
        require_site_writer(user, site, f"move site {external_id}")
        crud.check_version(site, if_version, f"site {external_id}")
        return _move(session, actor, site, to, on)


def add_sector(session: Session, actor: Actor, external_id: str, **values: Any) -> Sector:
    """Add a sector (cell) to a site."""
    with transaction(session):
        site = get_site(session, external_id)
        return crud.create(session, actor, Sector(site_id=site.id, **values))
