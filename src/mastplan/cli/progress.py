"""``mastplan scenario``, ``mastplan enterprise``, ``mastplan figure``: the plan's application
scenarios, enterprises and reported figures.

Imports are all or nothing (a bad row refuses the file with a table of row, field and problem);
writes are audited under ``--as`` / ``MASTPLAN_USER``; lists print bilingual tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from mastplan.cli.common import (
    DatabaseOpt,
    ReasonOpt,
    UserOpt,
    _date,
    _run,
    _session,
    console,
)
from mastplan.config import current_user

scenario_app = typer.Typer(help="Application scenarios (专栏10).", no_args_is_help=True)
enterprise_app = typer.Typer(help="5G enterprises and their revenue.", no_args_is_help=True)
figure_app = typer.Typer(
    help="Figures reported by the statistics authorities.", no_args_is_help=True
)

FileArg = Annotated[Path, typer.Argument(help="A .csv file or an .xlsx workbook.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Check and count, write nothing.")]
DistrictOpt = Annotated[str | None, typer.Option("--district", help="District code, e.g. 500112.")]
DemoOpt = Annotated[
    bool | None, typer.Option("--demo/--no-demo", help="Only demo rows, or only real ones.")
]

_YI = 1e8  # 亿 (100 million): how revenue is read in Chinese statistics


def _table(*columns: str, title: str) -> Table:
    """A table whose cells fold rather than cut, so codes and names stay whole."""
    table = Table(title=title)
    for name in columns:
        table.add_column(name, overflow="fold")
    return table


def _district_names(session: Session) -> dict[str, str]:
    from mastplan.registry.models import District

    return dict(session.execute(select(District.code, District.name_zh)).all())


def _district(names: dict[str, str], code: str | None) -> str:
    return f"{code} {names.get(code, '')}".strip() if code else ""


def _demo(flag: bool) -> str:
    return "示例 demo" if flag else ""


def _import_line(result, dry_run: bool) -> str:
    verb = "would import" if dry_run else "imported"
    tail = " (dry run: nothing written)" if dry_run else ""
    return (f"{verb} {result.rows} {result.kind} from {result.file}: {result.inserted} new, "
            f"{result.updated} updated{tail}")  # fmt: skip


# --- scenarios ----------------------------------------------------------------------------------


@scenario_app.command("import")
def scenario_import_cmd(
    file: FileArg,
    enterprises: Annotated[
        Path | None,
        typer.Option(
            "--enterprises",
            help="An enterprises file (or workbook) imported first in the same transaction, "
            "so the scenarios may name its enterprises.",
        ),
    ] = None,
    dry_run: DryRunOpt = False,
    database: DatabaseOpt = None,
    user: UserOpt = None,
    reason: ReasonOpt = None,
) -> None:
    """Import application scenarios, all or nothing, upserting by code."""
    from mastplan.progress.registry_import import import_progress_files
    from mastplan.registry.users import command_actor

    def body() -> None:
        with _session(database) as session:
            actor = command_actor(session, current_user(user), reason)
            results = import_progress_files(session, actor, enterprises=enterprises,
                                            scenarios=file, dry_run=dry_run)  # fmt: skip
        for result in results.values():
            console.print(_import_line(result, dry_run), highlight=False)

    _run(body)


@scenario_app.command("list")
def scenario_list_cmd(
    category: Annotated[
        str | None, typer.Option("--category", help="A 专栏10 action id, e.g. smart-healthcare.")
    ] = None,
    district: DistrictOpt = None,
    status: Annotated[
        str | None,
        typer.Option("--status", help="planned, building, in_operation or ended."),
    ] = None,
    year: Annotated[int | None, typer.Option("--year", help="Launch year.")] = None,
    demo: DemoOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """The application scenarios, by code, with their enterprises."""
    from mastplan.progress.scenarios import list_scenarios

    def body() -> None:
        with _session(database) as session:
            rows = list_scenarios(session, category=category, district=district, status=status,
                                  year=year, demo=demo)  # fmt: skip
            names = _district_names(session)
            table = _table("代码 / code", "名称 / name", "类别 / category", "区县 / district",
                           "状态 / status", "年份 / year", "投运 / in operation",
                           "企业 / enterprises", "示例 / demo",
                           title=f"{len(rows)} 个应用场景 / application scenario(s)")  # fmt: skip
            for s in rows:
                table.add_row(s.code, f"{s.name_zh}\n{s.name_en}", s.category.value,
                              _district(names, s.district_code), s.status.value, str(s.year),
                              str(s.in_operation_on or ""),
                              "\n".join(e.organisation.code for e in s.enterprises),
                              _demo(s.demo))  # fmt: skip
            console.print(table)

    _run(body)


# --- enterprises --------------------------------------------------------------------------------


@enterprise_app.command("import")
def enterprise_import_cmd(
    file: FileArg,
    dry_run: DryRunOpt = False,
    database: DatabaseOpt = None,
    user: UserOpt = None,
    reason: ReasonOpt = None,
) -> None:
    """Import enterprises and their revenues (revenue_YYYY_yuan columns), all or nothing,
    upserting by organisation code."""
    from mastplan.progress.registry_import import import_enterprises
    from mastplan.registry.users import command_actor

    def body() -> None:
        with _session(database) as session:
            actor = command_actor(session, current_user(user), reason)
            result = import_enterprises(session, actor, file, dry_run=dry_run)
        console.print(_import_line(result, dry_run), highlight=False)

    _run(body)


@enterprise_app.command("list")
def enterprise_list_cmd(
    segment: Annotated[
        str | None,
        typer.Option(
            "--segment",
            help="materials, chips, modules, terminals, antenna_feeder, software or applications.",
        ),
    ] = None,
    zone: Annotated[
        str | None,
        typer.Option(
            "--zone", help="liangjiang, high_tech_zone, economic_dev_zone or support_district."
        ),
    ] = None,
    district: DistrictOpt = None,
    demo: DemoOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """The enterprises, by code, with their latest reported revenue."""
    from mastplan.progress.enterprises import list_enterprises

    def body() -> None:
        with _session(database) as session:
            rows = list_enterprises(session, segment=segment, zone=zone, district=district,
                                    demo=demo)  # fmt: skip
            names = _district_names(session)
            table = _table("代码 / code", "名称 / name", "环节 / segment", "区域 / zone",
                           "区县 / district", "创新型 / innovative",
                           "最新营收 / latest revenue (亿元)", "示例 / demo",
                           title=f"{len(rows)} 家企业 / enterprise(s)")  # fmt: skip
            for e in rows:
                latest = e.revenues[-1] if e.revenues else None
                revenue = f"{latest.revenue_yuan / _YI:,.2f} ({latest.year})" if latest else ""
                table.add_row(e.organisation.code, f"{e.organisation.name_zh}\n"
                              f"{e.organisation.name_en}", e.segment.value, e.zone.value,
                              _district(names, e.district_code), "是 yes" if e.innovative else "",
                              revenue, _demo(e.demo))  # fmt: skip
            console.print(table)

    _run(body)


@enterprise_app.command("revenue")
def enterprise_revenue_cmd(
    code: Annotated[str, typer.Argument(help="The enterprise's organisation code.")],
    year: Annotated[int, typer.Option("--year", help="The calendar year.")],
    revenue_yuan: Annotated[
        float, typer.Option("--yuan", help="Main-business revenue (主营业务收入) in yuan.")
    ],
    source: Annotated[
        str | None, typer.Option("--source", help="Where the figure is from.")
    ] = None,
    database: DatabaseOpt = None,
    user: UserOpt = None,
    reason: ReasonOpt = None,
) -> None:
    """Set an enterprise's revenue of one year (audited)."""
    from mastplan.progress.enterprises import set_revenue
    from mastplan.registry.users import command_actor

    def body() -> None:
        with _session(database) as session:
            actor = command_actor(session, current_user(user), reason)
            row = set_revenue(session, actor, code, year, revenue_yuan, source)
        console.print(f"{code}: revenue {row.year} = {row.revenue_yuan:,.0f} yuan", highlight=False)

    _run(body)


# --- figures ------------------------------------------------------------------------------------


def _value(indicator: str, value: float) -> str:
    from mastplan.progress.figures import target_unit

    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"
    if target_unit(indicator) == "yuan":
        text += f" (≈ {value / _YI:,.2f} 亿元)"
    return text


@figure_app.command("set")
def figure_set_cmd(
    indicator: Annotated[str, typer.Argument(help="e.g. 5g-industry-revenue.")],
    year: Annotated[int, typer.Option("--year", help="The year the figure is for.")],
    value: Annotated[float, typer.Option("--value", help="The reported value (money in yuan).")],
    scope: Annotated[
        str, typer.Option("--scope", help="city, a district code or a 3+X zone.")
    ] = "city",
    source: Annotated[str | None, typer.Option("--source", help="Who reported it, where.")] = None,
    reported_on: Annotated[
        str | None, typer.Option("--reported-on", help="Date of the report (YYYY-MM-DD).")
    ] = None,
    database: DatabaseOpt = None,
    user: UserOpt = None,
    reason: ReasonOpt = None,
) -> None:
    """Record a reported figure (replaces an earlier one of the same indicator, year, scope)."""
    from mastplan.progress.figures import record_figure
    from mastplan.registry.users import command_actor

    def body() -> None:
        on = _date(reported_on, "--reported-on")
        with _session(database) as session:
            actor = command_actor(session, current_user(user), reason)
            fig = record_figure(session, actor, indicator, year, value, scope=scope,
                                reported_on=on, source=source)  # fmt: skip
        console.print(f"{fig.indicator} {fig.year} ({fig.scope}) = {_value(indicator, fig.value)}",
                      highlight=False)  # fmt: skip

    _run(body)


@figure_app.command("list")
def figure_list_cmd(
    indicator: Annotated[str | None, typer.Option("--indicator", help="Only this one.")] = None,
    scope: Annotated[str | None, typer.Option("--scope", help="Only this scope.")] = None,
    database: DatabaseOpt = None,
) -> None:
    """The recorded figures, by indicator, scope and year."""
    from mastplan.progress.figures import list_figures

    def body() -> None:
        with _session(database) as session:
            rows = list_figures(session, indicator=indicator, scope=scope)
            table = _table("指标 / indicator", "年份 / year", "范围 / scope", "数值 / value",
                           "报告日期 / reported on", "来源 / source", "示例 / demo",
                           title=f"{len(rows)} 个报告数据 / reported figure(s)")  # fmt: skip
            for f in rows:
                table.add_row(f.indicator, str(f.year), f.scope, _value(f.indicator, f.value),
                              str(f.reported_on or ""), f.source or "", _demo(f.demo))  # fmt: skip
            console.print(table)

    _run(body)
