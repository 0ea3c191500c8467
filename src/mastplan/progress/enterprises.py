"""Service functions for 5G enterprises: an organisation of kind ``enterprise`` plus its
enterprise record (segment, "3+X" zone, district) and its revenue by year. Upsert by the
organisation's code; every write runs in a transaction and leaves audit entries.

Through the API (:func:`create_enterprise_as`, :func:`edit_enterprise`) the regulator's and the
district governments' users write enterprises (:data:`~mastplan.progress.scenarios.WRITER_ROLES`).
An enterprise's version (its record's) moves when its organisation's names, its record or its
revenues change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mastplan.errors import ImportValidationError, MastplanError, NotFoundError
from mastplan.progress.enums import IndustrySegment, IndustryZone
from mastplan.progress.models import Enterprise, EnterpriseRevenue
from mastplan.progress.registry_rules import (
    ProgressLookups,
    check_revenue,
    check_year,
    choice,
    prepare_enterprises,
)
from mastplan.registry import crud
from mastplan.registry.audit import Actor
from mastplan.registry.db import transaction
from mastplan.registry.enums import OrgKind
from mastplan.registry.fields import RowErrors
from mastplan.registry.models import Organisation
from mastplan.registry.users import acting

__all__ = [
    "create_enterprise_as",
    "edit_enterprise",
    "get_enterprise",
    "list_enterprises",
    "set_revenue",
    "upsert_enterprise",
    "write_enterprise",
]

#: The enterprise record's columns that a record sets.
ENTERPRISE_COLUMNS = ("segment", "zone", "district_code", "innovative", "registered_on", "demo",
                      "source")  # fmt: skip


def get_enterprise(session: Session, code: str) -> Enterprise:
    """The enterprise whose organisation has ``code``; :class:`NotFoundError` if there is none."""
    obj = session.scalar(
        select(Enterprise)
        .join(Enterprise.organisation)
        .where(Organisation.code == code)
        .options(selectinload(Enterprise.revenues))
    )
    if obj is None:
        raise NotFoundError(f"no enterprise {code!r}")
    return obj


def _write_revenue(
    session: Session, actor: Actor, enterprise: Enterprise, year: int, revenue_yuan: float,
    source: str | None,
) -> tuple[EnterpriseRevenue, bool]:  # fmt: skip
    """The revenue row of ``year``, created or updated, and whether it changed."""
    row = session.get(EnterpriseRevenue, (enterprise.id, year))
    values = {"revenue_yuan": float(revenue_yuan), "source": source}
    if row is None:
        row = crud.create(session, actor, EnterpriseRevenue(enterprise_id=enterprise.id,
                                                            year=year, **values))  # fmt: skip
        return row, True
    before = (row.revenue_yuan, row.source)
    crud.update(session, actor, row, values)
    return row, before != (row.revenue_yuan, row.source)


def write_enterprise(
    session: Session, actor: Actor, values: Mapping[str, Any]
) -> tuple[Enterprise, bool]:
    """Create or update the enterprise of already-checked ``values`` (from
    :func:`~mastplan.progress.registry_rules.prepare_enterprises`) in the caller's transaction:
    its organisation (names; short names when given), its record and the revenues of the years
    given (other years stay). Returns the enterprise and whether it was created."""
    code = values["code"]
    org = session.scalar(select(Organisation).where(Organisation.code == code))
    org_version = org.version if org is not None else None
    if org is None:
        org = crud.create(session, actor, Organisation(
            code=code, kind=OrgKind.ENTERPRISE, name_zh=values["name_zh"],
            name_en=values["name_en"], short_zh=values.get("short_zh"),
            short_en=values.get("short_en"), plmn=[], synthetic=values["demo"],
            source=values.get("source"),
        ))  # fmt: skip
    else:
        if org.kind != OrgKind.ENTERPRISE:
            raise MastplanError(f"organisation {code!r} is a {org.kind.value}, not an enterprise")
        changes = {"name_zh": values["name_zh"], "name_en": values["name_en"],
                   "synthetic": values["demo"]}  # fmt: skip
        for key in ("short_zh", "short_en"):
            if values.get(key) is not None:
                changes[key] = values[key]
        crud.update(session, actor, org, changes)
    columns = {k: values[k] for k in ENTERPRISE_COLUMNS}
    obj = session.scalar(select(Enterprise).where(Enterprise.organisation_id == org.id))
    created, version = obj is None, None if obj is None else obj.version
    if obj is None:
        obj = crud.create(session, actor, Enterprise(organisation_id=org.id, **columns))
    else:
        crud.update(session, actor, obj, columns)
    changed = org.version != org_version
    for year, revenue in sorted((values.get("revenues_yuan") or {}).items()):
        changed |= _write_revenue(session, actor, obj, int(year), revenue, values.get("source"))[1]
    if changed and not created and obj.version == version:
        crud.touch(session, obj)  # its names and revenues are part of it: a new version
    session.expire(obj, ["revenues"])
    return obj, created


def upsert_enterprise(
    session: Session,
    actor: Actor,
    *,
    code: str,
    name_zh: str,
    name_en: str,
    segment: IndustrySegment | str,
    zone: IndustryZone | str,
    district_code: str | None = None,
    innovative: bool = False,
    registered_on: dt.date | None = None,
    short_zh: str | None = None,
    short_en: str | None = None,
    revenues_yuan: Mapping[int, float] | None = None,
    demo: bool = False,
    source: str | None = None,
    input_name: str = "<input>",
) -> Enterprise:
    """Create the enterprise ``code`` (and its organisation) or update it to these values.

    ``revenues_yuan`` (year → main-business revenue) sets those years and leaves the others.
    The record must pass the import's rules; a problem raises
    :class:`~mastplan.errors.ImportValidationError` naming the field.
    """
    record: dict[str, Any] = {
        "code": code, "name_zh": name_zh, "name_en": name_en, "short_zh": short_zh,
        "short_en": short_en, "segment": str(segment), "zone": str(zone),
        "district_code": district_code, "innovative": innovative,
        "registered_on": registered_on, "demo": demo, "source": source,
    }  # fmt: skip
    for year, revenue in (revenues_yuan or {}).items():
        record[f"revenue_{year}_yuan"] = revenue
    with transaction(session):
        return write_enterprise(session, actor, _checked(session, record, input_name))[0]


def _checked(session: Session, record: dict[str, Any], source: str) -> dict[str, Any]:
    errors = RowErrors(source)
    prepared = prepare_enterprises(
        pd.DataFrame([record]), np.array([1]), ProgressLookups.from_session(session), errors
    )
    if errors:
        raise ImportValidationError(errors.items, errors.total)
    return prepared[0].values


def _with_revenues(record: dict[str, Any]) -> dict[str, Any]:
    """``revenues`` (year → yuan) as the import's ``revenue_<year>_yuan`` columns."""
    record = dict(record)
    for year, revenue in (record.pop("revenues", None) or {}).items():
        record[f"revenue_{int(year)}_yuan"] = revenue
    return record


def create_enterprise_as(
    session: Session,
    user_name: str,
    record: Mapping[str, Any],
    *,
    reason: str | None = None,
    source: str = "<input>",
) -> Enterprise:
    """Create an enterprise (and its organisation) from a record of the import fields
    (``revenues``: year → yuan) as the registered user ``user_name``
    (:func:`~mastplan.progress.scenarios.require_writer`); one audited transaction."""
    from mastplan.progress.scenarios import require_writer

    with transaction(session):
        user, actor = acting(session, user_name, reason)
        require_writer(user, "create enterprises")
        values = _checked(session, _with_revenues(dict(record)), source)
        if session.scalar(select(Organisation.id).where(Organisation.code == values["code"])):
            raise MastplanError(f"an organisation {values['code']!r} exists")
        return write_enterprise(session, actor, values)[0]


def _record(session: Session, obj: Enterprise) -> dict[str, Any]:
    """An enterprise's record in the import fields (its revenues not included)."""
    org = obj.organisation
    record = {k: getattr(obj, k) for k in ENTERPRISE_COLUMNS}
    record |= {"code": org.code, "name_zh": org.name_zh, "name_en": org.name_en,
               "short_zh": org.short_zh, "short_en": org.short_en, "segment": str(obj.segment),
               "zone": str(obj.zone)}  # fmt: skip
    return record


def edit_enterprise(
    session: Session,
    user_name: str,
    code: str,
    changes: Mapping[str, Any],
    *,
    if_version: int | None = None,
    reason: str | None = None,
    source: str = "<input>",
) -> Enterprise:
    """Change fields of enterprise ``code`` as the registered user ``user_name``, optionally
    only if it is still at ``if_version``; the merged record must pass the import's rules.
    ``revenues`` (year → yuan) sets those years and leaves the others. One audited
    transaction."""
    from mastplan.progress.scenarios import require_writer

    with transaction(session):
        user, actor = acting(session, user_name, reason)
        require_writer(user, f"change enterprise {code}")
        query = select(Enterprise).join(Enterprise.organisation).where(Organisation.code == code)
        obj = crud.locked(session, query, f"no enterprise {code!r}")
        crud.check_version(obj, if_version, f"enterprise {code}")
        if changes.get("code", code) != code:
            raise MastplanError("code is the enterprise's key and cannot be changed")
        record = _with_revenues({**_record(session, obj), **changes})
        return write_enterprise(session, actor, _checked(session, record, source))[0]


def set_revenue(
    session: Session,
    actor: Actor,
    code: str,
    year: int,
    revenue_yuan: float,
    source: str | None = None,
) -> EnterpriseRevenue:
    """Set the enterprise ``code``'s main-business revenue of ``year`` (audited)."""
    check_year(year)
    check_revenue(revenue_yuan)
    with transaction(session):
        enterprise = get_enterprise(session, code)
        row, changed = _write_revenue(session, actor, enterprise, year, revenue_yuan, source)
        if changed:
            crud.touch(session, enterprise)
        session.expire(enterprise, ["revenues"])
        return row


def list_enterprises(
    session: Session,
    *,
    segment: str | None = None,
    zone: str | None = None,
    district: str | None = None,
    innovative: bool | None = None,
    demo: bool | None = None,
) -> list[Enterprise]:
    """The enterprises matching every filter given, by code, with organisation and revenues."""
    query = (
        select(Enterprise)
        .join(Enterprise.organisation)
        .options(selectinload(Enterprise.organisation), selectinload(Enterprise.revenues))
    )
    if segment is not None:
        query = query.where(Enterprise.segment == choice(IndustrySegment, segment, "segment"))
    if zone is not None:
        query = query.where(Enterprise.zone == choice(IndustryZone, zone, "zone"))
    if district is not None:
        query = query.where(Enterprise.district_code == district)
    if innovative is not None:
        query = query.where(Enterprise.innovative == innovative)
    if demo is not None:
        query = query.where(Enterprise.demo == demo)
    return list(session.scalars(query.order_by(Organisation.code)))
