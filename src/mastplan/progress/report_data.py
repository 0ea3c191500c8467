"""What the progress report shows, read from the registry: the KPIs of a scope with their
progress lines, the district and key-area layers, and the tables of overdue tasks, open cases
and meeting follow-ups. :mod:`mastplan.reports` renders it."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from mastplan.errors import NotFoundError
from mastplan.geo import STORAGE_EPSG
from mastplan.progress.kpis import KpiData, KpiSpec, compute, load_kpis, quarter_ends, scope_kind
from mastplan.progress.models import (
    ApplicationScenario,
    Assignment,
    Decision,
    Enterprise,
    ReportedFigure,
)
from mastplan.registry.models import District, KeyArea, SharingCase, Site, Structure
from mastplan.reports.model import KpiLine, ReportData, ReportTable
from mastplan.sharing.calendar import CST, as_utc, local_date
from mastplan.sharing.cases import detail_lines

__all__ = ["PLAN_START", "build_report_data"]

#: The first day of the progress lines: the end of the quarter the 5G licences were issued in.
PLAN_START = dt.date(2019, 6, 30)

#: How each unit reads in the report (中文, English).
UNIT_WORDS = {
    "count": ("个", ""),
    "fraction": ("比例", "fraction"),
    "ratio": ("租户/塔", "tenants per structure"),
    "per_10k": ("个/万人", "per 10,000 people"),
    "yuan": ("元", "yuan"),
}


def _kpi_line(data: KpiData, spec: KpiSpec, scope: str, days: list[dt.date]) -> KpiLine:
    values = [compute(data, spec, scope, d) for d in days]
    last = values[-1]
    unit_zh, unit_en = UNIT_WORDS[spec.unit]
    notes_zh, notes_en = [], []
    if spec.reference:
        ref = spec.reference
        shown = f"{100 * ref['value']:.0f} %" if spec.unit == "fraction" else f"{ref['value']:g}"
        notes_zh.append(f"参考：{ref['label_zh']} {shown}")
        notes_en.append(f"Reference: {ref['label_en']} {shown}")
    if last.detail.get("demo"):
        notes_zh.append("含示例数据")
        notes_en.append("includes demo data")
    if last.detail.get("year"):
        notes_zh.append(f"{last.detail['year']}年报告值")
        notes_en.append(f"reported for {last.detail['year']}")
    if last.detail.get("why"):
        notes_en.append(str(last.detail["why"]))
    t = last.target
    return KpiLine(
        id=spec.id,
        name_zh=spec.name_zh,
        name_en=spec.name_en,
        unit_zh=unit_zh,
        unit_en=unit_en,
        value=last.value,
        target=t.value if t else None,
        comparator=t.comparator if t else "",
        target_year=t.year if t else None,
        met=last.met,
        series=tuple((v.as_of, v.value) for v in values),
        note_zh="；".join(notes_zh),
        note_en="; ".join(notes_en),
    )


def _districts(session: Session, data: KpiData, specs: dict[str, KpiSpec], day: dt.date):
    rows = session.execute(
        select(District.code, District.name_zh, District.name_en, District.population,
               District.boundary).order_by(District.code)
    ).all()  # fmt: skip
    frame = gpd.GeoDataFrame(
        [r[:4] for r in rows],
        columns=["code", "name_zh", "name_en", "population"],
        geometry=[r[4] for r in rows],
        crs=f"EPSG:{STORAGE_EPSG}",
    )
    frame["population"] = pd.to_numeric(frame["population"], errors="coerce").astype(float)
    stations, per_10k, coverage = [], [], []
    for code in frame["code"]:
        stations.append(int(compute(data, specs["base-stations"], code, day).value or 0))
        v = compute(data, specs["base-stations-per-10k"], code, day).value
        per_10k.append(np.nan if v is None else v)
        c = compute(data, specs["key-areas-covered"], code, day).value
        coverage.append(np.nan if c is None else c)
    frame["base_stations"] = stations
    frame["base_stations_per_10k"] = per_10k
    frame["coverage_fraction"] = coverage
    return frame


def _key_areas(session: Session, data: KpiData, spec: KpiSpec, scope: str, day: dt.date):
    query = select(
        KeyArea.code, KeyArea.name_zh, KeyArea.name_en, KeyArea.phase_year, KeyArea.id,
        KeyArea.boundary,
    ).order_by(KeyArea.phase_year, KeyArea.code)  # fmt: skip
    if scope_kind(scope) == "district":
        query = query.where(KeyArea.district_code == scope)
    rows = session.execute(query).all()
    status = compute(data, spec, scope, day).detail
    state = {c: s for s in ("covered", "not_covered", "no_result") for c in status.get(s, [])}
    cov = data.coverage[data.coverage["as_of"] <= pd.Timestamp(day)]
    latest = cov.groupby("key_area_id").last()
    frame = gpd.GeoDataFrame(
        {
            "code": [r[0] for r in rows],
            "name_zh": [r[1] for r in rows],
            "name_en": [r[2] for r in rows],
            "phase_year": [int(r[3]) for r in rows],
            "status": [state.get(r[0], "no_result") for r in rows],
            "covered_fraction": [latest["covered_fraction"].get(r[4], np.nan) for r in rows],
            "continuity_fraction": [latest["continuity_fraction"].get(r[4], np.nan) for r in rows],
        },
        geometry=[r[5] for r in rows],
        crs=f"EPSG:{STORAGE_EPSG}",
    )
    return frame


CASE_COLUMNS = (("编号", "Case"), ("类型", "Kind"), ("申请", "Request"), ("杆塔", "Structure"),
                ("立案日期", "Opened"), ("详情", "Detail"))  # fmt: skip


def _cases_table(session: Session, scope: str, day: dt.date) -> ReportTable:
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=CST)
    query = (
        select(SharingCase, Structure.external_id, Structure.district_code)
        .join(SharingCase.request)
        .join(Structure)
        .where(SharingCase.opened_at < end)
        .where(or_(SharingCase.decided_at.is_(None), SharingCase.decided_at >= end))
        .order_by(SharingCase.opened_at)
    )
    if scope_kind(scope) == "district":
        query = query.where(Structure.district_code == scope)
    kinds = {"overdue_answer": ("业主逾期未答复", "overdue answer"),
             "fee_complaint": ("收费投诉", "fee complaint")}  # fmt: skip
    rows = []
    for case, structure, _district in session.execute(query).all():
        zh, en = kinds.get(case.kind.value, (case.kind.value, case.kind.value))
        rows.append((str(case.id), f"{zh} / {en}", str(case.request_id), structure,
                     local_date(as_utc(case.opened_at)).isoformat(),
                     "; ".join(detail_lines(case))))  # fmt: skip
    return ReportTable(
        key="open_cases",
        title_zh="待处理协调案件",
        title_en="Open coordination cases",
        columns=CASE_COLUMNS,
        rows=tuple(rows),
    )


def _contains_synthetic(session: Session) -> bool:
    checks = (
        select(func.count()).select_from(Structure).where(Structure.synthetic.is_(True)),
        select(func.count()).select_from(Site).where(Site.synthetic.is_(True)),
        select(func.count()).select_from(ApplicationScenario)
        .where(ApplicationScenario.demo.is_(True)),
        select(func.count()).select_from(Enterprise).where(Enterprise.demo.is_(True)),
        select(func.count()).select_from(ReportedFigure).where(ReportedFigure.demo.is_(True)),
    )  # fmt: skip
    return any(session.scalar(q) for q in checks)


def build_report_data(
    session: Session, as_of: dt.date, scope: str = "city", *, start: dt.date = PLAN_START
) -> ReportData:
    """Everything the report of ``scope`` (``city`` or a district code) shows on ``as_of``."""
    if scope_kind(scope) == "phase":
        raise NotFoundError("a report covers the city or one district, not a phase")
    if scope == "city":
        name_zh, name_en = "重庆市", "Chongqing"
    else:
        district = session.get(District, scope)
        if district is None:
            raise NotFoundError(f"no district {scope!r}")
        name_zh, name_en = district.name_zh, district.name_en
    _, specs = load_kpis()
    by_id = {s.id: s for s in specs}
    data = KpiData(session)
    days = quarter_ends(min(start, as_of), as_of)
    kind = scope_kind(scope)
    kpis = tuple(_kpi_line(data, s, scope, days) for s in specs if kind in s.scopes)
    tables = (_cases_table(session, scope, as_of), *_governance_tables(session, as_of))
    return ReportData(
        as_of=as_of,
        scope=scope,
        scope_name_zh=name_zh,
        scope_name_en=name_en,
        kpis=kpis,
        districts=_districts(session, data, by_id, as_of),
        key_areas=_key_areas(session, data, by_id["key-areas-covered"], scope, as_of),
        tables=tables,
        contains_synthetic=_contains_synthetic(session),
    )


def _governance_tables(session: Session, day: dt.date) -> tuple[ReportTable, ...]:
    """Overdue milestones of the plan's tasks, and the joint meeting's assignments still open
    on ``day`` (overdue ones first)."""
    from mastplan.progress.meetings import overdue_assignments
    from mastplan.progress.tasks import overdue_milestones

    milestones = []
    for m in overdue_milestones(session, day):
        leads = [u.organisation for u in m.task.units if u.role.value == "lead"]
        milestones.append((
            f"{m.task.number_zh} {m.task.title_zh} / {m.task.title_en}",
            f"{m.title_zh} / {m.title_en}",
            m.due_on.isoformat(),
            "、".join(o.short_zh or o.name_zh for o in leads),
            str((day - m.due_on).days),
        ))  # fmt: skip
    late = {a.id for a in overdue_assignments(session, day)}
    decided = (
        select(Assignment)
        .join(Assignment.decision)
        .where(
            Decision.decided_on <= day,
            or_(Assignment.closed_on.is_(None), Assignment.closed_on > day),
        )
    )
    follow = []
    for a in sorted(session.scalars(decided), key=lambda a: (a.id not in late, a.due_on, a.id)):
        issue = a.decision.issue
        follow.append((
            issue.meeting.held_on.isoformat(),
            issue.title,
            a.organisation.short_zh or a.organisation.name_zh,
            a.action,
            a.due_on.isoformat(),
            "逾期 / overdue" if a.id in late else "进行中 / open",
        ))  # fmt: skip
    return (
        ReportTable(
            key="overdue_milestones",
            title_zh="逾期的任务里程碑",
            title_en="Overdue task milestones",
            columns=(
                ("任务", "Task"),
                ("里程碑", "Milestone"),
                ("到期", "Due"),
                ("牵头单位", "Lead unit"),
                ("逾期天数", "Days late"),
            ),
            rows=tuple(milestones),
        ),
        ReportTable(
            key="meeting_follow_ups",
            title_zh="联席会议待办事项",
            title_en="Joint-meeting follow-ups",
            columns=(
                ("会议", "Meeting"),
                ("问题", "Issue"),
                ("责任单位", "Unit"),
                ("事项", "Action"),
                ("期限", "Due"),
                ("状态", "Status"),
            ),
            rows=tuple(follow),
        ),
    )
