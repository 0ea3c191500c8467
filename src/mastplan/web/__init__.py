"""The web UI: the bundle that ``web/`` builds (``scripts/build-web.sh``, Vite), served by the
API app.

``mount_web(app)`` serves ``static/index.html`` at ``/`` and the hashed bundle files under
``/assets``, ``/web-config.json`` with the UI's settings (the optional basemap tile URL from
``MASTPLAN_TILE_URL``; without it the map draws only our own vector layers and fetches nothing
from outside), and the API docs page at ``/api/v1/docs`` (``static/api-docs.html``: Swagger UI
copied into the bundle from the npm package ``swagger-ui-dist``, over ``/api/v1/openapi.json``;
FastAPI's own docs page would load it from a CDN). When the bundle was not built, ``/`` and
``/api/v1/docs`` answer 503 with a page that says how to build it, and a warning is logged once
at mount time; the API keeps working.
"""

from __future__ import annotations

import html
import logging
import os
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

__all__ = [
    "API_DOCS_PATH",
    "STATIC_DIR",
    "TILE_ATTRIBUTION_ENV",
    "TILE_URL_ENV",
    "bundle_built",
    "mount_web",
]

log = logging.getLogger("mastplan.web")

#: Where the build writes the bundle (``web/vite.config.js``).
STATIC_DIR = Path(__file__).resolve().parent / "static"
#: An XYZ tile URL template for a basemap (e.g. an intranet tile server), and its attribution.
TILE_URL_ENV = "MASTPLAN_TILE_URL"
TILE_ATTRIBUTION_ENV = "MASTPLAN_TILE_ATTRIBUTION"
#: Where the API docs page is served (the app's ``docs_url`` is ``None``).
API_DOCS_PATH = "/api/v1/docs"

_NOT_BUILT = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>mastplan: 网页界面尚未构建 / web UI not built</title>
<style>body{{font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;line-height:1.5}}
code{{background:#eef2f6;padding:.1rem .3rem}}</style></head><body>
<h1>网页界面尚未构建 · The web UI was not built</h1>
<p>在 <code>{static}</code> 中找不到 <code>index.html</code>。请在代码库根目录运行
<code>scripts/build-web.sh</code>（需要 Node.js 20.19 以上和 npm），然后重启服务。</p>
<p>There is no <code>index.html</code> in <code>{static}</code>. Run
<code>scripts/build-web.sh</code> in the repository (it needs Node.js 20.19+ and npm), then
restart the server. The REST API works meanwhile; its description is at
<a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>
</body></html>
"""


def bundle_built(static_dir: Path = STATIC_DIR, page: str = "index.html") -> bool:
    """Whether the bundle's ``index.html`` (or another of its pages) is there."""
    return (static_dir / page).is_file()


def _tile_source(url: str) -> str | None:
    """The CSP source of a tile URL template (a ``{s}`` subdomain becomes ``*``)."""
    parts = urlsplit(url)
    host = parts.netloc.replace("{s}", "*")
    if parts.scheme not in ("http", "https") or not host or "{" in host:
        return None
    return f"{parts.scheme}://{host}"


def _security_headers(tile_url: str | None) -> dict[str, str]:
    img = "'self' data: blob:"
    source = _tile_source(tile_url) if tile_url else None
    if source:
        img += f" {source}"
    return {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"img-src {img}; connect-src 'self'; font-src 'self'; object-src 'none'; "
            "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-cache",
    }


def mount_web(
    app: FastAPI,
    *,
    static_dir: Path | str | None = None,
    tile_url: str | None = None,
    tile_attribution: str | None = None,
) -> bool:
    """Serve the built UI from ``app``: ``/`` (index.html), ``/assets/…``, ``/web-config.json``.

    ``tile_url`` (default: ``$MASTPLAN_TILE_URL``) names an XYZ tile template for a basemap;
    without one the map has a plain background. Returns whether the bundle was found; without
    it ``/`` answers 503 with build instructions. Mounts once per app: a second call only
    returns the first one's answer.
    """
    if getattr(app.state, "web_mounted", None) is not None:
        return app.state.web_mounted
    static = Path(static_dir) if static_dir is not None else STATIC_DIR
    tiles = tile_url if tile_url is not None else os.environ.get(TILE_URL_ENV) or None
    attribution = (tile_attribution if tile_attribution is not None
                   else os.environ.get(TILE_ATTRIBUTION_ENV, ""))  # fmt: skip
    headers = _security_headers(tiles)
    built = bundle_built(static)
    if not built:
        log.warning("web UI not built: no %s; run scripts/build-web.sh (the API still works)",
                    static / "index.html")  # fmt: skip

    def page(name: str) -> Response:
        if not bundle_built(static) or not bundle_built(static, name):
            text = _NOT_BUILT.format(static=html.escape(str(static)))
            return HTMLResponse(text, status_code=503, headers={"Cache-Control": "no-store"})
        return FileResponse(static / name, media_type="text/html", headers=headers)

    @app.get("/", include_in_schema=False)
    def index() -> Response:
        return page("index.html")

    @app.get(API_DOCS_PATH, include_in_schema=False)
    def api_docs() -> Response:
        # Swagger UI and its init script from /assets: the same strict CSP as the UI's
        return page("api-docs.html")

    @app.get("/web-config.json", include_in_schema=False)
    def web_config() -> JSONResponse:
        return JSONResponse({"tile_url": tiles, "tile_attribution": attribution},
                            headers={"Cache-Control": "no-cache"})  # fmt: skip

    # Hashed file names: the browser may keep them for good.
    if (static / "assets").is_dir():
        app.mount("/assets", _ImmutableFiles(directory=static / "assets"), name="web-assets")
    app.state.web_mounted = built
    return built


class _ImmutableFiles(StaticFiles):
    """Static files with a long cache lifetime (Vite names them by their content hash)."""

    async def get_response(self, path, scope):
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response
