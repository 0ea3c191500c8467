"""Where mastplan keeps its data: the database URL and its default."""

from __future__ import annotations

import os
from pathlib import Path

DATABASE_URL_ENV = "MASTPLAN_DATABASE_URL"
USER_ENV = "MASTPLAN_USER"
DEFAULT_SQLITE_FILE = "mastplan.db"


def database_url(explicit: str | None = None) -> str:
    """Return the database URL: explicit, else ``MASTPLAN_DATABASE_URL``, else ``./mastplan.db``.

    A bare file path is accepted and taken as a SQLite file.
    """
    url = explicit or os.environ.get(DATABASE_URL_ENV) or DEFAULT_SQLITE_FILE
    if "://" not in url:
        url = f"sqlite:///{Path(url).resolve()}"
    return url


def current_user(explicit: str | None = None) -> str:
    """Return who is acting: the explicit user, else ``MASTPLAN_USER``, else the login name."""
    if explicit:
        return explicit
    env = os.environ.get(USER_ENV)
    if env:
        return env
    try:
        return os.getlogin()
    except OSError:
        return os.environ.get("USER", "unknown")
