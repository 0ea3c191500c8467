"""Service functions for districts and key areas (their boundaries are WGS84 multipolygons)."""

from __future__ import annotations

from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from mastplan.errors import MastplanError
from mastplan.registry import crud
from mastplan.registry.audit import Actor
from mastplan.registry.db import transaction
from mastplan.registry.models import District, KeyArea


def as_boundary(geometry: shapely.Geometry, what: str) -> shapely.MultiPolygon:
    """Check a boundary (valid, non-empty, in longitude/latitude) and make it a MultiPolygon."""
    if geometry is None or geometry.is_empty:
        raise MastplanError(f"{what}: boundary is empty")
    if not geometry.is_valid:
        raise MastplanError(f"{what}: boundary is not valid: {shapely.is_valid_reason(geometry)}")
    minx, miny, maxx, maxy = geometry.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise MastplanError(f"{what}: boundary is not in WGS84 longitude/latitude degrees")
    if isinstance(geometry, shapely.Polygon):
        return shapely.MultiPolygon([geometry])
    if isinstance(geometry, shapely.MultiPolygon):
        return geometry
    raise MastplanError(f"{what}: boundary must be a polygon, got {geometry.geom_type}")


def upsert_district(session: Session, actor: Actor, *, code: str, **values: Any) -> District:
    """Create district ``code`` (GB/T 2260) or update it to these values."""
    with transaction(session):
        values["boundary"] = as_boundary(values["boundary"], f"district {code}")
        district = session.get(District, code)
        if district is None:
            return crud.create(session, actor, District(code=code, **values))
        return crud.update(session, actor, district, values)


def upsert_key_area(session: Session, actor: Actor, *, code: str, **values: Any) -> KeyArea:
    """Create key area ``code`` or update it to these values."""
    with transaction(session):
        values["boundary"] = as_boundary(values["boundary"], f"key area {code}")
        area = session.scalar(select(KeyArea).where(KeyArea.code == code))
        if area is None:
            return crud.create(session, actor, KeyArea(code=code, **values))
        return crud.update(session, actor, area, values)
