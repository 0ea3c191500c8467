"""``mastplan report``: the progress report for a meeting, in 中文 or English, HTML and PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mastplan.cli.common import DatabaseOpt, _date, _run, _session, _today, console


def report(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    date: Annotated[
        str | None, typer.Option("--date", help="As of this day (YYYY-MM-DD) [default: today].")
    ] = None,
    district: Annotated[
        str | None, typer.Option("--district", help="One district (code) instead of the city.")
    ] = None,
    lang: Annotated[
        list[str] | None, typer.Option("--lang", help="zh or en (repeat for both) [default: zh].")
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Write the progress report: KPIs against targets with progress charts, the district and
    key-area maps, overdue tasks, open cases and meeting follow-ups (HTML and PDF)."""
    from mastplan.errors import MastplanError
    from mastplan.progress.report_data import build_report_data
    from mastplan.reports.render import render_report

    def body() -> None:
        langs = lang or ["zh"]
        bad = [x for x in langs if x not in ("zh", "en")]
        if bad:
            raise MastplanError(f"--lang must be zh or en, not {', '.join(bad)}")
        day = _date(date, "--date") or _today()
        with _session(database) as session:
            data = build_report_data(session, day, district or "city")
        out.mkdir(parents=True, exist_ok=True)
        for x in langs:
            files = render_report(data, x, out)
            console.print(f"wrote {files.html} and {files.pdf} ({len(files.images)} images)")

    _run(body)
