"""Site planning runs: the registry's structures and sites in, a share-first least-cost plan out
(what `mastplan plan` does), optionally recorded in the registry as planned sites.

Per key area (a phase selection is planned key area by key area) and operator: test points are
the area's grid pixels; candidates are configurations on usable structures within a halo, and on
a new-tower lattice; the radio engine's sparse RSRP matrix says which candidate reaches which
point; the cover problem is solved (MILP or greedy, :mod:`mastplan.planning.solve`); the full
prediction then judges RSRP, SINR and continuity and a local search repairs the SINR.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import datetime as dt
import functools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse
import shapely
from scipy.spatial import cKDTree
from sqlalchemy.orm import Session

from mastplan.coverage_run import engine_sectors
from mastplan.data.plan import load_cost_model
from mastplan.distributed import (
    PLAN_TILES_DIR,
    builder_file,
    content_digest,
    drop_unused,
    kept_map,
)
from mastplan.errors import MastplanError
from mastplan.geo import METRIC_EPSG, STORAGE_EPSG, project, to_metric, to_storage
from mastplan.io.raster import read_density
from mastplan.planning.candidates import (
    Carrier,
    candidate_configurations,
    candidate_sectors,
    new_tower_positions,
    site_capacity,
    usable_structures,
)
from mastplan.planning.costs import NEW_TOWER, CostModel
from mastplan.planning.coverage import ENGINE_COLUMNS, CoverBuilder
from mastplan.planning.joint import JointProblem, solve_joint
from mastplan.planning.judge import Evaluation, Targets, evaluate_sites, repair_sinr
from mastplan.planning.problem import CoverProblem, Solution, explain_infeasible
from mastplan.planning.problem import evaluate as evaluate_cover
from mastplan.planning.solve import solve
from mastplan.planning.tiles import TileResult, solve_tiled
from mastplan.radio import Grid
from mastplan.radio.matrix import PointIndex
from mastplan.registry.audit import Actor
from mastplan.registry.queries import Area, area_by_code, sectors_in_bbox, structures_in_bbox
from mastplan.synthetic.sites import BAND_PLAN, OPERATORS

if TYPE_CHECKING:
    from mastplan.distributed import ClusterOptions


@dataclass(frozen=True)
class _Tiles:
    """How tiled plans run their tiles: through ``map_fn`` (``map_fn(f, tasks)``, results in
    order; ``None``: ``map``), keeping the results in ``folder`` (the names this run used go
    to ``used``), telling ``progress(done, total)``."""

    map_fn: Callable[..., Iterable[Any]] | None = None
    folder: Path | None = None
    used: set[str] | None = None
    progress: Callable[[int, int], None] | None = None


_TILES: contextvars.ContextVar[_Tiles | None] = contextvars.ContextVar(
    "mastplan_plan_tiles", default=None
)


def _tiles() -> _Tiles:
    """How tiled plans run their tiles here and now."""
    return _TILES.get() or _Tiles()


PLAN_TILES_FORMAT = 1  # bump when a kept tile result changes meaning


@contextlib.contextmanager
def _tiles_with(**changes: Any) -> Iterator[None]:
    """Change how tiled plans run their tiles inside the block (``None`` keeps a field)."""
    given = {k: v for k, v in changes.items() if v is not None}
    token = _TILES.set(dataclasses.replace(_tiles(), **given))
    try:
        yield
    finally:
        _TILES.reset(token)


def tile_map(map_fn: Callable[..., Iterable[Any]] | None):
    """Run the tiles of tiled plans through ``map_fn`` (``map_fn(f, tasks)``, results in
    order) inside the block; ``None`` keeps the current one."""
    return _tiles_with(map_fn=map_fn)


@contextlib.contextmanager
def _kept_tiles(out_dir: Path) -> Iterator[None]:
    """Keep the tile results of tiled plans in ``<out_dir>/plan-tiles`` inside the block;
    reuse the ones a stopped run left there; afterwards drop those this run did not use."""
    folder = Path(out_dir) / PLAN_TILES_DIR
    used: set[str] = set()
    with _tiles_with(folder=folder, used=used):
        yield
    drop_unused(folder, used)  # only after a run that finished
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def _tile_map(builder: CoverBuilder) -> Callable[..., Iterable[Any]]:
    """The map of a tiled plan's tiles: on Dask inside :func:`tile_map` (else ``map``), and
    keeping the results on disk inside :func:`_kept_tiles`. On Dask, the tasks carry the
    builder's file (:func:`~mastplan.distributed.builder_file`), not the builder."""
    run = _tiles()
    if run.folder is None:
        return run.map_fn or map
    run_digest = content_digest(PLAN_TILES_FORMAT, type(builder).__qualname__, vars(builder))
    if run.map_fn is None:
        return kept_map(map, run.folder, run_digest, TileResult, run.used)
    shared = builder_file(builder, run.folder, run_digest)
    run.used.add(Path(shared.path).stem)

    def from_file(f: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterable[Any]:
        return run.map_fn(f, (dataclasses.replace(t, build=shared) for t in tasks))

    return kept_map(from_file, run.folder, run_digest, TileResult, run.used)


@contextlib.contextmanager
def _on_cluster(cluster: ClusterOptions | None, say) -> Iterator[None]:
    """Tiles of tiled plans on Dask (``cluster`` with a scheduler or workers), else as is."""
    if cluster is None or not cluster.enabled or _tiles().map_fn is not None:
        yield
        return
    from mastplan.distributed import dask_client, dask_map

    with dask_client(cluster, say) as client, tile_map(dask_map(client, "plan")):
        yield


#: Areas of more test points than this are planned in tiles unless ``tiles="never"``
#: (40,000 points: 25 km² at 25 m).
TILE_ABOVE_POINTS = 40_000


@dataclass(frozen=True)
class PlanOptions:
    """What `mastplan plan` takes besides the area and the output folder.

    ``greenfield`` plans as if no 5G site were on air yet (the plan's 2019 starting point):
    existing sites do not count towards coverage, but their tenancies still set the sharing
    discounts. Targets left ``None`` come from the key area (the registry's per-area targets) or the
    defaults of :class:`~mastplan.planning.judge.Targets` for districts and polygon files.
    ``demand_file``: a demand density raster (people or traffic per area, any CRS): test points
    weigh area × demand and the share target is a share of the demand. ``exclusion_file``:
    polygons (any vector file and CRS) where no new site may go — schools,
    heritage sites, airport clearance zones: structures and new-tower positions inside are
    left out. ``tiles``: ``"auto"`` plans areas of more than :data:`TILE_ABOVE_POINTS` test
    points in ``tile_m`` tiles (:func:`~mastplan.planning.tiles.solve_tiled`), ``"always"`` or
    ``"never"``.
    """

    operators: tuple[str, ...] = ("china-mobile",)
    target_rsrp_dbm: float | None = None
    target_sinr_db: float | None = None
    target_share: float | None = None
    target_continuity: float | None = None
    resolution_m: float = 25.0
    halo_m: float = 500.0
    solver: str = "auto"
    time_limit_s: float = 60.0
    min_isd_m: float = 0.0
    budget_yuan: float | None = None
    load: float = 0.5
    costs_file: Path | None = None
    sinr_repair: bool = True
    greenfield: bool = False
    tiles: str = "auto"
    tile_m: float = 2000.0
    exclusion_file: Path | None = None
    demand_file: Path | None = None


@dataclass
class OperatorPlan:
    """One operator's plan over one area."""

    operator: str
    carrier: Carrier
    chosen: pd.DataFrame  # one row per chosen candidate, with cost and reason
    sectors: pd.DataFrame  # the chosen sites' sectors (engine table + candidate)
    before: Evaluation | None
    after: Evaluation | None
    solution: dict[str, Any]
    feasible: bool
    explanation: str | None = None
    search: dict[str, Any] = field(default_factory=dict)
    cover_chosen: np.ndarray | None = None  # the solver's selection, before the SINR search
    setup: Any = field(default=None, repr=False)


# ---------------------------------------------------------------------------------------------
# Inputs from the registry
# ---------------------------------------------------------------------------------------------


def operator_carrier(session: Session, operator: str) -> Carrier:
    """The NR carrier an operator plans on: its main NR allocation (MIIT 2018–2020)."""
    if operator not in OPERATORS:
        raise MastplanError(f"unknown operator {operator!r}; one of {', '.join(OPERATORS)}")
    code = OPERATORS.index(operator)
    rows = [r for r in BAND_PLAN if r[0] == code and r[1] == "NR"]
    best = max(rows, key=lambda r: r[7])
    return Carrier(operator, best[2], best[5] / 1000.0, best[6])


def _bbox_deg(area_m: shapely.Geometry, grow_m: float) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = area_m.bounds
    lon, lat = to_storage(
        np.array([minx - grow_m, maxx + grow_m]), np.array([miny - grow_m, maxy + grow_m])
    )
    return (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))


def _metric(frame: pd.DataFrame) -> pd.DataFrame:
    x, y = to_metric(frame["lon_deg"].to_numpy(float), frame["lat_deg"].to_numpy(float))
    return frame.assign(x_m=x, y_m=y)


# ---------------------------------------------------------------------------------------------
# One operator over one area (computation only)
# ---------------------------------------------------------------------------------------------


@dataclass
class _Setup:
    """One operator's planning inputs over one area, and its matrix once solved."""

    carrier: Carrier
    targets: Targets
    options: PlanOptions
    grid: Grid
    mask: np.ndarray
    pix: np.ndarray
    weight: np.ndarray
    cands: pd.DataFrame
    csec: pd.DataFrame
    existing: pd.DataFrame
    builder: CoverBuilder
    excluded: dict[str, int]
    tiled: bool
    demand: np.ndarray | None = None  # per pixel (area × density), when weighted by demand
    problem: CoverProblem | None = None
    matrix: Any = None
    nnz: int | None = None


def plan_operator(
    area_m: shapely.Geometry,
    structures: pd.DataFrame,
    existing: pd.DataFrame,
    carrier: Carrier,
    costs: CostModel,
    targets: Targets,
    options: PlanOptions,
    progress: Callable[[str], None] | None = None,
) -> OperatorPlan:
    """Plan one operator over one area.

    ``structures``: :func:`~mastplan.registry.queries.structures_in_bbox` rows with ``x_m``,
    ``y_m`` (EPSG:32648) and ``operators``; ``existing``: the operator's network as the
    engine's sector table with a ``site`` column (sites on air, and sites fixed by earlier
    phases), in the same CRS.
    """
    setup = _setup(area_m, structures, existing, carrier, costs, targets, options, progress)
    return _finish(setup, _solve(setup, progress), progress)


def _setup(area_m, structures, existing, carrier, costs, targets, options, progress) -> _Setup:
    """Test points, candidates (usable structures not carrying the operator, new towers) and
    the cover-problem builder of one operator over one area."""
    say = progress or (lambda _msg: None)
    grid = Grid.from_polygon(area_m, options.resolution_m)
    mask = grid.mask(area_m)
    pix = np.flatnonzero(mask.ravel())
    xx, yy = np.meshgrid(grid.x_centres(), grid.y_centres())
    points = PointIndex(xx.ravel()[pix], yy.ravel()[pix], cell_m=100.0)
    weight = np.full(len(pix), grid.pixel_area_m2)
    demand = None
    if options.demand_file is not None:
        res = grid.resolution_m
        bounds = (grid.x0_m, grid.y0_m - grid.ny * res, grid.x0_m + grid.nx * res, grid.y0_m)
        density = read_density(options.demand_file, f"EPSG:{METRIC_EPSG}", bounds, res)
        demand = density * grid.pixel_area_m2 * mask
        weight = demand.ravel()[pix]
        if not weight.sum() > 0:
            raise MastplanError(f"{options.demand_file}: no demand inside the planning area")

    # candidates: usable structures not already carrying this operator, plus new towers
    own = np.array(
        [carrier.operator in ops.split(",") for ops in structures["operators"]], dtype=bool
    )
    usable, excluded = usable_structures(structures[~own], costs)
    excluded["already_hosting_operator"] = int(own.sum())
    towers = new_tower_positions(
        area_m.buffer(costs.new_tower_spacing_m / 2), costs.new_tower_spacing_m
    )
    if options.exclusion_file is not None:
        zones = _exclusion_zones(Path(options.exclusion_file))
        inside = shapely.contains_xy(zones, usable["x_m"], usable["y_m"])
        excluded["in_exclusion_zone"] = int(inside.sum())
        usable = usable[~inside].reset_index(drop=True)
        towers = towers[~shapely.contains_xy(zones, towers[:, 0], towers[:, 1])]
    cands = candidate_configurations(usable, towers, costs)
    if options.min_isd_m > 0 and len(existing):
        tree = cKDTree(existing[["x_m", "y_m"]].to_numpy())
        near = tree.query_ball_point(cands[["x_m", "y_m"]].to_numpy(), options.min_isd_m)
        keep = np.array([len(n) == 0 for n in near], dtype=bool)
        excluded["within_min_isd_of_existing"] = int((~keep).sum())
        cands = cands[keep].reset_index(drop=True)
    say(f"{carrier.operator}: {len(cands):,} candidates on {cands['host'].nunique():,} hosts")
    builder = CoverBuilder(
        cands, carrier, costs, points.x_m, points.y_m, weight, targets.rsrp_dbm, targets.share,
        existing=existing if len(existing) else None, min_isd_m=options.min_isd_m,
        budget=options.budget_yuan,
    )  # fmt: skip
    return _Setup(carrier, targets, options, grid, mask, pix, weight, cands,
                  candidate_sectors(cands, carrier, costs), existing, builder, excluded,
                  _tiled(options, len(pix)), demand)  # fmt: skip


def _solve(s: _Setup, progress) -> Solution:
    """Solve the operator's cover problem: whole (MILP or greedy) or in tiles."""
    say = progress or (lambda _msg: None)
    op, options = s.carrier.operator, s.options
    if s.tiled:
        reach = s.builder.candidate_reach_m()
        halo = float(max(reach.max(initial=0.0), options.min_isd_m)) + options.resolution_m
        say(f"{op}: solving in {options.tile_m:,.0f} m tiles (halo {halo:,.0f} m)")
        s.matrix = _LocalMatrix(s.builder, halo)
        return _solve_tiles(s.builder, options, halo, reach, progress)
    s.problem = s.builder(np.arange(s.builder.n_candidates), np.arange(len(s.pix)))
    s.nnz = int(s.problem.coverage.nnz)
    s.matrix = _WholeMatrix(s.problem.coverage)
    say(f"{op}: solving ({options.solver}, {s.nnz:,} matrix entries)")
    return solve(s.problem, solver=options.solver, time_limit_s=options.time_limit_s)


def _finish(
    s: _Setup, sol: Solution, progress, cost_of: dict[int, float] | None = None
) -> OperatorPlan:
    """Judge a solution with the full prediction, search against the SINR target, give the
    reason of each site. ``cost_of``: what each chosen candidate costs (joint plans), else the
    candidate's own price."""
    say = progress or (lambda _msg: None)
    op, targets, cands, n_e = s.carrier.operator, s.targets, s.cands, s.builder.n_existing
    solution = _solution_dict(sol, s.excluded, len(cands), len(s.pix), s.nnz)
    evaluate = _evaluator(s.grid, s.mask, s.existing, s.csec, n_e, targets,
                          {"load": s.options.load, "demand": s.demand})  # fmt: skip
    before = evaluate(np.arange(n_e))
    if not sol.target_met:
        explanation = (
            sol.stats.get("explanation")
            or (explain_infeasible(s.problem) if s.problem is not None else None)
            or (
                f"the solver found no plan reaching {targets.share:.0%} within its limits "
                f"(best share {sol.share:.1%})"
            )
        )
        return OperatorPlan(op, s.carrier, cands.iloc[:0], s.csec.iloc[:0], before, None,
                            solution, False, explanation, setup=s)  # fmt: skip
    chosen = cover = np.asarray(sol.chosen, dtype=np.int64)
    search: dict[str, Any] = {}
    if s.options.sinr_repair:
        say(f"{op}: checking SINR and continuity with the full prediction")
        allowed = np.concatenate([np.zeros(n_e, bool), np.ones(len(cands), bool)])
        hosts = np.concatenate([np.arange(n_e), n_e + cands["host"].to_numpy(np.int64)])
        cost = np.concatenate([np.zeros(n_e), cands["cost_yuan"].to_numpy(float)])
        chosen, after, search = repair_sinr(
            chosen, s.matrix.reach, cost, allowed, hosts,
            np.arange(len(s.pix)), _point_view(evaluate, s.pix), targets,
        )  # fmt: skip
    after = evaluate(chosen)
    picked = chosen[chosen >= n_e] - n_e
    out = cands.iloc[picked].copy()
    out["candidate"] = picked
    if cost_of:
        out["cost_yuan"] = [cost_of.get(int(n_e + c), row) for c, row in
                            zip(picked, out["cost_yuan"], strict=True)]  # fmt: skip
    out["reason"] = _reasons(out, cands, s.matrix, n_e, chosen, s.weight)
    sectors = s.csec[s.csec["candidate"].isin(picked)].copy()
    met = after.meets(targets)
    return OperatorPlan(op, s.carrier, out.reset_index(drop=True), sectors, before, after,
                        solution, met, None if met else _miss(after, targets), search,
                        cover_chosen=cover, setup=s)  # fmt: skip


def _tiled(options: PlanOptions, n_points: int) -> bool:
    """Whether to plan in tiles: asked for (``tile_m``), or an area of more test points than
    :data:`TILE_ABOVE_POINTS` (one problem would not fit the MILP, nor memory, well)."""
    if options.tiles == "never":
        return False
    return options.tiles == "always" or n_points > TILE_ABOVE_POINTS


def _solve_tiles(builder: CoverBuilder, options: PlanOptions, halo_m: float, reach_m, progress):
    """:func:`solve_tiled` over the builder's candidates and points, as a :class:`Solution`."""
    say = progress or (lambda _msg: None)
    report = _tiles().progress

    def tiles_done(done: int, total: int) -> None:
        say(f"tile {done}/{total}")
        if report is not None:
            report(done, total)

    t = solve_tiled(
        builder.xy_m, builder.point_xy_m, builder, tile_m=options.tile_m, halo_m=halo_m,
        solver=options.solver, time_limit_s=options.time_limit_s, candidate_reach_m=reach_m,
        progress=tiles_done, map_fn=_tile_map(builder),
    )  # fmt: skip
    missed = [tile.tile for tile in t.tiles if not tile.final_target_met]
    stats: dict[str, Any] = {
        "tiled": {
            "tile_m": options.tile_m, "halo_m": halo_m, "tiles": len(t.tiles),
            "tiles_missing_target": len(missed), "conflicts_repaired": t.conflicts_repaired,
            "redundant_dropped": t.redundant_dropped,
            "tile_solvers": sorted({tile.solver for tile in t.tiles}), **t.stats,
        },
    }  # fmt: skip
    if missed:
        stats["explanation"] = (
            f"{len(missed)} of {len(t.tiles)} tiles miss the target share "
            f"(overall {t.share:.1%}); tile(s) {missed[:5]} first"
        )
    return Solution(
        chosen=t.chosen, cost=t.cost, covered_weight=t.covered_weight, share=t.share,
        target_met=t.target_met, lower_bound=None, gap=None, solver=f"tiled {options.solver}",
        status="target met" if t.target_met else "target not met", time_s=t.time_s, stats=stats,
    )  # fmt: skip


class _WholeMatrix:
    """Rows of the area's coverage matrix (built whole)."""

    def __init__(self, coverage: scipy.sparse.csr_array) -> None:
        self.coverage = coverage

    def reach(self, failing: np.ndarray) -> np.ndarray:
        """Per candidate, how many of the ``failing`` test points it reaches."""
        return np.asarray(self.coverage @ failing.astype(np.float64)).ravel()

    def rows(self, cand_idx: np.ndarray):
        """Coverage rows of global candidates over all test points."""
        return self.coverage[np.asarray(cand_idx, dtype=np.int64)]

    def candidates_near(self, point_idx: np.ndarray) -> np.ndarray:
        """Every candidate (the matrix is whole)."""
        return np.arange(self.coverage.shape[0])


class _LocalMatrix:
    """Coverage rows built on demand around the places asked for (tiled plans: the area's
    matrix is never built whole)."""

    def __init__(self, builder: CoverBuilder, halo_m: float) -> None:
        self.builder = builder
        self.halo_m = halo_m
        self.tree = cKDTree(builder.xy_m)

    def candidates_near(self, point_idx: np.ndarray) -> np.ndarray:
        """Global candidates within ``halo_m`` of any of the test points."""
        if len(point_idx) == 0:
            return np.zeros(0, dtype=np.int64)
        cell = np.unique(np.floor(self.builder.point_xy_m[point_idx] / self.halo_m), axis=0)
        centres = (cell + 0.5) * self.halo_m
        near = self.tree.query_ball_point(centres, self.halo_m * (1.0 + np.sqrt(0.5)))
        return np.unique(np.concatenate([np.asarray(n, dtype=np.int64) for n in near]))

    def reach(self, failing: np.ndarray) -> np.ndarray:
        out = np.zeros(self.builder.n_candidates)
        pts = np.flatnonzero(failing)
        cands = self.candidates_near(pts)
        if len(cands):
            cov = self.builder.coverage(cands, pts)
            out[cands] = np.asarray(cov.sum(axis=1)).ravel()
        return out

    def rows(self, cand_idx: np.ndarray):
        """Coverage rows of global candidates over all test points (built over the test points
        within ``halo_m`` of the candidates' bounding box)."""
        cand_idx = np.asarray(cand_idx, dtype=np.int64)
        pxy = self.builder.point_xy_m
        if len(cand_idx) == 0:
            return scipy.sparse.csr_array((0, len(pxy)), dtype=bool)
        lo = self.builder.xy_m[cand_idx].min(axis=0) - self.halo_m
        hi = self.builder.xy_m[cand_idx].max(axis=0) + self.halo_m
        pts = np.flatnonzero(np.all((pxy >= lo) & (pxy <= hi), axis=1))
        local = self.builder.coverage(cand_idx, pts).tocoo()
        return scipy.sparse.csr_array(
            (local.data, (local.row, pts[local.col])), shape=(len(cand_idx), len(pxy))
        )


def _point_view(evaluate, pix):
    """The evaluation seen at the test points (``ok`` flattened to the area's pixels)."""

    def at_points(chosen: np.ndarray) -> Evaluation:
        ev = evaluate(chosen)
        return Evaluation(ev.rsrp_dbm, ev.sinr_db, ev.ok.ravel()[pix], ev.stats)

    return at_points


def _evaluator(grid, mask, existing, csec, n_e, targets, radio):
    def evaluate(chosen: np.ndarray) -> Evaluation:
        chosen = np.asarray(chosen, dtype=np.int64)
        sites = existing["site"].astype(str).to_numpy()
        site_ids = np.unique(sites)
        keep_e = np.isin(sites, site_ids[chosen[chosen < n_e]])
        cand = chosen[chosen >= n_e] - n_e
        frame = pd.concat(
            [existing.loc[keep_e, ENGINE_COLUMNS], csec.loc[csec["candidate"].isin(cand),
                                                            ENGINE_COLUMNS]],
            ignore_index=True,
        )  # fmt: skip
        return evaluate_sites(grid, mask, frame, targets, **radio)

    return evaluate


def _miss(ev: Evaluation, targets: Targets) -> str:
    s = ev.stats
    return (
        f"after the SINR local search the full prediction gives {ev.share:.1%} of the "
        f"{'area' if ev.demand is None else 'demand'} at RSRP ≥ {targets.rsrp_dbm:g} dBm and "
        f"SINR ≥ {targets.sinr_db:g} dB (target "
        f"{targets.share:.0%}) and continuity {s.continuity:.1%} (target {targets.continuity:.0%})"
    )


def _reasons(chosen: pd.DataFrame, cands: pd.DataFrame, matrix, n_e: int, picked_all, weight):
    """Why each chosen site is on its structure; for new towers, why one was unavoidable.

    ``matrix``: coverage rows by global candidate (:class:`_WholeMatrix` or
    :class:`_LocalMatrix`); ``picked_all``: every chosen global candidate."""
    reasons = []
    on_structure = ~cands["new_build"].to_numpy()
    others = np.asarray([c for c in picked_all if c >= n_e], dtype=np.int64)
    for cand, row in zip(chosen["candidate"].to_numpy(), chosen.itertuples(), strict=True):
        if not row.new_build:
            kind = row.kind.replace("_", " ")
            shared = f", shared with {row.tenants} operator(s)" if row.tenants else ""
            reasons.append(f"existing {kind}{shared}")
            continue
        g = n_e + int(cand)
        pts = matrix.rows([g]).indices
        near = matrix.candidates_near(pts)
        near = near[near >= n_e]
        near = near[on_structure[near - n_e]]
        reach_existing = np.zeros(len(weight), dtype=bool)
        if len(near):
            reach_existing = np.asarray(matrix.rows(near).sum(axis=0)).ravel() > 0
        unique = pts[~reach_existing[pts]]
        if len(unique):
            reasons.append(
                f"new tower unavoidable: it serves {weight[unique].sum() / 1e6:.3f} km² "
                f"({len(unique)} test points) that no configuration on an existing structure "
                "reaches at the RSRP target"
            )
            continue
        rest = others[others != g]
        covered_by_rest = (
            np.asarray(matrix.rows(rest).sum(axis=0)).ravel()[pts] > 0
            if len(rest)
            else np.zeros(len(pts), bool)
        )
        alone = pts[~covered_by_rest]
        reasons.append(
            f"new tower cheaper than the alternatives: the {weight[alone].sum() / 1e6:.3f} km² "
            f"only it serves in this plan would need several sites on existing structures "
            f"costing more than its {row.cost_yuan:,.0f} yuan"
        )
    return reasons


def _solution_dict(sol, excluded, n_cands, n_points, nnz: int | None) -> dict[str, Any]:
    return {
        "solver": sol.solver,
        "status": sol.status,
        "cost_yuan": float(sol.cost),
        "matrix_share": float(sol.share),
        "lower_bound_yuan": None if sol.lower_bound is None else float(sol.lower_bound),
        "gap": None if sol.gap is None else float(sol.gap),
        "time_s": float(sol.time_s),
        "candidates": n_cands,
        "test_points": n_points,
        "matrix_entries": None if nnz is None else int(nnz),
        "excluded_structures": excluded,
        "stats": {k: v for k, v in sol.stats.items() if k != "explanation"},
    }


# ---------------------------------------------------------------------------------------------
# The run: areas × operators, sharing, outputs, registry
# ---------------------------------------------------------------------------------------------


def _targets(area: Area, session: Session, options: PlanOptions) -> Targets:
    from mastplan.registry.models import KeyArea

    base = Targets()
    if area.kind == "key_area":
        ka = session.query(KeyArea).filter_by(code=area.code).one()
        base = Targets(
            ka.target_rsrp_dbm, ka.target_sinr_db, ka.target_coverage_fraction,
            ka.target_continuity_fraction,
        )  # fmt: skip
    return Targets(
        base.rsrp_dbm if options.target_rsrp_dbm is None else options.target_rsrp_dbm,
        base.sinr_db if options.target_sinr_db is None else options.target_sinr_db,
        base.share if options.target_share is None else options.target_share,
        base.continuity if options.target_continuity is None else options.target_continuity,
    )


def plan_area(
    session: Session,
    area: Area,
    options: PlanOptions,
    costs: CostModel,
    fixed: pd.DataFrame | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Plan one area for every operator of ``options``: separately and, with several
    operators, jointly (each operator in turn sees the structures the others chose, with the
    sharing discount). ``fixed``: sites planned by earlier phases (engine table with ``site``
    and ``operator``). Returns the plans and the sharing comparison."""
    area_m = project(area.boundary, STORAGE_EPSG, METRIC_EPSG)
    targets = _targets(area, session, options)
    bbox = _bbox_deg(area_m, options.halo_m + 200.0)
    structures = _metric(structures_in_bbox(session, bbox))
    halo = area_m.buffer(options.halo_m)
    structures = structures[shapely.contains_xy(halo, structures["x_m"], structures["y_m"])]
    network = sectors_in_bbox(session, _bbox_deg(area_m, 3000.0), operators=list(options.operators))
    engine, _ = engine_sectors(network)

    def existing_of(op: str) -> pd.DataFrame:
        own = engine[(engine["operator"] == op) & (not options.greenfield)]
        if fixed is not None and len(fixed):
            own = pd.concat([own, fixed[fixed["operator"] == op]], ignore_index=True)
        return own

    separate = {
        op: plan_operator(area_m, structures, existing_of(op), operator_carrier(session, op),
                          costs, targets, options, progress)
        for op in options.operators
    }  # fmt: skip
    joint, how = separate, None
    if len(options.operators) > 1:
        joint, how = _plan_joint(separate, structures, costs, options, progress)
    if joint is None:
        joint = {}
        shared = structures.copy()
        for op in options.operators:
            plan = plan_operator(area_m, shared, existing_of(op), operator_carrier(session, op),
                                 costs, targets, options, progress)  # fmt: skip
            joint[op] = plan
            shared = _with_tenant(shared, plan, op, costs)
    return {"area": area, "targets": targets, "separate": separate, "joint": joint,
            "joint_method": how}  # fmt: skip


def _plan_joint(
    separate: dict[str, OperatorPlan],
    structures: pd.DataFrame,
    costs: CostModel,
    options: PlanOptions,
    progress: Callable[[str], None] | None,
) -> tuple[dict[str, OperatorPlan] | None, dict[str, Any]]:
    """Every operator in one MILP (:mod:`mastplan.planning.joint`): a structure chosen by
    several operators costs them its discounted payments together. Returns the plans (``None``
    when the joint MILP does not apply: then the operators are planned one after the other, each
    seeing the structures the others chose) and how the joint plan was made."""
    ops = list(separate)
    setups: list[_Setup] = [separate[op].setup for op in ops]
    why = None
    if options.solver == "greedy":
        why = "the greedy solver: operators planned one after the other"
    elif options.budget_yuan is not None:
        why = "budget mode: operators planned one after the other"
    elif any(s.tiled or s.problem is None for s in setups):
        why = "tiled areas: operators planned one after the other"
    elif any(separate[op].cover_chosen is None for op in ops):
        why = "an operator's target is out of reach alone: operators planned one after the other"
    if why is not None:
        return None, {"method": "sequential", "why": why}
    say = progress or (lambda _msg: None)
    say(f"joint plan of {', '.join(ops)} (HiGHS)")

    def keys(c: pd.DataFrame) -> np.ndarray:
        new = [f"new:{x:.0f}:{y:.0f}" for x, y in zip(c["x_m"], c["y_m"], strict=True)]
        return np.where(c["new_build"].to_numpy(bool), new, c["external_id"].astype(str))

    per_op = [keys(s.cands) for s in setups]
    uniq, first = np.unique(np.concatenate(per_op), return_index=True)
    table = pd.concat([s.cands for s in setups], ignore_index=True).iloc[first]
    by_id = structures.drop_duplicates("external_id").set_index("external_id")
    is_new = table["new_build"].to_numpy(bool)
    have = np.column_stack([
        np.where(is_new, costs.new_tower_mount_positions,
                 by_id["free_positions"].reindex(table["external_id"]).fillna(0).to_numpy()),
        np.where(is_new, costs.new_tower_max_payload_kg,
                 by_id["free_payload_kg"].reindex(table["external_id"]).fillna(0).to_numpy()),
        np.where(is_new, costs.new_tower_available_power_kw,
                 by_id["free_power_kw"].reindex(table["external_id"]).fillna(0).to_numpy()),
    ])  # fmt: skip
    capacity = site_capacity(have, table["height_m"].to_numpy(float), costs)
    payments = costs.joint_payments_yuan(
        table["kind"].to_numpy(), np.where(is_new, 0, table["tenants"].to_numpy(int)),
        capacity, len(ops),
    )  # fmt: skip
    problems, maps = [], []
    for s, k in zip(setups, per_op, strict=True):
        n_e = s.builder.n_existing
        equipment = costs.equipment_cost_yuan(s.cands["height_m"].to_numpy(float))
        problems.append(s.problem.replace(cost=np.concatenate([np.zeros(n_e), equipment])))
        maps.append(np.concatenate([np.full(n_e, -1), np.searchsorted(uniq, k)]))
    jp = JointProblem(tuple(problems), tuple(maps), payments)
    warm = tuple(np.asarray(separate[op].cover_chosen, np.int64) for op in ops)
    gap = 1e-4 if options.solver == "milp" else 1e-2
    js = solve_joint(jp, warm_start=warm, time_limit_s=options.time_limit_s, mip_rel_gap=gap)
    how = {
        "method": "joint milp", "status": js.status, "cost_yuan": js.cost,
        "lower_bound_yuan": js.lower_bound, "gap": js.gap, "time_s": js.time_s,
        "structures_shared": int((js.tenants >= 2).sum()),
        "separate_plans_cost_yuan": sum(
            float(separate[op].chosen["cost_yuan"].sum()) for op in ops
        ),
        **js.stats,
    }  # fmt: skip
    if not js.target_met:
        return None, {**how, "method": "sequential", "why": "the joint MILP found no plan"}
    plans = {}
    for o, (op, s) in enumerate(zip(ops, setups, strict=True)):
        covered, share = evaluate_cover(s.problem, js.chosen[o])
        sol = Solution(
            chosen=js.chosen[o], cost=js.operator_cost[o], covered_weight=covered, share=share,
            target_met=True, lower_bound=None, gap=None, solver="joint milp", status=js.status,
            time_s=js.time_s, stats={"joint": {k: how[k] for k in ("status", "gap", "cost_yuan")}},
        )  # fmt: skip
        cost_of = {int(j): float(c) for j, c in zip(js.chosen[o], js.candidate_cost[o],
                                                    strict=True)}  # fmt: skip
        plans[op] = _finish(s, sol, progress, cost_of)
    return plans, how


def _with_tenant(structures: pd.DataFrame, plan: OperatorPlan, op: str, costs: CostModel):
    """The structures after ``plan``: its hosts carry one more tenant; new towers join."""
    out = structures.copy()
    chosen = plan.chosen
    on_existing = chosen[~chosen["new_build"]]
    idx = out["external_id"].isin(on_existing["external_id"])
    out.loc[idx, "tenants"] += 1
    out.loc[idx, "free_positions"] -= costs.macro.mount_positions
    out.loc[idx, "operators"] = out.loc[idx, "operators"].map(
        lambda s: ",".join(filter(None, [s, op]))
    )
    new = chosen[chosen["new_build"]]
    if len(new):
        out = pd.concat(
            [
                out,
                pd.DataFrame(
                    {
                        "external_id": [
                            f"new:{x:.0f}:{y:.0f}"
                            for x, y in zip(new["x_m"], new["y_m"], strict=True)
                        ],
                        "kind": NEW_TOWER,
                        "x_m": new["x_m"].to_numpy(),
                        "y_m": new["y_m"].to_numpy(),
                        "height_m": costs.new_tower_height_m,
                        "free_positions": costs.new_tower_mount_positions
                        - costs.macro.mount_positions,
                        "free_payload_kg": costs.new_tower_max_payload_kg - costs.macro.payload_kg,
                        "free_power_kw": costs.new_tower_available_power_kw - costs.macro.power_kw,
                        "tenants": 1,
                        "open_for_sharing": True,
                        "operators": op,
                    }
                ),
            ],
            ignore_index=True,
        )
    return out


def area_from_file(path: Path) -> Area:
    """The union of the polygons of a vector file (any CRS GDAL reads) as a plannable area."""
    import geopandas as gpd

    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several kinds for unreadable files
        raise MastplanError(f"{path}: cannot read polygons: {exc}") from None
    if frame.crs is None:
        raise MastplanError(f"{path}: the file has no CRS")
    geom = shapely.union_all(frame.to_crs(STORAGE_EPSG).geometry.to_numpy())
    polys = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, shapely.Polygon)]
    if not polys:
        raise MastplanError(f"{path}: no polygons")
    name = Path(path).stem
    return Area("file", name, name, name, shapely.MultiPolygon(polys))


def _exclusion_zones(path: Path) -> shapely.Geometry:
    """The exclusion zones of a vector file, in EPSG:32648, read once per version of the file
    (a run asks for them per key area and operator)."""
    return _zones_m(path, path.stat().st_mtime_ns if path.exists() else 0)


@functools.lru_cache(maxsize=4)
def _zones_m(path: Path, mtime_ns: int) -> shapely.Geometry:
    return project(area_from_file(path).boundary, STORAGE_EPSG, METRIC_EPSG)


def run_plan(
    session: Session,
    area_code: str | Area,
    out_dir: Path,
    options: PlanOptions = PlanOptions(),
    actor: Actor | None = None,
    progress: Callable[[str], None] | None = None,
    fixed: pd.DataFrame | None = None,
    *,
    cluster: ClusterOptions | None = None,
    say: Callable[[str], None] | None = None,
    tile_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Plan an area (a phase selection key area by key area), write the outputs to ``out_dir``
    and, given an ``actor``, record the planned sites in the registry (one transaction,
    audited). Returns the summary that ``plan.json`` holds. ``cluster`` (a scheduler or a
    worker count): the tile problems of tiled plans are solved on Dask; the merge and the
    border repair stay here (:mod:`mastplan.distributed`); ``say`` hears about the cluster;
    ``tile_progress(done, total)`` about the tiles of each tiled solve as they finish (kept
    tiles of an earlier run count at once)."""
    costs = load_cost_model(options.costs_file)
    if options.exclusion_file is not None:
        _exclusion_zones(Path(options.exclusion_file))  # a bad file fails before any work
    area = area_code if isinstance(area_code, Area) else area_by_code(session, area_code)
    area_code = area.code
    parts = area.parts or (area,)
    results = []
    with _on_cluster(cluster, say), _kept_tiles(out_dir), _tiles_with(progress=tile_progress):
        for part in parts:
            if progress:
                progress(f"planning {part.code}")
            results.append(plan_area(session, part, options, costs, fixed, progress))
    summary = _write(out_dir, area, results, options, costs)
    feasible = all(p.feasible for r in results for p in r["joint"].values())
    if actor is not None and feasible:
        summary["recorded"] = _record(session, actor, results, area_code, costs)
        (Path(out_dir) / "plan.json").write_text(
            json.dumps(summary, ensure_ascii=False, indent=2, default=_json), encoding="utf-8"
        )
    return summary


def run_phased(
    session: Session,
    out_dir: Path,
    options: PlanOptions = PlanOptions(),
    actor: Actor | None = None,
    progress: Callable[[str], None] | None = None,
    years: tuple[int, ...] = (2019, 2020, 2021),
    *,
    cluster: ClusterOptions | None = None,
    say: Callable[[str], None] | None = None,
    tile_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """The roll-out of 专栏2: the key areas of each phase year in turn, each year's sites fixed
    before the next year is planned. Writes one folder per year and ``phased.json``.
    ``cluster``, ``say``, ``tile_progress``: as :func:`run_plan` (one Dask client for all the
    years)."""
    with _on_cluster(cluster, say), _tiles_with(progress=tile_progress):
        return _run_phased(session, out_dir, options, actor, progress, years)


def _run_phased(session, out_dir, options, actor, progress, years) -> dict[str, Any]:
    fixed = pd.DataFrame(columns=[*ENGINE_COLUMNS, "site", "operator"])
    per_year = []
    for year in years:
        summary = run_plan(session, f"phase:{year}", Path(out_dir) / str(year), options, actor,
                           progress, fixed)  # fmt: skip
        per_year.append({"year": year, "sites": summary["totals"]["sites"],
                         "new_towers": summary["totals"]["new_towers"],
                         "cost_yuan": summary["totals"]["cost_yuan"],
                         "feasible": summary["feasible"]})  # fmt: skip
        sectors = pd.read_csv(Path(out_dir) / str(year) / "sectors.csv")
        if len(sectors):
            fixed = pd.concat([fixed, sectors[[*ENGINE_COLUMNS, "site", "operator"]]],
                              ignore_index=True)  # fmt: skip
    out = {"years": per_year, "total_cost_yuan": sum(y["cost_yuan"] for y in per_year),
           "total_sites": sum(y["sites"] for y in per_year)}  # fmt: skip
    (Path(out_dir) / "phased.json").write_text(
        json.dumps(out, ensure_ascii=False, indent=2, default=_json), encoding="utf-8"
    )
    return out


def _write(out_dir: Path, area: Area, results: list[dict], options: PlanOptions, costs: CostModel):
    from mastplan.io import coverage_outputs as cov_out

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, sector_rows, areas = [], [], []
    for res in results:
        part: Area = res["area"]
        entry: dict[str, Any] = {"code": part.code, "name_zh": part.name_zh,
                                 "name_en": part.name_en, "targets": asdict(res["targets"]),
                                 "operators": {}}  # fmt: skip
        for op, plan in res["joint"].items():
            sep = res["separate"][op]
            entry["operators"][op] = {
                "carrier": asdict(plan.carrier),
                "feasible": plan.feasible,
                "explanation": plan.explanation,
                "sites": len(plan.chosen),
                "new_towers": int(plan.chosen["new_build"].sum()) if len(plan.chosen) else 0,
                "cost_yuan": float(plan.chosen["cost_yuan"].sum()) if len(plan.chosen) else 0.0,
                "cost_separate_yuan": float(sep.chosen["cost_yuan"].sum())
                if len(sep.chosen)
                else 0.0,
                "before": None if plan.before is None else _stats(plan.before),
                "after": None if plan.after is None else _stats(plan.after),
                "solution": plan.solution,
                "sinr_search": plan.search,
            }
            for i, row in enumerate(plan.chosen.itertuples()):
                site = f"plan-{part.code}-{op}-{i + 1:03d}"
                lon, lat = to_storage(np.array([row.x_m]), np.array([row.y_m]))
                rows.append({"site": site, "area": part.code, "operator": op,
                             "band": plan.carrier.band, "structure": row.external_id or None,
                             "kind": row.kind, "new_build": bool(row.new_build),
                             "lon_deg": float(lon[0]), "lat_deg": float(lat[0]),
                             "height_m": row.height_m, "site_class": row.site_class,
                             "azimuths_deg": _azimuths(row.rotation_deg),
                             "tilt_deg": row.tilt_deg, "cost_yuan": row.cost_yuan,
                             "reason": row.reason})  # fmt: skip
                sec = plan.sectors[plan.sectors["candidate"] == row.candidate]
                sector_rows.append(sec.assign(site=site, operator=op))
            if plan.after is not None and plan.before is not None:
                grid = Grid.from_polygon(project(part.boundary, STORAGE_EPSG, METRIC_EPSG),
                                         options.resolution_m)  # fmt: skip
                for when, ev in (("before", plan.before), ("after", plan.after)):
                    tag = f"{part.code}-{op}-{when}"
                    cov_out.write_cog(
                        out_dir / f"rsrp_dbm-{tag}.tif", ev.rsrp_dbm, grid, "rsrp_dbm"
                    )
                    cov_out.write_cog(out_dir / f"sinr_db-{tag}.tif", ev.sinr_db, grid, "sinr_db")
        areas.append(entry)
    sites = pd.DataFrame(rows, columns=["site", "area", "operator", "band", "structure", "kind",
                                        "new_build", "lon_deg", "lat_deg", "height_m",
                                        "site_class", "azimuths_deg", "tilt_deg", "cost_yuan",
                                        "reason"])  # fmt: skip
    sites.to_csv(out_dir / "sites.csv", index=False)
    sectors = (
        pd.concat(sector_rows, ignore_index=True)
        if sector_rows
        else pd.DataFrame(columns=[*ENGINE_COLUMNS, "candidate", "site", "operator"])
    )
    sectors.to_csv(out_dir / "sectors.csv", index=False)
    import geopandas as gpd

    gpd.GeoDataFrame(
        sites, geometry=gpd.points_from_xy(sites["lon_deg"], sites["lat_deg"]), crs=STORAGE_EPSG
    ).to_file(out_dir / "sites.gpkg", layer="planned_sites", driver="GPKG")
    ops = [op for r in results for op in r["joint"]]
    joint_cost = float(sites["cost_yuan"].sum()) if len(sites) else 0.0
    separate_cost = sum(
        float(p.chosen["cost_yuan"].sum()) for r in results for p in r["separate"].values()
    )
    feasible = all(p.feasible for r in results for p in r["joint"].values())
    n_new = int(sites["new_build"].astype(bool).sum())
    summary = {
        "area": {"kind": area.kind, "code": area.code, "name_zh": area.name_zh,
                 "name_en": area.name_en},
        "feasible": feasible,
        "totals": {"sites": len(sites), "new_towers": n_new, "cost_yuan": joint_cost,
                   "on_existing_structures": len(sites) - n_new},
        "sharing": None if len(set(ops)) < 2 else {
            "operators": sorted(set(ops)), "separate_cost_yuan": separate_cost,
            "joint_method": [r.get("joint_method") for r in results],
            "joint_cost_yuan": joint_cost, "saving_yuan": separate_cost - joint_cost,
            "saving_share": (separate_cost - joint_cost) / separate_cost if separate_cost else 0.0},
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(options).items()},
        "costs": costs.source,
        "areas": areas,
        "files": sorted({p.name for p in out_dir.iterdir() if p.is_file()} | {"plan.json"}),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }  # fmt: skip
    (out_dir / "plan.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2, default=_json), encoding="utf-8"
    )
    return summary


def _azimuths(rotation_deg: float) -> str:
    return "/".join(f"{(rotation_deg + a) % 360:g}" for a in (0.0, 120.0, 240.0))


def _stats(ev: Evaluation) -> dict[str, Any]:
    s = ev.stats
    return {"covered_share": s.covered_share, "continuity": s.continuity,
            "n_holes": s.n_holes, "area_km2": s.area_km2,
            "demand_share": None if ev.demand is None else ev.share}  # fmt: skip


def _json(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (set, tuple)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _record(
    session: Session, actor: Actor, results: list[dict], area_code: str, costs: CostModel
) -> dict[str, int]:
    """The chosen sites as ``planned`` sites (new towers as ``planned`` structures), their
    sectors and tenancies, in one transaction with the audit entries."""
    from mastplan.registry.crud import create
    from mastplan.registry.db import transaction
    from mastplan.registry.enums import Rat, SiteStatus
    from mastplan.registry.models import Sector, Site
    from mastplan.registry.organisations import get_organisation
    from mastplan.registry.structures import create_structure, get_structure
    from mastplan.registry.tenancies import create_tenancy, free_positions

    today = dt.date.today()
    counts = {"sites": 0, "structures": 0, "sectors": 0, "tenancies": 0}
    run = actor.request_id[:8]
    towers: dict[tuple[int, int], str] = {}
    with transaction(session):
        for res in results:
            part = res["area"]
            for op, plan in res["joint"].items():
                operator = get_organisation(session, op)
                for i, row in enumerate(plan.chosen.itertuples()):
                    lon, lat = to_storage(np.array([row.x_m]), np.array([row.y_m]))
                    place = (round(float(row.x_m)), round(float(row.y_m)))
                    if row.new_build and place in towers:
                        ext = towers[place]  # a new tower the operators share (joint plan)
                    elif row.new_build:
                        ext = f"plan-{run}-tower-{part.code}-{op}-{i + 1:03d}"
                        towers[place] = ext
                        create_structure(session, actor, {
                            "external_id": ext, "kind": "telecom_tower",
                            "owner": costs.new_tower_owner, "lon_deg": float(lon[0]),
                            "lat_deg": float(lat[0]), "height_m": float(row.height_m),
                            "mount_positions": costs.new_tower_mount_positions,
                            "max_payload_kg": costs.new_tower_max_payload_kg,
                            "available_power_kw": costs.new_tower_available_power_kw,
                            "status": "planned",
                            "source": f"mastplan plan {area_code}",
                        })  # fmt: skip
                        counts["structures"] += 1
                    else:
                        ext = row.external_id
                    structure = get_structure(session, ext)
                    site_ext = f"plan-{run}-{part.code}-{op}-{i + 1:03d}"
                    site = create(session, actor, Site(
                        external_id=site_ext, name=f"{part.name_zh} {op} {i + 1}",
                        operator_id=operator.id, structure_id=structure.id,
                        district_code=structure.district_code, rat=Rat.NR,
                        band=plan.carrier.band, status=SiteStatus.PLANNED,
                        lon_deg=float(lon[0]), lat_deg=float(lat[0]), planned_on=today,
                        source=f"mastplan plan {area_code}",
                    ))  # fmt: skip
                    counts["sites"] += 1
                    sec = plan.sectors[plan.sectors["candidate"] == row.candidate]
                    for n, s in enumerate(sec.itertuples(), start=1):
                        create(session, actor, Sector(
                            site_id=site.id, sector_number=n, azimuth_deg=float(s.azimuth_deg),
                            electrical_tilt_deg=float(s.tilt_deg), mechanical_tilt_deg=0.0,
                            antenna_height_m=float(s.height_m), tx_power_dbm=float(s.power_dbm),
                            bandwidth_mhz=float(s.bandwidth_mhz),
                            carrier_frequency_mhz=float(s.f_ghz) * 1000.0,
                            antenna_pattern="tr38901-element",
                        ))  # fmt: skip
                        counts["sectors"] += 1
                    need = costs.classes()[row.site_class]
                    free = free_positions(session, structure.id, structure.mount_positions)
                    create_tenancy(session, actor, structure=ext, operator=op,
                                   positions=free[: need.mount_positions], site=site_ext,
                                   payload_kg=need.payload_kg, power_kw=need.power_kw,
                                   start_on=today)  # fmt: skip
                    counts["tenancies"] += 1
    return counts
