"""The registry's tables: organisations, districts, key areas, structures, sites, sectors,
tenancies, users, sharing requests and cases, and the audit log (SQLAlchemy 2.0 typed
declarative; one schema for SQLite and PostGIS).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, ClassVar

import shapely
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

from mastplan.registry.enums import (
    CaseKind,
    CaseOutcome,
    CaseState,
    Confidence,
    DistrictKind,
    KeyAreaCategory,
    OrgKind,
    Rat,
    RegionGroup,
    RequestState,
    SiteStatus,
    StructureKind,
    StructureStatus,
    TenancyStatus,
    UserRole,
)
from mastplan.registry.geometry import GeometryType

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

BigId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only


def _enum(cls: type[StrEnum]) -> Enum:
    """Store an enum as its string value with a CHECK constraint, the same on both databases."""
    return Enum(
        cls,
        name=cls.__name__.lower(),
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in cls),
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention so that migrations name constraints alike."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[str]: JSON}


class Timestamped:
    """Creation and update times, and a version counter for optimistic concurrency."""

    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=_now, onupdate=_now
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}


class Organisation(Timestamped, Base):
    """A government unit, operator, tower company, structure owner or enterprise."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[OrgKind] = mapped_column(_enum(OrgKind))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    short_zh: Mapped[str | None] = mapped_column(String(64))
    short_en: Mapped[str | None] = mapped_column(String(64))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    district_code: Mapped[str | None] = mapped_column(ForeignKey("districts.code"))
    plmn: Mapped[list[str]] = mapped_column(JSON, default=list)
    synthetic: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str | None] = mapped_column(Text)

    parent: Mapped[Organisation | None] = relationship(remote_side=[id])


class District(Timestamped, Base):
    """A district or county of the city (GB/T 2260 code) with its boundary."""

    __tablename__ = "districts"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128))
    kind: Mapped[DistrictKind] = mapped_column(_enum(DistrictKind))
    group: Mapped[RegionGroup] = mapped_column(_enum(RegionGroup))
    boundary: Mapped[shapely.MultiPolygon] = mapped_column(GeometryType("MULTIPOLYGON"))
    population: Mapped[int | None] = mapped_column(Integer)  # resident population (常住人口)
    population_year: Mapped[int | None] = mapped_column(Integer)
    population_source: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (CheckConstraint("length(code) = 6", name="code_length"),)


class KeyArea(Timestamped, Base):
    """An area the plan wants continuously covered by a phase year (专栏2)."""

    __tablename__ = "key_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    category: Mapped[KeyAreaCategory] = mapped_column(_enum(KeyAreaCategory), index=True)
    phase_year: Mapped[int] = mapped_column(Integer, index=True)
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), index=True)
    boundary: Mapped[shapely.MultiPolygon] = mapped_column(GeometryType("MULTIPOLYGON"))
    target_coverage_fraction: Mapped[float] = mapped_column(Float, default=0.95)
    target_rsrp_dbm: Mapped[float] = mapped_column(Float, default=-105.0)
    target_sinr_db: Mapped[float] = mapped_column(Float, default=-3.0)
    target_continuity_fraction: Mapped[float] = mapped_column(Float, default=0.90)
    location_confidence: Mapped[Confidence] = mapped_column(_enum(Confidence))
    location_source: Mapped[str] = mapped_column(Text)
    extent_method: Mapped[str] = mapped_column(String(16))
    buffer_m: Mapped[float | None] = mapped_column(Float)
    anchor_lon_deg: Mapped[float | None] = mapped_column(Float)
    anchor_lat_deg: Mapped[float | None] = mapped_column(Float)
    plan_quote_zh: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("phase_year BETWEEN 2019 AND 2030", name="phase_year_range"),
        CheckConstraint(
            "target_coverage_fraction > 0 AND target_coverage_fraction <= 1",
            name="target_coverage_fraction_range",
        ),
        CheckConstraint(
            "target_continuity_fraction > 0 AND target_continuity_fraction <= 1",
            name="target_continuity_fraction_range",
        ),
    )


class Structure(Timestamped, Base):
    """A tower, pole or rooftop that can carry antennas, with its free capacity.

    On PostgreSQL the migration adds a generated PostGIS column ``geom`` (Point, 4326) from
    ``lon_deg``/``lat_deg`` with a GiST index; the two numbers are the stored truth on both.
    """

    __tablename__ = "structures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[StructureKind] = mapped_column(_enum(StructureKind), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    district_code: Mapped[str | None] = mapped_column(ForeignKey("districts.code"), index=True)
    lon_deg: Mapped[float] = mapped_column(Float)
    lat_deg: Mapped[float] = mapped_column(Float)
    height_m: Mapped[float] = mapped_column(Float)
    mount_positions: Mapped[int] = mapped_column(Integer)
    max_payload_kg: Mapped[float] = mapped_column(Float)
    available_power_kw: Mapped[float] = mapped_column(Float)
    fibre: Mapped[bool] = mapped_column(default=False)
    open_for_sharing: Mapped[bool] = mapped_column(default=True)
    status: Mapped[StructureStatus] = mapped_column(
        _enum(StructureStatus), default=StructureStatus.IN_SERVICE
    )
    synthetic: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str | None] = mapped_column(String(200))

    owner: Mapped[Organisation] = relationship()

    __table_args__ = (
        Index("ix_structures_lon_lat", "lon_deg", "lat_deg"),
        CheckConstraint("lon_deg BETWEEN -180 AND 180", name="lon_range"),
        CheckConstraint("lat_deg BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("height_m > 0", name="height_positive"),
        CheckConstraint("mount_positions >= 1", name="mount_positions_positive"),
        CheckConstraint("max_payload_kg >= 0", name="payload_nonnegative"),
        CheckConstraint("available_power_kw >= 0", name="power_nonnegative"),
    )


class Site(Timestamped, Base):
    """An operator's base station (gNB/eNB) at a location, usually on a structure."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    operator_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    structure_id: Mapped[int | None] = mapped_column(ForeignKey("structures.id"), index=True)
    district_code: Mapped[str | None] = mapped_column(ForeignKey("districts.code"), index=True)
    rat: Mapped[Rat] = mapped_column(_enum(Rat))
    band: Mapped[str | None] = mapped_column(String(8))
    node_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[SiteStatus] = mapped_column(_enum(SiteStatus), index=True)
    lon_deg: Mapped[float] = mapped_column(Float)
    lat_deg: Mapped[float] = mapped_column(Float)
    planned_on: Mapped[dt.date | None] = mapped_column(Date)
    approved_on: Mapped[dt.date | None] = mapped_column(Date)
    built_on: Mapped[dt.date | None] = mapped_column(Date)
    on_air_on: Mapped[dt.date | None] = mapped_column(Date)
    retired_on: Mapped[dt.date | None] = mapped_column(Date)
    synthetic: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str | None] = mapped_column(String(200))

    operator: Mapped[Organisation] = relationship()
    structure: Mapped[Structure | None] = relationship()
    sectors: Mapped[list[Sector]] = relationship(
        back_populates="site", cascade="all, delete-orphan", order_by="Sector.sector_number"
    )

    __table_args__ = (
        Index("ix_sites_lon_lat", "lon_deg", "lat_deg"),
        CheckConstraint("lon_deg BETWEEN -180 AND 180", name="lon_range"),
        CheckConstraint("lat_deg BETWEEN -90 AND 90", name="lat_range"),
    )


class Sector(Timestamped, Base):
    """A sector (cell) of a site: where its antenna points and how it transmits."""

    __tablename__ = "sectors"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    sector_number: Mapped[int] = mapped_column(Integer)
    cell_identity: Mapped[int | None] = mapped_column(BigInteger)
    pci: Mapped[int | None] = mapped_column(Integer)
    azimuth_deg: Mapped[float | None] = mapped_column(Float)
    mechanical_tilt_deg: Mapped[float] = mapped_column(Float, default=0.0)
    electrical_tilt_deg: Mapped[float] = mapped_column(Float, default=0.0)
    antenna_height_m: Mapped[float | None] = mapped_column(Float)
    tx_power_dbm: Mapped[float | None] = mapped_column(Float)
    bandwidth_mhz: Mapped[float | None] = mapped_column(Float)
    carrier_frequency_mhz: Mapped[float | None] = mapped_column(Float)
    antenna_pattern: Mapped[str | None] = mapped_column(String(128))

    site: Mapped[Site] = relationship(back_populates="sectors")

    __table_args__ = (
        UniqueConstraint("site_id", "sector_number"),
        CheckConstraint(
            "azimuth_deg IS NULL OR (azimuth_deg >= 0 AND azimuth_deg < 360)", name="azimuth_range"
        ),
        CheckConstraint("pci IS NULL OR (pci >= 0 AND pci <= 1007)", name="pci_range"),
    )


class Tenancy(Timestamped, Base):
    """An operator's occupation of mount positions (and payload and power) on a structure."""

    __tablename__ = "tenancies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    status: Mapped[TenancyStatus] = mapped_column(
        _enum(TenancyStatus), default=TenancyStatus.ACTIVE
    )
    payload_kg: Mapped[float] = mapped_column(Float, default=0.0)
    power_kw: Mapped[float] = mapped_column(Float, default=0.0)
    start_on: Mapped[dt.date | None] = mapped_column(Date)
    end_on: Mapped[dt.date | None] = mapped_column(Date)

    structure: Mapped[Structure] = relationship()
    operator: Mapped[Organisation] = relationship()
    positions: Mapped[list[TenancyPosition]] = relationship(
        back_populates="tenancy", cascade="all, delete-orphan", order_by="TenancyPosition.position"
    )

    __table_args__ = (
        CheckConstraint("payload_kg >= 0", name="payload_nonnegative"),
        CheckConstraint("power_kw >= 0", name="power_nonnegative"),
    )


class TenancyPosition(Base):
    """One occupied mount position. The primary key (structure, position) makes a double booking
    impossible in the database itself, whatever the concurrency."""

    __tablename__ = "tenancy_positions"

    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenancy_id: Mapped[int] = mapped_column(
        ForeignKey("tenancies.id", ondelete="CASCADE"), index=True
    )

    tenancy: Mapped[Tenancy] = relationship(back_populates="positions")

    __table_args__ = (CheckConstraint("position >= 1", name="position_positive"),)


class User(Timestamped, Base):
    """A person who acts in mastplan: one organisation, one role."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[UserRole] = mapped_column(_enum(UserRole))
    active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))  # argon2id; None: no login

    organisation: Mapped[Organisation] = relationship()


class SharingRequest(Timestamped, Base):
    """An operator's request for space on a structure (共建共享), from draft to release.

    ``positions`` lists the mount positions asked for by number, or is empty when any
    ``position_count`` free ones will do (they are chosen at approval). ``tenancy_id`` is the
    lease approval created; it holds the positions, payload and power until release.
    """

    __tablename__ = "sharing_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    state: Mapped[RequestState] = mapped_column(_enum(RequestState), index=True)
    positions: Mapped[list[int]] = mapped_column(JSON, default=list)
    position_count: Mapped[int] = mapped_column(Integer)
    mount_height_m: Mapped[float] = mapped_column(Float)
    payload_kg: Mapped[float] = mapped_column(Float)
    wind_area_m2: Mapped[float] = mapped_column(Float, default=0.0)
    power_kw: Mapped[float] = mapped_column(Float)
    fibre: Mapped[bool] = mapped_column(default=False)
    fee_offer: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    filed_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    answer_due_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    policy_version: Mapped[str | None] = mapped_column(String(64))
    tenancy_id: Mapped[int | None] = mapped_column(ForeignKey("tenancies.id"))
    last_reason: Mapped[str | None] = mapped_column(Text)

    operator: Mapped[Organisation] = relationship()
    structure: Mapped[Structure] = relationship()
    site: Mapped[Site | None] = relationship()
    tenancy: Mapped[Tenancy | None] = relationship()

    __table_args__ = (
        CheckConstraint("position_count >= 1", name="position_count_positive"),
        CheckConstraint("mount_height_m > 0", name="mount_height_positive"),
        CheckConstraint("payload_kg >= 0", name="payload_nonnegative"),
        CheckConstraint("wind_area_m2 >= 0", name="wind_area_nonnegative"),
        CheckConstraint("power_kw >= 0", name="power_nonnegative"),
    )


class SharingCase(Timestamped, Base):
    """A matter for the regulator: an owner's overdue answer or a fee offer against the policy.

    At most one open case of each kind per request (a partial unique index on both databases).
    """

    __tablename__ = "sharing_cases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[CaseKind] = mapped_column(_enum(CaseKind))
    request_id: Mapped[int] = mapped_column(ForeignKey("sharing_requests.id"), index=True)
    state: Mapped[CaseState] = mapped_column(_enum(CaseState), default=CaseState.OPEN, index=True)
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    opened_by: Mapped[str] = mapped_column(String(64))
    detail: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    outcome: Mapped[CaseOutcome | None] = mapped_column(_enum(CaseOutcome))
    decision: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    request: Mapped[SharingRequest] = relationship()

    __table_args__ = (
        Index(
            "uq_sharing_cases_open",
            "request_id",
            "kind",
            unique=True,
            sqlite_where=text("state = 'open'"),
            postgresql_where=text("state = 'open'"),
        ),
    )


class AuditEntry(Base):
    """Who changed what, when, from what to what, why, and under which request."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(128))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str] = mapped_column(String(64), index=True)
    organisation: Mapped[str | None] = mapped_column(String(128))
    # tamper evidence: each entry's hash covers its content and the previous entry's hash
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)
