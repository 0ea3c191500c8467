"""Exports of registry layers to GeoJSON, GeoPackage, CSV and KML (WGS84), streamed in chunks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from mastplan.errors import MastplanError
from mastplan.geo import STORAGE_EPSG
from mastplan.registry.models import (
    District,
    KeyArea,
    Organisation,
    Site,
    Structure,
    TenancyPosition,
)

EXPORT_LAYERS = ("districts", "key_areas", "structures", "sites")
EXPORT_FORMATS = ("geojson", "gpkg", "csv", "kml")
_DRIVERS = {"geojson": "GeoJSON", "gpkg": "GPKG", "kml": "KML"}
CHUNK = 50_000


def _districts() -> Select:
    return select(
        District.code,
        District.name_zh,
        District.name_en,
        District.kind,
        District.group,
        District.boundary.label("geometry"),
    ).order_by(District.code)


def _key_areas() -> Select:
    return select(
        KeyArea.code,
        KeyArea.name_zh,
        KeyArea.name_en,
        KeyArea.category,
        KeyArea.phase_year,
        KeyArea.district_code,
        KeyArea.target_coverage_fraction,
        KeyArea.target_rsrp_dbm,
        KeyArea.target_sinr_db,
        KeyArea.target_continuity_fraction,
        KeyArea.location_confidence,
        KeyArea.location_source,
        KeyArea.extent_method,
        KeyArea.buffer_m,
        KeyArea.boundary.label("geometry"),
    ).order_by(KeyArea.phase_year, KeyArea.code)


def _structures() -> Select:
    used = (
        select(TenancyPosition.structure_id, func.count().label("used"))
        .group_by(TenancyPosition.structure_id)
        .subquery()
    )
    return (
        select(
            Structure.external_id.label("code"),
            Structure.name,
            Structure.kind,
            Organisation.code.label("owner"),
            Organisation.name_zh.label("owner_name_zh"),
            Organisation.name_en.label("owner_name_en"),
            Structure.district_code,
            Structure.lon_deg,
            Structure.lat_deg,
            Structure.height_m,
            Structure.mount_positions,
            (Structure.mount_positions - func.coalesce(used.c.used, 0)).label("free_positions"),
            Structure.max_payload_kg,
            Structure.available_power_kw,
            Structure.fibre,
            Structure.open_for_sharing,
            Structure.status,
            Structure.synthetic,
            Structure.source,
        )
        .join(Organisation, Structure.owner_id == Organisation.id)
        .outerjoin(used, used.c.structure_id == Structure.id)
        .order_by(Structure.id)
    )


def _sites() -> Select:
    on = aliased(Structure)
    return (
        select(
            Site.external_id.label("code"),
            Site.name,
            Organisation.code.label("operator"),
            Organisation.name_zh.label("operator_name_zh"),
            Organisation.name_en.label("operator_name_en"),
            Site.rat,
            Site.band,
            Site.node_id,
            Site.status,
            on.external_id.label("structure"),
            Site.district_code,
            Site.lon_deg,
            Site.lat_deg,
            Site.planned_on,
            Site.approved_on,
            Site.built_on,
            Site.on_air_on,
            Site.retired_on,
            Site.synthetic,
            Site.source,
        )
        .join(Organisation, Site.operator_id == Organisation.id)
        .outerjoin(on, Site.structure_id == on.id)
        .order_by(Site.id)
    )


_QUERIES: dict[str, Callable[[], Select]] = {
    "districts": _districts,
    "key_areas": _key_areas,
    "structures": _structures,
    "sites": _sites,
}


def _frames(session: Session, layer: str) -> Iterator[gpd.GeoDataFrame]:
    result = session.execute(_QUERIES[layer]().execution_options(yield_per=CHUNK))
    columns = list(result.keys())
    for part in result.partitions():
        frame = pd.DataFrame(part, columns=columns)
        for col in frame.columns:
            if frame[col].map(lambda v: hasattr(v, "value")).any():
                frame[col] = frame[col].map(lambda v: getattr(v, "value", v))
        if "geometry" in frame:
            geometry = frame.pop("geometry").to_numpy()
        else:
            geometry = shapely.points(
                frame["lon_deg"].to_numpy(float), frame["lat_deg"].to_numpy(float)
            )
        yield gpd.GeoDataFrame(frame, geometry=geometry, crs=STORAGE_EPSG)


def export_layer(session: Session, layer: str, fmt: str, out: Path) -> int:
    """Write ``layer`` to ``out`` in ``fmt``; return the number of features written.

    GeoPackage output adds (or replaces) a table named after the layer, so several layers can
    share one file. CSV holds ``lon_deg``/``lat_deg`` for points and WKT for polygons.
    """
    if layer not in EXPORT_LAYERS:
        raise MastplanError(f"unknown layer '{layer}'; use one of {', '.join(EXPORT_LAYERS)}")
    if fmt not in EXPORT_FORMATS:
        raise MastplanError(f"unknown format '{fmt}'; use one of {', '.join(EXPORT_FORMATS)}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt != "gpkg" and out.exists():
        out.unlink()
    count = 0
    for i, frame in enumerate(_frames(session, layer)):
        if fmt == "csv":
            table = pd.DataFrame(frame.drop(columns="geometry"))
            if "lon_deg" not in table:
                table["wkt"] = shapely.to_wkt(frame.geometry.to_numpy(), rounding_precision=7)
            table.to_csv(out, mode="w" if i == 0 else "a", header=i == 0, index=False)
        else:
            extra = {"layer": layer} if fmt == "gpkg" else {}
            if fmt == "kml":
                frame = frame.assign(Name=frame["name_zh"] if "name_zh" in frame else frame["code"])
            pyogrio.write_dataframe(frame, out, driver=_DRIVERS[fmt], append=i > 0, **extra)
        count += len(frame)
    if count == 0:
        empty = gpd.GeoDataFrame({"code": []}, geometry=[], crs=STORAGE_EPSG)
        if fmt == "csv":
            pd.DataFrame({"code": []}).to_csv(out, index=False)
        else:
            extra = {"layer": layer} if fmt == "gpkg" else {}
            pyogrio.write_dataframe(empty, out, driver=_DRIVERS[fmt], **extra)
    return count
