"""The registry over HTTP: districts, key areas, structures, sites, organisations, users and
the audit log of one object; structures are created and changed, and sites moved along their
lifecycle, here too.

Lists of places are GeoJSON FeatureCollections (WGS84, ``[lon, lat]``). Structures and sites
are paged by a cursor: each page carries ``next_cursor`` (``null`` on the last page) to pass
back as ``cursor``. What the caller may see is :mod:`mastplan.sharing.access`'s rule: another
operator's planned or approved site, its tenancies, its sharing requests and their audit do not
exist for an operator (404, never 403).

A structure and a site carry an ``ETag`` (:mod:`mastplan.api.etags`); a write sent with
``If-Match`` happens only if the object is still at that version, checked under the row lock in
the write transaction (else 412). Who may write is the services' rule
(:func:`mastplan.registry.structures.require_structure_writer`,
:func:`mastplan.registry.sites.require_site_writer`); a refusal is 400.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Annotated, Any, Generic, Literal, TypeVar

import pydantic_core
import shapely
from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mastplan.api import etags
from mastplan.api.deps import DB, Authed
from mastplan.api.etags import IfMatch
from mastplan.api.schemas import ERRORS, NOT_FOUND, VERSIONED_WRITE, WRITE_ERRORS, location, problem
from mastplan.errors import NotFoundError
from mastplan.progress.models import CoverageResult
from mastplan.registry.enums import (
    KeyAreaCategory,
    OrgKind,
    Rat,
    SiteStatus,
    StructureKind,
    StructureStatus,
    UserRole,
    plain,
)
from mastplan.registry.models import (
    AuditEntry,
    District,
    KeyArea,
    Organisation,
    Sector,
    Site,
    Structure,
    Tenancy,
    TenancyPosition,
    User,
)
from mastplan.registry.queries import in_bbox
from mastplan.sharing.access import sees_fees, site_filter

#: Most features on one page of structures or sites.
MAX_PAGE = 5000
DEFAULT_PAGE = 1000
#: Largest id a cursor may name (the databases' 64-bit keys).
MAX_ID = 2**63 - 1


router = APIRouter(tags=["registry"], responses=ERRORS)


# --- GeoJSON ------------------------------------------------------------------------------------

P = TypeVar("P", bound=BaseModel)


class Geometry(BaseModel):
    """A GeoJSON geometry (WGS84 degrees, ``[lon, lat]``)."""

    type: str
    coordinates: list[Any]


class Feature(BaseModel, Generic[P]):
    """A GeoJSON feature; ``id`` is the object's code or external id."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: Geometry
    properties: P


class FeatureCollection(BaseModel, Generic[P]):
    """A GeoJSON feature collection; ``next_cursor`` pages where the endpoint pages."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature[P]]
    next_cursor: int | None = None


def _geometry(geom: shapely.Geometry) -> Geometry:
    return Geometry(**shapely.geometry.mapping(geom))


def _point(lon: float, lat: float) -> Geometry:
    return Geometry(type="Point", coordinates=[lon, lat])


def points_page(
    rows: list, limit: int, fields: Callable[[Any], dict[str, Any]], lonlat: tuple[int, int]
) -> Response:
    """A page of points (rows of ``id, code, …``; up to ``limit + 1`` of them) as the JSON of
    ``FeatureCollection[…Props]``, encoded straight from the rows: the endpoint keeps its
    ``response_model`` for the schema, but a page of thousands of features costs no model per
    feature (three each, and a validation of them all, made the page 3× slower)."""
    page = rows[:limit]
    x, y = lonlat
    body = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": r[1],
             "geometry": {"type": "Point", "coordinates": [r[x], r[y]]},
             "properties": fields(r)}
            for r in page
        ],
        "next_cursor": page[-1][0] if len(rows) > limit else None,
    }  # fmt: skip
    return Response(pydantic_core.to_json(body), media_type="application/json")


_NUMBER = r"-?[0-9]{1,3}(\.[0-9]{1,12})?"
BboxQuery = Annotated[
    str | None,
    Query(pattern=rf"^{_NUMBER}(,{_NUMBER}){{3}}$", examples=["106.55,29.55,106.60,29.58"],
          description="minlon,minlat,maxlon,maxlat (WGS84 degrees)"),
]  # fmt: skip


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """``minlon,minlat,maxlon,maxlat`` as four numbers; 422 when it is not one."""
    if value is None:
        return None
    try:
        parts = tuple(float(p) for p in value.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        raise HTTPException(422, "bbox must be four numbers: minlon,minlat,maxlon,maxlat")
    minx, miny, maxx, maxy = parts
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise HTTPException(422, "bbox needs -180 <= minlon <= maxlon <= 180 and "
                                 "-90 <= minlat <= maxlat <= 90")  # fmt: skip
    return minx, miny, maxx, maxy


Cursor = Annotated[
    int | None,
    Query(ge=0, le=MAX_ID, description="The previous page's next_cursor."),
]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"At most {MAX_PAGE:,}.")]


# --- districts and key areas --------------------------------------------------------------------


class DistrictProps(BaseModel):
    """A district or county (GB/T 2260 code)."""

    code: str
    name_zh: str
    name_en: str
    kind: str
    group: str
    population: int | None
    population_year: int | None


def _district(d: District) -> Feature[DistrictProps]:
    return Feature[DistrictProps](
        id=d.code, geometry=_geometry(d.boundary),
        properties=DistrictProps(code=d.code, name_zh=d.name_zh, name_en=d.name_en,
                                 kind=d.kind.value, group=d.group.value, population=d.population,
                                 population_year=d.population_year),
    )  # fmt: skip


@router.get("/districts", response_model=FeatureCollection[DistrictProps])
def list_districts(who: Authed, session: DB) -> FeatureCollection[DistrictProps]:
    """The city's districts and counties with their boundaries."""
    rows = session.scalars(select(District).order_by(District.code))
    return FeatureCollection[DistrictProps](features=[_district(d) for d in rows])


class KeyAreaCoverage(BaseModel):
    """A key area's latest recorded coverage result for the whole network (``mastplan coverage
    --record``, a coverage run with ``record``), against the area's targets."""

    as_of: dt.date = Field(description="The day of the network the run predicted.")
    covered_fraction: float
    continuity_fraction: float
    target_coverage_fraction: float
    target_continuity_fraction: float
    met: bool = Field(description="Both thresholds met (the key-area KPIs' rule).")


class KeyAreaProps(BaseModel):
    """A key area of the plan's phased roll-out (专栏2), its coverage targets and where its
    coverage stands (``not_assessed`` until a result is recorded)."""

    code: str
    name_zh: str
    name_en: str
    category: str
    phase_year: int
    district: str
    target_coverage_fraction: float
    target_continuity_fraction: float
    target_rsrp_dbm: float
    target_sinr_db: float
    location_confidence: str
    extent_method: str
    coverage_status: Literal["met", "below_target", "not_assessed"]
    coverage: KeyAreaCoverage | None


class KeyAreaDetail(KeyAreaProps):
    """A key area with where its location and extent come from."""

    location_source: str
    buffer_m: float | None
    anchor_lon_deg: float | None
    anchor_lat_deg: float | None
    plan_quote_zh: str | None
    notes: str | None


def _coverage(k: KeyArea, result: CoverageResult | None) -> KeyAreaCoverage | None:
    from mastplan.progress.coverage_results import meets_targets

    if result is None:
        return None
    met = meets_targets(result.covered_fraction, result.continuity_fraction,
                        k.target_coverage_fraction, k.target_continuity_fraction)  # fmt: skip
    return KeyAreaCoverage(
        as_of=result.as_of, covered_fraction=result.covered_fraction,
        continuity_fraction=result.continuity_fraction,
        target_coverage_fraction=k.target_coverage_fraction,
        target_continuity_fraction=k.target_continuity_fraction, met=bool(met),
    )  # fmt: skip


def _key_area_props(
    k: KeyArea, result: CoverageResult | None, cls: type[KeyAreaProps] = KeyAreaProps
) -> KeyAreaProps:
    coverage = _coverage(k, result)
    status = "not_assessed" if coverage is None else "met" if coverage.met else "below_target"
    values = dict(coverage_status=status, coverage=coverage,
        code=k.code, name_zh=k.name_zh, name_en=k.name_en, category=k.category.value,
        phase_year=k.phase_year, district=k.district_code,
        target_coverage_fraction=k.target_coverage_fraction,
        target_continuity_fraction=k.target_continuity_fraction,
        target_rsrp_dbm=k.target_rsrp_dbm, target_sinr_db=k.target_sinr_db,
        location_confidence=k.location_confidence.value, extent_method=k.extent_method,
    )  # fmt: skip
    if cls is KeyAreaDetail:
        values |= dict(
            location_source=k.location_source, buffer_m=k.buffer_m,
            anchor_lon_deg=k.anchor_lon_deg, anchor_lat_deg=k.anchor_lat_deg,
            plan_quote_zh=k.plan_quote_zh, notes=k.notes,
        )  # fmt: skip
    return cls(**values)


@router.get("/key-areas", response_model=FeatureCollection[KeyAreaProps])
def list_key_areas(
    who: Authed,
    session: DB,
    phase_year: Annotated[int | None, Query(ge=2019, le=2030)] = None,
    district: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    category: KeyAreaCategory | None = None,
    bbox: BboxQuery = None,
) -> FeatureCollection[KeyAreaProps]:
    """The key areas, by phase year, district, category and whether they meet a bbox."""
    box = parse_bbox(bbox)
    query = select(KeyArea).order_by(KeyArea.phase_year, KeyArea.code)
    if phase_year is not None:
        query = query.where(KeyArea.phase_year == phase_year)
    if district is not None:
        query = query.where(KeyArea.district_code == district)
    if category is not None:
        query = query.where(KeyArea.category == category)
    from mastplan.progress.coverage_results import latest_results

    rows = list(session.scalars(query))
    if box is not None:
        window = shapely.box(*box)
        rows = [k for k in rows if k.boundary.intersects(window)]
    latest = latest_results(session)
    return FeatureCollection[KeyAreaProps](features=[
        Feature[KeyAreaProps](id=k.code, geometry=_geometry(k.boundary),
                              properties=_key_area_props(k, latest.get(k.id)))
        for k in rows
    ])  # fmt: skip


@router.get("/key-areas/{code}", response_model=Feature[KeyAreaDetail], responses=NOT_FOUND)
def get_key_area(code: str, who: Authed, session: DB) -> Feature[KeyAreaDetail]:
    """One key area by its code."""
    k = session.scalar(select(KeyArea).where(KeyArea.code == code))
    if k is None:
        raise NotFoundError(f"no key area {code!r}")
    from mastplan.progress.coverage_results import latest_results

    result = latest_results(session).get(k.id)
    return Feature[KeyAreaDetail](id=k.code, geometry=_geometry(k.boundary),
                                  properties=_key_area_props(k, result, KeyAreaDetail))  # fmt: skip


# --- structures ---------------------------------------------------------------------------------


class StructureProps(BaseModel):
    """A structure that can carry antennas and what is left on it (positions free now)."""

    external_id: str
    name: str | None
    kind: str
    owner: str
    district: str | None
    height_m: float
    mount_positions: int
    free_positions: int
    max_payload_kg: float
    available_power_kw: float
    fibre: bool
    open_for_sharing: bool
    status: str
    synthetic: bool


class TenancyOut(BaseModel):
    """A tenancy the caller may see: who occupies which positions, with what, since when."""

    id: int
    operator: str
    structure: str
    status: str
    site: str | None = Field(description="The site's external id, where the caller may see it.")
    request_id: int | None = Field(description="The sharing request that booked it, if any.")
    positions: list[int]
    payload_kg: float
    power_kw: float
    start_on: dt.date | None
    end_on: dt.date | None


class StructureDetail(StructureProps):
    """A structure with its free positions and the tenancies the caller may see."""

    version: int = Field(description="Bumped by every write; the ETag names it.")
    audit_object: str = Field(description="The ``object`` to pass to GET /audit for its log.")
    free_position_numbers: list[int]
    tenancies: list[TenancyOut]


def _used_positions():
    """Occupied positions of the row's structure: a correlated count on the key's prefix (an
    aggregate over every tenancy joined in made each page read the whole table)."""
    return (
        select(func.count())
        .where(TenancyPosition.structure_id == Structure.id)
        .correlate(Structure)
        .scalar_subquery()
    )


_STRUCTURE_COLUMNS = (
    Structure.id, Structure.external_id, Structure.name, Structure.kind, Organisation.code,
    Structure.district_code, Structure.lon_deg, Structure.lat_deg, Structure.height_m,
    Structure.mount_positions, Structure.max_payload_kg, Structure.available_power_kw,
    Structure.fibre, Structure.open_for_sharing, Structure.status, Structure.synthetic,
)  # fmt: skip


def _structure_query():
    return select(*_STRUCTURE_COLUMNS, _used_positions()).join(
        Organisation, Structure.owner_id == Organisation.id
    )


def _structure_fields(row) -> dict[str, Any]:
    """:class:`StructureProps`' fields of a :func:`_structure_query` row."""
    (_, ext, name, kind, owner, district, _lon, _lat, height, mounts, payload, power, fibre,
     open_, status, synthetic, used) = row  # fmt: skip
    return dict(
        external_id=ext, name=name, kind=plain(kind), owner=owner, district=district,
        height_m=height, mount_positions=mounts, free_positions=max(mounts - int(used), 0),
        max_payload_kg=payload, available_power_kw=power, fibre=fibre, open_for_sharing=open_,
        status=plain(status), synthetic=synthetic,
    )  # fmt: skip


def _structure_props(row, cls: type[StructureProps] = StructureProps, **extra) -> StructureProps:
    return cls(**_structure_fields(row), **extra)


@router.get("/structures", response_model=FeatureCollection[StructureProps])
def list_structures(
    who: Authed,
    session: DB,
    bbox: BboxQuery = None,
    kind: StructureKind | None = None,
    owner: Annotated[str | None, Query(max_length=64, description="Owner's code.")] = None,
    open_for_sharing: bool | None = None,
    status: StructureStatus | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
) -> Response:
    """Structures as points with their capacity, in id order, a page at a time."""
    box = parse_bbox(bbox)
    query = _structure_query()
    if box is not None:
        query = query.where(in_bbox(session, Structure, box))
    if kind is not None:
        query = query.where(Structure.kind == kind)
    if owner is not None:
        query = query.where(Organisation.code == owner)
    if open_for_sharing is not None:
        query = query.where(Structure.open_for_sharing.is_(open_for_sharing))
    if status is not None:
        query = query.where(Structure.status == status)
    if cursor is not None:
        query = query.where(Structure.id > cursor)
    rows = session.execute(query.order_by(Structure.id).limit(limit + 1)).all()
    return points_page(rows, limit, _structure_fields, lonlat=(6, 7))


@router.get("/structures/{external_id}", response_model=Feature[StructureDetail],
            responses=NOT_FOUND)  # fmt: skip
def get_structure_endpoint(
    external_id: str, who: Authed, session: DB, response: Response
) -> Feature[StructureDetail]:
    """One structure: its free positions and the active tenancies the caller may see (an
    operator sees its own only; the owner all on its structures; the regulator all); its
    ``ETag``."""
    return _structure_detail(session, who.user, external_id, response)


def _structure_detail(
    session: Session, user: User, external_id: str, response: Response
) -> Feature[StructureDetail]:
    query = _structure_query().add_columns(Structure.version)
    row = session.execute(query.where(Structure.external_id == external_id)).first()
    if row is None:
        raise NotFoundError(f"no structure {external_id!r}")
    structure_id, mounts, version = row[0], row[9], row[-1]
    used = set(session.scalars(
        select(TenancyPosition.position).where(TenancyPosition.structure_id == structure_id)
    ))  # fmt: skip
    from mastplan.sharing.leases import visible_tenancies

    props = _structure_props(
        row[:-1], StructureDetail, tenancies=_tenancies_out(
            session, user, visible_tenancies(session, user, structure=structure_id)[::-1]),
        free_position_numbers=[p for p in range(1, mounts + 1) if p not in used],
        version=version, audit_object=f"structures:{structure_id}",
    )  # fmt: skip
    etags.set_etag(response, "structure", row[1], version)
    return Feature[StructureDetail](id=row[1], geometry=_point(row[6], row[7]), properties=props)


class StructurePatch(BaseModel):
    """Fields of a structure to change (those left out stay). The merged record must pass the
    import's rules; a problem is 422 naming the field."""

    name: str | None = Field(default=None, max_length=200)
    kind: StructureKind | None = None
    owner: str | None = Field(
        default=None, min_length=1, max_length=64, description="The owner's code."
    )
    lon_deg: float | None = None
    lat_deg: float | None = None
    height_m: float | None = None
    mount_positions: int | None = None
    max_payload_kg: float | None = None
    available_power_kw: float | None = None
    fibre: bool | None = None
    open_for_sharing: bool | None = None
    status: StructureStatus | None = None
    source: str | None = Field(default=None, max_length=200)


class StructureIn(StructurePatch):
    """A new structure (the import's fields; ``owner`` is an organisation's code)."""

    external_id: str = Field(min_length=1, max_length=128)
    kind: StructureKind
    owner: str = Field(min_length=1, max_length=64)
    lon_deg: float
    lat_deg: float
    height_m: float
    mount_positions: int
    max_payload_kg: float
    available_power_kw: float


def _fields(body: BaseModel) -> dict[str, Any]:
    """The fields a body sets, as an imported file would give them."""
    return body.model_dump(mode="json", exclude_unset=True)


@router.post("/structures", response_model=Feature[StructureDetail], status_code=201,
             responses=WRITE_ERRORS)  # fmt: skip
def create_structure_endpoint(
    body: StructureIn, who: Authed, session: DB, response: Response
) -> Feature[StructureDetail]:
    """Create a structure: the regulator (for any owner) or a user of the owner organisation
    (for its own). The record passes the import's rules (422 naming the field)."""
    from mastplan.registry.structures import create_structure_as

    obj = create_structure_as(session, who.name, _fields(body), source="request body")
    response.headers["Location"] = location("structures", obj.external_id)
    return _structure_detail(session, who.user, obj.external_id, response)


@router.patch("/structures/{external_id}", response_model=Feature[StructureDetail],
              responses=VERSIONED_WRITE)  # fmt: skip
def patch_structure_endpoint(
    external_id: str,
    body: StructurePatch,
    who: Authed,
    session: DB,
    response: Response,
    if_match: IfMatch = None,
) -> Feature[StructureDetail]:
    """Change a structure's fields: the regulator or a user of its owner; with ``If-Match``
    (its ``ETag``) only if it has not changed since. The answer carries the new ``ETag``."""
    from mastplan.registry.structures import edit_structure

    edit_structure(session, who.name, external_id, _fields(body), source="request body",
                   if_version=etags.if_match(if_match, "structure", external_id))  # fmt: skip
    return _structure_detail(session, who.user, external_id, response)


def _tenancies_out(
    session: Session, user: User, rows: list[tuple[Tenancy, int | None]]
) -> list[TenancyOut]:
    """Tenancies as the caller may see them: a site's id only where the site is visible."""
    codes = dict(session.execute(
        select(Organisation.id, Organisation.code)
        .where(Organisation.id.in_({t.operator_id for t, _ in rows}))
    ).all()) if rows else {}  # fmt: skip
    structures = dict(session.execute(
        select(Structure.id, Structure.external_id)
        .where(Structure.id.in_({t.structure_id for t, _ in rows}))
    ).all()) if rows else {}  # fmt: skip
    site_ids = {t.site_id for t, _ in rows if t.site_id is not None}
    sites = dict(session.execute(
        select(Site.id, Site.external_id).where(Site.id.in_(site_ids), site_filter(user))
    ).all()) if site_ids else {}  # fmt: skip
    return [
        TenancyOut(
            id=t.id,
            operator=codes[t.operator_id],
            structure=structures[t.structure_id],
            status=plain(t.status),
            site=sites.get(t.site_id),
            request_id=rid,
            positions=sorted(p.position for p in t.positions),
            payload_kg=t.payload_kg,
            power_kw=t.power_kw,
            start_on=t.start_on,
            end_on=t.end_on,
        )
        for t, rid in rows
    ]


class TenancyPage(BaseModel):
    """One page of tenancies, newest first; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[TenancyOut]
    next_cursor: int | None


@router.get("/tenancies", response_model=TenancyPage)
def list_tenancies_endpoint(
    who: Authed,
    session: DB,
    structure: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    active: Annotated[bool, Query(description="Only active tenancies (default).")] = True,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> TenancyPage:
    """The tenancies the caller may see (who occupies which positions, with what, since when):
    an operator its own, an owner those on its structures, a district those in its district,
    the regulator all; newest first."""
    from mastplan.sharing.leases import visible_tenancies

    rows = visible_tenancies(session, who.user, structure=structure, active_only=active,
                             before_id=cursor, limit=limit + 1)  # fmt: skip
    page = rows[:limit]
    return TenancyPage(items=_tenancies_out(session, who.user, page),
                       next_cursor=page[-1][0].id if len(rows) > limit else None)  # fmt: skip


@router.get("/tenancies/{tenancy_id}", response_model=TenancyOut, responses=NOT_FOUND)
def get_tenancy_endpoint(
    tenancy_id: Annotated[int, Path(ge=1, le=MAX_ID)], who: Authed, session: DB
) -> TenancyOut:
    """One tenancy, active or ended; another operator's is "not found"."""
    from mastplan.sharing.leases import get_tenancy

    return _tenancies_out(session, who.user, [get_tenancy(session, who.user, tenancy_id)])[0]


# --- sites --------------------------------------------------------------------------------------


class SiteProps(BaseModel):
    """A base station (gNB/eNB) as the caller may see it."""

    external_id: str
    name: str | None
    operator: str
    structure: str | None
    district: str | None
    rat: str
    band: str | None
    status: str
    planned_on: dt.date | None
    approved_on: dt.date | None
    built_on: dt.date | None
    on_air_on: dt.date | None
    retired_on: dt.date | None
    synthetic: bool


class SectorOut(BaseModel):
    """A sector (cell) of a site."""

    sector_number: int
    cell_identity: int | None
    pci: int | None
    azimuth_deg: float | None
    mechanical_tilt_deg: float
    electrical_tilt_deg: float
    antenna_height_m: float | None
    tx_power_dbm: float | None
    bandwidth_mhz: float | None
    carrier_frequency_mhz: float | None
    antenna_pattern: str | None


class SiteDetail(SiteProps):
    """A site with its sectors."""

    version: int = Field(description="Bumped by every write; the ETag names it.")
    audit_object: str = Field(description="The ``object`` to pass to GET /audit for its log.")
    node_id: int | None
    sectors: list[SectorOut]


class SiteMoveIn(BaseModel):
    """Where a site goes in its lifecycle (planned → approved → built → on_air → retired),
    dated ``on`` (today by default), and why."""

    to: SiteStatus
    on: dt.date | None = None
    reason: str | None = Field(default=None, max_length=2000)


_SITE_COLUMNS = (Site.id, Site.external_id, Site.name, Organisation.code, Structure.external_id,
                 Site.district_code, Site.rat, Site.band, Site.status, Site.planned_on,
                 Site.approved_on, Site.built_on, Site.on_air_on, Site.retired_on,
                 Site.synthetic, Site.lon_deg, Site.lat_deg)  # fmt: skip


def _site_query(user: User):
    return (
        select(*_SITE_COLUMNS)
        .join(Organisation, Site.operator_id == Organisation.id)
        .outerjoin(Structure, Site.structure_id == Structure.id)
        .where(site_filter(user))
    )


def _site_fields(row) -> dict[str, Any]:
    """:class:`SiteProps`' fields of a :func:`_site_query` row."""
    (_, ext, name, op, structure, district, rat, band, status, planned, approved, built,
     on_air, retired, synthetic, _lon, _lat) = row  # fmt: skip
    return dict(
        external_id=ext, name=name, operator=op, structure=structure, district=district,
        rat=plain(rat), band=band, status=plain(status), planned_on=planned,
        approved_on=approved, built_on=built, on_air_on=on_air, retired_on=retired,
        synthetic=synthetic,
    )  # fmt: skip


def _site_props(row, cls: type[SiteProps] = SiteProps, **extra) -> SiteProps:
    return cls(**_site_fields(row), **extra)


@router.get("/sites", response_model=FeatureCollection[SiteProps])
def list_sites(
    who: Authed,
    session: DB,
    bbox: BboxQuery = None,
    operator: Annotated[str | None, Query(max_length=64, description="Operator's code.")] = None,
    status: Annotated[list[SiteStatus] | None, Query()] = None,
    rat: Rat | None = None,
    district: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
) -> Response:
    """The sites the caller may see, as points in id order, a page at a time. Another
    operator's planned and approved sites are not among them for an operator."""
    box = parse_bbox(bbox)
    query = _site_query(who.user)
    if box is not None:
        query = query.where(in_bbox(session, Site, box))
    if operator is not None:
        query = query.where(Organisation.code == operator)
    if status:
        query = query.where(Site.status.in_(status))
    if rat is not None:
        query = query.where(Site.rat == rat)
    if district is not None:
        query = query.where(Site.district_code == district)
    if cursor is not None:
        query = query.where(Site.id > cursor)
    rows = session.execute(query.order_by(Site.id).limit(limit + 1)).all()
    return points_page(rows, limit, _site_fields, lonlat=(15, 16))


@router.get("/sites/{external_id}", response_model=Feature[SiteDetail], responses=NOT_FOUND)
def get_site_endpoint(
    external_id: str, who: Authed, session: DB, response: Response
) -> Feature[SiteDetail]:
    """One site with its sectors and its ``ETag``; 404 when it does not exist or the caller
    may not see it."""
    return _site_detail(session, who.user, external_id, response)


@router.post(
    "/sites/{external_id}/transition",
    response_model=Feature[SiteDetail],
    responses={**VERSIONED_WRITE, **problem(409, "the lifecycle has no such move")},
)
def transition_site_endpoint(
    external_id: str,
    body: SiteMoveIn,
    who: Authed,
    session: DB,
    response: Response,
    if_match: IfMatch = None,
) -> Feature[SiteDetail]:
    """Move a site along its lifecycle: its operator's users or the regulator; with
    ``If-Match`` (its ``ETag``) only if it has not changed since. A site the caller may not
    see is 404; a move the lifecycle does not allow is 409."""
    from mastplan.registry.sites import transition_site_as

    transition_site_as(session, who.name, external_id, body.to, body.on, reason=body.reason,
                       if_version=etags.if_match(if_match, "site", external_id))  # fmt: skip
    return _site_detail(session, who.user, external_id, response)


def _site_detail(
    session: Session, user: User, external_id: str, response: Response
) -> Feature[SiteDetail]:
    query = _site_query(user).add_columns(Site.node_id, Site.version)
    row = session.execute(query.where(Site.external_id == external_id)).first()
    if row is None:
        raise NotFoundError(f"no site {external_id!r}")
    sectors = session.scalars(
        select(Sector).where(Sector.site_id == row[0]).order_by(Sector.sector_number)
    )
    etags.set_etag(response, "site", row[1], row[-1])
    props = _site_props(row[:-2], SiteDetail, node_id=row[-2], version=row[-1],
                        audit_object=f"sites:{row[0]}", sectors=[
        SectorOut(
            sector_number=s.sector_number, cell_identity=s.cell_identity, pci=s.pci,
            azimuth_deg=s.azimuth_deg, mechanical_tilt_deg=s.mechanical_tilt_deg,
            electrical_tilt_deg=s.electrical_tilt_deg, antenna_height_m=s.antenna_height_m,
            tx_power_dbm=s.tx_power_dbm, bandwidth_mhz=s.bandwidth_mhz,
            carrier_frequency_mhz=s.carrier_frequency_mhz, antenna_pattern=s.antenna_pattern,
        )
        for s in sectors
    ])  # fmt: skip
    return Feature[SiteDetail](id=row[1], geometry=_point(row[15], row[16]), properties=props)


# --- organisations ------------------------------------------------------------------------------


class OrganisationOut(BaseModel):
    """An organisation: government unit, operator, tower company, owner or enterprise."""

    code: str
    kind: str
    name_zh: str
    name_en: str
    short_zh: str | None
    short_en: str | None
    parent: str | None
    district: str | None


@router.get("/organisations", response_model=list[OrganisationOut])
def list_organisations(
    who: Authed, session: DB, kind: OrgKind | None = None
) -> list[OrganisationOut]:
    """The organisations, by code (optionally of one kind)."""
    parent = Organisation.__table__.alias("parent")
    query = (
        select(Organisation, parent.c.code)
        .outerjoin(parent, Organisation.parent_id == parent.c.id)
        .order_by(Organisation.code)
    )
    if kind is not None:
        query = query.where(Organisation.kind == kind)
    return [
        OrganisationOut(
            code=o.code,
            kind=o.kind.value,
            name_zh=o.name_zh,
            name_en=o.name_en,
            short_zh=o.short_zh,
            short_en=o.short_en,
            parent=p,
            district=o.district_code,
        )
        for o, p in session.execute(query)
    ]


# --- users --------------------------------------------------------------------------------------


class UserOut(BaseModel):
    """A registered user: its organisation, its role, whether it may still act."""

    name: str
    organisation: str
    role: str
    active: bool


@router.get("/users", response_model=list[UserOut])
def list_users_endpoint(
    who: Authed,
    session: DB,
    organisation: Annotated[str | None, Query(max_length=64, description="Its code.")] = None,
    role: UserRole | None = None,
    active: bool | None = None,
) -> list[UserOut]:
    """The users, by name (optionally of one organisation, one role, active or not): every
    user for the regulator, the users of the caller's own organisation for everyone else."""
    query = (
        select(User.name, Organisation.code, User.role, User.active)
        .join(Organisation, User.organisation_id == Organisation.id)
        .order_by(User.name)
    )
    if who.user.role is not UserRole.REGULATOR:
        query = query.where(User.organisation_id == who.user.organisation_id)
    if organisation is not None:
        query = query.where(Organisation.code == organisation)
    if role is not None:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.active.is_(active))
    return [UserOut(name=n, organisation=o, role=plain(r), active=a)
            for n, o, r, a in session.execute(query)]  # fmt: skip


# --- the audit log of one object ----------------------------------------------------------------


class AuditOut(BaseModel):
    """One audit entry: who changed what, when, from what to what, and why."""

    id: int
    at: dt.datetime
    actor: str
    organisation: str | None
    action: str
    entity: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    correlation_id: str = Field(description="Ties together the writes of one command.")
    hash: str | None


class AuditPage(BaseModel):
    """One page of an object's audit entries, oldest first (newest last)."""

    items: list[AuditOut]
    next_cursor: int | None


#: Fields of a request's audit entries that only the parties and the regulator may read.
_FEE_FIELDS = ("fee_offer",)


def _utc(at: dt.datetime) -> dt.datetime:
    """An aware UTC moment (SQLite gives back naive UTC)."""
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at


def _redact(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: (None if k in _FEE_FIELDS else v) for k, v in values.items()}


@router.get("/audit", response_model=AuditPage, responses=NOT_FOUND)
def object_audit(
    who: Authed,
    session: DB,
    obj: Annotated[
        str,
        Query(
            alias="object",
            pattern=r"^[a-z_]{1,64}:.{1,128}$",
            examples=["sharing_requests:12"],
            description="TABLE:ID, e.g. sharing_requests:12 or structures:4711 (a structure's "
            "or a site's is the ``audit_object`` of its detail)",
        ),
    ],
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    """The audit entries of one object, oldest first. The regulator reads any object's; others
    the audit of the sharing requests, structures and sites they may see (``structures:<id>``
    and ``sites:<id>`` by database id, as the details' ``audit_object`` gives it; fee amounts
    only for the parties). Any other object is "not found" to them."""
    entity, entity_id = obj.split(":", 1)
    user = who.user
    redact = not sees_fees(user)
    if not _may_read_audit(session, user, entity, entity_id):
        raise NotFoundError(f"no audit entries of {obj!r}")
    query = select(AuditEntry).where(AuditEntry.entity == entity,
                                     AuditEntry.entity_id == entity_id)  # fmt: skip
    if cursor is not None:
        query = query.where(AuditEntry.id > cursor)
    rows = list(session.scalars(query.order_by(AuditEntry.id).limit(limit + 1)))
    page = rows[:limit]
    items = [
        AuditOut(
            id=e.id,
            at=_utc(e.at),
            actor=e.actor,
            organisation=e.organisation,
            action=e.action,
            entity=e.entity,
            entity_id=e.entity_id,
            before=_redact(e.before) if redact else e.before,
            after=_redact(e.after) if redact else e.after,
            reason=e.reason,
            correlation_id=e.request_id,
            hash=e.hash,
        )
        for e in page
    ]
    return AuditPage(items=items, next_cursor=page[-1].id if len(rows) > limit else None)


def _may_read_audit(session: Session, user: User, entity: str, entity_id: str) -> bool:
    """Whether ``user`` may read the audit of this object: the regulator any; others a sharing
    request they may see, any structure, a site they may see (:func:`site_filter`)."""
    from mastplan.sharing.requests import get_request

    if user.role is UserRole.REGULATOR:
        return True
    if not entity_id.isdigit() or int(entity_id) > MAX_ID:
        return False
    key = int(entity_id)
    match entity:
        case "sharing_requests":
            try:
                get_request(session, user.name, key)
            except NotFoundError:
                return False
            return True
        case "structures":
            return session.scalar(select(Structure.id).where(Structure.id == key)) is not None
        case "sites":
            seen = select(Site.id).where(Site.id == key, site_filter(user))
            return session.scalar(seen) is not None
    return False
