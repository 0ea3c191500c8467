"""The plan's progress over HTTP, read-only: the KPIs against their targets at a date.

The values are computed from the registry's dated records (:mod:`mastplan.progress.kpis`), the
same as ``mastplan kpi show``; they are aggregates, so every authenticated caller may read them.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from mastplan.api.deps import DB, Authed
from mastplan.api.schemas import ERRORS, NOT_FOUND, parse_day
from mastplan.errors import NotFoundError
from mastplan.registry.models import District, KeyArea

router = APIRouter(tags=["progress"], responses=ERRORS)

#: Most scopes one call may ask for.
MAX_SCOPES = 50
#: The forms of a scope: the city, a district's GB/T 2260 code, a phase year of the key areas.
SCOPE = re.compile(r"city|\d{6}|phase:\d{4}", re.ASCII)
#: The days a KPI may be asked for.


class Names(BaseModel):
    """A name in 中文 and English."""

    zh: str
    en: str


class KpiOut(BaseModel):
    """A KPI's value for a scope on a day, what it was made of, and its target."""

    kpi: str
    names: Names
    unit: str
    scope: str
    as_of: dt.date
    value: float | None
    numerator: float | None
    denominator: float | None
    target: float | None
    comparator: str | None
    target_year: int | None
    met: bool | None


def _number(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _check_scopes(session: Session, scopes: list[str]) -> None:
    """Every district and phase year named exists (404 otherwise)."""
    districts = {s for s in scopes if s != "city" and not s.startswith("phase:")}
    known = set(session.scalars(select(District.code).where(District.code.in_(districts))))
    if districts - known:
        raise NotFoundError(f"no district {min(districts - known)!r}")
    years = {int(s[6:]) for s in scopes if s.startswith("phase:")}
    have = set(session.scalars(select(KeyArea.phase_year).where(KeyArea.phase_year.in_(years))))
    if years - have:
        raise NotFoundError(f"no key areas with phase year {min(years - have)}")


@router.get("/kpis", response_model=list[KpiOut], responses=NOT_FOUND)
def list_kpis(
    who: Authed,
    session: DB,
    date: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            examples=["2021-12-31"],
            description="As of this day, YYYY-MM-DD (Chongqing) [default: today].",
        ),
    ] = None,
    scope: Annotated[
        list[str] | None,
        Query(
            max_length=MAX_SCOPES,
            description="city, a district code (500103) or phase:YEAR; repeat for several "
            "[default: city].",
        ),
    ] = None,
) -> list[KpiOut]:
    """Every KPI that has the scopes asked for, on a day: value, numerator, denominator, the
    target and whether it is met. A KPI without a scope's kind (a phase, say) is left out."""
    from mastplan.progress.kpis import KpiData, compute, load_kpis, scope_kind

    day = parse_day(date)
    scopes = list(dict.fromkeys(scope or ["city"]))
    bad = [s for s in scopes if not SCOPE.fullmatch(s)]
    if bad:
        raise HTTPException(422, f"unknown scope {bad[0]!r}: city, a district code or phase:YEAR")
    _check_scopes(session, scopes)
    _, specs = load_kpis()
    data = KpiData(session)
    out = []
    for sc in scopes:
        for spec in specs:
            if scope_kind(sc) not in spec.scopes:
                continue
            v = compute(data, spec, sc, day)
            out.append(KpiOut(
                kpi=v.kpi, names=Names(zh=spec.name_zh, en=spec.name_en), unit=spec.unit,
                scope=v.scope, as_of=v.as_of, value=_number(v.value),
                numerator=_number(v.numerator), denominator=_number(v.denominator),
                target=v.target.value if v.target else None,
                comparator=v.target.comparator if v.target else None,
                target_year=v.target.year if v.target else None, met=v.met,
            ))  # fmt: skip
    return out
