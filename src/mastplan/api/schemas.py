"""The error answers every endpoint shares (what ``mastplan.api.app``'s handlers send), for the
OpenAPI schema."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Problem(BaseModel):
    """An error: one line for people."""

    detail: str


class FieldProblem(BaseModel):
    """Where a request was invalid, and why."""

    loc: list[str | int]
    msg: str


class InvalidRequest(BaseModel):
    """A request whose parameters are invalid."""

    detail: str
    errors: list[FieldProblem] | None = None


#: The error answers any authenticated endpoint may give.
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no valid credential"},
    403: {"model": Problem, "description": "a read-only token, or a browser write without CSRF"},
    422: {"model": InvalidRequest, "description": "invalid parameters"},
}
#: An object that does not exist, or that the caller may not see: the same answer.
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "no such object, or not the caller's to see"}
}


def problem(code: int, description: str) -> dict[int | str, dict[str, Any]]:
    """A one-line error answer of ``code`` for an endpoint's ``responses``."""
    return {code: {"model": Problem, "description": description}}
