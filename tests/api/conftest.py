"""Fixtures of the API tests: an app over a fresh copy of the loaded Chongqing data set with a
user of every role (passwords and API tokens), sharing requests of two operators on one tower,
and clients that act as each user (a browser session with its CSRF token, or a Bearer token).

The users, requests and tokens are made once per backend in a template database; each test gets
its own copy (``tests/conftest.py``), so writes in one test never reach another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from mastplan.api.app import create_app
from mastplan.api.deps import CSRF_HEADER
from mastplan.api.security import create_token, set_password
from mastplan.registry.audit import Actor
from mastplan.registry.db import make_engine, session_factory
from mastplan.registry.enums import SiteStatus
from mastplan.registry.models import Organisation, Site, Structure
from mastplan.registry.structures import create_structure
from mastplan.registry.users import add_user
from mastplan.sharing.policy import FeeItem
from mastplan.sharing.requests import RequestSpec, act, file_request

ADMIN = Actor("admin", "test setup")
PASSWORD = "correct horse battery staple"

#: name → (organisation, role): one user of every role, two of some.
USERS = {
    "li.reg": ("cq-cac", "regulator"),
    "wang.cmcc": ("china-mobile", "operator"),
    "sun.unicom": ("china-unicom", "operator"),
    "zhao.tower": ("china-tower", "owner"),
    "zhou.tower": ("china-tower", "owner"),
    "wu.lights": ("cq-street-lighting", "owner"),
    "chen.yuzhong": ("gov-500103", "district"),
    "zheng.jiangbei": ("gov-500105", "district"),
    "ma.viewer": ("china-mobile", "viewer"),
    "xu.viewer": ("cq-gov", "viewer"),
}
#: One user per role, for the role matrices.
BY_ROLE = {
    "regulator": "li.reg",
    "operator": "wang.cmcc",
    "owner": "zhao.tower",
    "district": "chen.yuzhong",
    "viewer": "ma.viewer",
}
#: Users whose tokens may write.
WRITERS = ("wang.cmcc", "sun.unicom", "zhao.tower", "zhou.tower", "li.reg")
FAIR = (FeeItem("space_rent", 7000.0), FeeItem("electricity", 0.65), FeeItem("maintenance", 1500))


@dataclass
class World:
    """What the template holds beyond the loaded data set."""

    template: str
    read_tokens: dict[str, str] = field(default_factory=dict)
    write_tokens: dict[str, str] = field(default_factory=dict)
    #: sharing request ids: cmcc (active on T1), unicom (active on T1), unicom_open (submitted)
    requests: dict[str, int] = field(default_factory=dict)
    #: site external ids: <operator>_planned, <operator>_approved, <operator>_public (on air);
    #: <operator>_planned_tower on a China Tower structure, cmcc_planned_other on another's
    sites: dict[str, str] = field(default_factory=dict)


def _tower(external_id: str, **overrides) -> dict:
    """A China Tower tower in Yuzhong (渝中区, 500103) with three positions."""
    record = {"external_id": external_id, "kind": "telecom_tower", "owner": "china-tower",
              "lon_deg": 106.5700, "lat_deg": 29.5570, "height_m": 35.0, "mount_positions": 3,
              "max_payload_kg": 300.0, "available_power_kw": 10.0}  # fmt: skip
    record.update(overrides)
    return record


def _site_of(
    session, operator: str, status: SiteStatus, owner: str | None = None, owned: bool = True
) -> str:
    """A site of ``operator`` in ``status`` (on a structure of ``owner``, or not of it)."""
    query = (
        select(Site.external_id)
        .join(Organisation, Site.operator_id == Organisation.id)
        .where(Organisation.code == operator, Site.status == status)
        .order_by(Site.id)
    )
    if owner is not None:
        owner_org = Organisation.__table__.alias("owner_org")
        query = (
            query.join(Structure, Site.structure_id == Structure.id)
            .join(owner_org, Structure.owner_id == owner_org.c.id)
            .where((owner_org.c.code == owner) if owned else (owner_org.c.code != owner))
        )
    found = session.scalar(query.limit(1))
    assert found, f"the loaded data set has no {status.value} site of {operator} ({owner})"
    return found


def _build(session, world: World) -> None:
    for name, (org, role) in USERS.items():
        add_user(session, ADMIN, name, org, role)
        set_password(session, ADMIN, name, PASSWORD)
        world.read_tokens[name] = create_token(session, ADMIN, name, "tests")[0]
    for name in WRITERS:
        world.write_tokens[name] = create_token(session, ADMIN, name, "tests-w",
                                                ("read", "write"))[0]  # fmt: skip
    create_structure(session, ADMIN, _tower("T1"))
    ask = RequestSpec("T1", position_count=1, payload_kg=60.0, power_kw=2.0, fee_offer=FAIR)
    for key, operator in (("cmcc", "wang.cmcc"), ("unicom", "sun.unicom")):
        req = file_request(session, operator, ask, submit=True)
        act(session, "zhao.tower", req.id, "review")
        act(session, "zhou.tower", req.id, "approve")
        world.requests[key] = req.id
    world.requests["unicom_open"] = file_request(session, "sun.unicom", ask, submit=True).id
    for op, code in (("cmcc", "china-mobile"), ("unicom", "china-unicom")):
        world.sites[f"{op}_planned"] = _site_of(session, code, SiteStatus.PLANNED)
        world.sites[f"{op}_approved"] = _site_of(session, code, SiteStatus.APPROVED)
        world.sites[f"{op}_public"] = _site_of(session, code, SiteStatus.ON_AIR)
        world.sites[f"{op}_planned_tower"] = _site_of(session, code, SiteStatus.PLANNED,
                                                      "china-tower")  # fmt: skip
    world.sites["cmcc_planned_other"] = _site_of(session, "china-mobile", SiteStatus.PLANNED,
                                                 "china-tower", owned=False)  # fmt: skip


@pytest.fixture(scope="session")
def world(backend, loaded_template) -> World:
    """A template database: the loaded data set plus the users, tokens and requests above."""
    url = backend.new_url(loaded_template)
    w = World(template=backend.template_source(url))
    engine = make_engine(url)
    with session_factory(engine)() as session:
        _build(session, w)
    engine.dispose()
    return w


@pytest.fixture
def password() -> str:
    """Every test user's password."""
    return PASSWORD


@pytest.fixture
def api_url(backend, world: World) -> str:
    """A fresh copy of the world's database."""
    return backend.new_url(world.template)


@pytest.fixture
def app(api_url: str):
    """The API over a fresh copy of the world (cookies over plain HTTP, as TestClient talks)."""
    application = create_app(api_url, secure_cookies=False)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def clients(app) -> Iterator[list[TestClient]]:
    """Every client a test made, closed at its end."""
    made: list[TestClient] = []
    yield made
    for c in made:
        c.close()


@pytest.fixture
def anon(app, clients) -> TestClient:
    """A client without credentials."""
    c = TestClient(app)
    clients.append(c)
    return c


@pytest.fixture
def login(app, clients) -> Callable[..., TestClient]:
    """``login(name)``: a browser logged in as ``name`` (POST /api/v1/auth/login) that sends
    its session's CSRF token with every request; ``csrf=False`` keeps it from sending it."""

    def make(name: str, *, csrf: bool = True) -> TestClient:
        c = TestClient(app)
        clients.append(c)
        r = c.post("/api/v1/auth/login", json={"name": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        c.csrf_token = r.json()["csrf_token"]  # type: ignore[attr-defined]
        if csrf:
            c.headers[CSRF_HEADER] = c.csrf_token  # type: ignore[attr-defined]
        return c

    return make


@pytest.fixture
def bearer(app, clients, world: World) -> Callable[..., TestClient]:
    """``bearer(name)``: an integration acting as ``name`` with its read-only API token;
    ``write=True`` for its read-and-write token."""

    def make(name: str, *, write: bool = False) -> TestClient:
        secret = (world.write_tokens if write else world.read_tokens)[name]
        c = TestClient(app, headers={"Authorization": f"Bearer {secret}"})
        clients.append(c)
        return c

    return make


@pytest.fixture
def local_jobs(tmp_path, monkeypatch) -> Path:
    """Job results and uploads under this test's folder, and no worker in the server (a test
    runs the queue itself with :func:`run_jobs`)."""
    from mastplan.jobs import runner

    folder = tmp_path / "jobs"
    monkeypatch.setenv(runner.JOBS_DIR_ENV, str(folder))
    monkeypatch.setenv(runner.WORKER_ENV, "0")
    monkeypatch.delenv("MASTPLAN_MAX_UPLOAD_BYTES", raising=False)
    return folder


@pytest.fixture
def run_jobs() -> Callable[..., int]:
    """``run_jobs(app)``: run the app's queue until it is empty; how many jobs ran."""
    import datetime as dt

    from mastplan.jobs.runner import Worker

    def run(app) -> int:
        worker = Worker(app.state.sessions, poll_s=0.02, progress_interval_s=0.0,
                        heartbeat_s=1.0, stale_after=dt.timedelta(seconds=60))  # fmt: skip
        return worker.run(until_idle=True)

    return run
