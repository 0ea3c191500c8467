"""sharing requests and cases

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sharing_requests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column(
            "structure_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("site_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "submitted",
                "under_review",
                "changes_requested",
                "approved",
                "rejected",
                "withdrawn",
                "installed",
                "active",
                "released",
                name="requeststate",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("positions", sa.JSON(), nullable=False),
        sa.Column("position_count", sa.Integer(), nullable=False),
        sa.Column("mount_height_m", sa.Float(), nullable=False),
        sa.Column("payload_kg", sa.Float(), nullable=False),
        sa.Column("wind_area_m2", sa.Float(), nullable=False),
        sa.Column("power_kw", sa.Float(), nullable=False),
        sa.Column("fibre", sa.Boolean(), nullable=False),
        sa.Column("fee_offer", sa.JSON(), nullable=False),
        sa.Column("filed_by", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answer_due_on", sa.Date(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("policy_version", sa.String(length=64), nullable=True),
        sa.Column(
            "tenancy_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("last_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "mount_height_m > 0", name=op.f("ck_sharing_requests_mount_height_positive")
        ),
        sa.CheckConstraint("payload_kg >= 0", name=op.f("ck_sharing_requests_payload_nonnegative")),
        sa.CheckConstraint(
            "position_count >= 1", name=op.f("ck_sharing_requests_position_count_positive")
        ),
        sa.CheckConstraint("power_kw >= 0", name=op.f("ck_sharing_requests_power_nonnegative")),
        sa.CheckConstraint(
            "wind_area_m2 >= 0", name=op.f("ck_sharing_requests_wind_area_nonnegative")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["organisations.id"],
            name=op.f("fk_sharing_requests_operator_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_sharing_requests_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["structure_id"],
            ["structures.id"],
            name=op.f("fk_sharing_requests_structure_id_structures"),
        ),
        sa.ForeignKeyConstraint(
            ["tenancy_id"], ["tenancies.id"], name=op.f("fk_sharing_requests_tenancy_id_tenancies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_requests")),
    )
    with op.batch_alter_table("sharing_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sharing_requests_answer_due_on"), ["answer_due_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sharing_requests_operator_id"), ["operator_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sharing_requests_state"), ["state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sharing_requests_structure_id"), ["structure_id"], unique=False
        )

    op.create_table(
        "sharing_cases",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "overdue_answer",
                "fee_complaint",
                name="casekind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "state",
            sa.Enum("open", "decided", name="casestate", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "upheld", "dismissed", name="caseoutcome", native_enum=False, create_constraint=True
            ),
            nullable=True,
        ),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["sharing_requests.id"],
            name=op.f("fk_sharing_cases_request_id_sharing_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_cases")),
    )
    with op.batch_alter_table("sharing_cases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sharing_cases_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sharing_cases_state"), ["state"], unique=False)
        batch_op.create_index(
            "uq_sharing_cases_open",
            ["request_id", "kind"],
            unique=True,
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("sharing_cases", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_sharing_cases_open",
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        )
        batch_op.drop_index(batch_op.f("ix_sharing_cases_state"))
        batch_op.drop_index(batch_op.f("ix_sharing_cases_request_id"))

    op.drop_table("sharing_cases")
    with op.batch_alter_table("sharing_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sharing_requests_structure_id"))
        batch_op.drop_index(batch_op.f("ix_sharing_requests_state"))
        batch_op.drop_index(batch_op.f("ix_sharing_requests_operator_id"))
        batch_op.drop_index(batch_op.f("ix_sharing_requests_answer_due_on"))

    op.drop_table("sharing_requests")
