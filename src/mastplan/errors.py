"""Errors that mastplan reports to people: one clear line each, never a traceback."""

from __future__ import annotations

from dataclasses import dataclass


class MastplanError(Exception):
    """An error the CLI prints as one line and exits non-zero on."""


class NotFoundError(MastplanError):
    """A named object does not exist (or is not visible to the caller)."""


class PermissionDeniedError(MastplanError):
    """The caller may see the object but its role may not do this to it (HTTP 403). An object
    the caller may not see raises :class:`NotFoundError` instead, never this."""


class StaleVersionError(MastplanError):
    """The object changed since the caller read it (optimistic concurrency: HTTP 412)."""


class InvalidTransitionError(MastplanError):
    """A lifecycle transition that the transition table does not allow."""


@dataclass(frozen=True)
class RowError:
    """One problem in an input file: which file, which row, which field, and why."""

    file: str
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: row {self.row}: field '{self.field}': {self.message}"


class ImportValidationError(MastplanError):
    """An import was refused as a whole because some rows are bad; nothing was written."""

    def __init__(self, errors: list[RowError], total_errors: int | None = None) -> None:
        self.errors = errors
        self.total_errors = total_errors if total_errors is not None else len(errors)
        first = errors[0] if errors else None
        more = f" (and {self.total_errors - 1} more)" if self.total_errors > 1 else ""
        super().__init__(f"import refused, nothing written: {first}{more}")
