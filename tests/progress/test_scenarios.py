"""Application scenarios: imports from CSV and Excel are all or nothing and name file, row and
field; they upsert by code; the demo data is marked and loads idempotently; the commands work."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from mastplan.cli import app
from mastplan.errors import ImportValidationError, MastplanError, NotFoundError
from mastplan.progress.demo import DEMO_SOURCE, demo_data, load_demo_progress
from mastplan.progress.enterprises import upsert_enterprise
from mastplan.progress.enums import ScenarioCategory, ScenarioStatus
from mastplan.progress.models import (
    ApplicationScenario,
    Enterprise,
    EnterpriseRevenue,
    ReportedFigure,
    ScenarioEnterprise,
)
from mastplan.progress.registry_import import import_scenarios, read_table
from mastplan.progress.registry_rules import ProgressLookups, prepare_scenarios
from mastplan.progress.scenarios import (
    count_in_operation,
    get_scenario,
    link_enterprises,
    list_scenarios,
    upsert_scenario,
)
from mastplan.registry.db import make_engine, session_factory
from mastplan.registry.enums import OrgKind
from mastplan.registry.fields import RowErrors
from mastplan.registry.models import AuditEntry, Organisation

# WGS84 points inside 渝中区 (500103), 渝北区 (500112) and 万州区 (500101).
YUZHONG = (106.5709, 29.5608)
YUBEI = (106.6310, 29.7180)
WANZHOU = (108.4080, 30.8070)


def scenario_rows(n: int = 3, prefix: str = "t-scn") -> list[dict]:
    """``n`` good scenario records, as a person would type them into a file."""
    places = [("500103", YUZHONG), ("500112", YUBEI), ("500101", WANZHOU)]
    categories = ["smart-healthcare", "industrial-internet", "disaster-prevention"]
    rows = []
    for i in range(n):
        code, (lon, lat) = places[i % 3]
        rows.append(
            {
                "code": f"{prefix}-{i}",
                "name_zh": f"测试场景{i}",
                "name_en": f"Test scenario {i}",
                "category": categories[i % 3],
                "status": "in_operation" if i % 2 == 0 else "building",
                "year": 2020 + i % 3,
                "district_code": code,
                "lon_deg": lon,
                "lat_deg": lat,
                "in_operation_on": f"{2020 + i % 3}-06-0{1 + i % 9}" if i % 2 == 0 else "",
                "enterprises": "t-ent-1;t-ent-2" if i == 0 else "t-ent-1",
                "source": "test file",
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict], header: list[str] | None = None) -> Path:
    header = header or list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, header)
        w.writeheader()
        w.writerows(rows)
    return path


def write_xlsx(path: Path, sheets: dict[str, list[dict]]) -> Path:
    with pd.ExcelWriter(path, engine="openpyxl") as book:
        for name, rows in sheets.items():
            pd.DataFrame(rows).to_excel(book, sheet_name=name, index=False)
    return path


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def counts(session) -> tuple[int, ...]:
    models = (ApplicationScenario, ScenarioEnterprise, Enterprise, Organisation, AuditEntry)
    return tuple(count(session, m) for m in models)


@pytest.fixture
def s(loaded_session, actor):
    """A loaded database with two test enterprises to link scenarios to."""
    for i in (1, 2):
        upsert_enterprise(
            loaded_session,
            actor,
            code=f"t-ent-{i}",
            name_zh=f"测试企业{i}",
            name_en=f"Test enterprise {i}",
            segment="applications",
            zone="liangjiang",
            district_code="500112",
        )
    return loaded_session


def links(session, code: str) -> list[str]:
    return sorted(e.organisation.code for e in get_scenario(session, code).enterprises)


# --- imports ------------------------------------------------------------------------------------


def test_csv_import_round_trip(s, actor, tmp_path):
    before = counts(s)
    path = write_csv(tmp_path / "scenarios.csv", scenario_rows(3))
    result = import_scenarios(s, actor, path)
    assert (result.rows, result.inserted, result.updated, result.format) == (3, 3, 0, "csv")
    assert count(s, ApplicationScenario) == before[0] + 3
    first = get_scenario(s, "t-scn-0")
    assert first.category is ScenarioCategory.SMART_HEALTHCARE
    assert first.status is ScenarioStatus.IN_OPERATION
    assert (first.district_code, first.year, first.in_operation_on) == (
        "500103",
        2020,
        dt.date(2020, 6, 1),
    )
    assert (first.lon_deg, first.lat_deg) == YUZHONG and first.source == "test file"
    assert first.demo is False and first.ended_on is None and first.version == 1
    assert links(s, "t-scn-0") == ["t-ent-1", "t-ent-2"] and links(s, "t-scn-1") == ["t-ent-1"]
    assert get_scenario(s, "t-scn-1").in_operation_on is None
    # one import entry with the file's hash, and one entry per object and link written
    imports = s.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "import", AuditEntry.entity == "application_scenarios"
        )
    )
    (entry,) = imports.all()
    assert entry.actor == "tester" and entry.after["inserted"] == 3
    assert len(entry.after["sha256"]) == 64 and entry.after["file"] == str(path)
    created = s.scalar(
        select(func.count()).where(
            AuditEntry.action == "create",
            AuditEntry.entity == "application_scenarios",
            AuditEntry.request_id == entry.request_id,  # this import's writes, not the loader's
        )
    )
    assert created == 3
    assert count(s, AuditEntry) == before[4] + 1 + 3 + 4  # import, scenarios, links


def test_xlsx_import_round_trip(s, actor, tmp_path):
    rows = scenario_rows(3)
    # a workbook holds real numbers and date cells, not text
    for r in rows:
        r["in_operation_on"] = (
            dt.date.fromisoformat(r["in_operation_on"]) if r["in_operation_on"] else None
        )
        r["district_code"] = int(r["district_code"])
    path = write_xlsx(tmp_path / "book.xlsx", {"notes": [{"a": 1}], "Scenarios": rows})
    result = import_scenarios(s, actor, path)
    assert (result.rows, result.inserted, result.format) == (3, 3, "xlsx")
    first = get_scenario(s, "t-scn-0")
    assert first.in_operation_on == dt.date(2020, 6, 1) and first.district_code == "500103"
    assert first.year == 2020 and (first.lon_deg, first.lat_deg) == YUZHONG
    assert links(s, "t-scn-0") == ["t-ent-1", "t-ent-2"]


def test_xlsx_without_a_scenarios_sheet_reads_the_first(s, actor, tmp_path):
    path = write_xlsx(tmp_path / "one.xlsx", {"Sheet1": scenario_rows(2)})
    assert import_scenarios(s, actor, path).inserted == 2


def test_reimport_updates_in_place(s, actor, tmp_path):
    rows = scenario_rows(3)
    import_scenarios(s, actor, write_csv(tmp_path / "a.csv", rows))
    rows[1].update(
        status="in_operation",
        in_operation_on="2021-09-30",
        name_en="Renamed",
        enterprises="t-ent-2",
    )
    result = import_scenarios(s, actor, write_csv(tmp_path / "b.csv", rows))
    assert (result.inserted, result.updated) == (0, 3)
    obj = get_scenario(s, "t-scn-1")
    assert obj.status is ScenarioStatus.IN_OPERATION and obj.name_en == "Renamed"
    assert obj.in_operation_on == dt.date(2021, 9, 30) and obj.version == 2
    assert links(s, "t-scn-1") == ["t-ent-2"]  # the cell is the whole list
    assert get_scenario(s, "t-scn-2").version == 1  # unchanged rows are left alone
    # without an enterprises column the links stay as they are
    no_links = [{k: v for k, v in r.items() if k != "enterprises"} for r in rows]
    import_scenarios(s, actor, write_csv(tmp_path / "c.csv", no_links))
    assert links(s, "t-scn-0") == ["t-ent-1", "t-ent-2"]


BAD_ROWS = [
    ({"category": "smart-nothing"}, "category"),
    ({"status": "finished"}, "status"),
    ({"year": "2040"}, "year"),
    ({"year": "twenty"}, "year"),
    ({"year": "2020.5"}, "year"),
    ({"district_code": "599999"}, "district_code"),
    ({"lon_deg": "104.06"}, "lon_deg"),  # Chengdu: outside the Chongqing-ish bounds
    ({"lat_deg": "35"}, "lat_deg"),
    ({"lon_deg": ""}, "lon_deg/lat_deg"),
    ({"status": "in_operation", "in_operation_on": ""}, "in_operation_on"),
    ({"status": "planned", "in_operation_on": "2020-01-01"}, "in_operation_on"),
    ({"in_operation_on": "2020-13-40"}, "in_operation_on"),
    ({"status": "ended", "in_operation_on": "2020-01-01"}, "ended_on"),
    ({"status": "ended", "in_operation_on": "2020-01-01", "ended_on": "2019-01-01"}, "ended_on"),
    ({"ended_on": "2023-01-01"}, "ended_on"),  # only an ended scenario has one
    ({"enterprises": "t-ent-1;nobody"}, "enterprises"),
    ({"enterprises": "china-mobile"}, "enterprises"),  # an operator, not an enterprise
    ({"name_zh": ""}, "name_zh"),
    ({"name_en": "x" * 201}, "name_en"),
    ({"code": "t scn"}, "code"),
    ({"code": "t-scn-0"}, "code"),  # repeats row 1
    ({"demo": "maybe"}, "demo"),
]


@pytest.mark.parametrize(("change", "field"), BAD_ROWS)
def test_one_bad_row_refuses_the_whole_file(s, actor, tmp_path, change, field):
    before = counts(s)
    rows = scenario_rows(4)
    for r in rows:
        r.setdefault("ended_on", "")
        r.setdefault("demo", "")
    rows[2].update(change)
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(ImportValidationError) as info:
        import_scenarios(s, actor, path)
    errors = info.value.errors
    assert [(e.file, e.row, e.field) for e in errors] == [(str(path), 3, field)]
    assert "nothing written" in str(info.value)
    assert counts(s) == before


def test_every_bad_row_is_reported_and_xlsx_names_its_sheet(s, actor, tmp_path):
    before = counts(s)
    rows = scenario_rows(5)
    rows[0]["category"] = "nope"
    rows[3]["year"] = "1999"
    rows[4]["lat_deg"] = "40"
    path = write_xlsx(tmp_path / "bad.xlsx", {"scenarios": rows})
    with pytest.raises(ImportValidationError) as info:
        import_scenarios(s, actor, path)
    found = [(e.file, e.row, e.field) for e in info.value.errors]
    label = f"{path}[scenarios]"
    assert found == [(label, 1, "category"), (label, 4, "year"), (label, 5, "lat_deg")]
    assert info.value.total_errors == 3 and counts(s) == before


def test_missing_column_is_named(s, actor, tmp_path):
    rows = [{k: v for k, v in r.items() if k != "category"} for r in scenario_rows(2)]
    with pytest.raises(ImportValidationError) as info:
        import_scenarios(s, actor, write_csv(tmp_path / "c.csv", rows))
    assert (info.value.errors[0].field, info.value.errors[0].row) == ("category", 1)
    assert "missing" in info.value.errors[0].message


def test_dry_run_counts_but_writes_nothing(s, actor, tmp_path):
    before = counts(s)
    path = write_csv(tmp_path / "a.csv", scenario_rows(3))
    result = import_scenarios(s, actor, path, dry_run=True)
    assert (result.rows, result.inserted, result.updated, result.dry_run) == (3, 3, 0, True)
    assert counts(s) == before
    with pytest.raises(NotFoundError, match="no scenario 't-scn-0'"):
        get_scenario(s, "t-scn-0")


def test_unreadable_files_are_one_line_errors(s, actor, tmp_path):
    with pytest.raises(MastplanError, match="no such file"):
        import_scenarios(s, actor, tmp_path / "missing.csv")
    (tmp_path / "a.txt").write_text("code\n")
    with pytest.raises(MastplanError, match=r"\.csv or an \.xlsx"):
        import_scenarios(s, actor, tmp_path / "a.txt")
    (tmp_path / "bad.xlsx").write_text("not a workbook")
    with pytest.raises(MastplanError, match=r"not a readable \.xlsx"):
        import_scenarios(s, actor, tmp_path / "bad.xlsx")


def test_scenarios_may_name_enterprises_of_the_same_import(s, actor, tmp_path):
    ents = [
        {
            "code": "t-new-ent",
            "name_zh": "测试新企业",
            "name_en": "Test new enterprise",
            "segment": "software",
            "zone": "high_tech_zone",
            "revenue_2021_yuan": 5e7,
        }
    ]
    rows = scenario_rows(1)
    rows[0]["enterprises"] = "t-new-ent;t-ent-1"
    book = write_xlsx(tmp_path / "both.xlsx", {"enterprises": ents, "scenarios": rows})
    # without the enterprises the reference is unknown …
    with pytest.raises(ImportValidationError) as info:
        import_scenarios(s, actor, book)
    assert info.value.errors[0].field == "enterprises" and "t-new-ent" in str(info.value)
    # … with them (the same workbook's other sheet) both are written in one transaction
    result = import_scenarios(s, actor, book, enterprises=book)
    assert result.inserted == 1 and links(s, "t-scn-0") == ["t-ent-1", "t-new-ent"]
    # and a bad scenario refuses the enterprises too
    before = counts(s)
    ents[0]["code"] = "t-newer-ent"
    rows[0].update(code="t-scn-9", category="bogus", enterprises="t-newer-ent")
    book = write_xlsx(tmp_path / "both2.xlsx", {"enterprises": ents, "scenarios": rows})
    with pytest.raises(ImportValidationError):
        import_scenarios(s, actor, book, enterprises=book)
    assert counts(s) == before


# --- services -----------------------------------------------------------------------------------


def test_upsert_get_and_list(s, actor):
    obj = upsert_scenario(
        s,
        actor,
        code="t-svc-1",
        name_zh="服务场景",
        name_en="Service scenario",
        category="uhd-video",
        status="in_operation",
        year=2021,
        district_code="500112",
        lon_deg=YUBEI[0],
        lat_deg=YUBEI[1],
        in_operation_on=dt.date(2021, 3, 1),
        enterprises=["t-ent-2"],
    )
    assert obj.id and links(s, "t-svc-1") == ["t-ent-2"]
    upsert_scenario(
        s,
        actor,
        code="t-svc-1",
        name_zh="服务场景",
        name_en="Service scenario",
        category="uhd-video",
        status="ended",
        year=2021,
        district_code="500112",
        in_operation_on=dt.date(2021, 3, 1),
        ended_on=dt.date(2022, 1, 1),
    )
    again = get_scenario(s, "t-svc-1")
    assert again.id == obj.id and again.status is ScenarioStatus.ENDED and again.lon_deg is None
    assert links(s, "t-svc-1") == ["t-ent-2"]  # enterprises=None leaves them
    upsert_scenario(
        s,
        actor,
        code="t-svc-2",
        name_zh="规划场景",
        name_en="Planned scenario",
        category="smart-agriculture",
        status="planned",
        year=2022,
    )

    def mine(**filters) -> list[str]:
        return [x.code for x in list_scenarios(s, **filters) if x.code.startswith("t-svc")]

    assert mine() == ["t-svc-1", "t-svc-2"]
    assert mine(category="uhd-video") == ["t-svc-1"]
    assert mine(status="PLANNED") == ["t-svc-2"]
    assert mine(district="500112") == ["t-svc-1"]
    assert mine(year=2022) == ["t-svc-2"] and mine(year=2019) == []
    assert mine(demo=True) == []
    with pytest.raises(MastplanError, match="unknown category 'farm'"):
        list_scenarios(s, category="farm")
    with pytest.raises(NotFoundError, match="no scenario 'nope'"):
        get_scenario(s, "nope")


def test_service_applies_the_import_rules(s, actor):
    before = counts(s)
    with pytest.raises(ImportValidationError) as info:
        upsert_scenario(
            s,
            actor,
            code="t-svc-3",
            name_zh="坏",
            name_en="Bad",
            category="uhd-video",
            status="in_operation",
            year=2021,
        )
    assert (info.value.errors[0].file, info.value.errors[0].field) == ("<input>", "in_operation_on")
    with pytest.raises(ImportValidationError, match="field 'enterprises'"):
        upsert_scenario(
            s,
            actor,
            code="t-svc-3",
            name_zh="坏",
            name_en="Bad",
            category="uhd-video",
            status="planned",
            year=2021,
            enterprises=["no-such-ent"],
        )
    assert counts(s) == before


def test_link_enterprises_adds_or_replaces_with_audit(s, actor):
    upsert_scenario(
        s,
        actor,
        code="t-lnk",
        name_zh="链接",
        name_en="Links",
        category="smart-logistics",
        status="building",
        year=2022,
    )
    mark = s.scalar(select(func.max(AuditEntry.id)))
    link_enterprises(s, actor, "t-lnk", ["t-ent-1"])
    link_enterprises(s, actor, "t-lnk", ["t-ent-2", "t-ent-1"])
    assert links(s, "t-lnk") == ["t-ent-1", "t-ent-2"]
    link_enterprises(s, actor, "t-lnk", ["t-ent-2"], replace=True)
    assert links(s, "t-lnk") == ["t-ent-2"]
    actions = s.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity == "scenario_enterprises", AuditEntry.id > mark)
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["create", "create", "delete"]
    with pytest.raises(NotFoundError, match="no enterprise 'ghost'"):
        link_enterprises(s, actor, "t-lnk", ["ghost"])
    with pytest.raises(NotFoundError, match="no scenario 'ghost'"):
        link_enterprises(s, actor, "ghost", ["t-ent-1"])


def test_count_in_operation_follows_the_dates(s, actor):
    base = count_in_operation(s, dt.date(2030, 1, 1), demo=False)
    common = {"name_zh": "时序", "name_en": "Series", "category": "smart-education", "year": 2020}
    upsert_scenario(
        s,
        actor,
        code="t-ts-1",
        status="in_operation",
        in_operation_on=dt.date(2020, 5, 1),
        **common,
    )
    upsert_scenario(
        s,
        actor,
        code="t-ts-2",
        status="ended",
        in_operation_on=dt.date(2020, 1, 1),
        ended_on=dt.date(2021, 1, 1),
        **common,
    )
    upsert_scenario(s, actor, code="t-ts-3", status="building", **common)

    def on(day: dt.date) -> int:
        return count_in_operation(s, day, demo=False)

    assert on(dt.date(2020, 3, 1)) - on(dt.date(2019, 12, 31)) == 1
    assert on(dt.date(2020, 6, 1)) - on(dt.date(2020, 3, 1)) == 1
    assert on(dt.date(2021, 1, 1)) - on(dt.date(2020, 12, 31)) == -1
    assert on(dt.date(2030, 1, 1)) == base + 1


# --- demo data ----------------------------------------------------------------------------------


def test_demo_data_is_marked_and_loads_idempotently(loaded_session, actor):
    s = loaded_session
    data = demo_data()
    models = (
        ApplicationScenario,
        ScenarioEnterprise,
        Enterprise,
        EnterpriseRevenue,
        Organisation,
        ReportedFigure,
    )
    load_demo_progress(s, actor)
    after_first = [count(s, m) for m in models]
    mark = s.scalar(select(func.max(AuditEntry.id)))
    summary = load_demo_progress(s, actor)
    # the second load writes nothing but its own "load" entry
    assert [count(s, m) for m in models] == after_first
    new = s.execute(select(AuditEntry.action, AuditEntry.entity).where(AuditEntry.id > mark)).all()
    assert new == [("load", "dataset")]
    assert summary == {
        "enterprises": 30,
        "enterprise_revenues": sum(len(e["revenue_yuan"]) for e in data["enterprises"]),
        "scenarios": 40,
        "scenario_links": sum(len(x["enterprises"]) for x in data["scenarios"]),
        "reported_figures": 4,
    }

    scenarios = list_scenarios(s, demo=True)
    assert len(scenarios) == 40 and {x.code for x in scenarios} == {
        x["code"] for x in data["scenarios"]
    }
    for x in scenarios:
        assert x.name_zh.startswith("示例") and x.name_en.startswith("Demo ")
        assert x.source == DEMO_SOURCE and x.enterprises
    assert {x.category for x in scenarios} == set(ScenarioCategory)
    assert {x.status for x in scenarios} >= {
        ScenarioStatus.PLANNED,
        ScenarioStatus.BUILDING,
        ScenarioStatus.IN_OPERATION,
    }
    assert len({x.district_code for x in scenarios}) >= 5
    assert {x.year for x in scenarios} == {2019, 2020, 2021, 2022}
    series = [count_in_operation(s, dt.date(y, 12, 31), demo=True) for y in range(2019, 2023)]
    assert series == sorted(series) and series[0] < series[-1] and series[0] > 0

    demo_orgs = s.scalars(select(Organisation).where(Organisation.code.like("demo-%"))).all()
    assert len(demo_orgs) == 30
    assert all(o.kind is OrgKind.ENTERPRISE and o.synthetic for o in demo_orgs)
    enterprises = s.scalars(select(Enterprise).where(Enterprise.demo.is_(True))).all()
    assert len(enterprises) == 30 and all(e.source == DEMO_SOURCE for e in enterprises)
    figures = s.scalars(
        select(ReportedFigure).where(ReportedFigure.indicator == "5g-industry-revenue")
    ).all()
    demo_figures = [f for f in figures if f.demo]
    assert sorted(f.year for f in demo_figures) == [2019, 2020, 2021, 2022]
    values = [f.value for f in sorted(demo_figures, key=lambda f: f.year)]
    assert values == sorted(values) and values[-1] < 1e11
    assert all(f.source == DEMO_SOURCE and f.scope == "city" for f in demo_figures)


# --- the command line ---------------------------------------------------------------------------


def run(db, *args):
    # a wide terminal: the tables fold cells in a narrow one, and the test reads whole words
    env = {"COLUMNS": "250", "MASTPLAN_USER": "cli-tester"}
    result = CliRunner(env=env).invoke(app, [*args, "--database", db])
    return result.exit_code, result.output


@pytest.fixture
def db(loaded_url):
    engine = make_engine(loaded_url)
    with session_factory(engine)() as session:
        from mastplan.registry.audit import Actor

        for i in (1, 2):
            upsert_enterprise(
                session,
                Actor("setup"),
                code=f"t-ent-{i}",
                name_zh=f"测试企业{i}",
                name_en=f"Test enterprise {i}",
                segment="applications",
                zone="liangjiang",
            )
    engine.dispose()
    return loaded_url


def test_scenario_commands(db, tmp_path):
    path = write_csv(tmp_path / "s.csv", scenario_rows(3))
    code, out = run(db, "scenario", "import", str(path), "--dry-run")
    assert code == 0 and "would import 3 scenarios" in out and "3 new" in out
    assert "nothing written" in out
    code, out = run(db, "scenario", "list", "--category", "smart-healthcare", "--no-demo")
    assert code == 0 and "0 个应用场景" in out
    code, out = run(db, "scenario", "import", str(path), "--reason", "first batch")
    assert (code, out.strip()) == (0, f"imported 3 scenarios from {path}: 3 new, 0 updated")
    code, out = run(db, "scenario", "list", "--category", "smart-healthcare", "--no-demo")
    assert code == 0 and "1 个应用场景 / application scenario(s)" in out
    assert "t-scn-0" in out and "测试场景0" in out and "500103 渝中区" in out
    assert "类别 / category" in out and "t-ent-2" in out
    code, out = run(db, "scenario", "list", "--status", "building", "--year", "2021", "--no-demo")
    assert code == 0 and "t-scn-1" in out and "t-scn-0" not in out
    code, out = run(db, "scenario", "list", "--district", "500101", "--no-demo")
    assert code == 0 and "t-scn-2" in out and "t-scn-1" not in out
    engine = make_engine(db)
    with session_factory(engine)() as session:
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "import", AuditEntry.entity == "application_scenarios"
            )
        ).one()
        assert (entry.actor, entry.reason) == ("cli-tester", "first batch")
    engine.dispose()


def test_scenario_import_errors_exit_non_zero(db, tmp_path):
    rows = scenario_rows(2)
    rows[1]["category"] = "smart-nothing"
    path = write_csv(tmp_path / "bad.csv", rows)
    code, out = run(db, "scenario", "import", str(path))
    assert code == 1
    last = out.strip().splitlines()[-1]
    assert last.startswith("error: import refused, nothing written:")
    assert f"{path}: row 2: field 'category'" in out.replace("\n", "")
    code, out = run(db, "scenario", "list", "--status", "nope")
    assert code == 1 and out.strip().startswith("error: unknown status 'nope'")
    code, out = run(db, "scenario", "import", str(tmp_path / "none.csv"))
    assert (code, out.strip()) == (1, f"error: {tmp_path / 'none.csv'}: no such file")


def test_scenario_import_with_enterprises_from_the_command_line(db, tmp_path):
    ents = [
        {
            "code": "t-cli-ent",
            "name_zh": "命令行企业",
            "name_en": "CLI enterprise",
            "segment": "chips",
            "zone": "economic_dev_zone",
        }
    ]
    rows = scenario_rows(1)
    rows[0]["enterprises"] = "t-cli-ent"
    book = write_xlsx(tmp_path / "book.xlsx", {"scenarios": rows, "enterprises": ents})
    code, out = run(db, "scenario", "import", str(book), "--enterprises", str(book))
    assert code == 0
    assert "imported 1 enterprises" in out and "imported 1 scenarios" in out


# --- properties of the file rules ---------------------------------------------------------------

LOOKUPS = ProgressLookups({"500103": "渝中区"}, {"t-ent-1": OrgKind.ENTERPRISE}, {"t-ent-1": 1})
GOOD = {k: str(v) for k, v in scenario_rows(1)[0].items()} | {"enterprises": "t-ent-1"}
_CATEGORIES = {c.value for c in ScenarioCategory}


def _prepare(rows: list[dict]) -> tuple[list, RowErrors]:
    errors = RowErrors("in.csv")
    good = prepare_scenarios(pd.DataFrame(rows), np.arange(1, len(rows) + 1), LOOKUPS, errors)
    return good, errors


def test_the_good_record_passes():
    good, errors = _prepare([GOOD])
    assert not errors and len(good) == 1 and good[0].values["enterprise_codes"] == ["t-ent-1"]


@settings(max_examples=60, deadline=None)
@given(
    category=st.text(min_size=1, max_size=30).filter(
        lambda t: t.strip() and t.strip().lower() not in _CATEGORIES
    ),
    position=st.integers(0, 3),
)
def test_any_unknown_category_is_refused_naming_the_field(category, position):
    rows = [dict(GOOD, code=f"c{i}") for i in range(4)]
    rows[position]["category"] = category
    good, errors = _prepare(rows)
    assert [(e.row, e.field) for e in errors.items] == [(position + 1, "category")]
    assert len(good) == 3 and all(p.row != position + 1 for p in good)


@settings(max_examples=60, deadline=None)
@given(year=st.integers(-10_000, 10_000))
def test_years_outside_the_range_are_refused(year):
    good, errors = _prepare([dict(GOOD, year=str(year))])
    if 2015 <= year <= 2035:
        assert not errors and good[0].values["year"] == year
    else:
        assert [(e.row, e.field) for e in errors.items] == [(1, "year")] and not good


_NAME = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=120
).filter(lambda t: t.strip())


@settings(max_examples=40, deadline=None)
@given(name_zh=_NAME, name_en=_NAME)
def test_names_survive_a_csv_round_trip(tmp_path_factory, name_zh, name_en):
    path = write_csv(
        tmp_path_factory.mktemp("csv") / "n.csv", [dict(GOOD, name_zh=name_zh, name_en=name_en)]
    )
    table = read_table(path, "scenarios")
    good, errors = _prepare(table.frame.to_dict("records"))
    assert not errors
    assert (good[0].values["name_zh"], good[0].values["name_en"]) == (
        name_zh.strip(),
        name_en.strip(),
    )
