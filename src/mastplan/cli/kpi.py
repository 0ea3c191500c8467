"""``mastplan kpi``: the plan's KPIs at a date, their progress over time, and snapshots."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from mastplan.cli.common import DatabaseOpt, UserOpt, _date, _run, _session, _today, console
from mastplan.config import current_user

kpi_app = typer.Typer(help="KPIs against the plan's targets (关键指标).", no_args_is_help=True)

DateOpt = Annotated[str | None, typer.Option("--date", help="As of this day [default: today].")]
ScopeOpt = Annotated[
    str, typer.Option("--scope", help="city, a district code (500103) or phase:YEAR.")
]


def format_value(value: float | None, unit: str) -> str:
    """A KPI value for people: counts with thousands separators, fractions in per cent."""
    if value is None:
        return "—"
    if unit == "fraction":
        return f"{100 * value:.1f} %"
    if unit == "yuan":
        return f"{value / 1e8:,.1f} 亿元"
    if unit in ("ratio", "per_10k"):
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def kpi_table(values, specs, title: str) -> Table:
    """One row per KPI value: names in both languages, value, target, met."""
    by_id = {s.id: s for s in specs}
    table = Table(title=title)
    for name in ("KPI 指标", "scope 范围", "as of 日期", "value 数值", "target 目标", "met 达成"):
        table.add_column(name, overflow="fold")
    for v in values:
        spec = by_id[v.kpi]
        target = (f"{v.target.comparator} {format_value(v.target.value, spec.unit)} by "
                  f"{v.target.year}" if v.target else "")  # fmt: skip
        met = {True: "yes 是", False: "no 否", None: ""}[v.met]
        table.add_row(f"{spec.name_zh}\n{spec.name_en}", v.scope, str(v.as_of),
                      format_value(v.value, spec.unit), target, met)  # fmt: skip
    return table


@kpi_app.command("show")
def show_cmd(
    date: DateOpt = None,
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="Scopes (repeat) [default: city].")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
    database: DatabaseOpt = None,
) -> None:
    """Every KPI for the scopes asked, on a day."""
    from mastplan.progress.kpis import KpiData, compute, load_kpis, scope_kind

    def body() -> None:
        day = _date(date, "--date") or _today()
        scopes = scope or ["city"]
        _, specs = load_kpis()
        with _session(database) as session:
            data = KpiData(session)
        values = [compute(data, s, sc, day) for sc in scopes for s in specs
                  if scope_kind(sc) in s.scopes]  # fmt: skip
        if as_json:
            console.print_json(data=[
                {"kpi": v.kpi, "scope": v.scope, "as_of": v.as_of.isoformat(), "value": v.value,
                 "numerator": v.numerator, "denominator": v.denominator,
                 "target": v.target.value if v.target else None,
                 "target_year": v.target.year if v.target else None, "met": v.met}
                for v in values
            ])  # fmt: skip
            return
        console.print(kpi_table(values, specs, f"KPIs on {day} 关键指标"))

    _run(body)


@kpi_app.command("series")
def series_cmd(
    kpi: Annotated[str, typer.Argument(help="KPI id, e.g. base-stations.")],
    scope: ScopeOpt = "city",
    start: Annotated[str, typer.Option("--from", help="First day.")] = "2019-06-30",
    date: DateOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """A KPI at the end of each quarter: its progress line."""
    from mastplan.errors import MastplanError
    from mastplan.progress.kpis import KpiData, load_kpis, quarter_ends, series

    def body() -> None:
        _, specs = load_kpis()
        spec = next((s for s in specs if s.id == kpi), None)
        if spec is None:
            raise MastplanError(f"no KPI {kpi!r}: one of {', '.join(s.id for s in specs)}")
        days = quarter_ends(_date(start, "--from"), _date(date, "--date") or _today())
        with _session(database) as session:
            values = series(KpiData(session), spec, scope, days)
        console.print(kpi_table(values, specs, f"{spec.name_zh} {spec.name_en} ({scope})"))

    _run(body)


@kpi_app.command("snapshot")
def snapshot_cmd(date: DateOpt = None, user: UserOpt = None, database: DatabaseOpt = None) -> None:
    """Compute every KPI for every scope on a day and keep the values (kpi_snapshots)."""
    from mastplan.progress.kpis import snapshot_kpis
    from mastplan.registry.users import command_actor

    def body() -> None:
        day = _date(date, "--date") or _today()
        with _session(database) as session:
            rows = snapshot_kpis(session, command_actor(session, current_user(user)), day)
        console.print(f"kept {len(rows)} KPI values of {day}")

    _run(body)
