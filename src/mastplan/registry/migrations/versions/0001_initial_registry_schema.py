"""initial registry schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 06:46:10.023112
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mastplan.registry.geometry

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


POINT_TABLES = ("structures", "sites")
POLYGON_TABLES = ("districts", "key_areas")


def upgrade() -> None:
    postgis = op.get_bind().dialect.name == "postgresql"
    if postgis:
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=128), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index("ix_audit_log_entity", ["entity", "entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_request_id"), ["request_id"], unique=False)

    op.create_table(
        "districts",
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("name_zh", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=128), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "district",
                "county",
                "autonomous_county",
                name="districtkind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "group",
            sa.Enum(
                "central_urban",
                "new_urban",
                "three_gorges",
                "wuling",
                name="regiongroup",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "boundary", mastplan.registry.geometry.GeometryType("MULTIPOLYGON"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("length(code) = 6", name=op.f("ck_districts_code_length")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_districts")),
    )
    op.create_table(
        "key_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "transport_hub",
                "business_district",
                "riverside",
                "university",
                "government",
                "digital_park",
                "free_trade_zone",
                "industrial_park",
                "hospital",
                "scenic_area",
                "district_urban_area",
                "highway",
                name="keyareacategory",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("phase_year", sa.Integer(), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column(
            "boundary", mastplan.registry.geometry.GeometryType("MULTIPOLYGON"), nullable=False
        ),
        sa.Column("target_coverage_fraction", sa.Float(), nullable=False),
        sa.Column("target_rsrp_dbm", sa.Float(), nullable=False),
        sa.Column("target_sinr_db", sa.Float(), nullable=False),
        sa.Column("target_continuity_fraction", sa.Float(), nullable=False),
        sa.Column(
            "location_confidence",
            sa.Enum(
                "high",
                "medium",
                "low",
                name="confidence",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("location_source", sa.Text(), nullable=False),
        sa.Column("extent_method", sa.String(length=16), nullable=False),
        sa.Column("buffer_m", sa.Float(), nullable=True),
        sa.Column("anchor_lon_deg", sa.Float(), nullable=True),
        sa.Column("anchor_lat_deg", sa.Float(), nullable=True),
        sa.Column("plan_quote_zh", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "phase_year BETWEEN 2019 AND 2030", name=op.f("ck_key_areas_phase_year_range")
        ),
        sa.CheckConstraint(
            "target_continuity_fraction > 0 AND target_continuity_fraction <= 1",
            name=op.f("ck_key_areas_target_continuity_fraction_range"),
        ),
        sa.CheckConstraint(
            "target_coverage_fraction > 0 AND target_coverage_fraction <= 1",
            name=op.f("ck_key_areas_target_coverage_fraction_range"),
        ),
        sa.ForeignKeyConstraint(
            ["district_code"], ["districts.code"], name=op.f("fk_key_areas_district_code_districts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_areas")),
        sa.UniqueConstraint("code", name=op.f("uq_key_areas_code")),
    )
    with op.batch_alter_table("key_areas", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_key_areas_category"), ["category"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_key_areas_district_code"), ["district_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_key_areas_phase_year"), ["phase_year"], unique=False)

    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "government_unit",
                "operator",
                "tower_company",
                "structure_owner",
                "enterprise",
                name="orgkind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("short_zh", sa.String(length=64), nullable=True),
        sa.Column("short_en", sa.String(length=64), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("district_code", sa.String(length=6), nullable=True),
        sa.Column("plmn", sa.JSON(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_code"],
            ["districts.code"],
            name=op.f("fk_organisations_district_code_districts"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["organisations.id"],
            name=op.f("fk_organisations_parent_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("code", name=op.f("uq_organisations_code")),
    )
    op.create_table(
        "structures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "telecom_tower",
                "lamp_pole",
                "traffic_signal_pole",
                "cctv_pole",
                "power_pole",
                "rooftop",
                "smart_pole",
                name="structurekind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=True),
        sa.Column("lon_deg", sa.Float(), nullable=False),
        sa.Column("lat_deg", sa.Float(), nullable=False),
        sa.Column("height_m", sa.Float(), nullable=False),
        sa.Column("mount_positions", sa.Integer(), nullable=False),
        sa.Column("max_payload_kg", sa.Float(), nullable=False),
        sa.Column("available_power_kw", sa.Float(), nullable=False),
        sa.Column("fibre", sa.Boolean(), nullable=False),
        sa.Column("open_for_sharing", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "in_service",
                "decommissioned",
                name="structurestatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("available_power_kw >= 0", name=op.f("ck_structures_power_nonnegative")),
        sa.CheckConstraint("height_m > 0", name=op.f("ck_structures_height_positive")),
        sa.CheckConstraint("lat_deg BETWEEN -90 AND 90", name=op.f("ck_structures_lat_range")),
        sa.CheckConstraint("lon_deg BETWEEN -180 AND 180", name=op.f("ck_structures_lon_range")),
        sa.CheckConstraint("max_payload_kg >= 0", name=op.f("ck_structures_payload_nonnegative")),
        sa.CheckConstraint(
            "mount_positions >= 1", name=op.f("ck_structures_mount_positions_positive")
        ),
        sa.ForeignKeyConstraint(
            ["district_code"],
            ["districts.code"],
            name=op.f("fk_structures_district_code_districts"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["organisations.id"], name=op.f("fk_structures_owner_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_structures")),
        sa.UniqueConstraint("external_id", name=op.f("uq_structures_external_id")),
    )
    with op.batch_alter_table("structures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_structures_district_code"), ["district_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_structures_kind"), ["kind"], unique=False)
        batch_op.create_index("ix_structures_lon_lat", ["lon_deg", "lat_deg"], unique=False)
        batch_op.create_index(batch_op.f("ix_structures_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "sites",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column(
            "structure_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("district_code", sa.String(length=6), nullable=True),
        sa.Column(
            "rat",
            sa.Enum(
                "gsm", "umts", "lte", "nr", name="rat", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("band", sa.String(length=8), nullable=True),
        sa.Column("node_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "approved",
                "built",
                "on_air",
                "retired",
                name="sitestatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("lon_deg", sa.Float(), nullable=False),
        sa.Column("lat_deg", sa.Float(), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=True),
        sa.Column("approved_on", sa.Date(), nullable=True),
        sa.Column("built_on", sa.Date(), nullable=True),
        sa.Column("on_air_on", sa.Date(), nullable=True),
        sa.Column("retired_on", sa.Date(), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("lat_deg BETWEEN -90 AND 90", name=op.f("ck_sites_lat_range")),
        sa.CheckConstraint("lon_deg BETWEEN -180 AND 180", name=op.f("ck_sites_lon_range")),
        sa.ForeignKeyConstraint(
            ["district_code"], ["districts.code"], name=op.f("fk_sites_district_code_districts")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["organisations.id"], name=op.f("fk_sites_operator_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["structure_id"], ["structures.id"], name=op.f("fk_sites_structure_id_structures")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("external_id", name=op.f("uq_sites_external_id")),
    )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sites_district_code"), ["district_code"], unique=False)
        batch_op.create_index("ix_sites_lon_lat", ["lon_deg", "lat_deg"], unique=False)
        batch_op.create_index(batch_op.f("ix_sites_operator_id"), ["operator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sites_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_sites_structure_id"), ["structure_id"], unique=False)

    op.create_table(
        "sectors",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("site_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sector_number", sa.Integer(), nullable=False),
        sa.Column("cell_identity", sa.BigInteger(), nullable=True),
        sa.Column("pci", sa.Integer(), nullable=True),
        sa.Column("azimuth_deg", sa.Float(), nullable=True),
        sa.Column("mechanical_tilt_deg", sa.Float(), nullable=False),
        sa.Column("electrical_tilt_deg", sa.Float(), nullable=False),
        sa.Column("antenna_height_m", sa.Float(), nullable=True),
        sa.Column("tx_power_dbm", sa.Float(), nullable=True),
        sa.Column("bandwidth_mhz", sa.Float(), nullable=True),
        sa.Column("carrier_frequency_mhz", sa.Float(), nullable=True),
        sa.Column("antenna_pattern", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "azimuth_deg IS NULL OR (azimuth_deg >= 0 AND azimuth_deg < 360)",
            name=op.f("ck_sectors_azimuth_range"),
        ),
        sa.CheckConstraint(
            "pci IS NULL OR (pci >= 0 AND pci <= 1007)", name=op.f("ck_sectors_pci_range")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_sectors_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sectors")),
        sa.UniqueConstraint(
            "site_id", "sector_number", name=op.f("uq_sectors_site_id_sector_number")
        ),
    )
    with op.batch_alter_table("sectors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sectors_site_id"), ["site_id"], unique=False)

    op.create_table(
        "tenancies",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "structure_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "released",
                name="tenancystatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("payload_kg", sa.Float(), nullable=False),
        sa.Column("power_kw", sa.Float(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=True),
        sa.Column("end_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("payload_kg >= 0", name=op.f("ck_tenancies_payload_nonnegative")),
        sa.CheckConstraint("power_kw >= 0", name=op.f("ck_tenancies_power_nonnegative")),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["organisations.id"],
            name=op.f("fk_tenancies_operator_id_organisations"),
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_tenancies_site_id_sites")),
        sa.ForeignKeyConstraint(
            ["structure_id"], ["structures.id"], name=op.f("fk_tenancies_structure_id_structures")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenancies")),
    )
    with op.batch_alter_table("tenancies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tenancies_operator_id"), ["operator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tenancies_site_id"), ["site_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_tenancies_structure_id"), ["structure_id"], unique=False
        )

    op.create_table(
        "tenancy_positions",
        sa.Column(
            "structure_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "tenancy_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.CheckConstraint("position >= 1", name=op.f("ck_tenancy_positions_position_positive")),
        sa.ForeignKeyConstraint(
            ["structure_id"],
            ["structures.id"],
            name=op.f("fk_tenancy_positions_structure_id_structures"),
        ),
        sa.ForeignKeyConstraint(
            ["tenancy_id"],
            ["tenancies.id"],
            name=op.f("fk_tenancy_positions_tenancy_id_tenancies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("structure_id", "position", name=op.f("pk_tenancy_positions")),
    )
    with op.batch_alter_table("tenancy_positions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tenancy_positions_tenancy_id"), ["tenancy_id"], unique=False
        )

    if postgis:
        # A real geometry column, kept in step with lon_deg/lat_deg by the database itself.
        for table in POINT_TABLES:
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN geom geometry(Point, 4326) GENERATED ALWAYS AS "
                "(ST_SetSRID(ST_MakePoint(lon_deg, lat_deg), 4326)) STORED"
            )
            op.execute(f"CREATE INDEX ix_{table}_geom_gist ON {table} USING gist (geom)")
        for table in POLYGON_TABLES:
            op.execute(f"CREATE INDEX ix_{table}_boundary_gist ON {table} USING gist (boundary)")


def downgrade() -> None:
    with op.batch_alter_table("tenancy_positions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tenancy_positions_tenancy_id"))

    op.drop_table("tenancy_positions")
    with op.batch_alter_table("tenancies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tenancies_structure_id"))
        batch_op.drop_index(batch_op.f("ix_tenancies_site_id"))
        batch_op.drop_index(batch_op.f("ix_tenancies_operator_id"))

    op.drop_table("tenancies")
    with op.batch_alter_table("sectors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sectors_site_id"))

    op.drop_table("sectors")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sites_structure_id"))
        batch_op.drop_index(batch_op.f("ix_sites_status"))
        batch_op.drop_index(batch_op.f("ix_sites_operator_id"))
        batch_op.drop_index("ix_sites_lon_lat")
        batch_op.drop_index(batch_op.f("ix_sites_district_code"))

    op.drop_table("sites")
    with op.batch_alter_table("structures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_structures_owner_id"))
        batch_op.drop_index("ix_structures_lon_lat")
        batch_op.drop_index(batch_op.f("ix_structures_kind"))
        batch_op.drop_index(batch_op.f("ix_structures_district_code"))

    op.drop_table("structures")
    op.drop_table("organisations")
    with op.batch_alter_table("key_areas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_areas_phase_year"))
        batch_op.drop_index(batch_op.f("ix_key_areas_district_code"))
        batch_op.drop_index(batch_op.f("ix_key_areas_category"))

    op.drop_table("key_areas")
    op.drop_table("districts")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_request_id"))
        batch_op.drop_index("ix_audit_log_entity")
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
