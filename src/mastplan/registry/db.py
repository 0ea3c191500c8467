"""Engines, sessions and transactions for the embedded SQLite file and for PostgreSQL + PostGIS."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from mastplan.config import database_url
from mastplan.errors import MastplanError

#: Execution option marking a transaction as a writer (``BEGIN IMMEDIATE`` on SQLite).
WRITE_OPTION = "mastplan_write"


#: SQL name of :func:`geodesic_m` on SQLite (radius queries, :func:`registry.queries.within_m`).
GEODESIC_FUNCTION = "mastplan_geodesic_m"


@lru_cache(maxsize=1)
def _wgs84():
    from pyproj import Geod

    return Geod(ellps="WGS84")


def geodesic_m(lon1: float | None, lat1: float | None, lon2: float, lat2: float) -> float | None:
    """Geodesic distance in metres on the WGS84 ellipsoid (GeographicLib, as PostGIS's
    geography), registered on every SQLite connection as ``mastplan_geodesic_m``."""
    if lon1 is None or lat1 is None or lon2 is None or lat2 is None:
        return None
    return float(_wgs84().inv(lon1, lat1, lon2, lat2)[2])


def make_engine(url: str | None = None, *, echo: bool = False) -> Engine:
    """Create an engine for ``url`` (see :func:`mastplan.config.database_url`).

    SQLite gets real transactions (``BEGIN`` is emitted by SQLAlchemy, not guessed by the driver),
    foreign keys, WAL journaling and a busy timeout, so that it behaves like the server database.
    """
    url = database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every test
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.close()
            dbapi_conn.create_function(GEODESIC_FUNCTION, 4, geodesic_m, deterministic=True)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - exercised by every test
            # a writing transaction takes the write lock at once, so that concurrent writers
            # queue (busy timeout) instead of failing when they upgrade from a stale read
            write = conn.get_execution_options().get(WRITE_OPTION)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration that runs the package's migrations on ``engine``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(files("mastplan.registry") / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


@lru_cache(maxsize=1)
def _head_revision() -> str | None:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("mastplan.registry") / "migrations"))
    return ScriptDirectory.from_config(cfg).get_current_head()


def init_db(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration (idempotent)."""
    command.upgrade(alembic_config(engine), "head")


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at, or ``None`` when it was never initialised."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def require_current_schema(engine: Engine) -> None:
    """Raise a clear error unless the database is initialised and up to date."""
    rev = current_revision(engine)
    if rev is None:
        raise MastplanError(
            f"database {engine.url.render_as_string(hide_password=True)} is not initialised: "
            "run `mastplan init` first"
        )
    if rev != _head_revision():
        raise MastplanError(
            f"database schema is at revision {rev}, this mastplan needs {_head_revision()}: "
            "run `mastplan init` to upgrade it"
        )


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


_DEPTH = "mastplan_transaction_depth"


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Run a service's block in one transaction: commit at the end, roll back on any error.

    At the top level the block commits (including a transaction the session began by itself
    for earlier reads). A fresh top-level transaction is a writer from its start: on SQLite it
    takes the write lock at ``BEGIN`` (``BEGIN IMMEDIATE``), so concurrent writers wait their
    turn rather than fail; a service called from inside another service joins the outer
    transaction through a savepoint, so the inner block can fail alone while the outer decides.
    """
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        if depth:
            with session.begin_nested():
                yield session
        elif session.in_transaction():
            try:
                yield session
            except BaseException:
                session.rollback()
                raise
            session.commit()
        else:
            with session.begin():
                session.connection(execution_options={WRITE_OPTION: True})
                yield session
    finally:
        session.info[_DEPTH] = depth
