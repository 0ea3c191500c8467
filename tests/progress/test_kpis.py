"""KPIs computed from small registries whose answers are worked out by hand from the definitions
in kpis.yaml; on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from mastplan.errors import MastplanError
from mastplan.progress.kpis import KpiData, compute, load_kpis, quarter_ends, snapshot_kpis
from mastplan.progress.models import (
    ApplicationScenario,
    CoverageResult,
    Enterprise,
    KpiSnapshot,
    ReportedFigure,
)
from mastplan.registry.audit import Actor
from mastplan.registry.db import transaction
from mastplan.registry.models import (
    AuditEntry,
    District,
    KeyArea,
    Organisation,
    Site,
    Structure,
    Tenancy,
)
from mastplan.sharing.calendar import CST

D = dt.date
ACTOR = Actor("kpi-test")
_, SPECS = load_kpis()
SPEC = {s.id: s for s in SPECS}


def value(data, kpi, scope, day):
    return compute(data, SPEC[kpi], scope, day)


def square(x: float, y: float, size: float = 0.01) -> shapely.MultiPolygon:
    return shapely.MultiPolygon([shapely.box(x, y, x + size, y + size)])


@pytest.fixture
def registry(session):
    """Two districts, an operator and an owner, four structures, sites, tenancies, key areas
    with coverage results, scenarios, enterprises and reported figures (see each test)."""
    with transaction(session):
        session.add_all([
            District(code="500103", name_zh="甲区", name_en="X", kind="district",
                     group="central_urban", boundary=square(106.5, 29.5), population=20_000),
            District(code="500105", name_zh="乙区", name_en="Y", kind="district",
                     group="central_urban", boundary=square(106.6, 29.5)),
            Organisation(code="op", kind="operator", name_zh="运营商", name_en="Operator"),
            Organisation(code="owner", kind="tower_company", name_zh="铁塔", name_en="Tower"),
        ])  # fmt: skip
        session.flush()
        op, owner = (session.scalar(select(Organisation.id).where(Organisation.code == c))
                     for c in ("op", "owner"))  # fmt: skip

        def structure(key, kind, district):
            return Structure(external_id=key, kind=kind, owner_id=owner, district_code=district,
                             lon_deg=106.505, lat_deg=29.505, height_m=30, mount_positions=4,
                             max_payload_kg=200, available_power_kw=10)  # fmt: skip

        s1 = structure("S1", "telecom_tower", "500103")
        s2 = structure("S2", "telecom_tower", "500105")
        s3 = structure("S3", "lamp_pole", "500103")
        session.add_all([s1, s2, s3])
        session.flush()

        def site(key, rat, status, district, structure_id, on_air=None, retired=None):
            return Site(external_id=key, operator_id=op, structure_id=structure_id,
                        district_code=district, rat=rat, status=status, lon_deg=106.505,
                        lat_deg=29.505, on_air_on=on_air, retired_on=retired)  # fmt: skip

        session.add_all([
            site("L", "lte", "on_air", "500103", s1.id, D(2015, 3, 1)),
            site("A", "nr", "on_air", "500103", s1.id, D(2019, 10, 1)),
            site("B", "nr", "retired", "500103", s3.id, D(2020, 5, 1), D(2021, 1, 1)),
            site("C", "nr", "on_air", "500105", s2.id, D(2020, 7, 1)),
            site("P", "nr", "planned", "500105", None),
            site("U", "nr", "on_air", "500105", None),  # on air, date unknown: from today
        ])  # fmt: skip
        session.add_all([
            Tenancy(structure_id=s1.id, operator_id=op, start_on=D(2019, 1, 1)),
            Tenancy(structure_id=s1.id, operator_id=op, start_on=D(2020, 1, 1),
                    end_on=D(2021, 1, 1), status="released"),
            Tenancy(structure_id=s2.id, operator_id=op, start_on=D(2020, 6, 1)),
        ])  # fmt: skip

        def area(code, year, district, category="business_district"):
            return KeyArea(code=code, name_zh=code, name_en=code, category=category,
                           phase_year=year, district_code=district, boundary=square(106.5, 29.5),
                           location_confidence="high", location_source="test",
                           extent_method="polygon")  # fmt: skip

        k1, k2 = area("K1", 2019, "500103"), area("K2", 2019, "500105")
        k3 = area("K3", 2020, "500103", "district_urban_area")
        session.add_all([k1, k2, k3])
        session.flush()

        def result(k, day, covered, continuity):
            return CoverageResult(run_id="r", key_area_id=k.id, as_of=day,
                                  covered_fraction=covered, continuity_fraction=continuity,
                                  rsrp_threshold_dbm=-105, resolution_m=25)  # fmt: skip

        session.add_all([
            result(k1, D(2019, 11, 1), 0.97, 0.92),
            result(k2, D(2019, 11, 1), 0.96, 0.85),  # continuity below 90 %
            result(k2, D(2020, 3, 1), 0.99, 0.95),
        ])  # fmt: skip
        session.add_all([
            ApplicationScenario(code="sc1", name_zh="一", name_en="one",
                                category="smart-healthcare", district_code="500103",
                                status="in_operation", year=2020, in_operation_on=D(2020, 1, 1)),
            ApplicationScenario(code="sc2", name_zh="二", name_en="two", category="uhd-video",
                                district_code="500105", status="ended", year=2021,
                                in_operation_on=D(2021, 6, 1), ended_on=D(2022, 1, 1)),
            ApplicationScenario(code="sc3", name_zh="三", name_en="three",
                                category="smart-logistics", status="planned", year=2022),
        ])  # fmt: skip
        people = (("e1", True, D(2020, 1, 1)), ("e2", False, D(2019, 1, 1)), ("e3", True, None))
        for code, innovative, registered in people:
            org = Organisation(code=code, kind="enterprise", name_zh=code, name_en=code)
            session.add(org)
            session.flush()
            session.add(Enterprise(organisation_id=org.id, segment="modules", zone="liangjiang",
                                   district_code="500103", innovative=innovative,
                                   registered_on=registered))  # fmt: skip
        session.add_all([
            ReportedFigure(indicator="5g-industry-revenue", year=2020, value=5e10),
            ReportedFigure(indicator="5g-industry-revenue", year=2021, value=8e10),
        ])  # fmt: skip
    return session


def test_base_stations_count_nr_sites_on_air_that_day(registry):
    data = KpiData(registry)
    expected = {D(2019, 9, 30): 0, D(2019, 12, 31): 1, D(2020, 6, 30): 2, D(2020, 12, 31): 3,
                D(2021, 6, 30): 2}  # B retired on 1 Jan 2021  # fmt: skip
    for day, n in expected.items():
        assert value(data, "base-stations", "city", day).value == n
    assert value(data, "base-stations", "500103", D(2020, 12, 31)).value == 2
    today = dt.datetime.now(CST).date()  # the registry's days are Chongqing days
    assert value(data, "base-stations", "city", today).value == 3  # A, C and U (from today)
    v = value(data, "base-stations", "city", D(2020, 12, 31))
    assert v.target.value == 100_000 and v.target.comparator == ">" and v.met is False


def test_base_stations_per_10k_need_the_population(registry):
    data = KpiData(registry)
    v = value(data, "base-stations-per-10k", "500103", D(2020, 12, 31))
    assert v.value == pytest.approx(2 / 20_000 * 10_000)
    assert value(data, "base-stations-per-10k", "500105", D(2020, 12, 31)).value is None


def test_key_areas_follow_their_latest_coverage_result(registry):
    data = KpiData(registry)
    v = value(data, "key-areas-covered", "phase:2019", D(2019, 12, 31))
    assert (v.value, v.numerator, v.denominator) == (0.5, 1, 2)
    assert v.detail["covered"] == ["K1"] and v.detail["not_covered"] == ["K2"]
    assert v.target.year == 2019 and v.met is False
    v = value(data, "key-areas-covered", "phase:2019", D(2020, 6, 30))
    assert v.value == 1.0 and v.met is True
    v = value(data, "key-areas-covered", "city", D(2020, 6, 30))
    assert (v.numerator, v.denominator) == (2, 3) and v.detail["no_result"] == ["K3"]
    assert value(data, "key-areas-covered", "phase:2019", D(2019, 10, 31)).value == 0.0
    v = value(data, "district-urban-areas-covered", "500103", D(2020, 12, 31))
    assert (v.value, v.denominator) == (0.0, 1)
    assert value(data, "district-urban-areas-covered", "500105", D(2020, 12, 31)).value is None


def test_sites_on_existing_or_social_structures(registry):
    # A: on tower S1, which carried the LTE site L since 2015 (existing); B: lamp pole (social);
    # C: new tower S2 with nothing before it (neither)
    v = value(KpiData(registry), "sites-on-shared-or-social-structures", "city", D(2020, 12, 31))
    assert (v.numerator, v.denominator) == (2, 3)
    assert v.detail == {"social": 1, "existing_tower": 1}


def test_tenants_per_structure_counts_tenancies_in_force(registry):
    data = KpiData(registry)
    for day, expected in ((D(2019, 6, 30), 1.0), (D(2020, 6, 30), 1.5), (D(2021, 6, 30), 1.0)):
        assert value(data, "tenants-per-structure", "city", day).value == expected


def test_scenarios_enterprises_and_reported_revenue(registry):
    data = KpiData(registry)
    assert value(data, "application-scenarios", "city", D(2021, 12, 31)).value == 2
    assert value(data, "application-scenarios", "city", D(2022, 6, 30)).value == 1
    assert value(data, "application-scenarios", "500105", D(2021, 12, 31)).value == 1
    assert value(data, "innovative-enterprises", "city", D(2019, 12, 31)).value == 0
    assert value(data, "innovative-enterprises", "city", D(2020, 1, 1)).value == 1
    v = value(data, "industry-revenue", "city", D(2021, 6, 30))
    assert v.value == 8e10 and v.detail["year"] == 2021 and v.met is False
    assert value(data, "industry-revenue", "city", D(2019, 12, 31)).value is None


def test_requests_and_cases_are_read_from_their_history(registry):
    from mastplan.registry.users import add_user
    from mastplan.sharing.policy import FeeItem
    from mastplan.sharing.requests import RequestSpec, act, file_request

    s = registry
    s.add(Organisation(code="cq-cac", kind="government_unit", name_zh="通信管理局",
                       name_en="CAC"))  # fmt: skip
    s.commit()
    add_user(s, ACTOR, "op.user", "op", "operator")
    add_user(s, ACTOR, "owner.user", "owner", "owner")
    first = file_request(s, "op.user", RequestSpec("S1", position_count=1), submit=True)
    second = file_request(s, "op.user", RequestSpec("S2", position_count=1,
                          fee_offer=(FeeItem("entry_fee", 100.0),)), submit=True)  # fmt: skip
    act(s, "owner.user", second.id, "review")
    with pytest.raises(MastplanError):
        act(s, "owner.user", second.id, "approve")  # refused: a fee case opens
    act(s, "owner.user", first.id, "review")
    act(s, "owner.user", first.id, "approve")
    data = KpiData(s)
    today = dt.datetime.now(CST).date()
    yesterday = today - dt.timedelta(days=1)
    assert value(data, "open-sharing-requests", "city", today).value == 1  # the second
    assert value(data, "open-sharing-requests", "500105", today).value == 1
    assert value(data, "open-sharing-requests", "500103", today).value == 0
    assert value(data, "open-sharing-requests", "city", yesterday).value == 0
    v = value(data, "open-cases", "city", today)
    assert v.value == 1 and v.detail["by_kind"] == {"fee_complaint": 1}


def test_scopes_are_checked(registry):
    data = KpiData(registry)
    with pytest.raises(MastplanError, match="no phase scope"):
        value(data, "base-stations", "phase:2019", D(2020, 1, 1))
    with pytest.raises(MastplanError, match="unknown KPI scope"):
        value(data, "base-stations", "chongqing", D(2020, 1, 1))


def test_a_snapshot_keeps_every_value_of_a_day_once(registry):
    rows = snapshot_kpis(registry, ACTOR, D(2020, 12, 31))
    again = snapshot_kpis(registry, ACTOR, D(2020, 12, 31))
    stored = registry.scalar(select(func.count(KpiSnapshot.id)))
    assert stored == len(rows) == len(again)
    kept = registry.scalar(select(KpiSnapshot).where(
        KpiSnapshot.kpi == "base-stations", KpiSnapshot.scope == "city"))  # fmt: skip
    assert kept.value == 3 and kept.target == 100_000 and kept.met is False
    assert registry.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == "snapshot")) == 2  # fmt: skip


def test_quarter_ends_close_with_the_day_asked():
    assert quarter_ends(D(2019, 6, 30), D(2020, 2, 1)) == [
        D(2019, 6, 30), D(2019, 9, 30), D(2019, 12, 31), D(2020, 2, 1)]  # fmt: skip


@settings(max_examples=30, deadline=None)
@given(st.lists(st.dates(D(2019, 6, 1), D(2022, 12, 31)), min_size=1, max_size=12),
       st.dates(D(2019, 1, 1), D(2023, 6, 30)))  # fmt: skip
def test_base_stations_equal_the_sites_on_air_by_then(on_air, day):
    # the measure on frames against the definition counted directly
    import pandas as pd

    from mastplan.progress.kpis import base_stations

    data = KpiData.__new__(KpiData)
    data.sites = pd.DataFrame({"id": range(len(on_air)), "rat": "nr", "district_code": "500103",
                               "structure_id": None, "since": pd.to_datetime(on_air),
                               "retired_on": pd.NaT})  # fmt: skip
    n, *_ = base_stations(data, "city", pd.Timestamp(day))
    assert n == sum(d <= day for d in on_air)


def test_the_kpi_commands(registry, db_url):
    import json

    from typer.testing import CliRunner

    from mastplan.cli import app

    run = CliRunner(env={"COLUMNS": "200"}).invoke
    out = run(app, ["kpi", "show", "--date", "2020-12-31", "--scope", "city", "--scope",
                    "phase:2019", "--json", "--database", db_url])  # fmt: skip
    assert out.exit_code == 0, out.output
    got = {(r["kpi"], r["scope"]): r for r in json.loads(out.output)}
    assert got["base-stations", "city"]["value"] == 3
    assert got["key-areas-covered", "phase:2019"]["value"] == 1.0
    assert ("base-stations", "phase:2019") not in got  # no phase scope
    out = run(app, ["kpi", "series", "tenants-per-structure", "--from", "2019-06-30", "--date",
                    "2021-06-30", "--database", db_url])  # fmt: skip
    assert out.exit_code == 0 and "2020-06-30" in out.output and "1.50" in out.output
    out = run(app, ["kpi", "snapshot", "--date", "2020-12-31", "--database", db_url])
    assert out.exit_code == 0 and "KPI values of 2020-12-31" in out.output
    out = run(app, ["status", "--json", "--database", db_url])
    assert out.exit_code == 0
    assert {k["kpi"] for k in json.loads(out.output)["kpis"]} == set(SPEC)
    out = run(app, ["kpi", "series", "no-such-kpi", "--database", db_url])
    assert out.exit_code == 1 and "no KPI 'no-such-kpi'" in out.output
