"""The tables of the plan's progress: application scenarios, enterprises and their revenue,
reported figures, plan tasks with units, milestones and updates, the joint meeting's issues,
decisions and assignments, coverage results of key areas, and KPI snapshots.

They share the registry's declarative base, so one Alembic history and one schema serve both
databases (the migration ``0005``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mastplan.progress.enums import (
    IndustrySegment,
    IndustryZone,
    IssueKind,
    IssueStatus,
    LinkKind,
    ScenarioCategory,
    ScenarioStatus,
    TaskStatus,
    UnitRole,
)
from mastplan.registry.models import Base, BigId, KeyArea, Organisation, Timestamped, _enum, _now


class Enterprise(Timestamped, Base):
    """A 5G-industry or 5G-application enterprise: an organisation of kind enterprise, with its
    segment of the chain and its place in the "3+X" pattern."""

    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), unique=True)
    segment: Mapped[IndustrySegment] = mapped_column(_enum(IndustrySegment), index=True)
    district_code: Mapped[str | None] = mapped_column(ForeignKey("districts.code"), index=True)
    zone: Mapped[IndustryZone] = mapped_column(_enum(IndustryZone))
    innovative: Mapped[bool] = mapped_column(default=False)  # counts for 5g-innovative-enterprises
    registered_on: Mapped[dt.date | None] = mapped_column(Date)  # attracted or cultivated
    demo: Mapped[bool] = mapped_column(default=False)  # seeded demonstration data, not real
    source: Mapped[str | None] = mapped_column(Text)

    organisation: Mapped[Organisation] = relationship()
    revenues: Mapped[list[EnterpriseRevenue]] = relationship(
        back_populates="enterprise", cascade="all, delete-orphan", order_by="EnterpriseRevenue.year"
    )


class EnterpriseRevenue(Base):
    """An enterprise's main-business revenue (主营业务收入) in one year."""

    __tablename__ = "enterprise_revenues"

    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    revenue_yuan: Mapped[float] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(Text)

    enterprise: Mapped[Enterprise] = relationship(back_populates="revenues")

    __table_args__ = (CheckConstraint("revenue_yuan >= 0", name="revenue_nonnegative"),)


class ScenarioEnterprise(Base):
    """An enterprise involved in an application scenario."""

    __tablename__ = "scenario_enterprises"

    scenario_id: Mapped[int] = mapped_column(
        ForeignKey("application_scenarios.id", ondelete="CASCADE"), primary_key=True
    )
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), primary_key=True)


class ApplicationScenario(Timestamped, Base):
    """A 5G application scenario (示范应用场景): a 5G smart factory, a remote-medicine site …"""

    __tablename__ = "application_scenarios"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    category: Mapped[ScenarioCategory] = mapped_column(_enum(ScenarioCategory), index=True)
    district_code: Mapped[str | None] = mapped_column(ForeignKey("districts.code"), index=True)
    lon_deg: Mapped[float | None] = mapped_column(Float)
    lat_deg: Mapped[float | None] = mapped_column(Float)
    status: Mapped[ScenarioStatus] = mapped_column(_enum(ScenarioStatus), index=True)
    year: Mapped[int] = mapped_column(Integer)  # the year it was (or is to be) launched
    in_operation_on: Mapped[dt.date | None] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    demo: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)

    enterprises: Mapped[list[Enterprise]] = relationship(secondary="scenario_enterprises")

    __table_args__ = (
        CheckConstraint("year BETWEEN 2015 AND 2035", name="year_range"),
        CheckConstraint("lon_deg IS NULL OR lon_deg BETWEEN -180 AND 180", name="lon_range"),
        CheckConstraint("lat_deg IS NULL OR lat_deg BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint(
            "status != 'in_operation' OR in_operation_on IS NOT NULL", name="operation_date"
        ),
    )


class ReportedFigure(Timestamped, Base):
    """A figure the statistics authorities report and mastplan records, not computes (e.g. the
    5G industry's revenue of a year)."""

    __tablename__ = "reported_figures"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    scope: Mapped[str] = mapped_column(String(64), default="city")
    value: Mapped[float] = mapped_column(Float)
    reported_on: Mapped[dt.date | None] = mapped_column(Date)
    demo: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("indicator", "year", "scope"),)


class PlanTask(Timestamped, Base):
    """A task of the plan (二、重点任务 or 三、保障措施) and where it stands."""

    __tablename__ = "plan_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    section: Mapped[str] = mapped_column(String(16))
    number_zh: Mapped[str] = mapped_column(String(32))
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    summary_zh: Mapped[str | None] = mapped_column(Text)
    summary_en: Mapped[str | None] = mapped_column(Text)
    status: Mapped[TaskStatus] = mapped_column(
        _enum(TaskStatus), default=TaskStatus.NOT_STARTED, index=True
    )

    units: Mapped[list[TaskUnit]] = relationship(
        back_populates="task", cascade="all, delete-orphan"
    )
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="task", cascade="all, delete-orphan", order_by="Milestone.due_on"
    )


class TaskUnit(Base):
    """An organisation's part in a task: lead unit (牵头单位) or responsible unit (责任单位)."""

    __tablename__ = "task_units"

    task_id: Mapped[int] = mapped_column(
        ForeignKey("plan_tasks.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    role: Mapped[UnitRole] = mapped_column(_enum(UnitRole), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # the plan's order

    task: Mapped[PlanTask] = relationship(back_populates="units")
    organisation: Mapped[Organisation] = relationship()


class Milestone(Timestamped, Base):
    """A dated step of a task; overdue when not done by its due date."""

    __tablename__ = "milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(
        ForeignKey("plan_tasks.id", ondelete="CASCADE"), index=True
    )
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[dt.date] = mapped_column(Date, index=True)
    done_on: Mapped[dt.date | None] = mapped_column(Date)

    task: Mapped[PlanTask] = relationship(back_populates="milestones")


class Meeting(Timestamped, Base):
    """A session of the joint meeting (联席会议) or of its office."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    held_on: Mapped[dt.date] = mapped_column(Date, index=True)
    title: Mapped[str] = mapped_column(String(200))
    convener_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    attendees: Mapped[list[str]] = mapped_column(JSON, default=list)  # organisation codes
    minutes: Mapped[str | None] = mapped_column(Text)

    convener: Mapped[Organisation] = relationship()
    issues: Mapped[list[MeetingIssue]] = relationship(
        back_populates="meeting", order_by="MeetingIssue.id"
    )


class MeetingIssue(Timestamped, Base):
    """A problem raised at a meeting: a blocked site, an unreasonable fee, a power supply …"""

    __tablename__ = "meeting_issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    kind: Mapped[IssueKind] = mapped_column(_enum(IssueKind))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    status: Mapped[IssueStatus] = mapped_column(
        _enum(IssueStatus), default=IssueStatus.OPEN, index=True
    )
    resolved_on: Mapped[dt.date | None] = mapped_column(Date)

    meeting: Mapped[Meeting] = relationship(back_populates="issues")
    raised_by: Mapped[Organisation | None] = relationship()
    links: Mapped[list[IssueLink]] = relationship(cascade="all, delete-orphan")
    decisions: Mapped[list[Decision]] = relationship(back_populates="issue", order_by="Decision.id")


class IssueLink(Base):
    """What a meeting issue is about: a site, structure, sharing case or request, key area or
    plan task, by its registry key."""

    __tablename__ = "issue_links"

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_issues.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[LinkKind] = mapped_column(_enum(LinkKind), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)


class Decision(Timestamped, Base):
    """What the meeting decided on an issue."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("meeting_issues.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    decided_on: Mapped[dt.date] = mapped_column(Date)

    issue: Mapped[MeetingIssue] = relationship(back_populates="decisions")
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="decision", order_by="Assignment.id"
    )


class Assignment(Timestamped, Base):
    """A unit's action on a decision, due by a date, followed up until closed."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    action: Mapped[str] = mapped_column(Text)
    due_on: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[TaskStatus] = mapped_column(
        _enum(TaskStatus), default=TaskStatus.NOT_STARTED, index=True
    )
    closed_on: Mapped[dt.date | None] = mapped_column(Date)

    decision: Mapped[Decision] = relationship(back_populates="assignments")
    organisation: Mapped[Organisation] = relationship()


class ProgressUpdate(Base):
    """A status update with evidence, on a plan task (or one of its milestones) or on a
    meeting's assignment (a follow-up). Append-only: the history of where things stood."""

    __tablename__ = "progress_updates"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("plan_tasks.id"), index=True)
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestones.id"))
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    author: Mapped[str] = mapped_column(String(64))
    organisation: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[TaskStatus] = mapped_column(_enum(TaskStatus))
    note: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)  # documents, URLs, photos

    __table_args__ = (
        CheckConstraint("(task_id IS NULL) != (assignment_id IS NULL)", name="one_subject"),
        CheckConstraint("milestone_id IS NULL OR task_id IS NOT NULL", name="milestone_of_task"),
    )


class CoverageResult(Base):
    """A key area's coverage statistics from one coverage run, for the network as of a date:
    the source of the key-area KPIs (never typed in)."""

    __tablename__ = "coverage_results"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), index=True)
    key_area_id: Mapped[int] = mapped_column(ForeignKey("key_areas.id"), index=True)
    as_of: Mapped[dt.date] = mapped_column(Date, index=True)  # the network predicted
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    covered_fraction: Mapped[float] = mapped_column(Float)
    continuity_fraction: Mapped[float] = mapped_column(Float)
    rsrp_threshold_dbm: Mapped[float] = mapped_column(Float)
    resolution_m: Mapped[float] = mapped_column(Float)
    operator: Mapped[str | None] = mapped_column(String(64))  # None: all operators together
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    key_area: Mapped[KeyArea] = relationship()

    __table_args__ = (
        CheckConstraint(
            "covered_fraction BETWEEN 0 AND 1 AND continuity_fraction BETWEEN 0 AND 1",
            name="fractions",
        ),
        Index("ix_coverage_results_area_date", "key_area_id", "as_of"),
    )


class KpiSnapshot(Base):
    """A KPI's value for one scope on one date, kept as computed then."""

    __tablename__ = "kpi_snapshots"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kpi: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(64))  # city, a district code or a key-area code
    as_of: Mapped[dt.date] = mapped_column(Date, index=True)
    value: Mapped[float | None] = mapped_column(Float)
    target: Mapped[float | None] = mapped_column(Float)
    met: Mapped[bool | None] = mapped_column()
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    definitions_version: Mapped[str] = mapped_column(String(32))
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)

    __table_args__ = (UniqueConstraint("kpi", "scope", "as_of"),)
