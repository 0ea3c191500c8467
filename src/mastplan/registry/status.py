"""The registry at a glance: what `mastplan status` prints."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mastplan.registry.enums import plain
from mastplan.registry.models import (
    District,
    KeyArea,
    Organisation,
    Sector,
    Site,
    Structure,
    Tenancy,
)


def status_summary(session: Session) -> dict[str, Any]:
    """Counts of structures by kind, sites by status and operator, key areas by phase year."""
    structures = dict(
        session.execute(select(Structure.kind, func.count()).group_by(Structure.kind)).all()
    )
    sites = session.execute(
        select(
            Organisation.code,
            func.coalesce(Organisation.short_zh, Organisation.name_zh),
            func.coalesce(Organisation.short_en, Organisation.name_en),
            Site.status,
            func.count(),
        )
        .join(Organisation, Site.operator_id == Organisation.id)
        .group_by(
            Organisation.code,
            Organisation.short_zh,
            Organisation.name_zh,
            Organisation.short_en,
            Organisation.name_en,
            Site.status,
        )
    ).all()
    by_operator: dict[str, dict[str, Any]] = {}
    for code, name_zh, name_en, status, n in sites:
        entry = by_operator.setdefault(
            code, {"name_zh": name_zh, "name_en": name_en, "by_status": {}, "total": 0}
        )
        entry["by_status"][plain(status)] = n
        entry["total"] += n
    by_status: dict[str, int] = {}
    for _, _, _, status, n in sites:
        by_status[plain(status)] = by_status.get(plain(status), 0) + n
    years = dict(
        session.execute(select(KeyArea.phase_year, func.count()).group_by(KeyArea.phase_year)).all()
    )
    synthetic = session.scalar(select(func.count()).where(Structure.synthetic.is_(True)))
    return {
        "districts": session.scalar(select(func.count()).select_from(District)),
        "organisations": session.scalar(select(func.count()).select_from(Organisation)),
        "key_areas": {
            "total": sum(years.values()),
            "by_phase_year": {str(y): n for y, n in sorted(years.items())},
        },
        "structures": {
            "total": sum(structures.values()),
            "synthetic": synthetic,
            "by_kind": {
                plain(k): n for k, n in sorted(structures.items(), key=lambda kv: plain(kv[0]))
            },
        },
        "sites": {
            "total": sum(by_status.values()),
            "by_status": by_status,
            "by_operator": by_operator,
        },
        "sectors": session.scalar(select(func.count()).select_from(Sector)),
        "tenancies": session.scalar(select(func.count()).select_from(Tenancy)),
    }
