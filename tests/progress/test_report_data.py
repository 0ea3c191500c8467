"""The report's data read from the registry (KPIs of a scope with progress lines, the district
and key-area layers, overdue milestones, open cases and meeting follow-ups), and
`mastplan report` end to end on the Chongqing data set."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from mastplan.cli import app
from mastplan.errors import NotFoundError
from mastplan.progress.meetings import AssignmentSpec, decide, new_meeting, raise_issue
from mastplan.progress.models import CoverageResult
from mastplan.progress.report_data import build_report_data
from mastplan.progress.tasks import add_milestone
from mastplan.registry.audit import Actor
from mastplan.registry.db import make_engine, session_factory, transaction
from mastplan.registry.models import KeyArea
from mastplan.registry.users import add_user

DAY = dt.date(2021, 12, 31)


def prepare(session) -> None:
    """A milestone and an assignment overdue on DAY, and coverage results for two key areas."""
    add_user(session, Actor("admin"), "office", "cq-5g-joint-office", "regulator")
    add_milestone(
        session,
        "office",
        "key-1-1",
        title_zh="专项规划印发",
        due_on=dt.date(2021, 6, 30),
        title_en="Special plan issued",
    )
    meeting = new_meeting(session, "office", held_on=dt.date(2021, 9, 1), title="第三次联席会议",
                          convener="cq-5g-joint-office")  # fmt: skip
    issue = raise_issue(
        session, "office", meeting.id, kind="power_supply", title="观音桥站址转供电审批"
    )
    decide(
        session,
        "office",
        issue.id,
        "国网重庆电力两周内完成审批",
        decided_on=dt.date(2021, 9, 1),
        assignments=[AssignmentSpec("sgcc-chongqing", dt.date(2021, 9, 15), "完成转供电审批")],
    )
    areas = session.scalars(select(KeyArea).where(KeyArea.phase_year == 2019)
                            .order_by(KeyArea.code).limit(2)).all()  # fmt: skip
    with transaction(session):
        session.add_all([
            CoverageResult(run_id="t", key_area_id=areas[0].id, as_of=dt.date(2019, 12, 1),
                           covered_fraction=0.99, continuity_fraction=0.97,
                           rsrp_threshold_dbm=-105, resolution_m=25),
            CoverageResult(run_id="t", key_area_id=areas[1].id, as_of=dt.date(2019, 12, 1),
                           covered_fraction=0.80, continuity_fraction=0.70,
                           rsrp_threshold_dbm=-105, resolution_m=25),
        ])  # fmt: skip
    return areas


def test_the_city_report_data(loaded_session):
    areas = prepare(loaded_session)
    data = build_report_data(loaded_session, DAY)
    assert data.scope == "city" and data.contains_synthetic  # synthetic inventory, demo data
    kpis = {k.id: k for k in data.kpis}
    assert "base-stations" in kpis and "industry-revenue" in kpis
    line = kpis["base-stations"]
    assert line.series[0][0] == dt.date(2019, 6, 30) and line.series[-1] == (DAY, line.value)
    assert (line.target, line.comparator, line.target_year) == (100_000, ">", 2022)
    assert [v for _, v in line.series] == sorted(v for _, v in line.series)  # no retirements
    status = dict(zip(data.key_areas["code"], data.key_areas["status"], strict=True))
    assert status[areas[0].code] == "covered" and status[areas[1].code] == "not_covered"
    assert set(data.key_areas["status"]) <= {"covered", "not_covered", "no_result"}
    assert len(data.districts) == 38
    yuzhong = data.districts.set_index("code").loc["500103"]
    assert yuzhong["population"] == 588_717  # 7th census
    assert yuzhong["base_stations_per_10k"] == pytest.approx(
        yuzhong["base_stations"] / 588_717 * 10_000)  # fmt: skip
    no_pop = data.districts[data.districts["population"].isna()]
    assert len(no_pop) and no_pop["base_stations_per_10k"].isna().all()
    tables = {t.key: t for t in data.tables}
    (row,) = tables["overdue_milestones"].rows
    assert (
        "专项规划印发" in row[1]
        and row[2] == "2021-06-30"
        and row[4] == str((DAY - dt.date(2021, 6, 30)).days)
    )
    (row,) = tables["meeting_follow_ups"].rows
    assert row[1] == "观音桥站址转供电审批" and row[4] == "2021-09-15" and "overdue" in row[5]
    assert tables["open_cases"].rows == ()
    # before the milestone was due there is nothing overdue
    early = build_report_data(loaded_session, dt.date(2021, 6, 30))
    assert {t.key: t for t in early.tables}["overdue_milestones"].rows == ()


def test_a_district_report_and_bad_scopes(loaded_session):
    data = build_report_data(loaded_session, DAY, "500103")
    assert data.scope_name_zh == "渝中区"
    assert set(data.key_areas["code"]) == set(loaded_session.scalars(
        select(KeyArea.code).where(KeyArea.district_code == "500103")))  # fmt: skip
    assert "industry-revenue" not in {k.id for k in data.kpis}  # a city-only KPI
    assert not np.isnan(data.districts.set_index("code").loc["500103", "coverage_fraction"])
    with pytest.raises(NotFoundError, match="no district '500199'"):
        build_report_data(loaded_session, DAY, "500199")


def test_the_report_command(loaded_url, tmp_path):
    engine = make_engine(loaded_url)
    with session_factory(engine)() as s:
        prepare(s)
    engine.dispose()
    result = CliRunner().invoke(
        app,
        [
            "report",
            "--date",
            "2021-12-31",
            "--lang",
            "zh",
            "--lang",
            "en",
            "--out",
            str(tmp_path),
            "--database",
            loaded_url,
        ],
    )
    assert result.exit_code == 0, result.output
    zh = (tmp_path / "report-zh.html").read_text(encoding="utf-8")
    en = (tmp_path / "report-en.html").read_text(encoding="utf-8")
    assert "5G基站数" in zh and "专项规划印发" in zh and "观音桥站址转供电审批" in zh
    assert "5G base stations" in en and "Special plan issued" in en
    assert (tmp_path / "report-zh.pdf").stat().st_size > 10_000
    bad = CliRunner().invoke(app, ["report", "--lang", "fr", "--out", str(tmp_path),
                                   "--database", loaded_url])  # fmt: skip
    assert bad.exit_code == 1 and "--lang must be zh or en" in bad.output
