"""progress: scenarios, enterprises, tasks, meetings, coverage results, KPI snapshots

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 21:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kpi_snapshots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kpi", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("target", sa.Float(), nullable=True),
        sa.Column("met", sa.Boolean(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("definitions_version", sa.String(length=32), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_snapshots")),
        sa.UniqueConstraint("kpi", "scope", "as_of", name=op.f("uq_kpi_snapshots_kpi_scope_as_of")),
    )
    with op.batch_alter_table("kpi_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kpi_snapshots_as_of"), ["as_of"], unique=False)

    op.create_table(
        "plan_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("section", sa.String(length=16), nullable=False),
        sa.Column("number_zh", sa.String(length=32), nullable=False),
        sa.Column("title_zh", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("summary_zh", sa.Text(), nullable=True),
        sa.Column("summary_en", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "not_started",
                "in_progress",
                "blocked",
                "done",
                name="taskstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_tasks")),
        sa.UniqueConstraint("code", name=op.f("uq_plan_tasks_code")),
    )
    with op.batch_alter_table("plan_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_tasks_status"), ["status"], unique=False)

    op.create_table(
        "reported_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=True),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reported_figures")),
        sa.UniqueConstraint(
            "indicator", "year", "scope", name=op.f("uq_reported_figures_indicator_year_scope")
        ),
    )
    op.create_table(
        "application_scenarios",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "industrial-internet",
                "smart-government",
                "smart-transport-connected-vehicles",
                "smart-logistics",
                "smart-education",
                "smart-healthcare",
                "smart-urban-management",
                "targeted-poverty-alleviation",
                "smart-agriculture",
                "disaster-prevention",
                "uhd-video",
                "smart-commerce-tourism",
                name="scenariocategory",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("district_code", sa.String(length=6), nullable=True),
        sa.Column("lon_deg", sa.Float(), nullable=True),
        sa.Column("lat_deg", sa.Float(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "building",
                "in_operation",
                "ended",
                name="scenariostatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("in_operation_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status != 'in_operation' OR in_operation_on IS NOT NULL",
            name=op.f("ck_application_scenarios_operation_date"),
        ),
        sa.CheckConstraint(
            "lat_deg IS NULL OR lat_deg BETWEEN -90 AND 90",
            name=op.f("ck_application_scenarios_lat_range"),
        ),
        sa.CheckConstraint(
            "lon_deg IS NULL OR lon_deg BETWEEN -180 AND 180",
            name=op.f("ck_application_scenarios_lon_range"),
        ),
        sa.CheckConstraint(
            "year BETWEEN 2015 AND 2035", name=op.f("ck_application_scenarios_year_range")
        ),
        sa.ForeignKeyConstraint(
            ["district_code"],
            ["districts.code"],
            name=op.f("fk_application_scenarios_district_code_districts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_scenarios")),
        sa.UniqueConstraint("code", name=op.f("uq_application_scenarios_code")),
    )
    with op.batch_alter_table("application_scenarios", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_scenarios_category"), ["category"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_application_scenarios_district_code"), ["district_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_application_scenarios_status"), ["status"], unique=False
        )

    op.create_table(
        "milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("title_zh", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["plan_tasks.id"],
            name=op.f("fk_milestones_task_id_plan_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestones")),
    )
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_milestones_due_on"), ["due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_milestones_task_id"), ["task_id"], unique=False)

    op.create_table(
        "coverage_results",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("key_area_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("covered_fraction", sa.Float(), nullable=False),
        sa.Column("continuity_fraction", sa.Float(), nullable=False),
        sa.Column("rsrp_threshold_dbm", sa.Float(), nullable=False),
        sa.Column("resolution_m", sa.Float(), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "covered_fraction BETWEEN 0 AND 1 AND continuity_fraction BETWEEN 0 AND 1",
            name=op.f("ck_coverage_results_fractions"),
        ),
        sa.ForeignKeyConstraint(
            ["key_area_id"],
            ["key_areas.id"],
            name=op.f("fk_coverage_results_key_area_id_key_areas"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverage_results")),
    )
    with op.batch_alter_table("coverage_results", schema=None) as batch_op:
        batch_op.create_index(
            "ix_coverage_results_area_date", ["key_area_id", "as_of"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_coverage_results_as_of"), ["as_of"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_coverage_results_key_area_id"), ["key_area_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_coverage_results_run_id"), ["run_id"], unique=False)

    op.create_table(
        "enterprises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "segment",
            sa.Enum(
                "materials",
                "chips",
                "modules",
                "terminals",
                "antenna_feeder",
                "software",
                "applications",
                name="industrysegment",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("district_code", sa.String(length=6), nullable=True),
        sa.Column(
            "zone",
            sa.Enum(
                "liangjiang",
                "high_tech_zone",
                "economic_dev_zone",
                "support_district",
                name="industryzone",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("innovative", sa.Boolean(), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=True),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_code"],
            ["districts.code"],
            name=op.f("fk_enterprises_district_code_districts"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_enterprises_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprises")),
        sa.UniqueConstraint("organisation_id", name=op.f("uq_enterprises_organisation_id")),
    )
    with op.batch_alter_table("enterprises", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enterprises_district_code"), ["district_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_enterprises_segment"), ["segment"], unique=False)

    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("convener_id", sa.Integer(), nullable=False),
        sa.Column("attendees", sa.JSON(), nullable=False),
        sa.Column("minutes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["convener_id"],
            ["organisations.id"],
            name=op.f("fk_meetings_convener_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meetings_held_on"), ["held_on"], unique=False)

    op.create_table(
        "task_units",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "lead", "responsible", name="unitrole", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_task_units_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["plan_tasks.id"],
            name=op.f("fk_task_units_task_id_plan_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", "organisation_id", "role", name=op.f("pk_task_units")),
    )
    op.create_table(
        "enterprise_revenues",
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("revenue_yuan", sa.Float(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "revenue_yuan >= 0", name=op.f("ck_enterprise_revenues_revenue_nonnegative")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_enterprise_revenues_enterprise_id_enterprises"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("enterprise_id", "year", name=op.f("pk_enterprise_revenues")),
    )
    op.create_table(
        "meeting_issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "blocked_site",
                "unreasonable_fee",
                "power_supply",
                "permit",
                "other",
                name="issuekind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("raised_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open", "resolved", name="issuestatus", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_meeting_issues_meeting_id_meetings")
        ),
        sa.ForeignKeyConstraint(
            ["raised_by_id"],
            ["organisations.id"],
            name=op.f("fk_meeting_issues_raised_by_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_issues")),
    )
    with op.batch_alter_table("meeting_issues", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_issues_meeting_id"), ["meeting_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_meeting_issues_status"), ["status"], unique=False)

    op.create_table(
        "scenario_enterprises",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_scenario_enterprises_enterprise_id_enterprises"),
        ),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["application_scenarios.id"],
            name=op.f("fk_scenario_enterprises_scenario_id_application_scenarios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "scenario_id", "enterprise_id", name=op.f("pk_scenario_enterprises")
        ),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["meeting_issues.id"], name=op.f("fk_decisions_issue_id_meeting_issues")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decisions_issue_id"), ["issue_id"], unique=False)

    op.create_table(
        "issue_links",
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "site",
                "structure",
                "sharing_case",
                "sharing_request",
                "key_area",
                "task",
                name="linkkind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["meeting_issues.id"],
            name=op.f("fk_issue_links_issue_id_meeting_issues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("issue_id", "kind", "key", name=op.f("pk_issue_links")),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "not_started",
                "in_progress",
                "blocked",
                "done",
                name="taskstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name=op.f("fk_assignments_decision_id_decisions")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_assignments_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assignments_decision_id"), ["decision_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_assignments_due_on"), ["due_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_assignments_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_assignments_status"), ["status"], unique=False)

    op.create_table(
        "progress_updates",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("milestone_id", sa.Integer(), nullable=True),
        sa.Column("assignment_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("organisation", sa.String(length=64), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "not_started",
                "in_progress",
                "blocked",
                "done",
                name="taskstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "(task_id IS NULL) != (assignment_id IS NULL)",
            name=op.f("ck_progress_updates_one_subject"),
        ),
        sa.CheckConstraint(
            "milestone_id IS NULL OR task_id IS NOT NULL",
            name=op.f("ck_progress_updates_milestone_of_task"),
        ),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_progress_updates_assignment_id_assignments"),
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["milestones.id"],
            name=op.f("fk_progress_updates_milestone_id_milestones"),
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["plan_tasks.id"], name=op.f("fk_progress_updates_task_id_plan_tasks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_progress_updates")),
    )
    with op.batch_alter_table("progress_updates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_progress_updates_assignment_id"), ["assignment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_progress_updates_task_id"), ["task_id"], unique=False)

    with op.batch_alter_table("districts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("population", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("population_year", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("population_source", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("districts", schema=None) as batch_op:
        batch_op.drop_column("population_source")
        batch_op.drop_column("population_year")
        batch_op.drop_column("population")

    with op.batch_alter_table("progress_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_progress_updates_task_id"))
        batch_op.drop_index(batch_op.f("ix_progress_updates_assignment_id"))

    op.drop_table("progress_updates")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignments_status"))
        batch_op.drop_index(batch_op.f("ix_assignments_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_assignments_due_on"))
        batch_op.drop_index(batch_op.f("ix_assignments_decision_id"))

    op.drop_table("assignments")
    op.drop_table("issue_links")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decisions_issue_id"))

    op.drop_table("decisions")
    op.drop_table("scenario_enterprises")
    with op.batch_alter_table("meeting_issues", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_issues_status"))
        batch_op.drop_index(batch_op.f("ix_meeting_issues_meeting_id"))

    op.drop_table("meeting_issues")
    op.drop_table("enterprise_revenues")
    op.drop_table("task_units")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meetings_held_on"))

    op.drop_table("meetings")
    with op.batch_alter_table("enterprises", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enterprises_segment"))
        batch_op.drop_index(batch_op.f("ix_enterprises_district_code"))

    op.drop_table("enterprises")
    with op.batch_alter_table("coverage_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coverage_results_run_id"))
        batch_op.drop_index(batch_op.f("ix_coverage_results_key_area_id"))
        batch_op.drop_index(batch_op.f("ix_coverage_results_as_of"))
        batch_op.drop_index("ix_coverage_results_area_date")

    op.drop_table("coverage_results")
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_milestones_task_id"))
        batch_op.drop_index(batch_op.f("ix_milestones_due_on"))

    op.drop_table("milestones")
    with op.batch_alter_table("application_scenarios", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_scenarios_status"))
        batch_op.drop_index(batch_op.f("ix_application_scenarios_district_code"))
        batch_op.drop_index(batch_op.f("ix_application_scenarios_category"))

    op.drop_table("application_scenarios")
    op.drop_table("reported_figures")
    with op.batch_alter_table("plan_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_tasks_status"))

    op.drop_table("plan_tasks")
    with op.batch_alter_table("kpi_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kpi_snapshots_as_of"))

    op.drop_table("kpi_snapshots")
