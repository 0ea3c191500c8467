"""多杆合一 runs: the registry's poles over an area in, smart-pole clusters out (what
`mastplan consolidate` does). Reads the registry only; writes nothing to the database."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from mastplan.errors import MastplanError
from mastplan.geo import METRIC_EPSG, STORAGE_EPSG, project, to_metric, to_storage
from mastplan.planning.consolidation import (
    DEFAULT_CORRIDOR_M,
    DEFAULT_LINK_M,
    DEFAULT_MIN_OWNERS,
    MIN_HEIGHT_M,
    MIN_POWER_KW,
    POLE_KINDS,
    Clusters,
    find_clusters,
    summarise,
)
from mastplan.registry.enums import STRUCTURE_KIND_NAMES, StructureKind, StructureStatus
from mastplan.registry.models import Organisation, Structure
from mastplan.registry.queries import Area, area_by_code, in_bbox

__all__ = ["ConsolidationOptions", "kinds_names", "read_poles", "run_consolidation"]

CSV_NAME = "clusters.csv"
GPKG_NAME = "clusters.gpkg"
JSON_NAME = "consolidation.json"
GPKG_LAYER = "clusters"


@dataclass(frozen=True)
class ConsolidationOptions:
    """What `mastplan consolidate` takes besides the area and the output folder."""

    link_m: float = DEFAULT_LINK_M
    corridor_m: float = DEFAULT_CORRIDOR_M
    min_owners: int = DEFAULT_MIN_OWNERS


def kinds_names(label: str) -> tuple[str, str]:
    """A kind combination ("lamp_pole+cctv_pole") in 中文 and English, for people to read."""
    kinds = [k for k in label.split("+") if k]
    zh = "+".join(STRUCTURE_KIND_NAMES[k]["zh"] if k in STRUCTURE_KIND_NAMES else k for k in kinds)
    en = " + ".join(
        STRUCTURE_KIND_NAMES[k]["en"] if k in STRUCTURE_KIND_NAMES else k for k in kinds
    )
    return zh, en


def read_poles(session: Session, area: Area | None) -> pd.DataFrame:
    """In-service poles of the mergeable kinds, inside ``area`` when given, by registry id.

    Columns: ``external_id``, ``kind``, ``owner`` (organisation code), ``owner_zh``,
    ``owner_en``, ``district_code``, ``lon_deg``, ``lat_deg``, ``x_m``, ``y_m`` (EPSG:32648),
    ``height_m``, ``fibre``, ``available_power_kw``, ``synthetic``.
    """
    query = (
        select(
            Structure.external_id,
            Structure.kind,
            Organisation.code,
            Organisation.name_zh,
            Organisation.name_en,
            Structure.district_code,
            Structure.lon_deg,
            Structure.lat_deg,
            Structure.height_m,
            Structure.fibre,
            Structure.available_power_kw,
            Structure.synthetic,
        )
        .join(Organisation, Structure.owner_id == Organisation.id)
        .where(
            Structure.status == StructureStatus.IN_SERVICE,
            Structure.kind.in_([StructureKind(k) for k in POLE_KINDS]),
        )
        .order_by(Structure.id)
    )
    if area is not None:
        query = query.where(in_bbox(session, Structure, area.boundary.bounds))
    columns = [
        "external_id", "kind", "owner", "owner_zh", "owner_en", "district_code",
        "lon_deg", "lat_deg", "height_m", "fibre", "available_power_kw", "synthetic",
    ]  # fmt: skip
    frame = pd.DataFrame(session.execute(query).all(), columns=columns)
    frame["kind"] = frame["kind"].map(lambda v: getattr(v, "value", v)).astype(str)
    x, y = to_metric(frame["lon_deg"].to_numpy(float), frame["lat_deg"].to_numpy(float))
    frame["x_m"], frame["y_m"] = np.asarray(x, float), np.asarray(y, float)
    if area is not None and len(frame):
        area_m = project(area.boundary, STORAGE_EPSG, METRIC_EPSG)
        frame = frame[shapely.contains_xy(area_m, frame["x_m"], frame["y_m"])]
    return frame.reset_index(drop=True)


def run_consolidation(
    session: Session,
    area_code: str | None,
    out_dir: Path,
    options: ConsolidationOptions = ConsolidationOptions(),
) -> dict[str, Any]:
    """Find the 多杆合一 clusters among the registry's poles and write them to ``out_dir``.

    ``area_code`` is a key-area code, a district code (GB/T 2260) or ``phase:YEAR``; ``None``
    takes every pole of the registry. Writes ``clusters.csv`` (one row per cluster),
    ``clusters.gpkg`` (the same as WGS84 points, layer ``clusters``) and ``consolidation.json``;
    returns the summary that ``consolidation.json`` holds.
    """
    area = area_by_code(session, area_code) if area_code is not None else None
    poles = read_poles(session, area)
    try:
        clusters = find_clusters(
            poles["x_m"].to_numpy(float),
            poles["y_m"].to_numpy(float),
            poles["kind"].to_numpy(str),
            poles["owner"].to_numpy(str),
            poles["height_m"].to_numpy(float),
            link_m=options.link_m,
            corridor_m=options.corridor_m,
            min_owners=options.min_owners,
            fibre=poles["fibre"].to_numpy(bool),
            power_kw=poles["available_power_kw"].to_numpy(float),
        )
    except ValueError as exc:
        raise MastplanError(f"cannot look for pole clusters: {exc}") from None
    table = cluster_table(poles, clusters)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_dir / CSV_NAME, index=False, encoding="utf-8")
    _write_gpkg(out_dir / GPKG_NAME, table)
    summary = _summary(area, poles, clusters, options)
    (out_dir / JSON_NAME).write_text(
        json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return summary


def cluster_table(poles: pd.DataFrame, clusters: Clusters) -> pd.DataFrame:
    """One row per cluster: where, which poles and owners, which pole stays, which go."""
    ext = poles["external_id"].to_numpy(object)
    kind = poles["kind"].to_numpy(object)
    owner = poles["owner"].to_numpy(object)
    district = poles["district_code"].to_numpy(object)
    names = poles.drop_duplicates("owner").set_index("owner")[["owner_zh", "owner_en"]]
    name_zh, name_en = names["owner_zh"].to_dict(), names["owner_en"].to_dict()
    kept = clusters.kept
    owners, removed = [], []
    for c in range(len(clusters)):
        m = clusters.members(c)
        owners.append(sorted(set(owner[m])))
        removed.append(";".join(ext[i] for i in m if i != kept[c]))
    labels = [kinds_names(str(k)) for k in clusters.kinds]
    lon, lat = to_storage(clusters.centroid_x_m, clusters.centroid_y_m)
    return pd.DataFrame(
        {
            "cluster": np.arange(len(clusters)),
            "lon_deg": np.round(np.asarray(lon, float), 7),
            "lat_deg": np.round(np.asarray(lat, float), 7),
            "n_poles": clusters.size,
            "n_owners": clusters.n_owners,
            "owners": [";".join(o) for o in owners],
            "owners_zh": [";".join(name_zh[i] for i in o) for o in owners],
            "owners_en": [";".join(name_en[i] for i in o) for o in owners],
            "kinds": clusters.kinds.astype(str),
            "kinds_zh": [zh for zh, _ in labels],
            "kinds_en": [en for _, en in labels],
            "kept_external_id": ext[kept],
            "kept_kind": kind[kept],
            "height_m": clusters.height_m,
            "removed_external_ids": removed,
            "poles_removed": clusters.removed,
            "candidate_5g": clusters.candidate_5g.astype(bool),
            "max_offset_m": np.round(clusters.max_offset_m, 2),
            "district_code": district[kept],
        }
    )


def _write_gpkg(path: Path, table: pd.DataFrame) -> None:
    """The cluster table as WGS84 points in a fresh GeoPackage (layer ``clusters``)."""
    path.unlink(missing_ok=True)
    frame = table.astype({"candidate_5g": bool})
    points = gpd.points_from_xy(frame["lon_deg"], frame["lat_deg"], crs=STORAGE_EPSG)
    pyogrio.write_dataframe(
        gpd.GeoDataFrame(frame, geometry=points), path, layer=GPKG_LAYER, driver="GPKG"
    )


def _summary(
    area: Area | None, poles: pd.DataFrame, clusters: Clusters, options: ConsolidationOptions
) -> dict[str, Any]:
    totals = summarise(clusters, poles["kind"].to_numpy(str))
    for label, row in totals["by_kinds"].items():
        row["name_zh"], row["name_en"] = kinds_names(label)
    for kind, row in totals.get("by_kind", {}).items():
        row["name_zh"], row["name_en"] = kinds_names(kind)
    by_kind = poles["kind"].value_counts()
    return {
        "area": None
        if area is None
        else {
            "kind": area.kind,
            "code": area.code,
            "name_zh": area.name_zh,
            "name_en": area.name_en,
        },
        "options": asdict(options),
        "rules": {
            "kinds": list(POLE_KINDS),
            "kept_pole": "tallest member (ties: first in registry order)",
            "candidate_5g": {
                "min_height_m": MIN_HEIGHT_M,
                "fibre": "some member has fibre",
                "min_power_kw": MIN_POWER_KW,
            },
        },
        "poles": {
            "read": len(poles),
            "synthetic": int(poles["synthetic"].astype(bool).sum()),
            "by_kind": {k: int(by_kind.get(k, 0)) for k in POLE_KINDS},
        },
        **totals,
        "files": sorted([CSV_NAME, GPKG_NAME, JSON_NAME]),
    }
