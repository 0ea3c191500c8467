"""Fixtures: every database test runs on SQLite and on PostgreSQL + PostGIS.

Each backend gets a migrated template once per session (and one with the Chongqing data set
loaded); each test gets a fresh copy (a file copy on SQLite, CREATE DATABASE ... TEMPLATE on
PostgreSQL), so tests are isolated and fast.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session

from mastplan.registry.audit import Actor
from mastplan.registry.db import init_db, make_engine, session_factory

# CI runs the property tests with a fixed seed so that a green run stays green; locally they
# explore new examples every run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

BACKENDS = ("sqlite", "postgresql")
PG_ENV = "MASTPLAN_TEST_POSTGRES_URL"
# Small synthetic inventory for the loaded template: the 2019 key areas at a low density.
TEST_DENSITY = 0.3


def pytest_collection_modifyitems(config, items):
    """Tests that use a database are marked with their backend, so `-m sqlite` works too; a
    test marked ``only_backend(NAME)`` is not collected for the other backend (deselected,
    never skipped)."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec else None
        if backend in BACKENDS:
            item.add_marker(getattr(pytest.mark, backend))
            only = item.get_closest_marker("only_backend")
            if only is not None and only.args[0] != backend:
                drop.append(item)
                continue
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_configure(config):
    for name in BACKENDS:
        config.addinivalue_line("markers", f"{name}: runs on the {name} backend")
    config.addinivalue_line("markers", "only_backend(name): run only on that database backend")


@pytest.fixture(scope="session")
def pg_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.fail(
            f"{PG_ENV} is not set: run the suite with `make test` (it starts a "
            "throw-away PostgreSQL + PostGIS) or point it at a server you may write to"
        )
    return url


class Backend:
    """Makes databases of one kind: templates once, copies per test."""

    def __init__(self, kind: str, tmp: Path, pg_url: str | None) -> None:
        self.kind = kind
        self.tmp = tmp
        self.pg_url = pg_url
        self.made: list[str] = []

    def _admin(self) -> Engine:
        return create_engine(make_url(self.pg_url), isolation_level="AUTOCOMMIT")

    def new_url(self, template: str | None = None) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        if self.kind == "sqlite":
            path = self.tmp / f"{name}.db"
            if template:
                shutil.copyfile(template, path)
            return f"sqlite:///{path}"
        admin = self._admin()
        with admin.connect() as conn:
            tpl = f" TEMPLATE {make_url(template).database}" if template else ""
            conn.execute(text(f"CREATE DATABASE {name}{tpl}"))
        admin.dispose()
        self.made.append(name)
        return make_url(self.pg_url).set(database=name).render_as_string(hide_password=False)

    def template_source(self, url: str) -> str:
        return make_url(url).database if self.kind == "sqlite" else url

    def drop_all(self) -> None:
        if self.kind != "postgresql" or not self.made:
            return
        admin = self._admin()
        with admin.connect() as conn:
            for name in self.made:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request, tmp_path_factory) -> Iterator[Backend]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    b = Backend(request.param, tmp_path_factory.mktemp(request.param), url)
    yield b
    b.drop_all()


@pytest.fixture(scope="session")
def migrated_template(backend: Backend) -> str:
    url = backend.new_url()
    engine = make_engine(url)
    init_db(engine)
    engine.dispose()
    return backend.template_source(url)


@pytest.fixture(scope="session")
def loaded_template(backend: Backend, migrated_template: str) -> str:
    from mastplan.chongqing import LoadOptions, load_chongqing

    url = backend.new_url(migrated_template)
    engine = make_engine(url)
    with session_factory(engine)() as session:
        load_chongqing(session, Actor("test-loader"), LoadOptions(density=TEST_DENSITY))
    engine.dispose()
    return backend.template_source(url)


@pytest.fixture
def db_url(backend: Backend, migrated_template: str) -> str:
    """A fresh, migrated, empty database."""
    return backend.new_url(migrated_template)


@pytest.fixture
def loaded_url(backend: Backend, loaded_template: str) -> str:
    """A fresh database holding the Chongqing data set (small synthetic inventory)."""
    return backend.new_url(loaded_template)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    e = make_engine(db_url)
    yield e
    e.dispose()


@pytest.fixture
def loaded_engine(loaded_url: str) -> Iterator[Engine]:
    e = make_engine(loaded_url)
    yield e
    e.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as s:
        yield s


@pytest.fixture
def loaded_session(loaded_engine: Engine) -> Iterator[Session]:
    with session_factory(loaded_engine)() as s:
        yield s


@pytest.fixture
def actor() -> Actor:
    return Actor("tester", reason="test")
