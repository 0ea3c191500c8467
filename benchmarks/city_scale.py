"""Benchmark: coverage and a share-first plan at city scale, in-process and on Dask clusters.

The whole-city case of "City scale on a cluster". One synthetic inventory
(``write_synthetic_structures(…, "main_city", …)``, ``--structures``, default 1,000,000, over
the 主城都市区 districts) is imported into a fresh SQLite file (or ``--database URL``, e.g.
PostGIS) that holds the Chongqing reference data and the loader's synthetic existing sites
(``load_chongqing``, key areas of ``--site-years``, ``--site-density``). Then, over ``--area``
(default ``phase:2021``, any code ``mastplan coverage`` takes):

* **coverage** of the existing sites at ``--resolution-m`` (``run_coverage``, ``--tile-px``);
* **plan**: a share-first plan to the area's targets (``run_plan``, ``PlanOptions`` defaults:
  China Mobile, existing sites count, the key areas' 2021 targets, ``--tiles always``);

each in-process (the baseline) and on a LocalCluster of every ``--workers`` count (one per run,
started by this script; ``run_*`` gets ``ClusterOptions(scheduler=…)``). Every run is a child
process with its own time box (``--phase-timeout``). Recorded: wall time (cluster start-up
apart), tiles and tiles/s (coverage: ``tiles/run.json`` ``last_run``; plan: the tiles of the
tiled solutions in ``plan.json``), the peak RSS of the client and of each worker (VmHWM, read
on the workers with ``client.run`` at the end), the scaling efficiency (speed-up over 1 worker
÷ workers) and whether the outputs equal the in-process run's (``rsrp_dbm.tif`` array-equal;
the plan's ``sites.csv``). Then an extrapolation to all of Chongqing (82,400 km²) on 64 workers
from the measured per-tile cost. Prints Markdown tables.

    python benchmarks/city_scale.py                                   # 1M structures, phase:2021
    python benchmarks/city_scale.py --structures 20000 --area 2019-jiefangbei-cbd \\
        --resolution-m 50 --workers 1,2 --site-density 0.3            # a few minutes
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHONGQING_KM2 = 82_400.0
TARGET_WORKERS = 64
MIN_SCALED_GRID_PX = 10_000_000


def _hwm_mb() -> float:
    """Peak resident memory of this process (VmHWM: its own, not inherited across exec)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return math.nan


# --- children ---------------------------------------------------------------------------------


def child_setup(csv_path: str, url: str, site_years: str, site_density: str) -> dict:
    """Fresh database: reference data and the loader's synthetic sites, then the inventory."""
    from mastplan.chongqing import LoadOptions, load_chongqing
    from mastplan.io.importer import import_layer
    from mastplan.registry.audit import Actor
    from mastplan.registry.db import init_db, make_engine, session_factory

    engine = make_engine(url)
    init_db(engine)
    years = tuple(int(y) for y in site_years.split(","))
    t0 = time.perf_counter()
    with session_factory(engine)() as session:
        loaded = load_chongqing(
            session, Actor("bench"), LoadOptions(years=years, density=float(site_density))
        )
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with session_factory(engine)() as session:
        result = import_layer(session, Actor("bench"), Path(csv_path), "structures")
    import_s = time.perf_counter() - t0
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    return {"load_s": load_s, "synthetic": loaded.get("synthetic"), "rows": result.rows,
            "import_s": import_s}  # fmt: skip


def _cluster(workers: int):
    """A LocalCluster as ``dask_client`` starts one (processes, one thread, Numba threads
    = cores / workers), owned here so that its workers can be asked for their memory."""
    from distributed import LocalCluster

    threads = max(1, (os.cpu_count() or 1) // workers)
    return LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0", scheduler_kwargs={"dashboard": False},
        env={"NUMBA_NUM_THREADS": str(threads)},
    )  # fmt: skip


def child_run(kind: str, url: str, area: str, out_dir: str, workers: str, opts: str) -> dict:
    """One coverage or plan run; ``workers`` 0: in-process."""
    from mastplan.coverage_run import CoverageRunOptions, run_coverage
    from mastplan.distributed import ClusterOptions
    from mastplan.plan_run import PlanOptions, run_plan
    from mastplan.registry.db import make_engine, session_factory

    o = json.loads(opts)
    n = int(workers)
    out = Path(out_dir)
    engine = make_engine(url)
    cluster = client = None
    startup_s = 0.0
    options = None
    if n:
        from distributed import Client

        t0 = time.perf_counter()
        cluster = _cluster(n)
        client = Client(cluster.scheduler_address, set_as_default=False)
        client.wait_for_workers(n)
        startup_s = time.perf_counter() - t0
        options = ClusterOptions(scheduler=cluster.scheduler_address)
    try:
        with session_factory(engine)() as session:
            t0 = time.perf_counter()
            if kind == "coverage":
                run_coverage(
                    session, area, out, CoverageRunOptions(resolution_m=o["resolution_m"]),
                    cluster=options, tile_px=o["tile_px"],
                )  # fmt: skip
            else:
                summary = run_plan(
                    session, area, out,
                    PlanOptions(resolution_m=o["resolution_m"], tiles="always",
                                time_limit_s=o["time_limit_s"]),
                    cluster=options,
                )  # fmt: skip
            wall_s = time.perf_counter() - t0
        worker_mb: list[float] = []
        if client is not None:
            worker_mb = sorted(client.run(_hwm_mb).values())
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    res = {"wall_s": wall_s, "startup_s": startup_s, "client_mb": _hwm_mb(),
           "load_1min": os.getloadavg()[0],
           "worker_mb": worker_mb, "tiles": None, "tile_s": None, "tiles_per_s": None}  # fmt: skip
    if kind == "coverage":
        run_file = out / "tiles" / "run.json"
        if run_file.exists():
            last = json.loads(run_file.read_text(encoding="utf-8"))["last_run"]
            res |= {"tiles": last["tiles"], "tile_s": last["seconds"],
                    "tiles_per_s": last["tiles_per_s"]}  # fmt: skip
        else:  # in-process: the engine's tiles of the same grid inside the area
            res["tiles"] = _coverage_tiles(session_factory(engine)(), area, o)
    else:
        tiles = [
            op["solution"]["stats"].get("tiled", {}).get("tiles", 0)
            for a in summary["areas"]
            for op in a["operators"].values()
            if op.get("solution")
        ]
        res |= {"tiles": sum(tiles) or None, "feasible": summary["feasible"],
                "sites": summary["totals"]["sites"],
                "cost_yuan": summary["totals"]["cost_yuan"]}  # fmt: skip
    if res["tiles"] and res["tiles_per_s"] is None:
        res["tiles_per_s"] = res["tiles"] / (res["tile_s"] or wall_s)
    return res


def _coverage_tiles(session, area: str, o: dict) -> int:
    import shapely

    from mastplan.geo import METRIC_EPSG, STORAGE_EPSG, project
    from mastplan.radio.grid import Grid
    from mastplan.registry.queries import area_by_code

    with session:
        area_m = project(area_by_code(session, area).boundary, STORAGE_EPSG, METRIC_EPSG)
    grid = Grid.from_polygon(area_m, o["resolution_m"])
    shapely.prepare(area_m)
    return sum(
        1 for t in grid.tiles(o["tile_px"]) if area_m.intersects(shapely.box(*t.grid.bounds))
    )


CHILDREN = {"setup": child_setup, "run": child_run}


def _run_child(*args: str, timeout: float) -> dict:
    """A child's JSON result, or ``{"error": …}`` when it failed or ran past ``timeout``."""
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child", *args],
            check=True, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:g} s"}
    except subprocess.CalledProcessError as exc:
        tail = (exc.stderr or "").strip().splitlines()[-1:] or ["?"]
        return {"error": f"failed: {tail[0][:200]}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- comparisons ------------------------------------------------------------------------------


def _same_raster(a: Path, b: Path) -> bool | None:
    import numpy as np
    import rasterio

    if not (a.exists() and b.exists()):
        return None
    with rasterio.open(a) as fa, rasterio.open(b) as fb:
        return bool(np.array_equal(fa.read(1), fb.read(1), equal_nan=True))


def _same_sites(a: Path, b: Path) -> bool | None:
    import pandas as pd

    if not (a.exists() and b.exists()):
        return None
    return bool(pd.read_csv(a).equals(pd.read_csv(b)))


# --- driver -----------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--structures", type=int, default=1_000_000)
    ap.add_argument("--area", default="phase:2021")
    ap.add_argument("--plan-area", default=None, help="the plan's area (default: --area)")
    ap.add_argument("--resolution-m", type=float, default=25.0)
    ap.add_argument("--tile-px", type=int, default=128)
    ap.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    ap.add_argument("--database", default=None, help="database URL (default: fresh SQLite)")
    ap.add_argument(
        "--site-years",
        default="2019,2020,2021",
        help="phase years whose key areas get the loader's synthetic sites",
    )
    ap.add_argument("--site-density", type=float, default=1.0)
    ap.add_argument("--time-limit-s", type=float, default=60.0, help="plan tile solver limit")
    ap.add_argument("--phase-timeout", type=float, default=3600.0, help="seconds per child")
    ap.add_argument("--skip", choices=("coverage", "plan"), default=None)
    ap.add_argument("--keep", type=Path, default=None, help="keep the outputs in this folder")
    ap.add_argument("--seed", type=int, default=2021)
    ap.add_argument(
        "--reuse-setup", action="store_true",
        help="with --keep: reuse the database set up there by an earlier run",
    )  # fmt: skip
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, *rest = args.child
        print(json.dumps(CHILDREN[kind](*rest)))
        return

    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        base, tmp = args.keep, None
    else:
        tmp = tempfile.TemporaryDirectory()
        base = Path(tmp.name)
    try:
        results = _measure(args, base, workers)
    finally:
        if tmp is not None:
            tmp.cleanup()
    _report(args, workers, *results)


def _measure(args, base: Path, workers: list[int]):
    from mastplan.chongqing import write_synthetic_structures

    url = args.database or f"sqlite:///{base}/city.db"
    saved = base / "setup.json"
    if args.reuse_setup and saved.exists():  # the database of an earlier run with --keep
        setup = json.loads(saved.read_text(encoding="utf-8"))
        print("setup (reused)", json.dumps(setup), flush=True)
    else:
        t0 = time.perf_counter()
        csv = base / "structures.csv"
        written = write_synthetic_structures(
            csv, "main_city", count=args.structures, seed=args.seed, density=1.0
        )
        print(f"generated {written:,} structures in {time.perf_counter() - t0:.1f} s", flush=True)
        setup = _run_child("setup", str(csv), url, args.site_years, str(args.site_density),
                           timeout=args.phase_timeout)  # fmt: skip
        print("setup", json.dumps(setup), flush=True)
        if "error" in setup:
            sys.exit(f"setup {setup['error']}")
        saved.write_text(json.dumps(setup), encoding="utf-8")
    args.grid_px, args.city_grid_px = _grid_pixels(url, args.area, args.resolution_m)
    opts = json.dumps({"resolution_m": args.resolution_m, "tile_px": args.tile_px,
                       "time_limit_s": args.time_limit_s})  # fmt: skip
    runs: dict[tuple[str, int], dict] = {}
    same: dict[tuple[str, int], bool | None] = {}
    for kind in ("coverage", "plan"):
        if kind == args.skip:
            continue
        for n in [0, *workers]:
            out = base / f"{kind}-{n}"
            shutil.rmtree(out, ignore_errors=True)
            area = args.plan_area if kind == "plan" and args.plan_area else args.area
            r = _run_child("run", kind, url, area, str(out), str(n), opts,
                           timeout=args.phase_timeout)  # fmt: skip
            runs[kind, n] = r
            print(kind, "in-process" if n == 0 else f"{n} worker(s)", json.dumps(r), flush=True)
            if n:
                ref = base / f"{kind}-0"
                if kind == "coverage":
                    same[kind, n] = _same_raster(ref / "rsrp_dbm.tif", out / "rsrp_dbm.tif")
                else:
                    same[kind, n] = _same_sites(ref / "sites.csv", out / "sites.csv")
    return setup, runs, same


def _grid_pixels(url: str, area: str, resolution_m: float) -> tuple[int, int]:
    """Pixels of the coverage grid over ``area`` and over all of Chongqing's districts."""
    import shapely
    from sqlalchemy import select

    from mastplan.geo import METRIC_EPSG, STORAGE_EPSG, project
    from mastplan.radio.grid import Grid
    from mastplan.registry.db import make_engine, session_factory
    from mastplan.registry.models import District
    from mastplan.registry.queries import area_by_code

    with session_factory(make_engine(url))() as session:
        area_m = project(area_by_code(session, area).boundary, STORAGE_EPSG, METRIC_EPSG)
        city = shapely.union_all(session.scalars(select(District.boundary)).all())
    city_m = project(city, STORAGE_EPSG, METRIC_EPSG)
    ny, nx = Grid.from_polygon(area_m, resolution_m).shape
    cy, cx = Grid.from_polygon(city_m, resolution_m).shape
    return ny * nx, cy * cx


def _f(v, fmt: str = ".1f") -> str:
    return "–" if v is None else format(v, fmt)


def _report(args, workers: list[int], setup: dict, runs: dict, same: dict) -> None:
    print(f"\n### Setup: {setup['rows']:,} structures ({args.structures:,} asked), "
          f"{'--database' if args.database else 'SQLite'}\n")  # fmt: skip
    print(f"Reference data and synthetic sites (key areas of {args.site_years}, density "
          f"{args.site_density:g}): {setup['load_s']:.1f} s, {setup.get('synthetic')}; "
          f"import of the inventory: {setup['import_s']:.1f} s "
          f"({setup['rows'] / setup['import_s']:,.0f} rows/s).")  # fmt: skip
    for kind in ("coverage", "plan"):
        if kind == args.skip:
            continue
        what = "Coverage of the existing sites" if kind == "coverage" else (
            "Share-first plan (China Mobile, the areas' targets, tiles always)")  # fmt: skip
        area = args.plan_area if kind == "plan" and args.plan_area else args.area
        print(f"\n### {what}: {area} at {args.resolution_m:g} m, tile {args.tile_px} px\n")
        print(
            "| run | cluster start s | wall s | tiles | tiles/s | speed-up / 1 worker | "
            "efficiency | client peak MB | worker peak MB (max) | same as in-process |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")  # fmt: skip
        one = runs.get((kind, workers[0] if workers else 0), {})
        for n in [0, *workers]:
            r = runs[kind, n]
            label = "in-process" if n == 0 else f"LocalCluster, {n} worker(s)"
            if "error" in r:
                print(f"| {label} | – | {r['error']} | – | – | – | – | – | – | – |")
                continue
            speed = eff = None
            if n and "wall_s" in one and workers[0] == 1:
                speed = one["wall_s"] / r["wall_s"]
                eff = speed / n
            wmb = max(r["worker_mb"]) if r["worker_mb"] else None
            eq = {True: "yes", False: "**no**", None: "–"}[same.get((kind, n))]
            eq = "(reference)" if n == 0 else eq
            cells = [label, _f(r["startup_s"] if n else None), f"{r['wall_s']:.1f}",
                     _f(r["tiles"], ","), _f(r["tiles_per_s"], ".2f"), _f(speed, ".2f"),
                     _f(eff, ".2f"), f"{r['client_mb']:.0f}", _f(wmb, ".0f"), eq]  # fmt: skip
            print("| " + " | ".join(cells) + " |")
        if kind == "plan":
            r0 = runs["plan", 0]
            if "error" not in r0:
                print(f"\nIn-process plan: feasible {r0['feasible']}, {r0['sites']} sites, "
                      f"{r0['cost_yuan']:,.0f} yuan.")  # fmt: skip
    if same:
        for (kind, n), ok in same.items():
            what = "rsrp_dbm.tif array-equal" if kind == "coverage" else "sites.csv equal"
            verdict = what if ok else "DIFFERENT" if ok is False else "not compared"
            print(f"\n{kind}, {n} worker(s): {verdict} (against the in-process run)")
    _extrapolate(args, workers, runs)


def _extrapolate(args, workers: list[int], runs: dict) -> None:
    """All of Chongqing on ``TARGET_WORKERS`` one-core workers, from what was measured: the
    tile work in core-seconds per tile (the best run that used no more workers than cores:
    beyond that, workers only share the cores), and the client's work (wall − tile phase) per
    pixel of the grid's bounding box (sector set-up, mosaic, statistics, quick-looks)."""
    cores = os.cpu_count() or 1
    ok = {n: runs["coverage", n] for n in workers
          if ("coverage", n) in runs and "error" not in runs["coverage", n]
          and runs["coverage", n].get("tile_s") and runs["coverage", n].get("tiles")}  # fmt: skip
    fit = {n: r for n, r in ok.items() if n <= cores}
    if not fit:
        print("\n### Extrapolation\n\nneeds a coverage run on at most as many workers as cores")
        return
    # each run keeps every core busy (one worker: Numba threads = cores; n workers: cores / n)
    core_s = {n: r["tile_s"] * cores / r["tiles"] for n, r in fit.items()}
    best_n = min(core_s, key=core_s.get)
    per_tile = core_s[best_n]
    client_s = {n: r["wall_s"] - r["tile_s"] for n, r in ok.items()}
    grid_px = args.grid_px
    # below ~10 M pixels the client's fixed costs (start-up, imports) dominate: not scaled
    scalable = bool(grid_px) and grid_px >= MIN_SCALED_GRID_PX
    per_mpx = min(client_s.values()) / (grid_px / 1e6) if scalable else None
    tile_km2 = (args.tile_px * args.resolution_m / 1000.0) ** 2
    tiles = math.ceil(CHONGQING_KM2 / tile_km2)
    city_px = args.city_grid_px
    tile_phase_s = tiles * per_tile / TARGET_WORKERS
    client_city_s = per_mpx * city_px / 1e6 if (per_mpx and city_px) else None
    mem_city_gb = (
        max(r["client_mb"] for r in ok.values()) * city_px / grid_px / 1024
        if (city_px and scalable) else None
    )  # fmt: skip
    print("\n### Extrapolation: all of Chongqing\n")
    print(f"Measured on {cores} cores: core-seconds per tile of {args.tile_px} px at "
          f"{args.resolution_m:g} m ({tile_km2:.2f} km²) — "
          + ", ".join(f"{n} worker(s): {c:.2f}" for n, c in sorted(core_s.items()))
          + f"; the extrapolation takes **{per_tile:.2f} core-s per tile** ({best_n} worker(s))."
          + " Client work (wall − tile phase): "
          + ", ".join(f"{n}: {c:.0f} s" for n, c in sorted(client_s.items()))
          + (f" over a {grid_px / 1e6:,.1f} M pixel grid." if grid_px else ".") + "\n")  # fmt: skip
    print("| quantity | value |")
    print("|---|---:|")
    print(f"| area | {CHONGQING_KM2:,.0f} km² |")
    print(f"| tiles (area / tile area) | {tiles:,} |")
    print(f"| tile work | {tiles * per_tile / 3600:,.2f} core-hours |")
    print(f"| tile phase on {TARGET_WORKERS} one-core workers | {tile_phase_s / 60:,.1f} min |")
    rate = tiles / tile_phase_s
    print(f"| tiles/s the scheduler and storage must take then | {rate:,.0f} "
          f"({6 * rate:,.0f} GeoTIFFs/s) |")  # fmt: skip
    if client_city_s is not None:
        print(f"| client work over the city's grid ({city_px / 1e6:,.0f} M pixels) | "
              f"{client_city_s / 60:,.1f} min |")  # fmt: skip
        print(f"| client peak memory, scaled by pixels | {mem_city_gb:,.1f} GB |")
        print(f"| whole run | {(tile_phase_s + client_city_s) / 60:,.1f} min |")
    else:
        print(
            f"| client work over the city's grid | not scaled: the measured grid "
            f"({grid_px / 1e6:,.1f} M pixels) is below {MIN_SCALED_GRID_PX / 1e6:g} M |"
        )
    print(
        "\nAssumptions: every tile costs what the measured area's tiles cost (the sector density"
        f" of {args.area}; rural tiles are cheaper), the tile count is the area over the tile"
        " area, the workers are as fast per core as this machine and run without contention,"
        " and the client's work grows with the pixels of the grid's bounding box (its mosaic"
        " holds the six layers of the whole box in memory)."
    )


if __name__ == "__main__":
    main()
