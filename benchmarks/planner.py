"""Benchmark: the site planner's solvers on seeded share-first instances, and a tiled city plan.

Instances are built the way `mastplan plan` builds a key area's problem: the synthetic
Chongqing-like inventory (:mod:`mastplan.synthetic.structures`, seeded, density 1) inside a
square "key area" grown by a quarter of its side, every configuration of every usable structure
plus the new-tower lattice priced by the packaged cost model, test points at 25 m weighted by
area, the radio engine's coverage matrix at SS-RSRP ≥ −105 dBm on China Mobile's n41 carrier
(:class:`mastplan.planning.coverage.CoverBuilder`), target 95 % of the area. The square's side
is chosen so that the instance has about 1,000, 10,000 or 100,000 candidates.

On each instance, with the time each took:

* ``greedy``: lazy cost-effectiveness greedy, redundancy removal and local search;
* ``milp``: HiGHS warm-started from the greedy plan, ``--time-limit-s`` (60), relative gap
  1e-4 — the proven bound and gap are HiGHS's, reported as they come;
* ``auto``: what `mastplan plan` runs by default (greedy, then the MILP when the problem fits);
* the naive baseline: new towers on a hexagonal grid at the 3GPP UMa inter-site distance
  (500 m), and at the largest distance of 500, 400, 300, 250, 200, 150 m that meets the target.

``--poles-only-sizes`` (default 10,000) adds instances where the towers and rooftops are full
and no new tower may be built: small cells on poles only, several sites per key area — the
instance where the solvers differ.

The city run (``--city N``, default 1,000,000 candidates): the same construction over a square
around 106.55E 29.56N, planned by :func:`mastplan.planning.tiles.solve_tiled` in 2 km tiles
with halos (the city matrix is never built), in a child process whose peak RSS is measured;
``--city-small`` runs a quarter-size city too, so the memory ratio shows whether memory is
bounded by the tile rather than the city.

    python benchmarks/planner.py                       # 1k, 10k, 100k and the 1M city
    python benchmarks/planner.py --sizes 1000 --city 0 # quick look
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from mastplan.data.plan import load_cost_model
from mastplan.planning import greedy, solve, solve_milp, solve_tiled
from mastplan.planning.candidates import (
    Carrier,
    candidate_configurations,
    new_tower_positions,
    usable_structures,
)
from mastplan.planning.costs import CostModel
from mastplan.planning.coverage import CoverBuilder
from mastplan.planning.problem import evaluate
from mastplan.synthetic.structures import concat_structures, generate_structures

CENTRE = (652_000.0, 3_271_000.0)  # EPSG:32648, around 106.55E 29.56N
CARRIER = Carrier("china-mobile", "n41", 2.515, 100.0)  # China Mobile's NR carrier
RSRP_DBM = -105.0
SHARE = 0.95
RESOLUTION_M = 25.0
UMA_ISD_M = 500.0  # TR 38.901 Table 7.2-1 (UMa)


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM: unlike ``ru_maxrss``, not inherited from
    the parent across fork and exec, so the city child measures itself only)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@dataclass
class Instance:
    side_m: float
    area: shapely.Polygon
    candidates: pd.DataFrame
    builder: CoverBuilder
    build_s: float


def structures_frame(area: shapely.Geometry, seed: int) -> pd.DataFrame:
    """The synthetic inventory inside ``area`` as the planner's structure table (free, open)."""
    b = concat_structures(generate_structures(area, seed=seed, density=1.0))
    return pd.DataFrame(
        {
            "external_id": b.local_id.astype(str),
            "kind": b.kind_names(),
            "x_m": b.x_m,
            "y_m": b.y_m,
            "height_m": b.height_m.astype(float),
            "free_positions": b.mount_positions.astype(int),
            "free_payload_kg": b.max_payload_kg.astype(float),
            "free_power_kw": b.available_power_kw.astype(float),
            "tenants": 0,
            "open_for_sharing": b.open_for_sharing,
        }
    )


def candidates_in(area: shapely.Geometry, grown: shapely.Geometry, costs: CostModel, seed: int):
    usable, _ = usable_structures(structures_frame(grown, seed), costs)
    towers = new_tower_positions(area.buffer(costs.new_tower_spacing_m / 2),
                                 costs.new_tower_spacing_m)  # fmt: skip
    return candidate_configurations(usable, towers, costs)


def square(side_m: float, centre=CENTRE) -> shapely.Polygon:
    x, y = centre
    return shapely.box(x - side_m / 2, y - side_m / 2, x + side_m / 2, y + side_m / 2)


def points_in(area: shapely.Polygon) -> tuple[np.ndarray, np.ndarray]:
    x0, y0, x1, y1 = area.bounds
    xs = np.arange(x0 + RESOLUTION_M / 2, x1, RESOLUTION_M)
    ys = np.arange(y0 + RESOLUTION_M / 2, y1, RESOLUTION_M)
    xx, yy = np.meshgrid(xs, ys)
    return xx.ravel(), yy.ravel()


def make_instance(
    side_m: float, costs: CostModel, seed: int, halo_share: float = 0.25, poles_only: bool = False
):
    t0 = time.perf_counter()
    area = square(side_m)
    cands = candidates_in(area, square(side_m * (1 + 2 * halo_share)), costs, seed)
    if poles_only:  # towers and rooftops full, no new tower allowed: small cells on poles only
        cands = cands[cands["site_class"] == "small_cell"].reset_index(drop=True)
    px, py = points_in(area)
    builder = CoverBuilder(cands, CARRIER, costs, px, py, np.full(len(px), RESOLUTION_M**2),
                           RSRP_DBM, SHARE)  # fmt: skip
    return Instance(side_m, area, cands, builder, time.perf_counter() - t0)


def side_for(n_target: int, costs: CostModel, seed: int, poles_only: bool = False) -> float:
    """The square's side giving about ``n_target`` candidates (bisection on the real count)."""
    lo, hi = 50.0, 50_000.0
    for _ in range(30):
        mid = math.sqrt(lo * hi)
        area = square(mid)
        c = candidates_in(area, square(mid * 1.5), costs, seed)
        n = int((c["site_class"] == "small_cell").sum()) if poles_only else len(c)
        if abs(n - n_target) <= 0.03 * n_target:
            return mid
        lo, hi = (mid, hi) if n < n_target else (lo, mid)
    return mid


def baseline(inst: Instance, costs: CostModel, isd_m: float) -> dict:
    """New towers on a hexagonal grid at ``isd_m`` over the area (rotation 0, middle tilt)."""
    towers = new_tower_positions(inst.area.buffer(isd_m / 2), isd_m)
    c = candidate_configurations(inst.candidates.iloc[:0], towers, costs)
    tilts = costs.macro.electrical_tilts_deg
    c = c[(c["rotation_deg"] == 0.0) & (c["tilt_deg"] == tilts[len(tilts) // 2])]
    c = c.reset_index(drop=True).assign(host=np.arange(len(c)))
    b = inst.builder
    hexb = CoverBuilder(c, CARRIER, costs, b.point_x_m, b.point_y_m, b.point_weight, RSRP_DBM,
                        SHARE)  # fmt: skip
    p = hexb(np.arange(len(c)), np.arange(b.n_points))
    _, share = evaluate(p, np.arange(len(c)))
    return {"isd_m": isd_m, "towers": len(c), "cost_yuan": float(c["cost_yuan"].sum()),
            "share": share}  # fmt: skip


def run_instance(
    n_target: int, costs: CostModel, seed: int, time_limit_s: float, poles_only: bool = False
) -> dict:
    side = side_for(n_target, costs, seed, poles_only)
    inst = make_instance(side, costs, seed, poles_only=poles_only)
    t = time.perf_counter()
    problem = inst.builder(np.arange(inst.builder.n_candidates), np.arange(inst.builder.n_points))
    matrix_s = time.perf_counter() - t
    out: dict = {
        "target_candidates": n_target,
        "poles_only": poles_only,
        "candidates": problem.n_candidates,
        "structures": int(inst.candidates["host"].nunique()),
        "side_m": round(side, 1),
        "points": problem.n_points,
        "nonzeros": int(problem.coverage.nnz),
        "matrix_s": matrix_s,
    }
    kind = " (poles only)" if poles_only else ""
    print(f"\n{n_target:,} candidates{kind}: {json.dumps(out)}", flush=True)
    g = greedy(problem)
    out["greedy"] = _row(g)
    print(f"  greedy {out['greedy']}", flush=True)
    m = solve_milp(problem, time_limit_s=time_limit_s, mip_rel_gap=1e-4, warm_start=g)
    out["milp"] = _row(m)
    out["milp"]["presolve_note"] = {k: m.stats.get(k) for k in ("rows", "columns", "nodes")}
    print(f"  milp   {out['milp']}", flush=True)
    a = solve(problem, solver="auto", time_limit_s=time_limit_s)
    out["auto"] = _row(a)
    out["auto"]["milp_skipped"] = a.stats.get("milp_skipped")
    print(f"  auto   {out['auto']}", flush=True)
    rows = [baseline(inst, costs, UMA_ISD_M)]
    for isd in (400.0, 300.0, 250.0, 200.0, 150.0):
        if rows[-1]["share"] >= SHARE:
            break
        rows.append(baseline(inst, costs, isd))
    out["baseline_uma_isd"] = rows[0]
    out["baseline_meeting_target"] = rows[-1] if rows[-1]["share"] >= SHARE else None
    print(f"  hex    {rows[0]} / meeting the target: {out['baseline_meeting_target']}", flush=True)
    return out


def _row(sol) -> dict:
    return {
        "cost_yuan": sol.cost,
        "share": round(sol.share, 4),
        "target_met": sol.target_met,
        "sites": len(sol.chosen),
        "status": sol.status,
        "lower_bound_yuan": sol.lower_bound,
        "gap": sol.gap,
        "time_s": round(sol.time_s, 2),
    }


# --- the city ---------------------------------------------------------------------------------


def city(n_candidates: int, seed: int, tile_m: float, tile_solver: str) -> dict:
    """Plan a square city of about ``n_candidates`` candidates in tiles (run in a child)."""
    costs = load_cost_model(None)
    t0 = time.perf_counter()
    side = math.sqrt(n_candidates / _density(costs, seed)) * 1000.0
    for _ in range(4):  # at least n_candidates: grow the square by what the density missed
        area = square(side)
        cands = candidates_in(area, area, costs, seed)
        if len(cands) >= n_candidates:
            break
        side *= math.sqrt(n_candidates / len(cands)) * 1.002
    px, py = points_in(area)
    builder = CoverBuilder(cands, CARRIER, costs, px, py, np.full(len(px), RESOLUTION_M**2),
                           RSRP_DBM, SHARE)  # fmt: skip
    reach = builder.candidate_reach_m()
    halo = float(reach.max())
    setup_s = time.perf_counter() - t0
    done = {"n": 0}

    def progress(k: int, total: int) -> None:
        done["n"] = k
        if k % max(total // 10, 1) == 0 or k == total:
            print(f"    tiles {k}/{total}  {time.perf_counter() - t0:7.1f} s  "
                  f"peak RSS {peak_rss_mb():,.0f} MB", flush=True)  # fmt: skip

    plan = solve_tiled(builder.xy_m, builder.point_xy_m, builder, tile_m=tile_m, halo_m=halo,
                       solver=tile_solver, time_limit_s=30.0, progress=progress,
                       candidate_reach_m=reach)  # fmt: skip
    wall = time.perf_counter() - t0
    return {
        "candidates": builder.n_candidates,
        "structures": int(cands["host"].nunique()),
        "side_km": side / 1000.0,
        "area_km2": (side / 1000.0) ** 2,
        "points": builder.n_points,
        "tile_m": tile_m,
        "halo_m": halo,
        "tile_solver": tile_solver,
        "tiles": len(plan.tiles),
        "tiles_meeting_target": sum(t.final_target_met for t in plan.tiles),
        "sites": len(plan.chosen),
        "new_towers": int(cands["new_build"].to_numpy()[plan.chosen].sum()),
        "cost_yuan": plan.cost,
        "share": plan.share,
        "conflicts_repaired": plan.conflicts_repaired,
        "redundant_dropped": plan.redundant_dropped,
        "setup_s": setup_s,
        "tiles_s": plan.stats["tiles_s"],
        "repair_s": plan.stats["conflict_repair_s"] + plan.stats["redundancy_s"],
        "wall_s": wall,
        "tiles_per_s": len(plan.tiles) / plan.stats["tiles_s"],
        "peak_rss_mb": peak_rss_mb(),
    }


def _density(costs: CostModel, seed: int) -> float:
    """Candidates per km² of the synthetic inventory (measured on a 3 km square)."""
    area = square(3000.0)
    return len(candidates_in(area, area, costs, seed)) / 9.0


def run_city_child(n: int, seed: int, tile_m: float, tile_solver: str) -> dict:
    cmd = [sys.executable, __file__, "--child-city", str(n), "--seed", str(seed),
           "--tile-m", str(tile_m), "--tile-solver", tile_solver]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    sys.stdout.write("".join(f"  | {line}\n" for line in proc.stdout.splitlines()[:-1]))
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument(
        "--poles-only-sizes",
        default="10000",
        help="instances with small cells on poles only (towers full, no new tower)",
    )
    ap.add_argument("--city", type=int, default=1_000_000)
    ap.add_argument("--city-small", action="store_true", help="also a quarter-size city")
    ap.add_argument("--tile-m", type=float, default=2000.0)
    ap.add_argument("--tile-solver", default="greedy")
    ap.add_argument("--time-limit-s", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=2019)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--child-city", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_city:
        res = city(args.child_city, args.seed, args.tile_m, args.tile_solver)
        print(json.dumps(res))
        return

    costs = load_cost_model(None)
    results: dict = {"instances": [], "city": []}
    warm = make_instance(300.0, costs, args.seed)  # compile the kernels
    greedy(warm.builder(np.arange(warm.builder.n_candidates), np.arange(warm.builder.n_points)))
    for n in [int(s) for s in args.sizes.split(",") if s]:
        results["instances"].append(run_instance(n, costs, args.seed, args.time_limit_s))
    for n in [int(s) for s in args.poles_only_sizes.split(",") if s]:
        results["instances"].append(run_instance(n, costs, args.seed, args.time_limit_s, True))
    sizes = ([args.city // 4] if args.city_small else []) + ([args.city] if args.city else [])
    for n in sizes:
        print(f"\ncity of {n:,} candidates, {args.tile_m:,.0f} m tiles, {args.tile_solver}:")
        res = run_city_child(n, args.seed, args.tile_m, args.tile_solver)
        print(f"  {json.dumps(res)}", flush=True)
        results["city"].append(res)
    if len(results["city"]) == 2:
        a, b = results["city"]
        ratio = {k: b[k] / a[k] for k in ("candidates", "wall_s", "peak_rss_mb")}
        print(f"\ncity ×{ratio['candidates']:.1f} candidates: wall ×{ratio['wall_s']:.2f}, "
              f"peak RSS ×{ratio['peak_rss_mb']:.2f}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=float), encoding="utf-8")


if __name__ == "__main__":
    main()
