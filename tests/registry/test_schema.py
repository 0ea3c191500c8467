"""The schema: migrations match the models on both databases, PostGIS has real geometry."""

from __future__ import annotations

import shapely
from alembic import command
from sqlalchemy import inspect, select, text

from mastplan.registry.db import alembic_config, current_revision, init_db
from mastplan.registry.models import District


def test_models_match_migrations(engine):
    # `alembic check` fails when autogenerate would emit any operation
    command.check(alembic_config(engine))


def test_downgrade_then_upgrade_round_trip(engine):
    cfg = alembic_config(engine)
    command.downgrade(cfg, "base")
    assert current_revision(engine) is None
    assert "structures" not in inspect(engine).get_table_names()
    init_db(engine)
    assert "structures" in inspect(engine).get_table_names()


def test_init_is_idempotent(engine):
    before = current_revision(engine)
    init_db(engine)
    assert current_revision(engine) == before is not None


def test_geometry_round_trips_as_shapely(session, backend):
    poly = shapely.MultiPolygon([shapely.box(106.5, 29.5, 106.6, 29.6)])
    session.add(
        District(
            code="500103",
            name_zh="渝中区",
            name_en="Yuzhong District",
            kind="district",
            group="central_urban",
            boundary=poly,
        )
    )
    session.commit()
    session.expunge_all()
    got = session.scalar(select(District.boundary))
    assert isinstance(got, shapely.MultiPolygon)
    assert got.equals(poly)
    if backend.kind == "postgresql":
        srid, gtype = session.execute(
            text("SELECT ST_SRID(boundary), GeometryType(boundary) FROM districts")
        ).one()
        assert (srid, gtype) == (4326, "MULTIPOLYGON")


def test_postgis_spatial_indexes_and_generated_point_columns(engine, backend):
    if backend.kind != "postgresql":
        # SQLite keeps lon/lat columns with a b-tree index instead
        idx = {i["name"] for i in inspect(engine).get_indexes("structures")}
        assert "ix_structures_lon_lat" in idx
        return
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT tablename, indexdef FROM pg_indexes WHERE indexdef ILIKE '%USING gist%'")
        ).all()
        gist = {t for t, _ in rows}
        assert {"structures", "sites", "districts", "key_areas"} <= gist
        gen = conn.execute(
            text(
                "SELECT table_name, is_generated FROM information_schema.columns "
                "WHERE column_name = 'geom'"
            )
        ).all()
        assert set(gen) == {("structures", "ALWAYS"), ("sites", "ALWAYS")}
