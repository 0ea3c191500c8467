"""Service functions for organisations: operators, owners, government units, enterprises."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from mastplan.errors import NotFoundError
from mastplan.registry import crud
from mastplan.registry.audit import Actor
from mastplan.registry.db import transaction
from mastplan.registry.enums import OrgKind
from mastplan.registry.models import Organisation


def get_organisation(session: Session, code: str) -> Organisation:
    """The organisation with ``code``; :class:`NotFoundError` if there is none."""
    org = session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        raise NotFoundError(f"no organisation with code {code!r}")
    return org


def upsert_organisation(
    session: Session,
    actor: Actor,
    *,
    code: str,
    kind: OrgKind | str,
    name_zh: str,
    name_en: str,
    short_zh: str | None = None,
    short_en: str | None = None,
    parent_code: str | None = None,
    district_code: str | None = None,
    plmn: Sequence[str] = (),
    synthetic: bool = False,
    source: str | None = None,
) -> Organisation:
    """Create the organisation ``code`` or update it to these values (audited either way)."""
    with transaction(session):
        values = {
            "kind": OrgKind(kind),
            "name_zh": name_zh,
            "name_en": name_en,
            "short_zh": short_zh,
            "short_en": short_en,
            "parent_id": get_organisation(session, parent_code).id if parent_code else None,
            "district_code": district_code,
            "plmn": list(plmn),
            "synthetic": synthetic,
            "source": source,
        }
        org = session.scalar(select(Organisation).where(Organisation.code == code))
        if org is None:
            return crud.create(session, actor, Organisation(code=code, **values))
        return crud.update(session, actor, org, values)
