"""All-or-nothing imports of application scenarios and enterprises from CSV or Excel (.xlsx).

Like the registry's importer: every value of every row is checked first; any bad row refuses
the whole import and the report names file, row and field; nothing is written. A dry run does
the same work, writes, and rolls back, so its counts are the real ones. Records are upserted by
code through the same service code as single objects, so every object written leaves its own
audit entry, and each file one ``import`` entry with its SHA-256 and counts.

An enterprises file and a scenarios file can be imported together (enterprises first, in one
transaction): a scenario may then name enterprises that are in the database or in that file.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from mastplan.errors import ImportValidationError, MastplanError, RowError
from mastplan.io.importer import file_sha256
from mastplan.progress.enterprises import write_enterprise
from mastplan.progress.registry_rules import (
    ENTERPRISE_FIELDS,
    Prepared,
    ProgressLookups,
    prepare_enterprises,
    prepare_scenarios,
)
from mastplan.progress.scenarios import write_scenario
from mastplan.registry.audit import Actor, record
from mastplan.registry.db import transaction
from mastplan.registry.fields import RowErrors, resolve_columns

__all__ = [
    "ProgressImportResult",
    "import_enterprises",
    "import_progress_files",
    "import_scenarios",
    "read_table",
]

FORMATS = {".csv": "csv", ".xlsx": "xlsx"}
#: The audited table (``entity`` of the import's audit entry) of each kind of file.
TABLES = {"enterprises": "enterprises", "scenarios": "application_scenarios"}


@dataclass
class ProgressImportResult:
    """What an import of one file did (or, for a dry run, would do)."""

    kind: str
    file: str
    format: str
    sha256: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _DryRunRollback(Exception):
    """Raised inside the transaction to undo a dry run's writes."""


@dataclass
class _Table:
    """A file read whole: its records, their 1-based row numbers and the name errors carry."""

    frame: pd.DataFrame
    rows: np.ndarray
    label: str
    format: str


def read_table(path: Path, kind: str) -> _Table:
    """Read a CSV (UTF-8, header row) or the sheet of an .xlsx workbook named ``kind`` (any case;
    else its first sheet) as text cells; row 1 is the first record after the header."""
    path = Path(path)
    if not path.is_file():
        raise MastplanError(f"{path}: no such file")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise MastplanError(f"{path}: import a .csv or an .xlsx file")
    label = str(path)
    if fmt == "csv":
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                                skipinitialspace=True)  # fmt: skip
        except pd.errors.EmptyDataError:
            frame = pd.DataFrame()
        except pd.errors.ParserError as exc:
            raise MastplanError(f"{path}: not a readable CSV file: {exc}") from None
        except UnicodeDecodeError as exc:
            raise MastplanError(f"{path}: not UTF-8 text near byte {exc.start}") from None
    else:
        try:
            sheets = pd.ExcelFile(path, engine="openpyxl").sheet_names
            sheet = next((n for n in sheets if str(n).strip().lower() == kind), sheets[0])
            frame = pd.read_excel(path, sheet_name=sheet, dtype=str, keep_default_na=False,
                                  engine="openpyxl")  # fmt: skip
        except (ValueError, KeyError, IndexError, zipfile.BadZipFile) as exc:
            raise MastplanError(f"{path}: not a readable .xlsx workbook: {exc}") from None
        label = f"{path}[{sheet}]"
    frame = frame.reset_index(drop=True)
    rows = np.arange(1, len(frame) + 1, dtype=np.int64)
    return _Table(frame, rows, label, fmt)


def _codes_of(frame: pd.DataFrame) -> set[str]:
    """The codes an enterprises file holds, good rows or not (a scenario naming one of them is
    not at fault; a bad enterprise row is reported by itself)."""
    column = resolve_columns(frame.columns, ENTERPRISE_FIELDS).get("code")
    if column is None:
        return set()
    return {str(c).strip() for c in frame[column] if str(c).strip()}


def _repeated(prepared: list[Prepared], errors: RowErrors) -> None:
    first: dict[str, int] = {}
    for p in prepared:
        code = p.values["code"]
        if code in first:
            errors.add(p.row, "code", f"repeats the value of row {first[code]}")
        else:
            first[code] = p.row


def import_progress_files(
    session: Session,
    actor: Actor,
    *,
    enterprises: Path | None = None,
    scenarios: Path | None = None,
    dry_run: bool = False,
) -> dict[str, ProgressImportResult]:
    """Import an enterprises file, a scenarios file or both, all or nothing, upserting by code.

    Parameters
    ----------
    session : Session
        The import runs in its own transaction (or joins the caller's).
    actor : Actor
        Who imports, recorded in the audit log.
    enterprises, scenarios : Path, optional
        A .csv file, or an .xlsx workbook (the sheet named ``enterprises`` / ``scenarios``,
        else the first). Both may be the same workbook.
    dry_run : bool
        Validate, write and count, then roll back.

    Returns
    -------
    dict
        ``{"enterprises": result, "scenarios": result}`` for the files given.

    Raises
    ------
    ImportValidationError
        When any row of any file is bad; nothing is written.
    """
    if enterprises is None and scenarios is None:
        raise MastplanError("nothing to import: give an enterprises or a scenarios file")
    inputs = {k: Path(p) for k, p in (("enterprises", enterprises), ("scenarios", scenarios))
              if p is not None}  # fmt: skip
    tables = {kind: read_table(path, kind) for kind, path in inputs.items()}
    results = {
        kind: ProgressImportResult(kind, str(inputs[kind]), t.format, file_sha256(inputs[kind]),
                                   rows=len(t.frame), dry_run=dry_run)
        for kind, t in tables.items()
    }  # fmt: skip
    try:
        with transaction(session):
            _import(session, actor, tables, results)
            if dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        pass
    return results


def _import(
    session: Session,
    actor: Actor,
    tables: dict[str, _Table],
    results: dict[str, ProgressImportResult],
) -> None:
    lookups = ProgressLookups.from_session(session)
    checks: dict[str, RowErrors] = {}
    prepared: dict[str, list[Prepared]] = {}
    file_codes: set[str] = set()
    if "enterprises" in tables:
        t = tables["enterprises"]
        checks["enterprises"] = errors = RowErrors(t.label)
        prepared["enterprises"] = prepare_enterprises(t.frame, t.rows, lookups, errors)
        _repeated(prepared["enterprises"], errors)
        file_codes = _codes_of(t.frame)
    if "scenarios" in tables:
        t = tables["scenarios"]
        checks["scenarios"] = errors = RowErrors(t.label)
        prepared["scenarios"] = prepare_scenarios(t.frame, t.rows, lookups, errors, file_codes)
        _repeated(prepared["scenarios"], errors)
    if any(checks.values()):
        items: list[RowError] = []
        for errors in checks.values():
            items.extend(sorted(errors.items, key=lambda e: (e.row, e.field)))
        raise ImportValidationError(items, sum(e.total for e in checks.values()))

    enterprise_ids = dict(lookups.enterprise_ids)
    for kind in ("enterprises", "scenarios"):
        if kind not in prepared:
            continue
        result = results[kind]
        for p in prepared[kind]:
            if kind == "enterprises":
                obj, created = write_enterprise(session, actor, p.values)
                enterprise_ids[p.values["code"]] = obj.id
            else:
                obj, created = write_scenario(session, actor, p.values, enterprise_ids)
            result.inserted += created
            result.updated += not created
        record(session, actor, "import", TABLES[kind], None, after=result.as_dict())


def import_scenarios(
    session: Session,
    actor: Actor,
    path: Path,
    *,
    enterprises: Path | None = None,
    dry_run: bool = False,
) -> ProgressImportResult:
    """Import application scenarios from ``path`` (with, optionally, the enterprises they name
    from ``enterprises`` in the same transaction); see :func:`import_progress_files`."""
    results = import_progress_files(
        session, actor, enterprises=enterprises, scenarios=path, dry_run=dry_run
    )
    return results["scenarios"]


def import_enterprises(
    session: Session, actor: Actor, path: Path, *, dry_run: bool = False
) -> ProgressImportResult:
    """Import enterprises and their revenues from ``path``; see :func:`import_progress_files`."""
    return import_progress_files(session, actor, enterprises=path, dry_run=dry_run)["enterprises"]
