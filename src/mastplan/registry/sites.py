"""Service functions for sites: lifecycle transitions and sectors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mastplan.errors import InvalidTransitionError, NotFoundError
from mastplan.registry import crud
from mastplan.registry.audit import Actor
from mastplan.registry.db import transaction
from mastplan.registry.enums import SITE_TRANSITIONS, SiteStatus
from mastplan.registry.models import Sector, Site

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


def transition_site(
    session: Session,
    actor: Actor,
    external_id: str,
    to: SiteStatus | str,
    on: dt.date | None = None,
) -> Site:
    """Move a site along its lifecycle (planned → approved → built → on air → retired).

    Only the moves in :data:`~mastplan.registry.enums.SITE_TRANSITIONS` exist; the date of the
    new status is stamped (today unless ``on`` is given).
    """
    to = SiteStatus(to)
    with transaction(session):
        site = get_site(session, external_id)
        if to not in SITE_TRANSITIONS[SiteStatus(site.status)]:
            allowed = (
                ", ".join(sorted(s.value for s in SITE_TRANSITIONS[SiteStatus(site.status)]))
                or "none"
            )
            raise InvalidTransitionError(
                f"site {external_id}: cannot go from {SiteStatus(site.status)} to {to} "
                f"(allowed: {allowed})"
            )
        return crud.update(
            session, actor, site, {"status": to, STATUS_DATE[to]: on or dt.date.today()}
        )


def add_sector(session: Session, actor: Actor, external_id: str, **values: Any) -> Sector:
    """Add a sector (cell) to a site."""
    with transaction(session):
        site = get_site(session, external_id)
        return crud.create(session, actor, Sector(site_id=site.id, **values))
