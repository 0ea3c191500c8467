"""Reported figures: numbers the statistics authorities report (e.g. the 5G industry's revenue
of a year) that mastplan records as reported, never computes. One value per indicator, year and
scope; recording it again updates it (audited)."""

from __future__ import annotations

import datetime as dt
import math
import re
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from mastplan.errors import MastplanError, NotFoundError
from mastplan.progress.enums import IndustryZone
from mastplan.progress.models import ReportedFigure
from mastplan.progress.registry_rules import check_year
from mastplan.registry import crud
from mastplan.registry.audit import Actor
from mastplan.registry.db import transaction
from mastplan.registry.models import District

__all__ = ["get_figure", "list_figures", "record_figure", "target_unit", "write_figure"]

#: An indicator id: a lowercase slug such as ``5g-industry-revenue``.
INDICATOR = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
CITY = "city"


@cache
def _target_units() -> dict[str, str | None]:
    from mastplan.data.plan import load_targets

    return {t.id: t.unit for t in load_targets()}


def target_unit(indicator: str) -> str | None:
    """The unit of the plan target with id ``indicator`` (``yuan``, ``scenarios`` …), if any."""
    return _target_units().get(indicator)


def _check(
    session: Session, indicator: str, year: int, scope: str, value: float
) -> tuple[str, float]:
    if not INDICATOR.match(indicator or ""):
        raise MastplanError(
            f"indicator must be a lowercase id such as 5g-industry-revenue, got {indicator!r}"
        )
    check_year(year, "the figure's year")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MastplanError(f"the value must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise MastplanError(f"the value must be a finite number, got {value!r}")
    if number < 0 and target_unit(indicator) is not None:
        raise MastplanError(f"{indicator} counts {target_unit(indicator)}: the value must be >= 0, "
                            f"got {number:g}")  # fmt: skip
    scope = (scope or "").strip()
    known = scope == CITY or scope in set(IndustryZone) or session.get(District, scope)
    if not known:
        zones = ", ".join(z.value for z in IndustryZone)
        raise MastplanError(f"unknown scope {scope!r}: city, a district code or a zone ({zones})")
    return scope, number


def write_figure(
    session: Session,
    actor: Actor,
    *,
    indicator: str,
    year: int,
    value: float,
    scope: str = CITY,
    reported_on: dt.date | None = None,
    source: str | None = None,
    demo: bool = False,
) -> tuple[ReportedFigure, bool]:
    """Create or update one figure in the caller's transaction; returns it and whether it was
    created."""
    scope, number = _check(session, indicator, year, scope, value)
    values = {"value": number, "reported_on": reported_on, "source": source, "demo": demo}
    obj = session.scalar(
        select(ReportedFigure).where(
            ReportedFigure.indicator == indicator,
            ReportedFigure.year == year,
            ReportedFigure.scope == scope,
        )
    )
    if obj is None:
        obj = crud.create(session, actor, ReportedFigure(indicator=indicator, year=year,
                                                         scope=scope, **values))  # fmt: skip
        return obj, True
    crud.update(session, actor, obj, values)
    return obj, False


def record_figure(
    session: Session,
    actor: Actor,
    indicator: str,
    year: int,
    value: float,
    *,
    scope: str = CITY,
    reported_on: dt.date | None = None,
    source: str | None = None,
    demo: bool = False,
) -> ReportedFigure:
    """Record the reported ``value`` of ``indicator`` for ``year`` and ``scope`` (``city``, a
    district code or a "3+X" zone), replacing an earlier report of the same (audited)."""
    with transaction(session):
        return write_figure(session, actor, indicator=indicator, year=year, value=value,
                            scope=scope, reported_on=reported_on, source=source,
                            demo=demo)[0]  # fmt: skip


def get_figure(session: Session, indicator: str, year: int, scope: str = CITY) -> ReportedFigure:
    """The figure of ``indicator``, ``year`` and ``scope``; :class:`NotFoundError` if none."""
    obj = session.scalar(
        select(ReportedFigure).where(
            ReportedFigure.indicator == indicator,
            ReportedFigure.year == year,
            ReportedFigure.scope == scope,
        )
    )
    if obj is None:
        raise NotFoundError(f"no figure {indicator!r} for {year} ({scope})")
    return obj


def list_figures(
    session: Session, *, indicator: str | None = None, scope: str | None = None
) -> list[ReportedFigure]:
    """The recorded figures, by indicator, scope and year."""
    query = select(ReportedFigure)
    if indicator is not None:
        query = query.where(ReportedFigure.indicator == indicator)
    if scope is not None:
        query = query.where(ReportedFigure.scope == scope)
    order = (ReportedFigure.indicator, ReportedFigure.scope, ReportedFigure.year)
    return list(session.scalars(query.order_by(*order)))
