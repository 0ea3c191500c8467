"""Service functions for application scenarios (示范应用场景): upsert by code, look up, list,
link enterprises. Every write runs in a transaction and leaves audit entries; single records go
through the same rules as an imported file (:mod:`mastplan.progress.registry_rules`).

Through the API (:func:`create_scenario_as`, :func:`edit_scenario`, and the enterprises'
counterparts) the regulator's and the district governments' users write scenarios and
enterprises (:data:`WRITER_ROLES`); everyone reads them. A scenario's version moves when its
columns or its set of enterprises change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from mastplan.errors import ImportValidationError, MastplanError, NotFoundError
from mastplan.progress.enums import ScenarioCategory, ScenarioStatus
from mastplan.progress.models import ApplicationScenario, Enterprise, ScenarioEnterprise
from mastplan.progress.registry_rules import ProgressLookups, choice, prepare_scenarios
from mastplan.registry import crud
from mastplan.registry.audit import Actor
from mastplan.registry.db import transaction
from mastplan.registry.enums import UserRole
from mastplan.registry.fields import RowErrors
from mastplan.registry.models import Organisation, User
from mastplan.registry.permissions import require_role
from mastplan.registry.users import acting

__all__ = [
    "WRITER_ROLES",
    "count_in_operation",
    "create_scenario_as",
    "edit_scenario",
    "get_scenario",
    "link_enterprises",
    "list_scenarios",
    "require_writer",
    "upsert_scenario",
    "write_scenario",
]

#: The columns of a scenario that a record sets (the rest is bookkeeping).
SCENARIO_COLUMNS = ("code", "name_zh", "name_en", "category", "district_code", "lon_deg",
                    "lat_deg", "status", "year", "in_operation_on", "ended_on", "demo", "source",
                    "notes")  # fmt: skip
#: The roles whose users create and change scenarios and enterprises through the API.
WRITER_ROLES = frozenset({UserRole.REGULATOR, UserRole.DISTRICT})


def require_writer(user: User, what: str) -> None:
    """Only the regulator's and the district governments' users (:data:`WRITER_ROLES`)."""
    require_role(user, WRITER_ROLES, what, "the regulator and the district governments")


def get_scenario(session: Session, code: str) -> ApplicationScenario:
    """The scenario with ``code``; :class:`NotFoundError` if there is none."""
    obj = session.scalar(select(ApplicationScenario).where(ApplicationScenario.code == code))
    if obj is None:
        raise NotFoundError(f"no scenario {code!r}")
    return obj


def _enterprise_ids(session: Session, codes: Sequence[str]) -> dict[str, int]:
    if not codes:
        return {}
    rows = session.execute(
        select(Organisation.code, Enterprise.id)
        .join(Enterprise, Enterprise.organisation_id == Organisation.id)
        .where(Organisation.code.in_(list(codes)))
    ).all()
    return dict(rows)


def _set_links(
    session: Session, actor: Actor, scenario: ApplicationScenario, enterprise_ids: Sequence[int]
) -> bool:
    """Make the scenario's enterprises exactly ``enterprise_ids``: audited creates and deletes.
    Whether anything changed."""
    current = {
        link.enterprise_id: link
        for link in session.scalars(
            select(ScenarioEnterprise).where(ScenarioEnterprise.scenario_id == scenario.id)
        )
    }
    wanted = list(dict.fromkeys(enterprise_ids))
    changed = set(wanted) != set(current)
    for eid in wanted:
        if eid not in current:
            crud.create(session, actor, ScenarioEnterprise(scenario_id=scenario.id,
                                                           enterprise_id=eid))  # fmt: skip
    for eid, link in current.items():
        if eid not in wanted:
            crud.delete(session, actor, link)
    session.expire(scenario, ["enterprises"])
    return changed


def write_scenario(
    session: Session,
    actor: Actor,
    values: Mapping[str, Any],
    enterprise_ids: Mapping[str, int] | None = None,
) -> tuple[ApplicationScenario, bool]:
    """Create or update the scenario of already-checked ``values`` (from
    :func:`~mastplan.progress.registry_rules.prepare_scenarios`) in the caller's transaction.

    ``values["enterprise_codes"]``, when not ``None``, becomes its set of enterprises, resolved
    through ``enterprise_ids`` (code → id; looked up when not given). Returns the scenario and
    whether it was created.
    """
    columns = {k: values[k] for k in SCENARIO_COLUMNS}
    obj = session.scalar(
        select(ApplicationScenario).where(ApplicationScenario.code == columns["code"])
    )
    created, version = obj is None, None if obj is None else obj.version
    if obj is None:
        obj = crud.create(session, actor, ApplicationScenario(**columns))
    else:
        crud.update(session, actor, obj, columns)
    codes = values.get("enterprise_codes")
    if codes is not None:
        ids = enterprise_ids if enterprise_ids is not None else _enterprise_ids(session, codes)
        missing = [c for c in codes if c not in ids]
        if missing:
            raise NotFoundError(f"no enterprise {missing[0]!r}")
        changed = _set_links(session, actor, obj, [ids[c] for c in codes])
        if changed and not created and obj.version == version:
            crud.touch(session, obj)  # its enterprises are part of it: a new version
    return obj, created


def _checked(session: Session, record: dict[str, Any], source: str) -> dict[str, Any]:
    errors = RowErrors(source)
    prepared = prepare_scenarios(
        pd.DataFrame([record]), np.array([1]), ProgressLookups.from_session(session), errors
    )
    if errors:
        raise ImportValidationError(errors.items, errors.total)
    return prepared[0].values


def upsert_scenario(
    session: Session,
    actor: Actor,
    *,
    code: str,
    name_zh: str,
    name_en: str,
    category: ScenarioCategory | str,
    status: ScenarioStatus | str,
    year: int,
    district_code: str | None = None,
    lon_deg: float | None = None,
    lat_deg: float | None = None,
    in_operation_on: dt.date | None = None,
    ended_on: dt.date | None = None,
    enterprises: Sequence[str] | None = None,
    demo: bool = False,
    source: str | None = None,
    notes: str | None = None,
    input_name: str = "<input>",
) -> ApplicationScenario:
    """Create the scenario ``code`` or update it to these values (audited either way).

    ``enterprises`` (codes) replaces its linked enterprises; ``None`` leaves them as they are.
    The record must pass the import's rules; a problem raises
    :class:`~mastplan.errors.ImportValidationError` naming the field.
    """
    record: dict[str, Any] = {
        "code": code, "name_zh": name_zh, "name_en": name_en, "category": str(category),
        "status": str(status), "year": year, "district_code": district_code,
        "lon_deg": lon_deg, "lat_deg": lat_deg, "in_operation_on": in_operation_on,
        "ended_on": ended_on, "demo": demo, "source": source, "notes": notes,
    }  # fmt: skip
    if enterprises is not None:
        record["enterprises"] = ";".join(enterprises)
    with transaction(session):
        values = _checked(session, record, input_name)
        return write_scenario(session, actor, values)[0]


def link_enterprises(
    session: Session,
    actor: Actor,
    code: str,
    enterprise_codes: Sequence[str],
    *,
    replace: bool = False,
) -> ApplicationScenario:
    """Link enterprises to the scenario ``code`` (added to its links, or replacing them with
    ``replace``); every link created or removed is audited."""
    with transaction(session):
        scenario = get_scenario(session, code)
        ids = _enterprise_ids(session, enterprise_codes)
        missing = [c for c in enterprise_codes if c not in ids]
        if missing:
            raise NotFoundError(f"no enterprise {missing[0]!r}")
        wanted = [ids[c] for c in enterprise_codes]
        if not replace:
            current = session.scalars(
                select(ScenarioEnterprise.enterprise_id).where(
                    ScenarioEnterprise.scenario_id == scenario.id
                )
            )
            wanted = [*current, *wanted]
        if _set_links(session, actor, scenario, wanted):
            crud.touch(session, scenario)
        return scenario


def _record(obj: ApplicationScenario) -> dict[str, Any]:
    """A scenario's record in the import fields (its links not included)."""
    record = {k: getattr(obj, k) for k in SCENARIO_COLUMNS}
    record["category"], record["status"] = str(obj.category), str(obj.status)
    return record


def _with_links(record: dict[str, Any]) -> dict[str, Any]:
    """``enterprises`` as the import's ``;``-separated codes (left out when not given)."""
    record = dict(record)
    links = record.pop("enterprises", None)
    if links is not None:
        record["enterprises"] = links if isinstance(links, str) else ";".join(links)
    return record


def create_scenario_as(
    session: Session,
    user_name: str,
    record: Mapping[str, Any],
    *,
    reason: str | None = None,
    source: str = "<input>",
) -> ApplicationScenario:
    """Create a scenario from a record of the import fields (``enterprises``: codes) as the
    registered user ``user_name`` (:func:`require_writer`); one audited transaction."""
    with transaction(session):
        user, actor = acting(session, user_name, reason)
        require_writer(user, "create scenarios")
        values = _checked(session, _with_links(dict(record)), source)
        taken = select(ApplicationScenario.id).where(ApplicationScenario.code == values["code"])
        if session.scalar(taken) is not None:
            raise MastplanError(f"a scenario {values['code']!r} exists")
        return write_scenario(session, actor, values)[0]


def edit_scenario(
    session: Session,
    user_name: str,
    code: str,
    changes: Mapping[str, Any],
    *,
    if_version: int | None = None,
    reason: str | None = None,
    source: str = "<input>",
) -> ApplicationScenario:
    """Change fields of scenario ``code`` as the registered user ``user_name``
    (:func:`require_writer`), optionally only if it is still at ``if_version``; the merged
    record must pass the import's rules. ``enterprises`` (codes), when given, replaces its
    links. One audited transaction."""
    with transaction(session):
        user, actor = acting(session, user_name, reason)
        require_writer(user, f"change scenario {code}")
        query = select(ApplicationScenario).where(ApplicationScenario.code == code)
        obj = crud.locked(session, query, f"no scenario {code!r}")
        crud.check_version(obj, if_version, f"scenario {code}")
        if changes.get("code", code) != code:
            raise MastplanError("code is the scenario's key and cannot be changed")
        values = _checked(session, _with_links({**_record(obj), **changes}), source)
        return write_scenario(session, actor, values)[0]


def _filtered(
    query: Select,
    category: str | None,
    district: str | None,
    status: str | None,
    year: int | None,
    demo: bool | None,
) -> Select:
    if category is not None:
        query = query.where(
            ApplicationScenario.category == choice(ScenarioCategory, category, "category")
        )
    if status is not None:
        query = query.where(ApplicationScenario.status == choice(ScenarioStatus, status, "status"))
    if district is not None:
        query = query.where(ApplicationScenario.district_code == district)
    if year is not None:
        query = query.where(ApplicationScenario.year == year)
    if demo is not None:
        query = query.where(ApplicationScenario.demo == demo)
    return query


def list_scenarios(
    session: Session,
    *,
    category: str | None = None,
    district: str | None = None,
    status: str | None = None,
    year: int | None = None,
    demo: bool | None = None,
) -> list[ApplicationScenario]:
    """The scenarios matching every filter given (a category id, a district code, a status, the
    launch year, demo or real), by code, with their enterprises loaded."""
    query = select(ApplicationScenario).options(
        selectinload(ApplicationScenario.enterprises).selectinload(Enterprise.organisation)
    )
    query = _filtered(query, category, district, status, year, demo)
    return list(session.scalars(query.order_by(ApplicationScenario.code)))


def count_in_operation(session: Session, as_of: dt.date, *, demo: bool | None = None) -> int:
    """How many scenarios were in operation on ``as_of``: gone into operation by then and not
    ended by then (whatever their status says today)."""
    query = select(func.count()).where(
        ApplicationScenario.in_operation_on.is_not(None),
        ApplicationScenario.in_operation_on <= as_of,
        or_(ApplicationScenario.ended_on.is_(None), ApplicationScenario.ended_on > as_of),
    )
    if demo is not None:
        query = query.where(ApplicationScenario.demo == demo)
    return session.scalar(query.select_from(ApplicationScenario)) or 0
