"""Read-only queries the computations need: areas by code, and sectors with their sites."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import shapely
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    case,
    column,
    func,
    inspect,
    or_,
    select,
)
from sqlalchemy.orm import Session

from mastplan.errors import NotFoundError
from mastplan.registry.enums import RegionGroup, SiteStatus, StructureStatus, TenancyStatus
from mastplan.registry.models import (
    District,
    KeyArea,
    Organisation,
    Sector,
    Site,
    Structure,
    Tenancy,
    TenancyPosition,
)


@dataclass(frozen=True)
class Area:
    """A named area of the registry: a key area or a district, with its WGS84 boundary."""

    kind: str  # "key_area" or "district"
    code: str
    name_zh: str
    name_en: str
    boundary: shapely.MultiPolygon
    parts: tuple[Area, ...] = ()  # the key areas of a phase selection


def area_by_code(session: Session, code: str) -> Area:
    """The key area or district with ``code`` (key-area codes first, then GB/T 2260 codes).

    ``phase:YEAR`` names the union of the key areas of a phase year (专栏2), e.g. ``phase:2019``;
    ``group:GROUP`` the districts of a 一区两群 group (``central_urban``, ``new_urban``,
    ``three_gorges``, ``wuling``), of 主城都市区 (``main_city``) or of the whole city (``city``),
    district by district.
    """
    if code.startswith("phase:"):
        year = code.split(":", 1)[1]
        if not year.isdigit():
            raise NotFoundError(f"{code!r}: a phase is written phase:YEAR, e.g. phase:2019")
        rows = session.scalars(
            select(KeyArea).where(KeyArea.phase_year == int(year)).order_by(KeyArea.code)
        )
        parts = tuple(Area("key_area", k.code, k.name_zh, k.name_en, k.boundary) for k in rows)
        if not parts:
            raise NotFoundError(f"no key areas with phase year {year}")
        return Area(
            "phase", code, f"{year}年重点区域", f"key areas of {year}", _union(parts), parts
        )
    if code.startswith("group:"):
        return _district_group(session, code)
    ka = session.scalar(select(KeyArea).where(KeyArea.code == code))
    if ka is not None:
        return Area("key_area", ka.code, ka.name_zh, ka.name_en, ka.boundary)
    d = session.get(District, code)
    if d is not None:
        return Area("district", d.code, d.name_zh, d.name_en, d.boundary)
    raise NotFoundError(f"no key area or district with code {code!r}")


#: ``group:`` selections beyond the single 一区两群 groups.
GROUP_SETS = {
    "main_city": (RegionGroup.CENTRAL_URBAN, RegionGroup.NEW_URBAN),
    "city": tuple(RegionGroup),
}
#: Names (中文, English) of the ``group:`` selections.
GROUP_NAMES = {
    "central_urban": ("中心城区", "central urban districts"),
    "new_urban": ("主城新区", "new urban districts"),
    "three_gorges": ("渝东北三峡库区城镇群", "Three Gorges reservoir towns (north-east)"),
    "wuling": ("渝东南武陵山区城镇群", "Wuling mountain towns (south-east)"),
    "main_city": ("主城都市区", "main metropolitan area"),
    "city": ("重庆市", "Chongqing municipality"),
}


def _district_group(session: Session, code: str) -> Area:
    name = code.split(":", 1)[1]
    groups = GROUP_SETS.get(name) or (
        (RegionGroup(name),) if name in {g.value for g in RegionGroup} else None
    )
    if groups is None:
        known = ", ".join([g.value for g in RegionGroup] + list(GROUP_SETS))
        raise NotFoundError(f"{code!r}: unknown district group; one of {known}")
    rows = session.scalars(
        select(District).where(District.group.in_(groups)).order_by(District.code)
    )
    parts = tuple(Area("district", d.code, d.name_zh, d.name_en, d.boundary) for d in rows)
    if not parts:
        raise NotFoundError(f"no districts in {code!r}")
    return Area("group", code, *GROUP_NAMES[name], _union(parts), parts)


def _union(parts: tuple[Area, ...]) -> shapely.MultiPolygon:
    """The union of the parts' boundaries, as one MultiPolygon."""
    union = shapely.union_all([p.boundary for p in parts])
    return shapely.MultiPolygon([union]) if isinstance(union, shapely.Polygon) else union


# --- spatial predicates ------------------------------------------------------------------------

Bbox = tuple[float, float, float, float]
Bind = Session | Connection | Engine | str

#: Metres per degree of latitude, rounded down (the true value is 110,574 to 111,694 m), and
#: per degree of longitude at the equator, rounded down: envelopes made with them are never
#: smaller than the circle they enclose.
_M_PER_DEG_LAT = 110_500.0
_M_PER_DEG_LON = 111_000.0


def dialect_name(bind: Bind) -> str:
    """The dialect name (``"sqlite"``, ``"postgresql"``) of a session, connection or engine."""
    if isinstance(bind, str):
        return bind
    if isinstance(bind, Session):
        return bind.get_bind().dialect.name
    return bind.dialect.name


def _point_columns(entity: Any) -> tuple[Any, Any, Any]:
    """``lon_deg``, ``lat_deg`` and the PostGIS ``geom`` column of a point table (a mapped
    class such as :class:`Structure` or :class:`Site`, an alias of one, or a Core table).

    ``geom`` is generated by the database from the two numbers (migration 0001) and is not
    mapped, so it is named here on the same FROM object: aliases render as the alias."""
    selectable = inspect(entity).selectable
    c = selectable.c
    return c.lon_deg, c.lat_deg, column("geom", _selectable=selectable)


def in_bbox(bind: Bind, entity: Any, bbox_deg: Bbox) -> ColumnElement[bool]:
    """The condition that a point row of ``entity`` lies in a WGS84 box (edges included).

    PostgreSQL: ``geom && ST_MakeEnvelope(minlon, minlat, maxlon, maxlat, 4326)``, answered by
    the GiST index of ``geom``, and ``ST_Intersects`` with the same envelope, which rechecks the
    candidates in double precision (``&&`` compares single-precision boxes, which can admit a
    point a metre outside an edge); SQLite: ``lon_deg``/``lat_deg`` ranges on their B-tree
    index. Both select the same rows. Every bbox filter of structures and sites goes through
    here.
    """
    minx, miny, maxx, maxy = (float(v) for v in bbox_deg)
    lon, lat, geom = _point_columns(entity)
    if dialect_name(bind) == "postgresql":
        envelope = func.ST_MakeEnvelope(minx, miny, maxx, maxy, 4326)
        return and_(geom.bool_op("&&")(envelope), func.ST_Intersects(geom, envelope))
    return and_(lon.between(minx, maxx), lat.between(miny, maxy))


def radius_bbox(lon_deg: float, lat_deg: float, radius_m: float) -> Bbox:
    """A WGS84 box that holds every point within ``radius_m`` metres of (lon, lat)."""
    dlat = radius_m / _M_PER_DEG_LAT
    top = min(abs(lat_deg) + dlat, 90.0)
    cos_top = math.cos(math.radians(top))
    dlon = 180.0 if cos_top < 1e-9 else min(radius_m / (_M_PER_DEG_LON * cos_top), 180.0)
    return (
        max(lon_deg - dlon, -180.0),
        max(lat_deg - dlat, -90.0),
        min(lon_deg + dlon, 180.0),
        min(lat_deg + dlat, 90.0),
    )


def within_m(
    bind: Bind, entity: Any, lon_deg: float, lat_deg: float, radius_m: float
) -> ColumnElement[bool]:
    """The condition that a point row of ``entity`` lies within ``radius_m`` metres (geodesic,
    WGS84 ellipsoid) of (lon, lat).

    Both databases first keep the rows of :func:`radius_bbox` through :func:`in_bbox` (the GiST
    index on PostgreSQL, the B-tree on SQLite), then test the distance exactly:
    ``ST_DWithin(geom::geography, point::geography, r)`` on PostgreSQL, the
    ``mastplan_geodesic_m`` function that :func:`mastplan.registry.db.make_engine` registers
    (GeographicLib, like PostGIS) on SQLite. (``ST_DWithin`` on geography alone could not use
    the index, which is on the geometry.)
    """
    radius_m = float(radius_m)
    box = in_bbox(bind, entity, radius_bbox(lon_deg, lat_deg, radius_m))
    lon, lat, geom = _point_columns(entity)
    if dialect_name(bind) == "postgresql":
        point = func.ST_SetSRID(func.ST_MakePoint(float(lon_deg), float(lat_deg)), 4326)
        exact = func.ST_DWithin(func.geography(geom), func.geography(point), radius_m)
    else:
        exact = func.mastplan_geodesic_m(lon, lat, float(lon_deg), float(lat_deg)) <= radius_m
    return and_(box, exact)


def on_air_on(day: dt.date) -> ColumnElement[bool]:
    """The condition that a site was on air on ``day``: on air since that day or before, and
    not retired by then. A site on air now whose on-air date is unknown counts from the day
    its record was made."""
    since = func.coalesce(
        Site.on_air_on,
        case((Site.status == SiteStatus.ON_AIR, func.date(Site.created_at)), else_=None),
    )
    return and_(since <= day, or_(Site.retired_on.is_(None), Site.retired_on > day))


def sectors_in_bbox(
    session: Session,
    bbox_deg: tuple[float, float, float, float],
    *,
    operators: Sequence[str] | None = None,
    statuses: Sequence[SiteStatus | str] = (SiteStatus.ON_AIR,),
    as_of: dt.date | None = None,
) -> pd.DataFrame:
    """Sectors of sites inside a WGS84 bounding box, one row per sector, with site facts.

    With ``as_of``, the sites on air on that day (see :func:`on_air_on`) instead of those whose
    status is one of ``statuses`` now: the network as it stood then.

    Columns: ``site``, ``operator``, ``lon_deg``, ``lat_deg``, ``sector_number``,
    ``azimuth_deg``, ``mechanical_tilt_deg``, ``electrical_tilt_deg``, ``antenna_height_m``
    (falls back to the structure height), ``tx_power_dbm``, ``bandwidth_mhz``,
    ``carrier_frequency_mhz``, ``antenna_pattern``, ``band``, ``rat``, ``structure_kind``.
    """
    q = (
        select(
            Site.external_id.label("site"),
            Organisation.code.label("operator"),
            Site.lon_deg,
            Site.lat_deg,
            Site.band,
            Site.rat,
            Sector.sector_number,
            Sector.azimuth_deg,
            Sector.mechanical_tilt_deg,
            Sector.electrical_tilt_deg,
            Sector.antenna_height_m,
            Structure.height_m.label("structure_height_m"),
            Structure.kind.label("structure_kind"),
            Sector.tx_power_dbm,
            Sector.bandwidth_mhz,
            Sector.carrier_frequency_mhz,
            Sector.antenna_pattern,
        )
        .join(Site, Sector.site_id == Site.id)
        .join(Organisation, Site.operator_id == Organisation.id)
        .outerjoin(Structure, Site.structure_id == Structure.id)
        .where(
            in_bbox(session, Site, bbox_deg),
            on_air_on(as_of) if as_of else Site.status.in_([SiteStatus(s) for s in statuses]),
        )
        .order_by(Site.id, Sector.sector_number)
    )
    if operators:
        q = q.where(Organisation.code.in_(list(operators)))
    frame = pd.DataFrame(session.execute(q).all(), columns=list(q.selected_columns.keys()))
    for col in ("rat", "structure_kind"):
        frame[col] = frame[col].map(lambda v: getattr(v, "value", v))
    frame["antenna_height_m"] = frame["antenna_height_m"].fillna(frame["structure_height_m"])
    return frame.drop(columns="structure_height_m")


def structures_in_bbox(
    session: Session, bbox_deg: tuple[float, float, float, float]
) -> pd.DataFrame:
    """In-service structures inside a WGS84 bounding box with what is left on them.

    Columns: ``id``, ``external_id``, ``kind``, ``owner``, ``lon_deg``, ``lat_deg``,
    ``height_m``, ``mount_positions``, ``free_positions``, ``free_payload_kg``,
    ``free_power_kw``, ``open_for_sharing``, ``tenants`` (operators with an active tenancy) and
    ``operators`` (their codes, comma-separated, sorted).
    """
    rows = session.execute(
        select(
            Structure.id,
            Structure.external_id,
            Structure.kind,
            Organisation.code.label("owner"),
            Structure.lon_deg,
            Structure.lat_deg,
            Structure.height_m,
            Structure.mount_positions,
            Structure.max_payload_kg,
            Structure.available_power_kw,
            Structure.open_for_sharing,
        )
        .join(Organisation, Structure.owner_id == Organisation.id)
        .where(
            in_bbox(session, Structure, bbox_deg),
            Structure.status == StructureStatus.IN_SERVICE,
        )
        .order_by(Structure.id)
    ).all()
    frame = pd.DataFrame(
        rows,
        columns=["id", "external_id", "kind", "owner", "lon_deg", "lat_deg", "height_m",
                 "mount_positions", "max_payload_kg", "available_power_kw", "open_for_sharing"],
    )  # fmt: skip
    frame["kind"] = frame["kind"].astype(str).map(lambda k: getattr(k, "value", k))
    op = Organisation.__table__.alias("op")
    used = pd.DataFrame(
        session.execute(
            select(
                Tenancy.structure_id,
                op.c.code,
                Tenancy.payload_kg,
                Tenancy.power_kw,
                func.count(TenancyPosition.position),
            )
            .join(op, Tenancy.operator_id == op.c.id)
            .join(Structure, Tenancy.structure_id == Structure.id)
            .outerjoin(TenancyPosition, TenancyPosition.tenancy_id == Tenancy.id)
            .where(
                Tenancy.status == TenancyStatus.ACTIVE,
                in_bbox(session, Structure, bbox_deg),
            )
            .group_by(Tenancy.id, Tenancy.structure_id, op.c.code, Tenancy.payload_kg,
                      Tenancy.power_kw)
        ).all(),
        columns=["id", "operator", "payload_kg", "power_kw", "positions"],
    )  # fmt: skip
    per = used.groupby("id").agg(
        positions=("positions", "sum"),
        payload_kg=("payload_kg", "sum"),
        power_kw=("power_kw", "sum"),
        operators=("operator", lambda s: ",".join(sorted(set(s)))),
        tenants=("operator", "nunique"),
    )
    frame = frame.join(per, on="id")
    frame["free_positions"] = frame["mount_positions"] - frame["positions"].fillna(0).astype(int)
    frame["free_payload_kg"] = frame["max_payload_kg"] - frame["payload_kg"].fillna(0.0)
    frame["free_power_kw"] = frame["available_power_kw"] - frame["power_kw"].fillna(0.0)
    frame["tenants"] = frame["tenants"].fillna(0).astype(int)
    frame["operators"] = frame["operators"].fillna("")
    return frame.drop(columns=["positions", "payload_kg", "power_kw"])
