"""What every ``mastplan`` command shares: consoles, common options, the session, the progress
bar, and one way to turn a failure into one line and a non-zero exit."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from mastplan.config import database_url
from mastplan.errors import ImportValidationError, MastplanError

console = Console()
err_console = Console(stderr=True)

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        "-d",
        envvar="MASTPLAN_DATABASE_URL",
        help="Database URL or SQLite file [default: ./mastplan.db].",
    ),
]
UserOpt = Annotated[
    str | None, typer.Option("--as", envvar="MASTPLAN_USER", help="Who is acting (audit log).")
]
ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Why (audit log).")]


@contextmanager
def _session(database: str | None, *, require_schema: bool = True) -> Iterator[Session]:
    from mastplan.registry.db import make_engine, require_current_schema, session_factory

    engine = make_engine(database_url(database))
    try:
        if require_schema:
            require_current_schema(engine)
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
        disable=not err_console.is_terminal,
    )


def _fail(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _run(fn: Callable[[], Any]) -> Any:
    """Run a command body; turn known failures into one clear line and a non-zero exit."""
    try:
        return fn()
    except ImportValidationError as exc:
        table = Table(
            "row",
            "field",
            "problem",
            title=f"{exc.total_errors} problem(s) in "
            f"{exc.errors[0].file if exc.errors else 'the input'}",
        )
        for e in exc.errors[:20]:
            table.add_row(str(e.row), e.field, e.message)
        err_console.print(table)
        _fail(str(exc))
    except MastplanError as exc:
        _fail(str(exc))
    except SQLAlchemyError as exc:
        _fail(f"database error: {getattr(exc, 'orig', None) or exc}".splitlines()[0])
    except OSError as exc:
        _fail(str(exc))
    except Exception as exc:
        if os.environ.get("MASTPLAN_DEBUG"):
            raise
        _fail(
            f"internal error: {type(exc).__name__}: {exc} "
            "(set MASTPLAN_DEBUG=1 to see the traceback, and please report it)"
        )


def _date(text: str | None, option: str = "--date") -> dt.date | None:
    """A YYYY-MM-DD option as a date (``None`` stays ``None``)."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise MastplanError(f"{option} must be an ISO date YYYY-MM-DD, got {text!r}") from None


def _at(text: str | None, option: str = "--at") -> dt.datetime | None:
    """An ISO 8601 date or time option; without a zone it is Chongqing time (what people type)."""
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise MastplanError(f"{option} must be an ISO 8601 date or time, got {text!r}") from None
    if moment.tzinfo is None:
        from mastplan.sharing.calendar import CST

        moment = moment.replace(tzinfo=CST)
    return moment


def _table(*columns: str, title: str) -> Table:
    """A table whose cells fold rather than cut: ids and codes must stay whole in a narrow
    terminal."""
    table = Table(title=title)
    for name in columns:
        table.add_column(name, overflow="fold")
    return table


def _today() -> dt.date:
    """Today in Chongqing (China Standard Time)."""
    from mastplan.sharing.calendar import today

    return today()
