"""Coverage statistics of key areas kept in the registry: what a coverage run found, for the
network as it stood on a date. The key-area KPIs are computed from these rows, never typed in."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mastplan.progress.models import CoverageResult
from mastplan.registry import crud
from mastplan.registry.audit import Actor
from mastplan.registry.db import transaction
from mastplan.registry.models import KeyArea

__all__ = ["latest_results", "meets_targets", "record_coverage"]


def record_coverage(
    session: Session, actor: Actor, summary: dict[str, Any], *, as_of: dt.date
) -> list[CoverageResult]:
    """Store the per-key-area statistics of a coverage run (``stats.json``'s summary).

    A run over a phase or a district gives one row per key area in it (``per_area``); a run
    over one key area gives its row; a run over a district alone gives none (it is not a key
    area). ``as_of`` is the day of the network predicted (the run's ``--as-of``, else today).
    """
    parts = summary.get("per_area") or []
    if not parts and summary["area"].get("kind") == "key_area":
        parts = [{"code": summary["area"]["code"], "statistics": summary["statistics"]}]
    if not parts:
        return []
    options = summary.get("options", {})
    run_id = uuid.uuid4().hex
    with transaction(session):
        ids = dict(
            session.execute(
                select(KeyArea.code, KeyArea.id).where(KeyArea.code.in_([p["code"] for p in parts]))
            ).all()
        )
        out = []
        for part in parts:
            if part["code"] not in ids:
                continue
            st = part["statistics"]
            out.append(
                crud.create(
                    session,
                    actor,
                    CoverageResult(
                        run_id=run_id,
                        key_area_id=ids[part["code"]],
                        as_of=as_of,
                        covered_fraction=float(st["covered_share"]),
                        continuity_fraction=float(st["continuity"]),
                        rsrp_threshold_dbm=float(st["rsrp_min_dbm"]),
                        resolution_m=float(summary["grid"]["resolution_m"]),
                        operator=",".join(options.get("operators") or []) or None,
                        detail={
                            "area_km2": st.get("area_km2"),
                            "n_holes": st.get("n_holes"),
                            "sinr_min_db": st.get("sinr_min_db"),
                            "run_area": summary["area"]["code"],
                        },
                    ),
                )
            )
        return out


def meets_targets(covered_fraction, continuity_fraction, target_coverage, target_continuity):
    """Whether a key area's result meets both of its thresholds (covered share and continuity):
    the one rule of the KPIs and the map. Works on numbers and, elementwise, on pandas Series."""
    eps = 1e-12
    return (covered_fraction >= target_coverage - eps) & (
        continuity_fraction >= target_continuity - eps
    )


def latest_results(session: Session, on: dt.date | None = None) -> dict[int, CoverageResult]:
    """Each key area's latest result for the whole network (all operators together) on or
    before ``on`` (default: any), by key area id; the last computed wins a tie of dates."""
    query = select(CoverageResult).where(CoverageResult.operator.is_(None))
    if on is not None:
        query = query.where(CoverageResult.as_of <= on)
    rows = session.scalars(
        query.order_by(CoverageResult.as_of, CoverageResult.computed_at, CoverageResult.id)
    )
    return {r.key_area_id: r for r in rows}
