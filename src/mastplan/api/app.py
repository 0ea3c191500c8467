"""The FastAPI application: ``create_app`` wires the database, the error answers, the limits
and the routers of ``/api/v1``; ``mastplan serve`` runs it with uvicorn."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from mastplan import __version__
from mastplan.errors import (
    ImportValidationError,
    InvalidTransitionError,
    MastplanError,
    NotFoundError,
    PermissionDeniedError,
    StaleVersionError,
)
from mastplan.registry.db import make_engine, require_current_schema, session_factory
from mastplan.registry.tenancies import CapacityError

log = logging.getLogger("mastplan.api")

#: Largest request body accepted (JSON); uploads have their own limit in the import endpoints.
MAX_BODY_BYTES = 1_000_000
#: The upload endpoint: its multipart body is limited by $MASTPLAN_MAX_UPLOAD_BYTES instead.
UPLOAD_PATH = "/api/v1/imports"


def _answer(status: int, detail: str, **extra) -> JSONResponse:
    return JSONResponse({"detail": detail, **extra}, status_code=status)


def _log_refusal(request: Request, detail: str) -> None:
    """Keep an authorisation failure (403 from a service) in the auth event log."""
    from mastplan.api.deps import client_of
    from mastplan.api.security import log_event

    name = getattr(request.state, "caller_name", None)
    log.info("refused %s %s to %s: %s", request.method, request.url.path, name, detail)
    with request.app.state.sessions() as session:
        log_event(session, "forbidden", name, client_of(request), method=request.method,
                  path=request.url.path, detail=detail)  # fmt: skip
        session.commit()


def create_app(database_url: str | None = None, *, secure_cookies: bool = True) -> FastAPI:
    """The API over the database at ``database_url`` (default: as the CLI resolves it).

    ``secure_cookies=False`` lets the session cookie travel over plain HTTP (a laptop on
    127.0.0.1); behind TLS keep the default.
    """
    from mastplan.api.routes import (
        auth,
        governance,
        imports,
        jobs,
        plans,
        progress,
        registry,
        sharing,
    )
    from mastplan.api.routes import coverage as coverage_runs
    from mastplan.jobs.runner import worker_lifespan
    from mastplan.jobs.uploads import MULTIPART_SLACK, max_upload_bytes
    from mastplan.sharing.requests import FeePolicyError

    engine = make_engine(database_url)
    require_current_schema(engine)
    app = FastAPI(
        title="mastplan API",
        version=__version__,
        description="Plan, share and track a city's 5G base-station sites. Every endpoint "
        "acts for the authenticated caller: what a user may not see does not exist for it.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # served offline by mastplan.web (Swagger UI from the bundle)
        redoc_url=None,
        lifespan=worker_lifespan,  # the job worker runs while the server runs
    )
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.secure_cookies = secure_cookies

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        size = request.headers.get("content-length")
        limit = MAX_BODY_BYTES
        if request.method == "POST" and request.url.path == UPLOAD_PATH:
            limit = max_upload_bytes() + MULTIPART_SLACK  # streamed and checked by the endpoint
        if size is not None and size.isdigit() and int(size) > limit:
            return _answer(413, f"request body over {limit:,} bytes")
        if "\x00" in request.url.path or "%00" in str(request.url.query):
            return _answer(422, "invalid request: a NUL character in the address")
        return await call_next(request)

    @app.exception_handler(DataError)
    async def unstorable(_request, exc):
        # a value the database refuses (a NUL character in text, a number out of range)
        return _answer(422, "invalid request: a value the database cannot hold")

    @app.exception_handler(NotFoundError)
    async def not_found(_request, exc):
        return _answer(404, str(exc))

    @app.exception_handler(PermissionDeniedError)
    async def denied(request: Request, exc):
        await run_in_threadpool(_log_refusal, request, str(exc))
        return _answer(403, str(exc))

    @app.exception_handler(StaleVersionError)
    async def stale(_request, exc):
        return _answer(412, str(exc))

    @app.exception_handler(InvalidTransitionError)
    async def invalid_transition(_request, exc):
        return _answer(409, str(exc))

    @app.exception_handler(CapacityError)
    async def no_capacity(_request, exc):
        return _answer(409, str(exc))

    @app.exception_handler(FeePolicyError)
    async def fee_policy(_request, exc):
        return _answer(422, str(exc), case=exc.case_id,
                       violations=[v.__dict__ for v in exc.violations])  # fmt: skip

    @app.exception_handler(ImportValidationError)
    async def bad_file(_request, exc):
        return _answer(422, str(exc), errors=[e.__dict__ for e in exc.errors[:100]])

    @app.exception_handler(MastplanError)
    async def refused(_request, exc):
        return _answer(400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(_request, exc):
        return _answer(422, "invalid request", errors=[
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()
        ])  # fmt: skip

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request, exc):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))  # fmt: skip

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception):  # pragma: no cover - a bug's path
        log.exception("internal error on %s %s", request.method, request.url.path)
        return _answer(500, "internal error")

    app.include_router(auth.router, prefix="/api/v1")
    app.include_router(sharing.router, prefix="/api/v1")
    app.include_router(registry.router, prefix="/api/v1")
    app.include_router(progress.router, prefix="/api/v1")
    app.include_router(jobs.router, prefix="/api/v1")
    app.include_router(imports.router, prefix="/api/v1")
    app.include_router(plans.router, prefix="/api/v1")
    app.include_router(coverage_runs.router, prefix="/api/v1")
    app.include_router(governance.router, prefix="/api/v1")
    from mastplan.web import mount_web

    mount_web(app)  # the bundled UI at /
    return app
