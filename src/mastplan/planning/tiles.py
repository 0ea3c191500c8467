"""City-scale planning in tiles: independent tile problems, then border repair.

The points are split into square tiles of ``tile_m`` anchored at (0, 0) of the (projected,
metre) CRS. Each non-empty tile is a problem of its own: its points, and the candidates within
the tile grown by ``halo_m``. The caller's ``build(cand_idx, point_idx)`` makes that problem, so
the city-wide coverage matrix is never built. Tiles are solved independently through
``map_fn`` — the builtin ``map``, a ``concurrent.futures`` executor's ``map``, or a wrapper of a
Dask client (``lambda f, xs: client.gather(client.map(f, list(xs)))``): the per-tile function is
module level and takes one picklable task.

Then the border repair, on the union of the tiles' choices:

1. conflicts (and two configurations of one structure) between choices of neighbouring tiles
   are found by building small problems over the chosen candidates, cell by cell;
2. of each conflicting pair the one serving more weight is kept (a fixed one always); what the
   dropped one served is re-covered by a small greedy over its neighbourhood, with the chosen
   candidates there fixed;
3. a global redundancy pass drops chosen candidates, most expensive first, while every tile's
   target stays met.

``halo_m`` must be at least the reach of a candidate (the farthest point it can serve) and the
conflict distance: the repair relies on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from mastplan.planning.greedy import greedy
from mastplan.planning.problem import CoverProblem, evaluate
from mastplan.planning.solve import solve

__all__ = ["TileResult", "TileStats", "TiledSolution", "solve_tiled"]

BuildFn = Callable[[NDArray[np.int64], NDArray[np.int64]], CoverProblem]


@dataclass(frozen=True)
class TileStats:
    """One tile: its size, what its own solve found, and its share after the border repair."""

    tile: tuple[int, int]
    n_points: int
    n_candidates: int
    cost: float
    share: float
    target_met: bool
    solver: str
    status: str
    time_s: float
    final_share: float
    final_target_met: bool


@dataclass(frozen=True)
class TiledSolution:
    """The city plan: chosen candidates (global indices), cost, shares and repair counts.

    ``share`` is the covered weight over the total weight of all tiles; ``target_met`` says
    whether every tile meets its own target after the repair.
    """

    chosen: NDArray[np.int64]
    cost: float
    covered_weight: float
    total_weight: float
    share: float
    target_met: bool
    tiles: list[TileStats]
    conflicts_repaired: int
    redundant_dropped: int
    time_s: float
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _TileTask:
    key: tuple[int, int]
    cand_idx: NDArray[np.int64]
    point_idx: NDArray[np.int64]
    build: BuildFn
    solver: str
    time_limit_s: float
    options: Mapping[str, Any]


@dataclass(frozen=True)
class TileResult:
    """What one tile's own solve chose (global candidate indices), as a worker returns it."""

    key: tuple[int, int]
    n_points: int
    n_candidates: int
    chosen: NDArray[np.int64]
    chosen_cost: NDArray[np.float64]
    chosen_fixed: NDArray[np.bool_]
    cost: float
    share: float
    target_met: bool
    solver: str
    status: str
    time_s: float

    def to_arrays(self) -> dict[str, NDArray]:
        """The result as named arrays (``np.savez`` without pickles: kept tiles of a run)."""
        return {f.name: np.asarray(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_arrays(cls, a: Mapping[str, NDArray]) -> TileResult:
        """The result back from :meth:`to_arrays`."""
        return cls(
            key=tuple(int(k) for k in a["key"]),
            n_points=int(a["n_points"]),
            n_candidates=int(a["n_candidates"]),
            chosen=np.asarray(a["chosen"], dtype=np.int64),
            chosen_cost=np.asarray(a["chosen_cost"], dtype=np.float64),
            chosen_fixed=np.asarray(a["chosen_fixed"], dtype=bool),
            cost=float(a["cost"]),
            share=float(a["share"]),
            target_met=bool(a["target_met"]),
            solver=str(a["solver"]),
            status=str(a["status"]),
            time_s=float(a["time_s"]),
        )


def _build_checked(
    build: BuildFn, cand_idx: NDArray[np.int64], point_idx: NDArray[np.int64]
) -> CoverProblem:
    problem = build(cand_idx, point_idx)
    if not isinstance(problem, CoverProblem):
        raise TypeError(f"build must return a CoverProblem, got {type(problem).__name__}")
    if problem.coverage.shape != (len(cand_idx), len(point_idx)):
        raise ValueError(
            f"build returned coverage of shape {problem.coverage.shape} for "
            f"{len(cand_idx)} candidates and {len(point_idx)} points"
        )
    return problem


def _fixed_mask(problem: CoverProblem) -> NDArray[np.bool_]:
    if problem.fixed is None:
        return np.zeros(problem.n_candidates, dtype=bool)
    return np.asarray(problem.fixed, dtype=bool)


def _solve_tile(task: _TileTask) -> TileResult:
    """Build and solve one tile (module level, so executors and Dask can pickle it)."""
    t0 = time.perf_counter()
    problem = _build_checked(task.build, task.cand_idx, task.point_idx)
    sol = solve(problem, solver=task.solver, time_limit_s=task.time_limit_s, **task.options)  # type: ignore[arg-type]
    return TileResult(
        key=task.key,
        n_points=len(task.point_idx),
        n_candidates=len(task.cand_idx),
        chosen=task.cand_idx[sol.chosen],
        chosen_cost=problem.cost[sol.chosen].copy(),
        chosen_fixed=_fixed_mask(problem)[sol.chosen],
        cost=sol.cost,
        share=sol.share,
        target_met=sol.target_met,
        solver=sol.solver,
        status=sol.status,
        time_s=time.perf_counter() - t0,
    )


class _Cells:
    """Items (x, y) bucketed in square cells of ``cell_m`` for box queries."""

    def __init__(self, xy_m: NDArray[np.float64], cell_m: float) -> None:
        self.xy = xy_m
        self.cell_m = cell_m
        ij = np.floor(xy_m / cell_m).astype(np.int64) if len(xy_m) else np.zeros((0, 2), np.int64)
        self.ij = ij
        self.cells: dict[tuple[int, int], NDArray[np.int64]] = {}
        if len(ij):
            order = np.lexsort((ij[:, 1], ij[:, 0]))
            keys = ij[order]
            change = np.flatnonzero(np.any(np.diff(keys, axis=0) != 0, axis=1)) + 1
            starts = np.concatenate([[0], change])
            ends = np.concatenate([change, [len(order)]])
            for s, e in zip(starts, ends, strict=True):
                self.cells[(int(keys[s, 0]), int(keys[s, 1]))] = np.sort(order[s:e])

    def in_box(self, x0: float, y0: float, x1: float, y1: float) -> NDArray[np.int64]:
        """Sorted indices of the items with x0 ≤ x ≤ x1 and y0 ≤ y ≤ y1."""
        i0, i1 = int(np.floor(x0 / self.cell_m)), int(np.floor(x1 / self.cell_m))
        j0, j1 = int(np.floor(y0 / self.cell_m)), int(np.floor(y1 / self.cell_m))
        parts = []
        if (i1 - i0 + 1) * (j1 - j0 + 1) <= 4 * len(self.cells) + 16:
            for i in range(i0, i1 + 1):
                for j in range(j0, j1 + 1):
                    got = self.cells.get((i, j))
                    if got is not None:
                        parts.append(got)
        else:
            for (i, j), got in self.cells.items():
                if i0 <= i <= i1 and j0 <= j <= j1:
                    parts.append(got)
        if not parts:
            return np.zeros(0, dtype=np.int64)
        idx = np.concatenate(parts)
        x, y = self.xy[idx, 0], self.xy[idx, 1]
        keep = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        return np.sort(idx[keep]).astype(np.int64)

    def around(self, key: tuple[int, int], grow_m: float) -> NDArray[np.int64]:
        """Items within the cell ``key`` grown by ``grow_m`` on every side."""
        c = self.cell_m
        return self.in_box(
            key[0] * c - grow_m, key[1] * c - grow_m, (key[0] + 1) * c + grow_m,
            (key[1] + 1) * c + grow_m,
        )  # fmt: skip


def _as_xy(values: Any, name: str) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{name} must have shape (n, 2), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


def solve_tiled(
    candidate_xy_m: NDArray[np.float64],
    point_xy_m: NDArray[np.float64],
    build: BuildFn,
    *,
    tile_m: float,
    halo_m: float,
    solver: str = "greedy",
    time_limit_s: float = 60.0,
    solve_options: Mapping[str, Any] | None = None,
    map_fn: Callable[..., Iterable[Any]] = map,
    progress: Callable[[int, int], None] | None = None,
    candidate_reach_m: NDArray[np.float64] | None = None,
) -> TiledSolution:
    """Plan a city tile by tile, then repair the borders (see the module doc).

    ``build(cand_idx, point_idx)`` returns the :class:`CoverProblem` of those candidates and
    points (sorted global indices; either may be empty), rows and columns in that order, with
    the caller's target share; it must be picklable for process pools or Dask. ``solver`` and
    ``time_limit_s`` (per tile) and ``solve_options`` go to :func:`~mastplan.planning.solve`.
    ``map_fn(f, tasks)`` runs the tiles (results in order); ``progress(done, total)`` is called
    as tiles finish. ``candidate_reach_m`` (per candidate, at most ``halo_m``): a tile then
    takes a candidate only when it lies within the tile grown by the candidate's own reach —
    a pole small cell reaches a few hundred metres, a macro site kilometres, and the tile
    problems shrink accordingly (the plan is the same: a candidate farther away serves none
    of the tile's points).
    """
    t0 = time.perf_counter()
    cand_xy = _as_xy(candidate_xy_m, "candidate_xy_m")
    point_xy = _as_xy(point_xy_m, "point_xy_m")
    if not (np.isfinite(tile_m) and tile_m > 0):
        raise ValueError(f"tile_m must be > 0, got {tile_m!r}")
    if not (np.isfinite(halo_m) and halo_m >= 0):
        raise ValueError(f"halo_m must be >= 0, got {halo_m!r}")
    options = dict(solve_options or {})
    reach = None
    if candidate_reach_m is not None:
        reach = np.asarray(candidate_reach_m, dtype=np.float64)
        if reach.shape != (len(cand_xy),):
            raise ValueError(f"candidate_reach_m must have shape ({len(cand_xy)},)")
        if not np.all((reach >= 0) & (reach <= halo_m * (1 + 1e-9))):
            raise ValueError("candidate_reach_m must be within [0, halo_m]")

    points = _Cells(point_xy, tile_m)
    cands = _Cells(cand_xy, tile_m)
    tile_keys = sorted(points.cells)

    def in_reach(key: tuple[int, int], idx: NDArray[np.int64]) -> NDArray[np.int64]:
        if reach is None:
            return idx
        x, y, r = cand_xy[idx, 0], cand_xy[idx, 1], reach[idx]
        x0, y0 = key[0] * tile_m, key[1] * tile_m
        dx = np.maximum(np.maximum(x0 - x, x - (x0 + tile_m)), 0.0)
        dy = np.maximum(np.maximum(y0 - y, y - (y0 + tile_m)), 0.0)
        return idx[dx * dx + dy * dy <= r * r]

    def tasks() -> Iterator[_TileTask]:
        for key in tile_keys:
            yield _TileTask(
                key=key,
                cand_idx=in_reach(key, cands.around(key, halo_m)),
                point_idx=points.cells[key],
                build=build,
                solver=solver,
                time_limit_s=time_limit_s,
                options=options,
            )

    results: list[TileResult] = []
    for res in map_fn(_solve_tile, tasks()):
        results.append(res)
        if progress is not None:
            progress(len(results), len(tile_keys))
    tiles_s = time.perf_counter() - t0

    cost_of: dict[int, float] = {}
    fixed_of: dict[int, bool] = {}
    for res in results:
        for j, c, f in zip(res.chosen, res.chosen_cost, res.chosen_fixed, strict=True):
            cost_of[int(j)] = float(c)
            fixed_of[int(j)] = fixed_of.get(int(j), False) or bool(f)
    chosen = set(cost_of)

    repair = _Repair(cand_xy, point_xy, cands, points, build, tile_m, halo_m, cost_of, fixed_of)
    dropped = repair.resolve_conflicts(chosen)
    repaired_s = time.perf_counter() - t0 - tiles_s
    redundant, per_tile = repair.drop_redundant(chosen, tile_keys)

    tiles = []
    covered_total = 0.0
    weight_total = 0.0
    for res in results:
        cov, tot, met = per_tile[res.key]
        covered_total += cov
        weight_total += tot
        tiles.append(
            TileStats(
                tile=res.key,
                n_points=res.n_points,
                n_candidates=res.n_candidates,
                cost=res.cost,
                share=res.share,
                target_met=res.target_met,
                solver=res.solver,
                status=res.status,
                time_s=res.time_s,
                final_share=cov / tot if tot > 0 else 1.0,
                final_target_met=met,
            )
        )
    final = np.array(sorted(chosen), dtype=np.int64)
    cost = float(sum(cost_of[int(j)] for j in final if not fixed_of.get(int(j), False)))
    return TiledSolution(
        chosen=final,
        cost=cost,
        covered_weight=covered_total,
        total_weight=weight_total,
        share=covered_total / weight_total if weight_total > 0 else 1.0,
        target_met=all(t.final_target_met for t in tiles),
        tiles=tiles,
        conflicts_repaired=dropped,
        redundant_dropped=redundant,
        time_s=time.perf_counter() - t0,
        stats={
            "tiles": len(tiles),
            "tiles_s": tiles_s,
            "conflict_repair_s": repaired_s,
            "redundancy_s": time.perf_counter() - t0 - tiles_s - repaired_s,
            "recovered_sites": repair.recovered,
            "conflicts_unresolved": repair.unresolved,
            "recover_skipped": repair.recover_skipped,
        },
    )


class _Repair:
    """The border repair over the union of the tiles' choices (a set, changed in place)."""

    def __init__(
        self,
        cand_xy: NDArray[np.float64],
        point_xy: NDArray[np.float64],
        cands: _Cells,
        points: _Cells,
        build: BuildFn,
        tile_m: float,
        halo_m: float,
        cost_of: dict[int, float],
        fixed_of: dict[int, bool],
    ) -> None:
        self.cand_xy = cand_xy
        self.point_xy = point_xy
        self.cands = cands
        self.points = points
        self.build = build
        self.tile_m = tile_m
        self.halo_m = halo_m
        self.cost_of = cost_of
        self.fixed_of = fixed_of
        self.recovered = 0
        self.unresolved = 0
        self.recover_skipped = 0

    def _chosen_cells(self, chosen: set[int]) -> tuple[_Cells, NDArray[np.int64]]:
        """The chosen candidates bucketed by cell, and their global indices."""
        idx = np.array(sorted(chosen), dtype=np.int64)
        xy = self.cand_xy[idx] if len(idx) else np.zeros((0, 2))
        return _Cells(xy, self.tile_m), idx

    def _note(self, problem: CoverProblem, cand_idx: NDArray[np.int64]) -> None:
        fixed = _fixed_mask(problem)
        for k, j in enumerate(cand_idx):
            j = int(j)
            self.cost_of.setdefault(j, float(problem.cost[k]))
            if fixed[k]:
                self.fixed_of[j] = True

    def conflict_pairs(self, chosen: set[int]) -> set[tuple[int, int]]:
        """Conflicting (or same-group) pairs among the chosen, cell by cell."""
        cells, gidx = self._chosen_cells(chosen)
        pairs: set[tuple[int, int]] = set()
        for key in sorted(cells.cells):
            local = cells.around(key, self.halo_m)
            cand_idx = gidx[local]
            if len(cand_idx) < 2:
                continue
            point_idx = self.points.cells.get(key, np.zeros(0, dtype=np.int64))
            problem = _build_checked(self.build, cand_idx, point_idx)
            self._note(problem, cand_idx)
            if problem.conflicts is not None:
                for a, b in problem.conflicts:
                    i, j = int(cand_idx[a]), int(cand_idx[b])
                    pairs.add((min(i, j), max(i, j)))
            if problem.group is not None:
                g = problem.group
                for value in np.unique(g[g >= 0]):
                    members = cand_idx[g == value]
                    for x in range(len(members)):
                        for y in range(x + 1, len(members)):
                            i, j = int(members[x]), int(members[y])
                            pairs.add((min(i, j), max(i, j)))
        return pairs

    def served_weight(self, j: int) -> float:
        x, y = self.cand_xy[j]
        h = self.halo_m
        point_idx = self.points.in_box(x - h, y - h, x + h, y + h)
        problem = _build_checked(self.build, np.array([j], dtype=np.int64), point_idx)
        return evaluate(problem, np.array([0]))[0]

    def resolve_conflicts(self, chosen: set[int]) -> int:
        """Drop one of each conflicting chosen pair, then re-cover; returns how many dropped."""
        dropped: list[int] = []
        for _ in range(10):  # re-covering can, rarely, meet a conflict across its window
            pairs = sorted(self.conflict_pairs(chosen))
            if not pairs:
                break
            served: dict[int, float] = {}
            new_drops = []
            for i, j in pairs:
                if i not in chosen or j not in chosen:
                    continue
                fi, fj = self.fixed_of.get(i, False), self.fixed_of.get(j, False)
                if fi and fj:
                    self.unresolved += 1
                    continue
                if fi or fj:
                    loser = j if fi else i
                else:
                    for c in (i, j):
                        if c not in served:
                            served[c] = self.served_weight(c)
                    # keep the one serving more weight; on a tie keep the cheaper, then lower index
                    rank_i = (served[i], -self.cost_of.get(i, 0.0), -i)
                    rank_j = (served[j], -self.cost_of.get(j, 0.0), -j)
                    loser = i if rank_i < rank_j else j
                chosen.discard(loser)
                new_drops.append(loser)
            if not new_drops:
                break
            dropped += new_drops
            for d in new_drops:
                self.recover(chosen, d)
        return len(dropped)

    def recover(self, chosen: set[int], dropped: int) -> None:
        """Re-cover, around ``dropped``, the weight it served, with the chosen ones fixed."""
        x, y = self.cand_xy[dropped]
        h = self.halo_m
        point_idx = self.points.in_box(x - h, y - h, x + h, y + h)
        if len(point_idx) == 0:
            return
        near = self.cands.in_box(x - 2 * h, y - 2 * h, x + 2 * h, y + 2 * h)
        far = self.cands.in_box(x - 3 * h, y - 3 * h, x + 3 * h, y + 3 * h)
        in_chosen = np.fromiter((int(c) in chosen for c in far), dtype=bool, count=len(far))
        cand_idx = np.union1d(near, far[in_chosen]).astype(np.int64)  # holds ``dropped``
        problem = _build_checked(self.build, cand_idx, point_idx)
        self._note(problem, cand_idx)
        is_chosen = np.fromiter((int(c) in chosen for c in cand_idx), bool, count=len(cand_idx))
        before, _ = evaluate(problem, is_chosen | (cand_idx == dropped))
        now, _ = evaluate(problem, is_chosen)
        total = float(problem.total_weight)  # type: ignore[arg-type]
        if before <= now or total <= 0:
            return
        try:
            local = problem.replace(
                fixed=is_chosen | _fixed_mask(problem),
                target_share=min(before / total, 1.0),
                budget=None,
            )
        except ValueError:
            self.recover_skipped += 1
            return
        sol = greedy(local, local_search=True)
        for k in sol.chosen:
            j = int(cand_idx[k])
            if j not in chosen:
                chosen.add(j)
                self.cost_of[j] = float(problem.cost[k])
                self.recovered += 1

    def drop_redundant(
        self, chosen: set[int], tile_keys: list[tuple[int, int]]
    ) -> tuple[int, dict[tuple[int, int], tuple[float, float, bool]]]:
        """Drop chosen candidates, most expensive first, while every tile meets its target.

        Returns how many were dropped and, per tile, (covered weight, total weight, target met)
        after the pass.
        """
        cells, gidx = self._chosen_cells(chosen)
        tiles: dict[tuple[int, int], dict[str, Any]] = {}
        rows_of: dict[int, list[tuple[tuple[int, int], int]]] = {}
        for key in tile_keys:
            cand_idx = gidx[cells.around(key, self.halo_m)]
            point_idx = self.points.cells[key]
            problem = _build_checked(self.build, cand_idx, point_idx)
            self._note(problem, cand_idx)
            cov = sparse.csr_array(problem.coverage)
            w = problem.point_weight
            count = np.asarray(cov.sum(axis=0)).ravel().astype(np.int64)
            tiles[key] = {
                "cov": cov,
                "w": w,
                "count": count,
                "covered": float(w[count > 0].sum()),
                "problem": problem,
                "strict": problem.budget is not None,
            }
            for r, j in enumerate(cand_idx):
                rows_of.setdefault(int(j), []).append((key, r))

        order = sorted(
            (j for j in chosen if not self.fixed_of.get(j, False)),
            key=lambda j: (-self.cost_of.get(j, 0.0), -j),
        )
        dropped = 0
        for j in order:
            ok = True
            losses = []
            for key, r in rows_of.get(j, []):
                t = tiles[key]
                cov = t["cov"]
                pts = cov.indices[cov.indptr[r] : cov.indptr[r + 1]]
                alone = pts[t["count"][pts] == 1]
                loss = float(t["w"][alone].sum())
                losses.append((key, pts, loss))
                if loss > 0 and (t["strict"] or not t["problem"].meets_target(t["covered"] - loss)):
                    ok = False
                    break
            if not ok:
                continue
            for key, pts, loss in losses:
                tiles[key]["count"][pts] -= 1
                tiles[key]["covered"] -= loss
            chosen.discard(j)
            dropped += 1

        per_tile = {}
        for key, t in tiles.items():
            problem = t["problem"]
            covered = float(t["w"][t["count"] > 0].sum())
            per_tile[key] = (covered, float(problem.total_weight), problem.meets_target(covered))
        return dropped, per_tile
