"""Read-only queries the computations need: areas by code, and sectors with their sites."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import shapely
from sqlalchemy import ColumnElement, and_, case, func, or_, select
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
    minx, miny, maxx, maxy = bbox_deg
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
            Site.lon_deg.between(minx, maxx),
            Site.lat_deg.between(miny, maxy),
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
    minx, miny, maxx, maxy = bbox_deg
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
            Structure.lon_deg.between(minx, maxx),
            Structure.lat_deg.between(miny, maxy),
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
                Structure.lon_deg.between(minx, maxx),
                Structure.lat_deg.between(miny, maxy),
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
