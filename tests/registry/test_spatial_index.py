"""Every bbox and radius query of structures and sites uses the GiST index on PostgreSQL and
selects exactly the rows of the lon/lat range predicate SQLite uses.

A module database holds 60,000 synthetic structures and 20,000 sites (one sector each), loaded
by ``registry.bulk.upsert`` (``COPY`` on PostgreSQL) and ANALYZEd, plus points placed exactly on
and a hair outside the edges of the test window (``&&`` alone compares single-precision boxes
and would admit those). The SQL each code path really emits is captured from the engine and
run again under ``EXPLAIN (FORMAT JSON)`` with its own parameters.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
import pytest
from pyproj import Geod
from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import aliased

from mastplan.api.routes.registry import list_sites, list_structures
from mastplan.registry.bulk import upsert
from mastplan.registry.db import make_engine, session_factory, transaction
from mastplan.registry.enums import OrgKind, UserRole
from mastplan.registry.models import Organisation, Site, Structure, User
from mastplan.registry.queries import (
    in_bbox,
    radius_bbox,
    sectors_in_bbox,
    structures_in_bbox,
    within_m,
)

N_STRUCTURES, N_SITES = 60_000, 20_000
CENTRE = (106.55, 29.56)
BOX = (106.5500, 29.5600, 106.5600, 29.5700)  # about 1 km: a map window
HAIR = 1e-7  # degrees (1 cm): far below the float4 step at 106° (7.6e-6)


def _points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A city-like cloud: dense core, sparse edge (about 40 × 40 km)."""
    rng = np.random.default_rng(seed)
    r = rng.exponential(0.05, n)
    a = rng.uniform(0, 2 * np.pi, n)
    return CENTRE[0] + r * np.cos(a), CENTRE[1] + r * np.sin(a)


def _edge_points() -> list[tuple[float, float]]:
    minx, miny, maxx, maxy = BOX
    mx, my = (minx + maxx) / 2, (miny + maxy) / 2
    on = [(minx, my), (maxx, my), (mx, miny), (mx, maxy), (minx, miny), (maxx, maxy)]
    off = [(minx - HAIR, my), (maxx + HAIR, my), (mx, miny - HAIR), (mx, maxy + HAIR)]
    return on + off


def _structure_records(owner_id: int) -> list[dict]:
    lon, lat = _points(N_STRUCTURES, 1)
    coords = list(zip(lon.tolist(), lat.tolist(), strict=True)) + _edge_points()
    return [
        {
            "external_id": f"sp-{i}",
            "name": None,
            "kind": "lamp_pole",
            "owner_id": owner_id,
            "district_code": None,
            "lon_deg": x,
            "lat_deg": y,
            "height_m": 10.0,
            "mount_positions": 2,
            "max_payload_kg": 50.0,
            "available_power_kw": 1.0,
            "fibre": False,
            "open_for_sharing": True,
            "status": "in_service",
            "synthetic": True,
            "source": "test",
        }
        for i, (x, y) in enumerate(coords)
    ]


def _site_records(operator_id: int) -> list[dict]:
    lon, lat = _points(N_SITES, 2)
    coords = list(zip(lon.tolist(), lat.tolist(), strict=True)) + _edge_points()
    return [
        {
            "external_id": f"si-{i}",
            "name": None,
            "operator_id": operator_id,
            "structure_id": None,
            "district_code": None,
            "rat": "nr",
            "band": None,
            "node_id": i,
            "status": "on_air",
            "lon_deg": x,
            "lat_deg": y,
            "planned_on": None,
            "approved_on": None,
            "built_on": None,
            "on_air_on": dt.date(2020, 1, 1),
            "retired_on": None,
            "synthetic": True,
            "source": "test",
        }
        for i, (x, y) in enumerate(coords)
    ]


@pytest.fixture(scope="module")
def spatial_engine(backend, migrated_template) -> Iterator[Engine]:
    engine = make_engine(backend.new_url(migrated_template))
    with session_factory(engine)() as s, transaction(s):
        tower = Organisation(code="t", kind=OrgKind.TOWER_COMPANY, name_zh="塔", name_en="t")
        op = Organisation(code="op", kind=OrgKind.OPERATOR, name_zh="运", name_en="op")
        s.add_all([tower, op])
        s.flush()
        upsert(s, Structure.__table__, _structure_records(tower.id))
        upsert(s, Site.__table__, _site_records(op.id))
        s.execute(
            text(
                "INSERT INTO sectors (site_id, sector_number, mechanical_tilt_deg, "
                "electrical_tilt_deg, azimuth_deg, version, created_at, updated_at) "
                "SELECT id, 1, 0, 0, 0, 1, created_at, updated_at FROM sites"
            )
        )
        # every third structure carries an active tenancy (structures_in_bbox's second query)
        s.execute(
            text(
                "INSERT INTO tenancies (structure_id, operator_id, status, payload_kg, power_kw, "
                "version, created_at, updated_at) "
                "SELECT id, :op, 'active', 1, 0.1, 1, created_at, updated_at FROM structures "
                "WHERE id % 3 = 0"
            ),
            {"op": op.id},
        )
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def spatial_session(spatial_engine):
    with session_factory(spatial_engine)() as s:
        yield s


def _coords(session, model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = session.execute(select(model.id, model.lon_deg, model.lat_deg)).all()
    ids, lon, lat = (np.array(c) for c in zip(*rows, strict=True))
    return ids, lon, lat


def _expected_in_box(session, model, box) -> set[int]:
    ids, lon, lat = _coords(session, model)
    inside = (lon >= box[0]) & (lon <= box[2]) & (lat >= box[1]) & (lat <= box[3])
    return set(ids[inside].tolist())


@pytest.mark.parametrize("model", [Structure, Site])
def test_bbox_selects_the_range_predicates_rows(spatial_session, model):
    s = spatial_session
    expected = _expected_in_box(s, model, BOX)
    assert len(expected) > 50  # the window is dense, and holds the 6 edge points
    got = set(s.scalars(select(model.id).where(in_bbox(s, model, BOX))))
    assert got == expected
    # the SQLite-style predicate, run on this database, agrees too
    plain = set(s.scalars(select(model.id).where(in_bbox("sqlite", model, BOX))))
    assert plain == expected


def test_bbox_through_an_alias(spatial_session):
    s = spatial_session
    other = aliased(Structure)
    got = set(s.scalars(select(other.id).where(in_bbox(s, other, BOX))))
    assert got == _expected_in_box(s, Structure, BOX)


@pytest.mark.parametrize("radius_m", [150.0, 800.0])
@pytest.mark.parametrize("model", [Structure, Site])
def test_radius_selects_the_geodesic_rows(spatial_session, model, radius_m):
    s = spatial_session
    ids, lon, lat = _coords(s, model)
    dist = Geod(ellps="WGS84").inv(lon, lat, np.full_like(lon, CENTRE[0]),
                                   np.full_like(lat, CENTRE[1]))[2]  # fmt: skip
    expected = set(ids[dist <= radius_m].tolist())
    assert expected
    got = set(s.scalars(select(model.id).where(within_m(s, model, *CENTRE, radius_m))))
    assert got == expected


def test_radius_bbox_holds_the_circle():
    geod = Geod(ellps="WGS84")
    for lat in (0.0, 29.56, 60.0, -75.0):
        box = radius_bbox(106.5, lat, 5000.0)
        for az in range(0, 360, 15):
            x, y, _ = geod.fwd(106.5, lat, az, 5000.0)
            assert box[0] <= x <= box[2] and box[1] <= y <= box[3]


# --- the plans on PostgreSQL ------------------------------------------------------------------


class _Capture:
    """Statements and parameters the engine sends that filter on ``geom``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: list[tuple[str, object]] = []

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._hook)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._hook)

    def _hook(self, conn, cursor, statement, parameters, context, executemany):
        if "geom &&" in statement and not statement.startswith("EXPLAIN"):
            self.statements.append((statement, parameters))


def _index_scans(plan: dict) -> set[tuple[str, str]]:
    found = set()
    stack = [plan]
    while stack:
        node = stack.pop()
        if "Index Name" in node:
            found.add((node["Node Type"], node["Index Name"]))
        stack.extend(node.get("Plans", []))
    return found


def _assert_gist(engine: Engine, captured: list[tuple[str, object]], index: str) -> None:
    assert captured, "the code path sent no geom && … query"
    with engine.connect() as conn:
        for statement, parameters in captured:
            raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()
            plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
            scans = _index_scans(plan)
            assert any(
                name == index and kind in {"Index Scan", "Bitmap Index Scan", "Index Only Scan"}
                for kind, name in scans
            ), f"{index} not used by:\n{statement}\nplan: {json.dumps(plan)[:2000]}"


def _bbox_param(box) -> str:
    return ",".join(str(v) for v in box)


REGULATOR = SimpleNamespace(user=User(name="r", role=UserRole.REGULATOR))


@pytest.mark.parametrize(
    ("path", "index"),
    [
        ("structures_in_bbox", "ix_structures_geom_gist"),
        ("sectors_in_bbox", "ix_sites_geom_gist"),
        ("api_structures", "ix_structures_geom_gist"),
        ("api_sites", "ix_sites_geom_gist"),
        ("radius_structures", "ix_structures_geom_gist"),
        ("radius_sites", "ix_sites_geom_gist"),
    ],
)
@pytest.mark.only_backend("postgresql")  # SQLite keeps its lon/lat B-tree
def test_code_paths_use_the_gist_index(spatial_engine, spatial_session, path, index):
    s = spatial_session
    with _Capture(spatial_engine) as cap:
        if path == "structures_in_bbox":
            frame = structures_in_bbox(s, BOX)
            assert set(frame["id"]) == _expected_in_box(s, Structure, BOX)
        elif path == "sectors_in_bbox":
            frame = sectors_in_bbox(s, BOX)
            assert len(frame) == len(_expected_in_box(s, Site, BOX))
        elif path == "api_structures":
            page = json.loads(list_structures(REGULATOR, s, bbox=_bbox_param(BOX), limit=5000).body)
            assert len(page["features"]) == len(_expected_in_box(s, Structure, BOX))
        elif path == "api_sites":
            page = json.loads(list_sites(REGULATOR, s, bbox=_bbox_param(BOX), limit=5000).body)
            assert len(page["features"]) == len(_expected_in_box(s, Site, BOX))
        else:
            model = Structure if path == "radius_structures" else Site
            s.scalars(select(model.id).where(within_m(s, model, *CENTRE, 500.0))).all()
    _assert_gist(spatial_engine, cap.statements, index)


@pytest.mark.only_backend("postgresql")
def test_the_range_predicate_alone_does_not_use_gist(spatial_engine, spatial_session):
    """The check above can fail: the SQLite-style predicate's plan has no GiST scan."""
    stmt = select(Structure.id).where(in_bbox("sqlite", Structure, BOX))
    with spatial_engine.connect() as conn:
        compiled = stmt.compile(dialect=conn.dialect)
        raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params)
        plan = raw.scalar()[0]["Plan"]
    assert "ix_structures_geom_gist" not in {name for _, name in _index_scans(plan)}
