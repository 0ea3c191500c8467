"""Alembic environment: runs the registry's migrations on the engine mastplan hands over."""

from __future__ import annotations

from alembic import context

# these modules' tables join the metadata
import mastplan.api.models
import mastplan.jobs.models
import mastplan.progress.models  # noqa: F401
from mastplan.registry.db import make_engine
from mastplan.registry.models import Base

# Objects that exist only on PostGIS and are made by the migrations themselves.
POSTGIS_ONLY_COLUMNS = {("structures", "geom"), ("sites", "geom")}
POSTGIS_SYSTEM_TABLES = {"spatial_ref_sys", "geography_columns", "geometry_columns"}


def include_object(obj, name, type_, reflected, compare_to):
    """Leave PostGIS's own tables and our PostGIS-only columns and indexes out of comparisons."""
    if type_ == "table" and name in POSTGIS_SYSTEM_TABLES:
        return False
    if type_ == "column" and (obj.table.name, name) in POSTGIS_ONLY_COLUMNS:
        return False
    return not (type_ == "index" and name and name.endswith("_gist"))


def run_migrations() -> None:
    config = context.config
    engine = config.attributes.get("engine") or make_engine(
        config.get_main_option("sqlalchemy.url")
    )
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            include_object=include_object,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
