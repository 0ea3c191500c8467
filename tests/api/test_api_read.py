"""The read endpoints of the registry and of progress on both databases: GeoJSON of districts,
key areas, structures and sites with their filters and cursor pages, organisations, KPIs at a
date, one object's audit (the OpenAPI schema is fuzzed in tests/api/test_api_schema.py)."""

from __future__ import annotations

import datetime as dt

import pytest
import shapely

from mastplan.api.routes.registry import FeatureCollection, SiteProps, StructureProps
from mastplan.sharing.calendar import today

API = "/api/v1"


def features(response) -> list[dict]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "FeatureCollection"
    return body["features"]


def all_pages(client, path: str, **params) -> list[dict]:
    """Every feature of a paged list, following ``next_cursor``."""
    out, cursor = [], None
    while True:
        r = client.get(f"{API}{path}", params={**params, **({"cursor": cursor} if cursor else {})})
        out += features(r)
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return out


# --- districts and key areas --------------------------------------------------------------------


def test_districts_are_a_feature_collection_of_boundaries(bearer):
    feats = features(bearer("xu.viewer").get(f"{API}/districts"))
    assert len(feats) == 38
    yuzhong = next(f for f in feats if f["id"] == "500103")
    assert yuzhong["geometry"]["type"] == "MultiPolygon"
    props = yuzhong["properties"]
    assert props["code"] == "500103" and props["name_zh"] == "渝中区"
    assert props["name_en"] and props["kind"] == "district" and props["group"] == "central_urban"
    assert props["population"] > 0
    assert shapely.geometry.shape(yuzhong["geometry"]).contains(shapely.Point(106.57, 29.557))


def test_key_areas_filter_by_phase_district_category_and_bbox(bearer):
    c = bearer("wang.cmcc")
    every = features(c.get(f"{API}/key-areas"))
    assert len(every) == 125
    phase = features(c.get(f"{API}/key-areas", params={"phase_year": 2019}))
    assert phase and all(f["properties"]["phase_year"] == 2019 for f in phase)
    assert len(phase) < len(every)
    yuzhong = features(c.get(f"{API}/key-areas", params={"district": "500103"}))
    assert yuzhong and all(f["properties"]["district"] == "500103" for f in yuzhong)
    hubs = features(c.get(f"{API}/key-areas", params={"category": "transport_hub"}))
    assert hubs and all(f["properties"]["category"] == "transport_hub" for f in hubs)
    box = (106.55, 29.54, 106.59, 29.57)
    near = features(c.get(f"{API}/key-areas", params={"bbox": ",".join(map(str, box))}))
    window = shapely.box(*box)
    expected = {f["id"] for f in every if shapely.geometry.shape(f["geometry"]).intersects(window)}
    assert near and {f["id"] for f in near} == expected
    both = features(c.get(f"{API}/key-areas", params={"phase_year": 2019, "district": "500103"}))
    assert {f["id"] for f in both} == {f["id"] for f in phase} & {f["id"] for f in yuzhong}


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "106.6,29.5,106.5,29.6", "0,0,0,nan",
                                  "-181,0,0,0", "0,-91,1,1"])  # fmt: skip
def test_a_bad_bbox_is_refused(bearer, bbox):
    c = bearer("wang.cmcc")
    for path in ("/key-areas", "/structures", "/sites"):
        r = c.get(f"{API}{path}", params={"bbox": bbox})
        assert r.status_code == 422, (path, r.text)
        assert "bbox" in r.text


def test_one_key_area_with_its_sources(bearer):
    c = bearer("chen.yuzhong")
    r = c.get(f"{API}/key-areas/2019-jiefangbei-cbd")
    assert r.status_code == 200
    feat = r.json()
    assert feat["type"] == "Feature" and feat["id"] == "2019-jiefangbei-cbd"
    props = feat["properties"]
    assert props["phase_year"] == 2019 and props["category"] == "business_district"
    assert props["location_source"] and 0 < props["target_coverage_fraction"] <= 1
    missing = c.get(f"{API}/key-areas/no-such-area")
    assert missing.status_code == 404 and "no-such-area" in missing.json()["detail"]


# --- structures ---------------------------------------------------------------------------------


def _result(session, code: str, as_of: dt.date, covered: float, continuity: float,
            operator: str | None = None) -> None:  # fmt: skip
    from sqlalchemy import select

    from mastplan.progress.models import CoverageResult
    from mastplan.registry.models import KeyArea

    area = session.scalar(select(KeyArea).where(KeyArea.code == code))
    session.add(CoverageResult(run_id=f"t-{code}-{as_of}-{operator}", key_area_id=area.id,
                               as_of=as_of, covered_fraction=covered,
                               continuity_fraction=continuity, rsrp_threshold_dbm=-105.0,
                               resolution_m=50.0, operator=operator))  # fmt: skip


def test_key_areas_say_where_their_coverage_stands(app, bearer):
    """The latest whole-network result on record against both of the area's targets (the
    key-area KPIs' rule): met, below target, or not assessed without a result."""
    with app.state.sessions() as s:
        _result(s, "2019-jiefangbei-cbd", dt.date(2020, 6, 30), 0.97, 0.95)
        _result(s, "2019-ckg-airport", dt.date(2020, 6, 30), 0.99, 0.99)  # met, then …
        _result(s, "2019-ckg-airport", dt.date(2021, 6, 30), 0.96, 0.80)  # … continuity lost
        _result(s, "2019-ckg-airport", dt.date(2021, 12, 31), 0.99, 0.99, "china-mobile")
        s.commit()
    feats = {f["id"]: f["properties"]
             for f in features(bearer("ma.viewer").get(f"{API}/key-areas"))}  # fmt: skip
    cbd, airport = feats["2019-jiefangbei-cbd"], feats["2019-ckg-airport"]
    assert cbd["coverage_status"] == "met" and cbd["coverage"]["covered_fraction"] == 0.97
    assert cbd["coverage"]["as_of"] == "2020-06-30"
    assert cbd["coverage"]["target_coverage_fraction"] == cbd["target_coverage_fraction"]
    # one operator's result is not the network's: the 2021-06-30 one counts
    assert airport["coverage_status"] == "below_target" and not airport["coverage"]["met"]
    assert airport["coverage"]["continuity_fraction"] == 0.80
    others = [p for code, p in feats.items() if code not in (cbd["code"], airport["code"])]
    assert others and all(p["coverage_status"] == "not_assessed" and p["coverage"] is None
                          for p in others)  # fmt: skip
    one = bearer("ma.viewer").get(f"{API}/key-areas/2019-ckg-airport").json()["properties"]
    assert one["coverage_status"] == "below_target"


def test_structures_in_a_bbox_with_their_capacity(bearer):
    c = bearer("wang.cmcc")
    box = (106.55, 29.55, 106.58, 29.57)
    feats = all_pages(c, "/structures", bbox=",".join(map(str, box)), limit=5000)
    assert feats
    for f in feats:
        lon, lat = f["geometry"]["coordinates"]
        assert f["geometry"]["type"] == "Point"
        assert box[0] <= lon <= box[2] and box[1] <= lat <= box[3]
        p = f["properties"]
        assert set(p) >= {"external_id", "kind", "owner", "height_m", "mount_positions",
                          "free_positions", "max_payload_kg", "available_power_kw", "fibre",
                          "open_for_sharing", "status", "synthetic"}  # fmt: skip
        assert 0 <= p["free_positions"] <= p["mount_positions"]
    t1 = next(f for f in feats if f["id"] == "T1")["properties"]
    # two requests approved on T1 (one position each): one of three positions is left
    assert t1["free_positions"] == 1 and t1["owner"] == "china-tower" and not t1["synthetic"]


def test_structures_filter_by_kind_owner_and_sharing(bearer):
    c = bearer("zhao.tower")
    towers = features(c.get(f"{API}/structures", params={"kind": "telecom_tower", "limit": 200}))
    assert towers and all(f["properties"]["kind"] == "telecom_tower" for f in towers)
    lights = features(c.get(f"{API}/structures",
                            params={"owner": "cq-street-lighting", "limit": 200}))  # fmt: skip
    assert lights and all(f["properties"]["owner"] == "cq-street-lighting" for f in lights)
    for flag in (True, False):
        page = features(c.get(f"{API}/structures",
                              params={"open_for_sharing": flag, "limit": 100}))  # fmt: skip
        assert all(f["properties"]["open_for_sharing"] is flag for f in page)
    assert features(c.get(f"{API}/structures", params={"owner": "nobody"})) == []


def test_structures_page_by_cursor_without_gaps_or_repeats(bearer):
    c = bearer("li.reg")
    bbox = "106.56,29.55,106.58,29.57"
    whole = features(c.get(f"{API}/structures", params={"bbox": bbox, "limit": 5000}))
    assert 120 < len(whole) < 5000
    paged = all_pages(c, "/structures", bbox=bbox, limit=50)
    assert [f["id"] for f in paged] == [f["id"] for f in whole]
    first = c.get(f"{API}/structures", params={"bbox": bbox, "limit": 50}).json()
    assert len(first["features"]) == 50 and isinstance(first["next_cursor"], int)
    # without a bbox a page is at most the limit, and the limit at most 5,000
    assert len(features(c.get(f"{API}/structures"))) == 1000
    assert c.get(f"{API}/structures", params={"limit": 5001}).status_code == 422
    assert c.get(f"{API}/structures", params={"limit": 0}).status_code == 422
    assert c.get(f"{API}/structures", params={"cursor": -1}).status_code == 422


def test_one_structure_with_its_free_positions(bearer):
    c = bearer("li.reg")
    r = c.get(f"{API}/structures/T1")
    assert r.status_code == 200
    feat = r.json()
    assert feat["geometry"] == {"type": "Point", "coordinates": [106.57, 29.557]}
    p = feat["properties"]
    assert p["free_positions"] == 1 and p["free_position_numbers"] == [3]
    assert sorted(t["operator"] for t in p["tenancies"]) == ["china-mobile", "china-unicom"]
    assert sorted(pos for t in p["tenancies"] for pos in t["positions"]) == [1, 2]
    assert all(t["request_id"] for t in p["tenancies"])
    assert c.get(f"{API}/structures/no-such-structure").status_code == 404


# --- sites --------------------------------------------------------------------------------------


def test_sites_filter_by_operator_status_and_bbox(bearer):
    c = bearer("li.reg")
    mine = all_pages(c, "/sites", operator="china-mobile", limit=5000)
    assert mine and all(f["properties"]["operator"] == "china-mobile" for f in mine)
    some = features(c.get(f"{API}/sites", params=[("status", "planned"), ("status", "approved"),
                                                  ("limit", 5000)]))  # fmt: skip
    assert {f["properties"]["status"] for f in some} == {"planned", "approved"}
    box = (106.50, 29.50, 106.60, 29.60)
    inside = features(c.get(f"{API}/sites", params={"bbox": ",".join(map(str, box))}))
    assert inside
    for f in inside:
        lon, lat = f["geometry"]["coordinates"]
        assert box[0] <= lon <= box[2] and box[1] <= lat <= box[3]
    nr = features(c.get(f"{API}/sites", params={"rat": "nr", "district": "500103"}))
    assert all(f["properties"]["rat"] == "nr" and f["properties"]["district"] == "500103"
               for f in nr)  # fmt: skip
    assert c.get(f"{API}/sites", params={"status": "demolished"}).status_code == 422


def test_sites_page_by_cursor(bearer):
    c = bearer("li.reg")
    whole = features(c.get(f"{API}/sites", params={"limit": 5000}))
    paged = all_pages(c, "/sites", limit=97)
    assert len(paged) == len(whole) > 97
    assert [f["id"] for f in paged] == [f["id"] for f in whole]


@pytest.mark.parametrize(
    ("path", "props"), [("/structures", StructureProps), ("/sites", SiteProps)]
)
def test_pages_are_their_published_schema_exactly(bearer, path, props):
    """The pages are encoded straight from the rows (no model per feature): they must still be
    the documented FeatureCollection, field for field, nothing more, nothing less."""
    c = bearer("li.reg")
    for params in ({"limit": 5000}, {"limit": 7}, {"limit": 7, "cursor": 3}):
        r = c.get(f"{API}{path}", params=params)
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        model = FeatureCollection[props].model_validate_json(r.content)
        assert model.features
        assert model.model_dump(mode="json") == r.json()
    assert c.app.openapi()["paths"][f"{API}{path}"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]["$ref"].endswith(f"FeatureCollection_{props.__name__}_")


def test_one_site_with_its_sectors(bearer, world):
    c = bearer("sun.unicom")
    ext = world.sites["unicom_public"]
    r = c.get(f"{API}/sites/{ext}")
    assert r.status_code == 200
    props = r.json()["properties"]
    assert props["external_id"] == ext and props["operator"] == "china-unicom"
    assert props["status"] == "on_air" and props["on_air_on"]
    assert props["sectors"] and [s["sector_number"] for s in props["sectors"]] == sorted(
        s["sector_number"] for s in props["sectors"]
    )
    assert props["structure"] is None or isinstance(props["structure"], str)
    assert c.get(f"{API}/sites/no-such-site").status_code == 404


# --- organisations ------------------------------------------------------------------------------


def test_organisations_with_names_and_kinds(bearer):
    c = bearer("ma.viewer")
    r = c.get(f"{API}/organisations")
    assert r.status_code == 200
    orgs = {o["code"]: o for o in r.json()}
    assert orgs["china-mobile"]["kind"] == "operator" and orgs["china-mobile"]["name_zh"]
    assert orgs["gov-500103"]["district"] == "500103"
    ops = c.get(f"{API}/organisations", params={"kind": "operator"}).json()
    assert {o["code"] for o in ops} == {"china-mobile", "china-unicom", "china-telecom",
                                        "china-broadnet"}  # fmt: skip


# --- KPIs ---------------------------------------------------------------------------------------


def test_kpis_of_the_city_today_by_default(bearer):
    r = bearer("xu.viewer").get(f"{API}/kpis")
    assert r.status_code == 200
    values = r.json()
    assert values and {v["scope"] for v in values} == {"city"}
    assert {v["as_of"] for v in values} == {today().isoformat()}
    base = next(v for v in values if v["kpi"] == "base-stations")
    assert base["names"]["zh"] == "5G基站数" and base["unit"] == "count"
    assert base["target"] == 100000 and base["comparator"] == ">" and base["target_year"] == 2022
    assert base["value"] == base["numerator"] and base["met"] is False


def test_kpis_at_a_date_for_several_scopes(bearer):
    c = bearer("chen.yuzhong")
    params = [("date", "2021-12-31"), ("scope", "city"), ("scope", "500103"),
              ("scope", "phase:2019")]  # fmt: skip
    values = c.get(f"{API}/kpis", params=params).json()
    assert {v["as_of"] for v in values} == {"2021-12-31"}
    by_scope: dict[str, set] = {}
    for v in values:
        by_scope.setdefault(v["scope"], set()).add(v["kpi"])
    assert set(by_scope) == {"city", "500103", "phase:2019"}
    # only the key-area KPI has a phase scope; industry revenue only the city's
    assert by_scope["phase:2019"] == {"key-areas-covered"}
    assert "industry-revenue" in by_scope["city"] - by_scope["500103"]
    phase = next(v for v in values if v["scope"] == "phase:2019")
    assert phase["target"] == 1.0 and phase["target_year"] == 2019
    assert phase["denominator"] == 25  # the 2019 key areas
    city = {v["kpi"]: v for v in values if v["scope"] == "city"}
    earlier = {v["kpi"]: v for v in c.get(f"{API}/kpis", params={"date": "2019-06-30"}).json()}
    assert earlier["base-stations"]["value"] <= city["base-stations"]["value"]


@pytest.mark.parametrize(("params", "status"), [
    ({"scope": "town"}, 422), ({"scope": "phase:19"}, 422), ({"scope": "city\n"}, 422),
    ({"scope": "999999"}, 404), ({"scope": "phase:2030"}, 404), ({"date": "2021-13-01"}, 422),
    ({"date": "0001-01-01"}, 422),
])  # fmt: skip
def test_kpis_refuse_unknown_scopes_and_dates(bearer, params, status):
    r = bearer("li.reg").get(f"{API}/kpis", params=params)
    assert r.status_code == status, r.text


# --- the audit of one object --------------------------------------------------------------------


def test_the_audit_of_a_request_oldest_first_and_paged(bearer, world):
    c = bearer("wang.cmcc")
    rid = world.requests["cmcc"]
    r = c.get(f"{API}/audit", params={"object": f"sharing_requests:{rid}"})
    assert r.status_code == 200
    items = r.json()["items"]
    assert items[0]["action"] == "create"
    states = [e["after"].get("state") for e in items if e["after"]]
    assert states[-1] == "approved" and "submitted" in states and "under_review" in states
    assert [e["id"] for e in items] == sorted(e["id"] for e in items)  # newest last
    assert {e["actor"] for e in items} == {"wang.cmcc", "zhao.tower", "zhou.tower"}
    assert all(dt.datetime.fromisoformat(e["at"]).tzinfo is not None for e in items)
    assert items[0]["after"]["fee_offer"]  # the operator is a party: it sees its fees
    first = c.get(f"{API}/audit", params={"object": f"sharing_requests:{rid}", "limit": 2})
    page = first.json()
    assert len(page["items"]) == 2 and page["next_cursor"] == page["items"][-1]["id"]
    rest = c.get(f"{API}/audit", params={"object": f"sharing_requests:{rid}",
                                         "cursor": page["next_cursor"]}).json()  # fmt: skip
    assert [e["id"] for e in page["items"] + rest["items"]] == [e["id"] for e in items]


def test_the_regulator_reads_the_audit_of_any_object(bearer):
    c = bearer("li.reg")
    r = c.get(f"{API}/audit", params={"object": "users:1"})
    assert r.status_code == 200
    actions = [e["action"] for e in r.json()["items"]]
    assert actions[0] == "create" and "password" in actions
    assert c.get(f"{API}/audit", params={"object": "structures:0"}).json()["items"] == []
    for bad in ("sharing_requests", "1", "Sharing Requests:1", ":1"):
        assert c.get(f"{API}/audit", params={"object": bad}).status_code == 422, bad


# --- tenancies ----------------------------------------------------------------------------------


def test_tenancies_page_filter_and_keep_the_ended_ones(bearer, world):
    reg = bearer("li.reg")
    every = reg.get(f"{API}/tenancies", params={"limit": 1000}).json()
    assert every["next_cursor"] is None
    ids = [t["id"] for t in every["items"]]
    assert ids == sorted(ids, reverse=True) and all(t["status"] == "active" for t in every["items"])
    seen, cursor = [], None
    while True:
        page = reg.get(
            f"{API}/tenancies", params={"limit": 2, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    on_t1 = reg.get(f"{API}/tenancies", params={"structure": "T1"}).json()["items"]
    assert {t["operator"] for t in on_t1} == {"china-mobile", "china-unicom"}
    assert all(t["structure"] == "T1" and len(t["positions"]) == 1 for t in on_t1)
    booked = {t["request_id"]: t for t in on_t1}
    assert set(booked) == {world.requests["cmcc"], world.requests["unicom"]}
    # the regulator ends china-mobile's: gone from the active ones, still there by id
    tid = booked[world.requests["cmcc"]]["id"]
    r = bearer("li.reg", write=True).post(
        f"{API}/sharing/requests/{world.requests['cmcc']}/force-release",
        json={"reason": "mast unsafe"})  # fmt: skip
    assert r.status_code == 200, r.text
    active = reg.get(f"{API}/tenancies", params={"structure": "T1"}).json()["items"]
    assert tid not in {t["id"] for t in active}
    ended = reg.get(f"{API}/tenancies", params={"structure": "T1", "active": False}).json()
    assert tid in {t["id"] for t in ended["items"]}
    one = reg.get(f"{API}/tenancies/{tid}").json()
    assert one["status"] != "active" and one["end_on"] is not None
    assert bearer("wang.cmcc").get(f"{API}/tenancies/{tid}").status_code == 200
    assert bearer("sun.unicom").get(f"{API}/tenancies/{tid}").status_code == 404
    assert reg.get(f"{API}/tenancies/999999").status_code == 404
