"""Streaming readers: each yields the file's records in batches with their 1-based row numbers.

CSV (and OpenCelliD's CSV export) through pandas, GeoJSON and GeoPackage through GDAL (pyogrio's
Arrow stream). Point geometries become ``lon_deg``/``lat_deg`` columns in WGS84, reprojected from
the file's CRS when it has another one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer

from mastplan.errors import MastplanError, RowError
from mastplan.geo import STORAGE_EPSG

FORMATS = ("csv", "geojson", "gpkg", "opencellid")
OPENCELLID_COLUMNS = (
    "radio",
    "mcc",
    "net",
    "area",
    "cell",
    "unit",
    "lon",
    "lat",
    "range",
    "samples",
    "changeable",
    "created",
    "updated",
    "averageSignal",
)
_SUFFIXES = {".csv": "csv", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg"}
GEOMETRY_FIELD = "geometry"


@dataclass
class Batch:
    """Some consecutive records of a file."""

    rows: np.ndarray  # 1-based record numbers in the file
    frame: pd.DataFrame  # the records, one column per attribute (+ lon_deg/lat_deg for geodata)
    errors: list[RowError]  # problems found while reading (geometry), by row


def detect_format(path: Path, fmt: str | None) -> str:
    """The format to read ``path`` as: the one given, else from the file name."""
    if fmt:
        if fmt not in FORMATS:
            raise MastplanError(f"unknown format '{fmt}'; use one of {', '.join(FORMATS)}")
        return fmt
    try:
        return _SUFFIXES[path.suffix.lower()]
    except KeyError:
        raise MastplanError(
            f"{path}: cannot tell the format from the name; pass --format ({', '.join(FORMATS)})"
        ) from None


def read_batches(path: Path, fmt: str, batch_size: int = 50_000) -> Iterator[Batch]:
    """Yield ``path``'s records in batches of at most ``batch_size``."""
    if fmt == "csv":
        yield from _read_csv(path, batch_size, header=True, names=None)
    elif fmt == "opencellid":
        with path.open(encoding="utf-8-sig") as fh:
            first = fh.readline()
        has_header = first.lower().startswith("radio")
        names = None if has_header else list(OPENCELLID_COLUMNS)
        yield from _read_csv(path, batch_size, header=has_header, names=names)
    else:
        yield from _read_ogr(path, batch_size)


def _read_csv(
    path: Path, batch_size: int, header: bool, names: list[str] | None
) -> Iterator[Batch]:
    start = 1
    try:
        reader = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            chunksize=batch_size,
            header=0 if header else None,
            names=names,
            skipinitialspace=True,
        )
        for chunk in reader:
            rows = np.arange(start, start + len(chunk), dtype=np.int64)
            start += len(chunk)
            yield Batch(rows, chunk.reset_index(drop=True), [])
    except pd.errors.ParserError as exc:
        raise MastplanError(f"{path}: not a readable CSV file: {exc}") from None
    except UnicodeDecodeError as exc:
        raise MastplanError(f"{path}: not UTF-8 text near byte {exc.start}") from None


def _read_ogr(path: Path, batch_size: int) -> Iterator[Batch]:
    start = 1
    try:
        with pyogrio.open_arrow(path, batch_size=batch_size, use_pyarrow=True) as (meta, reader):
            geom_col = meta.get("geometry_name") or "wkb_geometry"
            transformer = _to_storage(meta.get("crs"), path)
            for record_batch in reader:
                frame = record_batch.to_pandas()
                rows = np.arange(start, start + len(frame), dtype=np.int64)
                start += len(frame)
                wkb = frame.pop(geom_col) if geom_col in frame else None
                errors: list[RowError] = []
                lon, lat = _points(path, rows, wkb, transformer, errors)
                frame["lon_deg"] = lon
                frame["lat_deg"] = lat
                yield Batch(rows, frame, errors)
    except pyogrio.errors.DataSourceError as exc:
        raise MastplanError(f"{path}: cannot be read as geodata: {exc}") from None


def _to_storage(crs_text: str | None, path: Path) -> Transformer | None:
    if not crs_text:
        return None  # GeoJSON without a CRS is WGS84 by definition (RFC 7946)
    crs = CRS.from_user_input(crs_text)
    if crs.equals(CRS.from_epsg(STORAGE_EPSG), ignore_axis_order=True):
        return None  # EPSG:4326 and OGC:CRS84 alike
    try:
        return Transformer.from_crs(crs, STORAGE_EPSG, always_xy=True)
    except Exception as exc:  # pyproj raises several types for unusable CRSs
        raise MastplanError(
            f"{path}: cannot transform its CRS {crs_text} to WGS84: {exc}"
        ) from None


def _points(
    path: Path,
    rows: np.ndarray,
    wkb: pd.Series | None,
    transformer: Transformer | None,
    errors: list[RowError],
) -> tuple[np.ndarray, np.ndarray]:
    n = len(rows)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    if wkb is None:
        errors.extend(RowError(str(path), int(r), GEOMETRY_FIELD, "missing geometry") for r in rows)
        return lon, lat
    geoms = shapely.from_wkb(wkb.to_numpy(dtype=object), on_invalid="ignore")
    type_ids = shapely.get_type_id(geoms)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for i in np.flatnonzero(empty):
        errors.append(
            RowError(str(path), int(rows[i]), GEOMETRY_FIELD, "missing or empty geometry")
        )
    not_point = ~empty & (type_ids != shapely.GeometryType.POINT)
    for i in np.flatnonzero(not_point):
        kind = shapely.get_type_id(geoms[i])
        name = shapely.GeometryType(kind).name.title() if kind >= 0 else "unreadable"
        errors.append(
            RowError(str(path), int(rows[i]), GEOMETRY_FIELD, f"must be a Point (got {name})")
        )
    ok = ~empty & ~not_point
    x = shapely.get_x(geoms[ok])
    y = shapely.get_y(geoms[ok])
    if transformer is not None:
        x, y = transformer.transform(x, y)
    lon[ok] = x
    lat[ok] = y
    return lon, lat
