"""Enterprises, their revenues and reported figures: imports from CSV and Excel with wide
revenue columns are all or nothing and name file, row and field; services upsert by code and
audit every write; the commands work."""

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
from mastplan.progress.enterprises import (
    get_enterprise,
    list_enterprises,
    set_revenue,
    upsert_enterprise,
)
from mastplan.progress.enums import IndustrySegment, IndustryZone
from mastplan.progress.figures import get_figure, list_figures, record_figure
from mastplan.progress.models import Enterprise, EnterpriseRevenue, ReportedFigure
from mastplan.progress.registry_import import import_enterprises
from mastplan.progress.registry_rules import ProgressLookups, prepare_enterprises
from mastplan.registry.db import make_engine, session_factory
from mastplan.registry.enums import OrgKind
from mastplan.registry.fields import RowErrors
from mastplan.registry.models import AuditEntry, Organisation


def enterprise_rows(n: int = 3, prefix: str = "t-ent") -> list[dict]:
    """``n`` good enterprise records with revenue columns for 2019–2021."""
    segments = ["chips", "software", "applications"]
    zones = ["liangjiang", "high_tech_zone", "support_district"]
    districts = ["500112", "500106", "500118"]
    return [
        {
            "code": f"{prefix}-{i}",
            "name_zh": f"测试企业{i}",
            "name_en": f"Test enterprise {i}",
            "segment": segments[i % 3],
            "zone": zones[i % 3],
            "district_code": districts[i % 3],
            "innovative": "yes" if i % 2 == 0 else "no",
            "registered_on": f"2019-0{1 + i % 9}-15",
            "revenue_2019_yuan": 1e8 * (i + 1),
            "revenue_2020_yuan": 1.5e8 * (i + 1),
            "revenue_2021_yuan": "" if i == 1 else 2e8 * (i + 1),
            "source": "test file",
        }
        for i in range(n)
    ]


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[dict], sheet: str = "enterprises") -> Path:
    pd.DataFrame(rows).to_excel(path, sheet_name=sheet, index=False, engine="openpyxl")
    return path


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def counts(session) -> tuple[int, ...]:
    return tuple(
        count(session, m) for m in (Organisation, Enterprise, EnterpriseRevenue, AuditEntry)
    )


def revenues(session, code: str) -> dict[int, float]:
    session.expire_all()
    return {r.year: r.revenue_yuan for r in get_enterprise(session, code).revenues}


# --- imports ------------------------------------------------------------------------------------


def test_csv_import_round_trip(loaded_session, actor, tmp_path):
    s = loaded_session
    before = counts(s)
    path = write_csv(tmp_path / "enterprises.csv", enterprise_rows(3))
    result = import_enterprises(s, actor, path)
    assert (result.rows, result.inserted, result.updated, result.kind) == (3, 3, 0, "enterprises")
    ent = get_enterprise(s, "t-ent-0")
    org = ent.organisation
    assert (org.kind, org.name_zh, org.name_en, org.synthetic) == (
        OrgKind.ENTERPRISE,
        "测试企业0",
        "Test enterprise 0",
        False,
    )
    assert org.district_code is None  # an organisation's district is a district government's
    assert ent.segment is IndustrySegment.CHIPS and ent.zone is IndustryZone.LIANGJIANG
    assert (ent.district_code, ent.innovative, ent.registered_on) == (
        "500112",
        True,
        dt.date(2019, 1, 15),
    )
    assert ent.demo is False and ent.source == "test file"
    assert revenues(s, "t-ent-0") == {2019: 1e8, 2020: 1.5e8, 2021: 2e8}
    assert revenues(s, "t-ent-1") == {2019: 2e8, 2020: 3e8}  # an empty cell is no figure
    assert get_enterprise(s, "t-ent-1").innovative is False
    assert counts(s)[:3] == (before[0] + 3, before[1] + 3, before[2] + 8)
    (entry,) = s.scalars(
        select(AuditEntry).where(AuditEntry.action == "import", AuditEntry.entity == "enterprises")
    ).all()
    assert entry.after["inserted"] == 3 and len(entry.after["sha256"]) == 64
    # an audit entry per organisation, enterprise and revenue, and the import's
    assert counts(s)[3] == before[3] + 3 + 3 + 8 + 1


def test_xlsx_import_round_trip(loaded_session, actor, tmp_path):
    s = loaded_session
    rows = enterprise_rows(3)
    for r in rows:  # a workbook holds real dates, booleans and empty cells
        r["registered_on"] = dt.date.fromisoformat(r["registered_on"])
        r["innovative"] = r["innovative"] == "yes"
        r["revenue_2021_yuan"] = r["revenue_2021_yuan"] or None
    result = import_enterprises(s, actor, write_xlsx(tmp_path / "e.xlsx", rows))
    assert (result.inserted, result.format) == (3, "xlsx")
    ent = get_enterprise(s, "t-ent-2")
    assert ent.registered_on == dt.date(2019, 3, 15) and ent.innovative is True
    assert ent.zone is IndustryZone.SUPPORT_DISTRICT
    assert revenues(s, "t-ent-1") == {2019: 2e8, 2020: 3e8}
    assert revenues(s, "t-ent-2") == {2019: 3e8, 2020: 4.5e8, 2021: 6e8}


def test_reimport_updates_and_keeps_other_years(loaded_session, actor, tmp_path):
    s = loaded_session
    import_enterprises(s, actor, write_csv(tmp_path / "a.csv", enterprise_rows(3)))
    rows = [
        {
            "code": "t-ent-0",
            "name_zh": "改名企业",
            "name_en": "Renamed enterprise",
            "segment": "modules",
            "zone": "economic_dev_zone",
            "revenue_2022_yuan": 9e8,
            "revenue_2019_yuan": 1.1e8,
        },
    ]
    result = import_enterprises(s, actor, write_csv(tmp_path / "b.csv", rows))
    assert (result.inserted, result.updated) == (0, 1)
    ent = get_enterprise(s, "t-ent-0")
    assert ent.organisation.name_zh == "改名企业" and ent.segment is IndustrySegment.MODULES
    assert ent.district_code is None and ent.version == 2
    assert revenues(s, "t-ent-0") == {2019: 1.1e8, 2020: 1.5e8, 2021: 2e8, 2022: 9e8}


def test_an_existing_enterprise_organisation_gets_its_record(loaded_session, actor, tmp_path):
    """cq-gdjt is an enterprise of the plan's organisations: importing it adds its record and
    keeps what the file does not say (its short names, its source)."""
    s = loaded_session
    org = s.scalar(select(Organisation).where(Organisation.code == "cq-gdjt"))
    short, source = org.short_zh, org.source
    rows = [
        {
            "code": "cq-gdjt",
            "name_zh": org.name_zh,
            "name_en": org.name_en,
            "segment": "applications",
            "zone": "support_district",
        }
    ]
    assert import_enterprises(s, actor, write_csv(tmp_path / "g.csv", rows)).inserted == 1
    s.expire_all()
    ent = get_enterprise(s, "cq-gdjt")
    assert ent.organisation_id == org.id and ent.organisation.short_zh == short
    assert ent.organisation.source == source and ent.organisation.version == org.version


BAD_ROWS = [
    ({"segment": "semiconductors"}, "segment"),
    ({"zone": "liangjiang-new-area"}, "zone"),
    ({"district_code": "600000"}, "district_code"),
    ({"revenue_2020_yuan": "-5"}, "revenue_2020_yuan"),
    ({"revenue_2020_yuan": "lots"}, "revenue_2020_yuan"),
    ({"revenue_2020_yuan": "1e14"}, "revenue_2020_yuan"),
    ({"innovative": "perhaps"}, "innovative"),
    ({"registered_on": "15/03/2019"}, "registered_on"),
    ({"code": "china-mobile"}, "code"),  # an operator's code
    ({"code": "t-ent-0"}, "code"),  # repeats row 1
    ({"code": "a;b"}, "code"),
    ({"name_en": ""}, "name_en"),
]


@pytest.mark.parametrize(("change", "field"), BAD_ROWS)
def test_one_bad_row_refuses_the_whole_file(loaded_session, actor, tmp_path, change, field):
    s = loaded_session
    before = counts(s)
    rows = enterprise_rows(4)
    rows[2].update(change)
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(ImportValidationError) as info:
        import_enterprises(s, actor, path)
    assert [(e.file, e.row, e.field) for e in info.value.errors] == [(str(path), 3, field)]
    assert counts(s) == before


@pytest.mark.parametrize(
    ("column", "message"),
    [("revenue_2019", "revenue_YYYY_yuan"), ("revenue_2050_yuan", "outside 2015–2035")],
)
def test_bad_revenue_columns_are_named(loaded_session, actor, tmp_path, column, message):
    s = loaded_session
    before = counts(s)
    rows = [dict(r, **{column: 1e8}) for r in enterprise_rows(2)]
    path = write_xlsx(tmp_path / "cols.xlsx", rows)
    with pytest.raises(ImportValidationError) as info:
        import_enterprises(s, actor, path)
    (err,) = info.value.errors
    assert (err.file, err.row, err.field) == (f"{path}[enterprises]", 1, column)
    assert message in err.message and counts(s) == before


def test_dry_run_counts_but_writes_nothing(loaded_session, actor, tmp_path):
    s = loaded_session
    before = counts(s)
    path = write_csv(tmp_path / "a.csv", enterprise_rows(3))
    result = import_enterprises(s, actor, path, dry_run=True)
    assert (result.rows, result.inserted, result.updated, result.dry_run) == (3, 3, 0, True)
    assert counts(s) == before
    with pytest.raises(NotFoundError, match="no enterprise 't-ent-0'"):
        get_enterprise(s, "t-ent-0")


# --- services -----------------------------------------------------------------------------------


def test_upsert_list_and_set_revenue(loaded_session, actor):
    s = loaded_session
    ent = upsert_enterprise(
        s,
        actor,
        code="t-svc-ent",
        name_zh="服务企业",
        name_en="Service Co.",
        segment="terminals",
        zone="high_tech_zone",
        district_code="500107",
        innovative=True,
        revenues_yuan={2020: 3e8},
    )
    assert ent.organisation.kind is OrgKind.ENTERPRISE and revenues(s, "t-svc-ent") == {2020: 3e8}
    mark = s.scalar(select(func.max(AuditEntry.id)))
    set_revenue(s, actor, "t-svc-ent", 2021, 4.5e8, source="annual report")
    set_revenue(s, actor, "t-svc-ent", 2020, 3.2e8)
    set_revenue(s, actor, "t-svc-ent", 2020, 3.2e8)  # unchanged: no audit entry
    assert revenues(s, "t-svc-ent") == {2020: 3.2e8, 2021: 4.5e8}
    entries = s.execute(
        select(AuditEntry.action, AuditEntry.entity)
        .where(AuditEntry.id > mark)
        .order_by(AuditEntry.id)
    ).all()
    assert entries == [("create", "enterprise_revenues"), ("update", "enterprise_revenues")]
    for year, value, problem in [(2021, -1, "between 0"), (2040, 1, "year"), (2021, "x", "number")]:
        with pytest.raises(MastplanError, match=problem):
            set_revenue(s, actor, "t-svc-ent", year, value)
    with pytest.raises(NotFoundError, match="no enterprise 'ghost'"):
        set_revenue(s, actor, "ghost", 2021, 1.0)

    def mine(**filters) -> list[str]:
        rows = list_enterprises(s, **filters)
        return [e.organisation.code for e in rows if e.organisation.code.startswith("t-svc")]

    assert mine() == ["t-svc-ent"] and mine(segment="Terminals") == ["t-svc-ent"]
    assert mine(zone="liangjiang") == [] and mine(district="500107") == ["t-svc-ent"]
    assert mine(innovative=True) == ["t-svc-ent"] and mine(demo=True) == []
    with pytest.raises(MastplanError, match="unknown zone 'nowhere'"):
        list_enterprises(s, zone="nowhere")


def test_the_service_refuses_what_the_import_refuses(loaded_session, actor):
    s = loaded_session
    before = counts(s)
    with pytest.raises(ImportValidationError) as info:
        upsert_enterprise(
            s,
            actor,
            code="china-telecom",
            name_zh="x",
            name_en="x",
            segment="chips",
            zone="liangjiang",
        )
    assert (info.value.errors[0].field, info.value.errors[0].file) == ("code", "<input>")
    with pytest.raises(ImportValidationError, match="revenue_2020_yuan"):
        upsert_enterprise(
            s,
            actor,
            code="t-neg",
            name_zh="x",
            name_en="x",
            segment="chips",
            zone="liangjiang",
            revenues_yuan={2020: -1.0},
        )
    assert counts(s) == before


def test_figures_are_recorded_once_per_indicator_year_scope(loaded_session, actor):
    s = loaded_session
    before = count(s, ReportedFigure)
    fig = record_figure(
        s,
        actor,
        "5g-industry-revenue",
        2023,
        1.02e11,
        source="统计局 (test)",
        reported_on=dt.date(2024, 3, 1),
    )
    again = record_figure(s, actor, "5g-industry-revenue", 2023, 1.05e11)
    assert again.id == fig.id and again.value == 1.05e11 and again.source is None
    record_figure(s, actor, "5g-industry-revenue", 2023, 4e9, scope="liangjiang")
    record_figure(s, actor, "5g-industry-revenue", 2023, 1e9, scope="500112")
    assert count(s, ReportedFigure) == before + 3
    assert get_figure(s, "5g-industry-revenue", 2023, "liangjiang").value == 4e9
    listed = list_figures(s, indicator="5g-industry-revenue", scope="city")
    assert [f.year for f in listed if not f.demo] == [2023]
    audit = s.scalars(
        select(AuditEntry.action).where(AuditEntry.entity == "reported_figures")
    ).all()
    assert audit.count("update") >= 1 and audit.count("create") >= 3
    problems = [
        ({"indicator": "5G Revenue"}, "indicator"),
        ({"year": 2050}, "year"),
        ({"value": float("nan")}, "finite"),
        ({"value": -1.0}, ">= 0"),
        ({"scope": "mars"}, "unknown scope"),
    ]
    for change, match in problems:
        args = {"indicator": "5g-industry-revenue", "year": 2023, "value": 1.0} | change
        scope = args.pop("scope", "city")
        with pytest.raises(MastplanError, match=match):
            record_figure(s, actor, args["indicator"], args["year"], args["value"], scope=scope)
    with pytest.raises(NotFoundError, match="no figure"):
        get_figure(s, "5g-industry-revenue", 2015)


# --- the command line ---------------------------------------------------------------------------


def run(db, *args):
    env = {"COLUMNS": "250", "MASTPLAN_USER": "cli-tester"}
    result = CliRunner(env=env).invoke(app, [*args, "--database", db])
    return result.exit_code, result.output


def test_enterprise_commands(loaded_url, tmp_path):
    db = loaded_url
    path = write_xlsx(tmp_path / "e.xlsx", enterprise_rows(3))
    code, out = run(db, "enterprise", "import", str(path), "--dry-run")
    assert code == 0 and "would import 3 enterprises" in out and "nothing written" in out
    code, out = run(db, "enterprise", "import", str(path))
    assert (code, out.strip()) == (0, f"imported 3 enterprises from {path}: 3 new, 0 updated")
    code, out = run(db, "enterprise", "list", "--zone", "liangjiang", "--no-demo")
    assert code == 0 and "1 家企业 / enterprise(s)" in out
    assert "t-ent-0" in out and "测试企业0" in out and "500112 渝北区" in out
    assert "2.00 (2021)" in out and "环节 / segment" in out
    code, out = run(db, "enterprise", "list", "--segment", "software", "--no-demo")
    assert code == 0 and "t-ent-1" in out and "3.00 (2020)" in out and "t-ent-0" not in out
    code, out = run(db, "enterprise", "revenue", "t-ent-1", "--year", "2021", "--yuan", "2.5e8")
    assert (code, out.strip()) == (0, "t-ent-1: revenue 2021 = 250,000,000 yuan")
    code, out = run(db, "enterprise", "list", "--segment", "chips", "--zone", "moon")
    assert code == 1 and out.strip().startswith("error: unknown zone 'moon'")
    bad = enterprise_rows(2)
    bad[1]["revenue_2019_yuan"] = "-3"
    code, out = run(db, "enterprise", "import", str(write_csv(tmp_path / "bad.csv", bad)))
    assert code == 1 and "row 2: field 'revenue_2019_yuan'" in out.replace("\n", "")
    assert out.strip().splitlines()[-1].startswith("error: import refused, nothing written")


def test_figure_commands(loaded_url):
    db = loaded_url
    code, out = run(
        db,
        "figure",
        "set",
        "5g-industry-revenue",
        "--year",
        "2023",
        "--value",
        "1.02e11",
        "--source",
        "test report",
        "--reported-on",
        "2024-03-01",
    )
    assert code == 0
    assert out.strip() == "5g-industry-revenue 2023 (city) = 102,000,000,000 (≈ 1,020.00 亿元)"
    code, out = run(db, "figure", "list", "--indicator", "5g-industry-revenue")
    assert code == 0 and "test report" in out and "2024-03-01" in out and "指标 / indicator" in out
    code, out = run(
        db,
        "figure",
        "set",
        "5g-industry-revenue",
        "--year",
        "2023",
        "--value",
        "1",
        "--reported-on",
        "March",
    )
    assert code == 1 and "--reported-on must be an ISO date" in out
    code, out = run(db, "figure", "set", "Bad Indicator", "--year", "2023", "--value", "1")
    assert code == 1 and out.strip().startswith("error: indicator must be a lowercase id")
    engine = make_engine(db)
    with session_factory(engine)() as session:
        fig = get_figure(session, "5g-industry-revenue", 2023)
        assert (fig.value, fig.source, fig.reported_on) == (
            1.02e11,
            "test report",
            dt.date(2024, 3, 1),
        )
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.entity == "reported_figures", AuditEntry.entity_id == str(fig.id)
            )
        ).one()
        assert entry.actor == "cli-tester" and entry.action == "create"
    engine.dispose()


# --- properties of the file rules ---------------------------------------------------------------

LOOKUPS = ProgressLookups({"500112": "渝北区"}, {"china-mobile": OrgKind.OPERATOR}, {})
GOOD = {k: str(v) for k, v in enterprise_rows(1)[0].items()} | {"district_code": "500112"}
_SEGMENTS = {m.value for m in IndustrySegment}


def _prepare(rows: list[dict]) -> tuple[list, RowErrors]:
    errors = RowErrors("in.csv")
    good = prepare_enterprises(pd.DataFrame(rows), np.arange(1, len(rows) + 1), LOOKUPS, errors)
    return good, errors


@settings(max_examples=60, deadline=None)
@given(
    segment=st.text(min_size=1, max_size=30).filter(
        lambda t: t.strip() and t.strip().lower() not in _SEGMENTS
    )
)
def test_any_unknown_segment_is_refused_naming_the_field(segment):
    good, errors = _prepare([GOOD, dict(GOOD, code="other", segment=segment)])
    assert [(e.row, e.field) for e in errors.items] == [(2, "segment")]
    assert [p.row for p in good] == [1]


@settings(max_examples=60, deadline=None)
@given(
    revenue=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15),
    year=st.integers(2015, 2035),
)
def test_revenue_is_kept_exactly_or_refused_by_its_column(revenue, year):
    column = f"revenue_{year}_yuan"
    row = {k: v for k, v in GOOD.items() if not k.startswith("revenue")} | {column: repr(revenue)}
    good, errors = _prepare([row])
    if 0 <= revenue <= 1e13:
        assert not errors and good[0].values["revenues_yuan"] == {year: revenue}
    else:
        assert [(e.row, e.field) for e in errors.items] == [(1, column)] and not good
