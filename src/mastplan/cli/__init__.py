"""The ``mastplan`` command line: thin commands over the registry's services."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from mastplan.cli.common import (
    DatabaseOpt,
    ReasonOpt,
    UserOpt,
    _date,
    _fail,
    _progress,
    _run,
    _session,
    _today,
    console,
)
from mastplan.cli.governance import meeting_app, tasks_app
from mastplan.cli.jobs import jobs_app, worker_cmd
from mastplan.cli.kpi import kpi_app
from mastplan.cli.progress import enterprise_app, figure_app, scenario_app
from mastplan.cli.report import report
from mastplan.cli.sharing import sharing_app
from mastplan.cli.web import passwd, serve, token_app
from mastplan.config import current_user, database_url
from mastplan.errors import MastplanError
from mastplan.registry.audit import Actor

app = typer.Typer(
    help="mastplan: plan, share and track a city's 5G base-station sites.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
load_app = typer.Typer(help="Load a built-in data set.", no_args_is_help=True)
synth_app = typer.Typer(help="Generate synthetic data files.", no_args_is_help=True)
radio_app = typer.Typer(help="Radio engine tools.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log: history and tamper check.", no_args_is_help=True)
user_app = typer.Typer(help="Users: one organisation and one role each.", no_args_is_help=True)
app.add_typer(load_app, name="load")
app.add_typer(synth_app, name="synth")
app.add_typer(radio_app, name="radio")
app.add_typer(audit_app, name="audit")
app.add_typer(user_app, name="user")
app.add_typer(sharing_app, name="sharing")
app.add_typer(kpi_app, name="kpi")
app.command("report")(report)
app.command("serve")(serve)
app.command("worker")(worker_cmd)
app.add_typer(jobs_app, name="jobs")
app.add_typer(token_app, name="token")
user_app.command("passwd")(passwd)
app.add_typer(scenario_app, name="scenario")
app.add_typer(enterprise_app, name="enterprise")
app.add_typer(figure_app, name="figure")
app.add_typer(tasks_app, name="tasks")
app.add_typer(meeting_app, name="meeting")


def _actor(session, user: str | None, reason: str | None = None) -> Actor:
    """Who writes: ``--as`` / ``MASTPLAN_USER`` / the login name, with the organisation of a
    registered user."""
    from mastplan.registry.users import command_actor

    return command_actor(session, current_user(user), reason)


def _version(value: bool) -> None:
    if value:
        from mastplan import __version__

        console.print(f"mastplan {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """mastplan: plan, share and track a city's 5G base-station sites."""


@app.command()
def init(database: DatabaseOpt = None) -> None:
    """Create the database schema, or upgrade it to this version (safe to repeat)."""
    from mastplan.registry.db import current_revision, init_db, make_engine

    def body() -> None:
        url = database_url(database)
        engine = make_engine(url)
        try:
            init_db(engine)
            rev = current_revision(engine)
        finally:
            engine.dispose()
        console.print(
            f"database ready at {engine.url.render_as_string(hide_password=True)} (schema {rev})"
        )

    _run(body)


@load_app.command("chongqing")
def load_chongqing_cmd(
    database: DatabaseOpt = None,
    user: UserOpt = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic inventory.")] = 2019,
    density: Annotated[
        float,
        typer.Option(help="Street density of the synthetic inventory (1.0 = dense urban core)."),
    ] = 1.0,
    halo_m: Annotated[
        float, typer.Option(help="Synthetic inventory reaches this far beyond the key areas.")
    ] = 300.0,
    years: Annotated[
        str,
        typer.Option(
            help="Phase years whose key areas get a synthetic inventory, comma-separated."
        ),
    ] = "2019",
    synthetic: Annotated[bool, typer.Option(help="Generate the synthetic inventory.")] = True,
    demo: Annotated[
        bool, typer.Option(help="Load the demo scenarios, enterprises and figures (marked demo).")
    ] = True,
) -> None:
    """Load Chongqing: 38 districts, key areas, organisations, the plan's tasks, a synthetic
    inventory and demo progress data."""
    from mastplan.chongqing import LoadOptions, load_chongqing

    def body() -> None:
        options = LoadOptions(
            seed=seed,
            density=density,
            halo_m=halo_m,
            years=tuple(int(y) for y in years.split(",") if y.strip()),
            synthetic=synthetic,
            demo=demo,
        )
        with _session(database) as session, _progress() as progress:
            task = progress.add_task("loading Chongqing", total=None)

            def step(description: str, advance: int = 0, total: int | None = None) -> None:
                progress.update(task, description=description, advance=advance, total=total)

            summary = load_chongqing(session, _actor(session, user), options, step)
        console.print_json(data=summary)

    _run(body)


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="The file to import.")],
    layer: Annotated[str, typer.Option(help="structures or sites.")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", help="csv, geojson, gpkg or opencellid [default: from the file name]."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and count, write nothing.")
    ] = False,
    database: DatabaseOpt = None,
    user: UserOpt = None,
    reason: ReasonOpt = None,
) -> None:
    """Import structures or sites, all or nothing, upserting by external id."""
    from mastplan.io.importer import import_layer

    def body() -> None:
        with _session(database) as session, _progress() as progress:
            task = progress.add_task(f"importing {file.name}", total=None)
            result = import_layer(
                session,
                _actor(session, user, reason),
                file,
                layer,
                fmt,
                dry_run=dry_run,
                progress=lambda n: progress.advance(task, n),
            )
        verb = "would import" if dry_run else "imported"
        console.print(
            f"{verb} {result.rows} rows from {file}: {result.inserted} new, "
            f"{result.updated} updated"
            + "".join(f", {n} skipped ({why})" for why, n in result.skipped.items() if n)
            + (" (dry run: nothing written)" if dry_run else "")
        )

    _run(body)


@app.command("export")
def export_cmd(
    layer: Annotated[str, typer.Option(help="districts, key_areas, structures or sites.")],
    fmt: Annotated[str, typer.Option("--format", help="geojson, gpkg, csv or kml.")],
    out: Annotated[Path, typer.Option("--out", help="Output file.")],
    database: DatabaseOpt = None,
) -> None:
    """Export a layer in WGS84 (GeoPackage opens in QGIS, KML in Google Earth)."""
    from mastplan.io.exporter import export_layer

    def body() -> None:
        with _session(database) as session:
            n = export_layer(session, layer, fmt, out)
        console.print(f"wrote {n} {layer} to {out}")

    _run(body)


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    database: DatabaseOpt = None,
) -> None:
    """Counts: structures by kind, sites by status and operator, key areas by phase year; and
    the city's KPIs against the plan's targets today."""
    from mastplan.cli.kpi import kpi_table
    from mastplan.progress.kpis import KpiData, compute_all, load_kpis
    from mastplan.registry.status import status_summary

    def body() -> None:
        today = _today()
        _, specs = load_kpis()
        with _session(database) as session:
            summary = status_summary(session)
            kpis = compute_all(KpiData(session), specs, today, scopes=["city"])
        if as_json:
            summary["kpis"] = [
                {"kpi": v.kpi, "as_of": v.as_of.isoformat(), "value": v.value,
                 "target": v.target.value if v.target else None, "met": v.met}
                for v in kpis
            ]  # fmt: skip
            sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
            return
        _print_status(summary)
        console.print(kpi_table(kpis, specs, f"KPIs of the city on {today} 全市关键指标"))

    _run(body)


def _print_status(summary: dict[str, Any]) -> None:
    from mastplan.registry.enums import STRUCTURE_KIND_NAMES

    console.print(
        f"districts 区县: {summary['districts']}    organisations 单位: "
        f"{summary['organisations']}    sectors 扇区: {summary['sectors']}    "
        f"tenancies 租户: {summary['tenancies']}"
    )
    t = Table(title="Structures by kind 杆塔资源（按类型）")
    t.add_column("kind")
    t.add_column("类型")
    t.add_column("count", justify="right")
    for kind, n in summary["structures"]["by_kind"].items():
        names = STRUCTURE_KIND_NAMES.get(kind, {"zh": kind, "en": kind})
        t.add_row(names["en"], names["zh"], f"{n:,}")
    t.add_row("total", "合计", f"{summary['structures']['total']:,}", style="bold")
    console.print(t)
    if summary["structures"]["synthetic"]:
        console.print(
            f"[yellow]{summary['structures']['synthetic']:,} structures are SYNTHETIC "
            "(generated, not a real inventory) 合成数据，非真实清单[/]"
        )
    statuses = ["planned", "approved", "built", "on_air", "retired"]
    t = Table(title="Sites by operator and status 基站（按运营商、状态）")
    t.add_column("operator 运营商")
    for s in statuses:
        t.add_column(s, justify="right")
    t.add_column("total", justify="right")
    for entry in summary["sites"]["by_operator"].values():
        t.add_row(
            f"{entry['name_en']} {entry['name_zh']}",
            *(f"{entry['by_status'].get(s, 0):,}" for s in statuses),
            f"{entry['total']:,}",
        )
    t.add_row(
        "total 合计",
        *(f"{summary['sites']['by_status'].get(s, 0):,}" for s in statuses),
        f"{summary['sites']['total']:,}",
        style="bold",
    )
    console.print(t)
    t = Table(title="Key areas by phase year 重点区域（按年度）")
    t.add_column("phase year 年度")
    t.add_column("key areas", justify="right")
    for year, n in summary["key_areas"]["by_phase_year"].items():
        t.add_row(year, str(n))
    console.print(t)


@app.command()
def coverage(
    area: Annotated[
        str,
        typer.Option(
            help="Key-area code, district code (GB/T 2260) or "
            "phase:YEAR for all key areas of a phase."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    resolution_m: Annotated[float, typer.Option(help="Pixel size in metres.")] = 25.0,
    dem: Annotated[Path | None, typer.Option(help="DEM GeoTIFF (any CRS).")] = None,
    synthetic_terrain: Annotated[
        int | None,
        typer.Option(help="Use the seeded SYNTHETIC terrain with this seed (demo and tests)."),
    ] = None,
    operator: Annotated[
        list[str] | None,
        typer.Option(help="Only this operator's sites (repeatable) [default: all]."),
    ] = None,
    load: Annotated[float, typer.Option(help="Cell load of the interferers, 0–1.")] = 1.0,
    los_mode: Annotated[
        str, typer.Option(help="expected (mean over the LOS probability), los or nlos.")
    ] = "expected",
    antenna: Annotated[
        str,
        typer.Option(
            help="element (TR 38.901, 8 dBi), array (8×8 panel, SSB beam) or array-best-beam."
        ),
    ] = "element",
    shadowing_seed: Annotated[
        int | None,
        typer.Option(help="Add seeded, spatially correlated shadow fading [default: off]."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Predict the network as it stood that day (YYYY-MM-DD) [default: now]."
        ),
    ] = None,
    record: Annotated[
        bool,
        typer.Option(
            "--record/--no-record",
            help="Keep the key areas' statistics in the registry (the key-area KPIs use them).",
        ),
    ] = True,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Run the tiles on this Dask scheduler (tcp://host:8786, or its scheduler file)."
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Run the tiles on a local Dask cluster of this many processes."),
    ] = None,
    dashboard: Annotated[
        bool, typer.Option(help="Serve the Dask dashboard (needs bokeh) and print its address.")
    ] = False,
    resume: Annotated[
        bool,
        typer.Option(
            help="Continue the Dask run whose tiles are in OUT/tiles (refuse if they are of "
            "another run) [default: resume when they match, else start afresh]."
        ),
    ] = False,
    tile_px: Annotated[int, typer.Option(help="Tile edge in pixels (the unit of work).")] = 128,
    user: UserOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Predict coverage of the on-air sites over an area: rasters, PNGs, covered area, stats."""
    from mastplan.coverage_run import CoverageRunOptions, run_coverage

    if resume and not (scheduler or workers):
        _fail("--resume needs --scheduler or --workers (in-process runs write no tiles)")
    if tile_px < 1:
        _fail(f"--tile-px must be at least 1, not {tile_px}")

    def body() -> None:
        from mastplan.distributed import ClusterOptions

        cluster = ClusterOptions(scheduler, workers, dashboard, resume)
        options = CoverageRunOptions(
            resolution_m=resolution_m,
            operators=tuple(operator or ()),
            dem=dem,
            synthetic_terrain_seed=synthetic_terrain,
            load=load,
            los_mode=los_mode,
            antenna=antenna,
            shadowing_seed=shadowing_seed,
            as_of=_date(as_of, "--as-of"),
        )
        with _session(database) as session, _progress() as progress:
            task = progress.add_task(f"coverage of {area}", total=None)
            summary = run_coverage(
                session,
                area,
                out,
                options,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
                cluster=cluster,
                tile_px=tile_px,
                say=lambda msg: progress.console.print(msg, highlight=False),
            )
            kept = []
            if record:
                from mastplan.progress.coverage_results import record_coverage

                kept = record_coverage(
                    session,
                    _actor(session, user, f"mastplan coverage {area}"),
                    summary,
                    as_of=options.as_of or _today(),
                )
        s = summary["statistics"]
        console.print(
            f"{summary['area']['name_zh']} {summary['area']['name_en']}: "
            f"{summary['sectors']['used']} sectors of {summary['sectors']['sites']} "
            f"sites; covered {_pct(s.get('covered_share'))}, continuity "
            f"{_pct(s.get('continuity'))}"
        )
        parts = summary.get("per_area") or []
        if parts:
            cont = sorted((p["statistics"]["continuity"], p["code"]) for p in parts)
            console.print(
                f"per key area ({len(parts)}): continuity min {_pct(cont[0][0])} "
                f"({cont[0][1]}), median {_pct(cont[len(cont) // 2][0])}"
            )
        console.print(f"wrote {', '.join(summary['files'])} to {out}")
        if kept:
            console.print(f"kept the statistics of {len(kept)} key area(s) in the registry")

    _run(body)


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{100 * float(value):.1f} %"


@user_app.command("add")
def user_add_cmd(
    name: Annotated[str, typer.Argument(help="The user's login name.")],
    org: Annotated[str, typer.Option("--org", help="Organisation code.")],
    role: Annotated[str, typer.Option(help="regulator, operator, owner, district or viewer.")],
    user: UserOpt = None,
    reason: ReasonOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Register a user in an organisation with a role (audited)."""
    from mastplan.registry.users import add_user

    def body() -> None:
        with _session(database) as session:
            u = add_user(session, _actor(session, user, reason), name, org, role)
            console.print(f"added {u.name}: {u.role.value} of {org}")

    _run(body)


@user_app.command("list")
def user_list_cmd(database: DatabaseOpt = None) -> None:
    """Every user with organisation and role."""
    from mastplan.registry.users import list_users

    def body() -> None:
        with _session(database) as session:
            table = Table("name", "organisation", "role", "active")
            for u in list_users(session):
                table.add_row(
                    u.name, u.organisation.code, u.role.value, "yes" if u.active else "no"
                )
            console.print(table)

    _run(body)


@audit_app.command("verify")
def audit_verify_cmd(database: DatabaseOpt = None) -> None:
    """Recompute the audit log's hash chain; exit 1 at the first edited or missing entry."""
    from mastplan.registry.audit import verify_chain

    def body() -> None:
        with _session(database) as session:
            report = verify_chain(session)
        if not report.intact:
            _fail(
                f"audit chain broken at entry {report.broken_at}: {report.problem} "
                f"({report.entries} entries before it verify)"
            )
        console.print(f"audit chain intact: {report.entries} entries, head {report.head}")

    _run(body)


@audit_app.command("log")
def audit_log_cmd(
    object_id: Annotated[str, typer.Option("--object", help="Entity id, or TABLE:ID.")],
    limit: Annotated[int, typer.Option(help="At most this many entries, newest last.")] = 50,
    database: DatabaseOpt = None,
) -> None:
    """The history of one object: who did what, when, why, under which request."""
    from sqlalchemy import select

    from mastplan.registry.models import AuditEntry

    entity, _, ident = object_id.rpartition(":")

    def body() -> None:
        with _session(database) as session:
            query = select(AuditEntry).where(AuditEntry.entity_id == ident)
            if entity:
                query = query.where(AuditEntry.entity == entity)
            rows = session.execute(query.order_by(AuditEntry.id.desc()).limit(limit)).scalars()
            rows = list(rows)[::-1]
            if not rows:
                _fail(f"no audit entries for {object_id!r}")
            table = Table("id", "at (UTC)", "actor", "action", "object", "reason", "request")
            for e in rows:
                at = e.at.strftime("%Y-%m-%d %H:%M:%S")
                what = f"{e.entity}:{e.entity_id}"
                table.add_row(str(e.id), at, e.actor, e.action, what, e.reason or "",
                              e.request_id[:8])  # fmt: skip
            console.print(table)

    _run(body)


@radio_app.command("calibrate")
def radio_calibrate_cmd(
    out: Annotated[Path, typer.Option("--out", help="CSV file: metric,percentile,value.")],
    scenario: Annotated[str, typer.Option(help="uma or umi.")] = "uma",
    fc_ghz: Annotated[float, typer.Option("--fc-ghz", help="Carrier frequency, GHz.")] = 6.0,
    drops: Annotated[int | None, typer.Option(help="Independent UE drops.")] = None,
    seed: Annotated[int, typer.Option(help="Seed.")] = 1,
) -> None:
    """TR 38.901 §7.8.1 large-scale calibration: coupling-loss and geometry CDF percentiles."""
    from mastplan.radio.calibration import calibrate_to_csv

    def body() -> None:
        if scenario not in ("uma", "umi"):
            raise MastplanError(f"scenario must be uma or umi, not {scenario!r}")
        kwargs = {"drops": drops} if drops is not None else {}
        medians = calibrate_to_csv(scenario, fc_ghz, out=out, seed=seed, **kwargs)
        for metric, value in medians.items():
            console.print(f"median {metric}: {value:.2f} dB")
        console.print(f"wrote {out}")

    _run(body)


@synth_app.command("structures")
def synth_structures_cmd(
    out: Annotated[Path, typer.Option("--out", help="CSV file to write (importable).")],
    districts: Annotated[
        str,
        typer.Option(
            help="District codes (comma-separated), or a group: "
            "central_urban, new_urban, three_gorges, wuling, "
            "main_city (the 21 of 主城都市区)."
        ),
    ] = "main_city",
    count: Annotated[int | None, typer.Option(help="Stop after this many structures.")] = None,
    seed: Annotated[int, typer.Option(help="Seed.")] = 2019,
    density: Annotated[float, typer.Option(help="Street density (1.0 = dense urban core).")] = 1.0,
) -> None:
    """Write a synthetic structure inventory over districts, for scale tests and benchmarks."""
    from mastplan.chongqing import write_synthetic_structures

    def body() -> None:
        with _progress() as progress:
            task = progress.add_task("generating structures", total=count)
            n = write_synthetic_structures(
                out,
                districts,
                count=count,
                seed=seed,
                density=density,
                progress=lambda k: progress.advance(task, k),
            )
        console.print(f"wrote {n:,} synthetic structures to {out}")

    _run(body)


def main() -> None:  # pragma: no cover - console entry point
    app()


@app.command()
def plan(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    area: Annotated[
        str | None,
        typer.Option(help="Key-area code, district code or phase:YEAR (key area by key area)."),
    ] = None,
    area_file: Annotated[
        Path | None, typer.Option(help="Plan the polygon(s) of this file instead (any CRS).")
    ] = None,
    phased: Annotated[
        bool, typer.Option(help="The whole 2019 → 2020 → 2021 roll-out of the key areas.")
    ] = False,
    operator: Annotated[
        list[str] | None,
        typer.Option(help="Operator code (repeatable; several = joint and separate plans)."),
    ] = None,
    target_rsrp_dbm: Annotated[
        float | None, typer.Option(help="SS-RSRP target [default: the key area's, −105].")
    ] = None,
    target_sinr_db: Annotated[
        float | None, typer.Option(help="SINR target [default: the key area's, −3].")
    ] = None,
    target_share: Annotated[
        float | None, typer.Option(help="Share of the area at target [default: 0.95].")
    ] = None,
    target_continuity: Annotated[
        float | None, typer.Option(help="Continuity (连片) target [default: 0.90].")
    ] = None,
    solver: Annotated[str, typer.Option(help="milp, greedy or auto.")] = "auto",
    time_limit_s: Annotated[float, typer.Option(help="MILP time limit per problem.")] = 60.0,
    resolution_m: Annotated[float, typer.Option(help="Test-point spacing in metres.")] = 25.0,
    min_isd_m: Annotated[float, typer.Option(help="Minimum inter-site distance (0: off).")] = 0.0,
    budget_yuan: Annotated[
        float | None, typer.Option(help="Maximise coverage within this budget instead.")
    ] = None,
    load: Annotated[float, typer.Option(help="Cell load of the interferers, 0–1.")] = 0.5,
    costs: Annotated[
        Path | None, typer.Option(help="Cost model YAML [default: the packaged one].")
    ] = None,
    record: Annotated[
        bool, typer.Option(help="Record the planned sites in the registry (status planned).")
    ] = True,
    greenfield: Annotated[
        bool, typer.Option(help="Ignore the 5G sites on air (plan from the 2019 start).")
    ] = False,
    tiles: Annotated[
        str,
        typer.Option(help="auto (tiles above 40,000 test points), always or never."),
    ] = "auto",
    tile_m: Annotated[float, typer.Option(help="Tile edge in metres (tiled plans).")] = 2000.0,
    demand_file: Annotated[
        Path | None,
        typer.Option(help="Demand density raster: the share target becomes a share of demand."),
    ] = None,
    exclusion_file: Annotated[
        Path | None,
        typer.Option(help="Polygons where no new site may go (schools, heritage, airport)."),
    ] = None,
    user: Annotated[str | None, typer.Option(help="Who plans (audit log).")] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Solve the tile problems on this Dask scheduler (tcp://host:8786, or its "
            "scheduler file)."
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Solve the tile problems on a local Dask cluster of N processes."),
    ] = None,
    dashboard: Annotated[
        bool, typer.Option(help="Serve the Dask dashboard (needs bokeh) and print its address.")
    ] = False,
    database: DatabaseOpt = None,
) -> None:
    """Plan share-first least-cost 5G sites over an area: sites, rasters before/after, plan.json."""
    from mastplan.distributed import ClusterOptions
    from mastplan.plan_run import PlanOptions, area_from_file, run_phased, run_plan

    if sum(x is not None for x in (area, area_file)) + int(phased) != 1:
        _fail("give exactly one of --area, --area-file and --phased")
    if tiles not in ("auto", "always", "never"):
        _fail(f"--tiles must be auto, always or never, not {tiles!r}")
    if not tile_m > 0:
        _fail(f"--tile-m must be > 0, not {tile_m!r}")
    options = PlanOptions(
        operators=tuple(operator or ("china-mobile",)),
        target_rsrp_dbm=target_rsrp_dbm,
        target_sinr_db=target_sinr_db,
        target_share=target_share,
        target_continuity=target_continuity,
        resolution_m=resolution_m,
        solver=solver,
        time_limit_s=time_limit_s,
        min_isd_m=min_isd_m,
        budget_yuan=budget_yuan,
        load=load,
        costs_file=costs,
        greenfield=greenfield,
        tiles=tiles,
        tile_m=tile_m,
        exclusion_file=exclusion_file,
        demand_file=demand_file,
    )

    def body() -> None:
        cluster = ClusterOptions(scheduler, workers, dashboard)
        with _session(database) as session, _progress() as progress:
            task = progress.add_task("planning", total=None)
            actor = _actor(session, user, "mastplan plan") if record else None
            say = lambda msg: progress.update(task, description=msg)  # noqa: E731
            note = lambda msg: progress.console.print(msg, highlight=False)  # noqa: E731

            def tiles(done: int, total: int) -> None:  # the bar over a tiled solve's tiles
                progress.update(task, completed=done, total=total)

            more = {"cluster": cluster, "say": note, "tile_progress": tiles}
            if phased:
                summary = run_phased(session, out, options, actor, say, **more)
                for y in summary["years"]:
                    console.print(
                        f"{y['year']}: {y['sites']} sites ({y['new_towers']} new towers), "
                        f"{y['cost_yuan']:,.0f} yuan{'' if y['feasible'] else ' — TARGET MISSED'}"
                    )
                console.print(f"total {summary['total_sites']} sites, "
                              f"{summary['total_cost_yuan']:,.0f} yuan; wrote {out}")  # fmt: skip
                return
            target = area_from_file(area_file) if area_file is not None else area
            summary = run_plan(session, target, out, options, actor, say, **more)
        _print_plan(summary, out)

    _run(body)


def _print_plan(summary: dict[str, Any], out: Path) -> None:
    t = summary["totals"]
    console.print(
        f"{summary['area']['name_zh']} {summary['area']['name_en']}: {t['sites']} sites "
        f"({t['on_existing_structures']} on existing structures, {t['new_towers']} new towers), "
        f"{t['cost_yuan']:,.0f} yuan"
    )
    for a in summary["areas"]:
        for op, p in a["operators"].items():
            if not p["feasible"]:
                console.print(f"[red]{a['code']} {op}: target missed[/red] — {p['explanation']}")
                continue
            gap = p["solution"]["gap"]
            console.print(
                f"{a['code']} {op}: {p['sites']} sites, {p['cost_yuan']:,.0f} yuan, coverage "
                f"{_pct(p['before']['covered_share'])} → {_pct(p['after']['covered_share'])}, "
                f"continuity {_pct(p['after']['continuity'])}, solver "
                f"{p['solution']['solver']} gap {'n/a' if gap is None else f'{gap:.2%}'}"
            )
    if summary.get("sharing"):
        s = summary["sharing"]
        console.print(
            f"sharing: joint {s['joint_cost_yuan']:,.0f} vs separate "
            f"{s['separate_cost_yuan']:,.0f} yuan — saving {s['saving_yuan']:,.0f} "
            f"({s['saving_share']:.1%})"
        )
    if summary.get("recorded"):
        console.print(f"recorded in the registry: {summary['recorded']}")
    if not summary["feasible"]:
        _fail(f"the target cannot be met; nothing recorded (see {out / 'plan.json'})")
    console.print(f"wrote {', '.join(summary['files'])} to {out}")


@app.command()
def consolidate(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    area: Annotated[
        str | None, typer.Option(help="Key-area code, district code or phase:YEAR [default: all].")
    ] = None,
    link_m: Annotated[float, typer.Option(help="Poles this close are linked.")] = 15.0,
    corridor_m: Annotated[
        float, typer.Option(help="A cluster's poles lie within this of one street line.")
    ] = 8.0,
    min_owners: Annotated[int, typer.Option(help="Distinct owners a cluster needs.")] = 2,
    database: DatabaseOpt = None,
) -> None:
    """多杆合一: clusters of poles of different owners that could become one smart pole."""
    from mastplan.consolidation_run import ConsolidationOptions, run_consolidation

    def body() -> None:
        options = ConsolidationOptions(link_m=link_m, corridor_m=corridor_m, min_owners=min_owners)
        with _session(database) as session:
            summary = run_consolidation(session, area, out, options)
        console.print(json.dumps(summary, ensure_ascii=False, indent=2, default=str)[:2000])
        console.print(f"wrote {out}")

    _run(body)
