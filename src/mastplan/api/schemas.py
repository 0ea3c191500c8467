"""The error answers every endpoint shares (what ``mastplan.api.app``'s handlers send), for the
OpenAPI schema."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException
from pydantic import BaseModel

#: The days a ``date`` parameter may name.
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2200, 12, 31)


class Problem(BaseModel):
    """An error: one line for people."""

    detail: str


class FieldProblem(BaseModel):
    """Where a request was invalid, and why."""

    loc: list[str | int]
    msg: str


class RowProblem(BaseModel):
    """A value the registry's rules refuse (as an import would): where, and why."""

    file: str
    row: int
    field: str
    message: str


class InvalidRequest(BaseModel):
    """A request whose parameters are invalid: by the schema (``loc``, ``msg``) or by the
    registry's rules (``file``, ``row``, ``field``, ``message``)."""

    detail: str
    errors: list[FieldProblem | RowProblem] | None = None


#: The error answers any authenticated endpoint may give.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "a body that cannot be read (not UTF-8 JSON)"},
    401: {"model": Problem, "description": "no valid credential"},
    403: {
        "model": Problem,
        "description": "a read-only token, a browser write without CSRF, or "
        "a role or organisation that may not do this to an object it may see",
    },
    422: {"model": InvalidRequest, "description": "invalid parameters"},
}
#: An object that does not exist, or that the caller may not see: the same answer.
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "no such object, or not the caller's to see"}
}


#: What a write may answer besides :data:`ERRORS`: refused by a rule of the data (an id that
#: exists, a closed assignment, …), or an object the caller may not see.
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": Problem,
        "description": "refused by a rule of the data (an id that exists, a closed assignment …)",
    },
    **NOT_FOUND,
}
#: A write with ``If-Match`` may also answer 412.
VERSIONED_WRITE: dict[int | str, dict[str, Any]] = {
    **WRITE_ERRORS,
    412: {"model": Problem, "description": "the object changed since it was read (If-Match)"},
}


def location(*parts: object) -> str:
    """The address under ``/api/v1`` of a created object, each part percent-encoded (a key may
    hold any character: 渝中-T9)."""
    return "/api/v1/" + "/".join(quote(str(p), safe="") for p in parts)


def problem(code: int, description: str) -> dict[int | str, dict[str, Any]]:
    """A one-line error answer of ``code`` for an endpoint's ``responses``."""
    return {code: {"model": Problem, "description": description}}


def parse_day(date: str | None) -> dt.date:
    """A ``date`` parameter (YYYY-MM-DD; today in Chongqing when absent); 422 otherwise."""
    from mastplan.sharing.calendar import today

    try:
        day = dt.date.fromisoformat(date) if date else today()
    except ValueError:
        raise HTTPException(422, f"date {date!r} is not a day (YYYY-MM-DD)") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise HTTPException(422, f"date must be between {FIRST_DAY} and {LAST_DAY}")
    return day
