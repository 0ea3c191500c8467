"""Fixtures of the browser tests: the built bundle, the app served by uvicorn on 127.0.0.1,
Debian's Chromium through Playwright, users with passwords, screenshots.

The app runs in a background thread over a database the test gives (a fresh copy of the
loaded Chongqing data set: SQLite only, the API tests cover PostgreSQL); with ``worker=True``
the job worker runs beside it (plans, coverage, reports), writing into the test's
``tmp_path``. Chromium is ``/usr/bin/chromium`` (``MASTPLAN_CHROMIUM`` to point elsewhere); a
browser is never downloaded. Screenshots go to ``tmp_path`` and are copied to
``test-artifacts/browser/`` (the last run's only).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect, sync_playwright

from mastplan.api.security import set_password
from mastplan.registry.audit import Actor
from mastplan.registry.db import make_engine, session_factory
from mastplan.registry.users import add_user
from mastplan.web import STATIC_DIR

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = os.environ.get("MASTPLAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Every user the tests make has this password.
PASSWORD = "a browser test password"
TIMEOUT_MS = 20_000


@pytest.fixture(scope="session")
def web_bundle() -> Path:
    """The built UI: built now by scripts/build-web.sh if missing or older than web/."""
    script = ROOT / "scripts" / "build-web.sh"
    done = subprocess.run([str(script)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"scripts/build-web.sh failed:\n{done.stdout}\n{done.stderr}"
    index = STATIC_DIR / "index.html"
    assert index.is_file(), f"no bundle at {index}"
    assert (STATIC_DIR / "api-docs.html").is_file(), "no API docs page in the bundle"
    return index


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """``serve(app, worker=False) -> base URL``: the app on 127.0.0.1 in a thread until the test
    ends; with ``worker=True`` the job worker too (jobs folder under ``tmp_path``)."""
    from mastplan.jobs.runner import start_worker, stop_worker

    running: list[tuple[uvicorn.Server, threading.Thread, FastAPI, bool]] = []

    def start(app: FastAPI, *, worker: bool = False) -> str:
        if worker:
            start_worker(app, jobs_dir=tmp_path / "jobs", poll_s=0.5, progress_interval_s=0.2)
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        )
        thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
        thread.start()
        running.append((server, thread, app, worker))
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread, app, worker in running:
        server.should_exit = True
        thread.join(timeout=15)
        if worker:
            stop_worker(app, timeout=30)
        app.state.engine.dispose()


def add_users(database_url: str, users: dict[str, tuple[str, str]]) -> None:
    """Users (name → (organisation, role)) with the tests' password."""
    engine = make_engine(database_url)
    admin = Actor("browser-test", "test setup")
    with session_factory(engine)() as session:
        for name, (org, role) in users.items():
            add_user(session, admin, name, org, role)
            set_password(session, admin, name, PASSWORD)
    engine.dispose()


@pytest.fixture
def make_users() -> Callable[[str, dict[str, tuple[str, str]]], None]:
    """``make_users(database_url, {name: (organisation, role)})``."""
    return add_users


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), (
        f"no Chromium at {CHROMIUM}: install Debian's chromium (make test does) or set "
        "MASTPLAN_CHROMIUM"
    )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class UI:
    """Pages in fresh browser contexts (each its own cookies: its own session), the errors
    they raise, and logging in."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.errors: list[str] = []
        self.contexts = []

    def page(self, locale: str = "zh-CN", **options) -> Page:
        context = self.browser.new_context(
            viewport={"width": 1400, "height": 900}, locale=locale, **options
        )
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda exc: self.errors.append(f"{exc}"))
        return page

    def log_in(self, page: Page, url: str, name: str) -> None:
        page.goto(url + "/")
        page.get_by_label("用户名").fill(name)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_test_id("who")).to_contain_text(name)

    def close(self) -> None:
        for context in self.contexts:
            with contextlib.suppress(Exception):  # closed by the test already
                context.close()


@pytest.fixture
def ui(browser: Browser) -> Iterator[UI]:
    helper = UI(browser)
    yield helper
    helper.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """test-artifacts/browser/, emptied of the last run's screenshots once per run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    return ARTIFACTS


class Shots:
    """Screenshots into tmp_path, copied to test-artifacts/browser/ as ``<prefix>-NN-name``."""

    def __init__(self, where: Path, artifacts: Path, prefix: str) -> None:
        self.where = where
        self.artifacts = artifacts
        self.prefix = prefix
        self.n = 0

    def __call__(self, page: Page, name: str, full_page: bool = False) -> None:
        self.n += 1
        path = self.where / f"{self.prefix}-{self.n:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        shutil.copyfile(path, self.artifacts / path.name)


@pytest.fixture
def shots(request, tmp_path: Path, artifacts: Path) -> Shots:
    prefix = request.node.module.__name__.rpartition(".")[2].removeprefix("test_")
    return Shots(tmp_path, artifacts, prefix)
