"""City-scale tiles: per-tile and global targets, border repair, redundancy, executors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy import sparse

from mastplan.planning import CoverProblem, solve_tiled


class DiscBuild:
    """Candidates serve the points within their radius; two configurations per structure.

    Candidates ``2s`` and ``2s + 1`` are the small and large configuration of structure ``s``
    (a group); candidates of different structures closer than ``min_distance_m`` conflict.
    """

    def __init__(self, cand_xy, radius_m, cost, point_xy, share, min_distance_m, fixed=None):
        self.cand_xy = cand_xy
        self.radius_m = radius_m
        self.cost = cost
        self.point_xy = point_xy
        self.share = share
        self.min_distance_m = min_distance_m
        self.fixed = np.zeros(len(cand_xy), bool) if fixed is None else fixed
        self.calls = 0

    def __call__(self, cand_idx, point_idx):
        self.calls += 1
        c = self.cand_xy[cand_idx]
        d = np.hypot(*(c[:, None, :] - self.point_xy[point_idx][None, :, :]).transpose(2, 0, 1))
        cov = d <= self.radius_m[cand_idx][:, None]
        structure = cand_idx // 2
        dc = np.hypot(*(c[:, None, :] - c[None, :, :]).transpose(2, 0, 1))
        i, j = np.nonzero(np.triu(dc < self.min_distance_m, 1))
        keep = structure[i] != structure[j]
        return CoverProblem(
            sparse.csr_array(cov.reshape(len(cand_idx), len(point_idx))),
            np.full(len(point_idx), 625.0),
            self.cost[cand_idx],
            self.share,
            group=structure,
            conflicts=np.column_stack([i[keep], j[keep]]),
            fixed=self.fixed[cand_idx],
        )

    # the checks of the tests, on the whole city (small enough here)
    def conflicts_among(self, chosen):
        c = self.cand_xy[chosen]
        dc = np.hypot(*(c[:, None, :] - c[None, :, :]).transpose(2, 0, 1))
        s = chosen // 2
        bad = (dc < self.min_distance_m) & (s[:, None] != s[None, :])
        same = s[:, None] == s[None, :]
        np.fill_diagonal(bad, False)
        np.fill_diagonal(same, False)
        return int(np.triu(bad | same).sum())


def city(seed=0, side_m=2000.0, n_structures=300, share=0.9, min_distance_m=60.0):
    rng = np.random.default_rng(seed)
    g = np.arange(12.5, side_m, 25.0)
    px, py = np.meshgrid(g, g)
    points = np.column_stack([px.ravel(), py.ravel()])
    sxy = rng.uniform(0, side_m, (n_structures, 2))
    cand_xy = np.repeat(sxy, 2, axis=0)
    small_r = rng.uniform(150, 250, n_structures)
    radius = np.column_stack([small_r, small_r * 1.4]).ravel()
    tier = rng.choice([20e3, 60e3, 100e3], n_structures)
    cost = np.column_stack([tier, tier * 1.8]).ravel()
    build = DiscBuild(cand_xy, radius, cost, points, share, min_distance_m)
    return cand_xy, points, build


def per_tile_coverage(build, points, chosen, tile_m):
    """(covered, total, meets) per tile of ``chosen``, computed directly."""
    keys = np.floor(points / tile_m).astype(int)
    d = np.hypot(*(build.cand_xy[chosen][:, None, :] - points[None]).transpose(2, 0, 1))
    cov = d <= build.radius_m[chosen][:, None]
    out = {}
    for key in {tuple(k) for k in keys}:
        in_tile = np.all(keys == key, axis=1)
        counts = cov[:, in_tile].sum(axis=0)
        out[key] = counts, cov[:, in_tile]
    return out


TILE_M, HALO_M = 500.0, 400.0


@pytest.fixture(scope="module")
def planned():
    cand_xy, points, build = city()
    sol = solve_tiled(cand_xy, points, build, tile_m=TILE_M, halo_m=HALO_M)
    return cand_xy, points, build, sol


def test_every_tile_and_the_city_meet_the_target(planned):
    _, points, build, sol = planned
    assert len(sol.tiles) == 16
    assert sol.target_met
    assert all(t.final_target_met for t in sol.tiles)
    assert sol.share >= build.share
    for key, (counts, _) in per_tile_coverage(build, points, sol.chosen, TILE_M).items():
        assert (counts > 0).mean() >= build.share - 1e-9, key
    assert sol.total_weight == pytest.approx(625.0 * len(points))
    assert sol.cost == pytest.approx(build.cost[sol.chosen].sum())


def test_no_conflicts_and_no_redundant_site(planned):
    _, points, build, sol = planned
    assert build.conflicts_among(sol.chosen) == 0
    tiles = per_tile_coverage(build, points, sol.chosen, TILE_M)
    for r, j in enumerate(sol.chosen):
        # dropping j must break the target of some tile
        breaks = False
        for counts, cov in tiles.values():
            after = counts - cov[r]
            if (after > 0).mean() < build.share - 1e-9:
                breaks = True
        assert breaks, f"candidate {j} is redundant"


def test_thread_pool_gives_the_same_plan(planned):
    cand_xy, points, build, sol = planned
    seen = []
    with ThreadPoolExecutor(max_workers=4) as pool:
        again = solve_tiled(
            cand_xy,
            points,
            build,
            tile_m=TILE_M,
            halo_m=HALO_M,
            map_fn=pool.map,
            progress=lambda done, total: seen.append((done, total)),
        )
    assert np.array_equal(again.chosen, sol.chosen)
    assert again.cost == sol.cost
    assert seen == [(k, 16) for k in range(1, 17)]


def test_per_candidate_reach_shrinks_the_tiles_and_keeps_the_plan(planned):
    cand_xy, points, build, sol = planned
    again = solve_tiled(
        cand_xy, points, build, tile_m=TILE_M, halo_m=HALO_M, candidate_reach_m=build.radius_m
    )
    assert np.array_equal(again.chosen, sol.chosen)
    assert again.cost == sol.cost
    fewer = [a.n_candidates < b.n_candidates for a, b in zip(again.tiles, sol.tiles, strict=True)]
    assert all(
        a.n_candidates <= b.n_candidates for a, b in zip(again.tiles, sol.tiles, strict=True)
    )
    assert sum(fewer) >= 8
    with pytest.raises(ValueError, match="within"):
        solve_tiled(cand_xy, points, build, tile_m=TILE_M, halo_m=100.0,
                    candidate_reach_m=build.radius_m)  # fmt: skip
    with pytest.raises(ValueError, match="shape"):
        solve_tiled(cand_xy, points, build, tile_m=TILE_M, halo_m=HALO_M,
                    candidate_reach_m=build.radius_m[:3])  # fmt: skip


def test_border_conflict_is_repaired():
    # Two tiles of 100 m: points at x = 5..95 (tile 0) and 105..195 (tile 1), y = 50.
    # a (x = 95) serves tile 0 and b (x = 105) serves tile 1, each cheaply; they are 10 m apart,
    # closer than the 20 m minimum. Each tile picks its own; the repair keeps one and re-covers
    # the other tile with c (x = 150, dearer) — e (x = 50) serves tile 0 the same way.
    xs = np.arange(5.0, 200.0, 10.0)
    points = np.column_stack([xs, np.full(len(xs), 50.0)])
    cand_xy = np.array([[95.0, 50], [95, 50], [105, 50], [105, 50], [150, 50], [150, 50],
                        [50, 50], [50, 50]])  # fmt: skip
    radius = np.array([91.0, 1, 91, 1, 46, 1, 46, 1])  # odd configurations serve nothing
    cost = np.array([1.0, 9, 1, 9, 3, 9, 3, 9])
    build = DiscBuild(cand_xy, radius, cost, points, 1.0, min_distance_m=20.0)
    # a at 95 with r 91 covers 5..185; tile 0 ⊂ a; tile 1 ⊂ b (15..195 ∪ ...): each tile's
    # cheapest full cover is its own border candidate.
    sol = solve_tiled(cand_xy, points, build, tile_m=100.0, halo_m=100.0)
    assert sol.conflicts_repaired == 1
    assert build.conflicts_among(sol.chosen) == 0
    assert sol.target_met
    assert [t.final_target_met for t in sol.tiles] == [True, True]
    assert sol.stats["recovered_sites"] >= 1


def test_empty_tiles_and_bad_builds():
    cand_xy, points, build = city(side_m=600.0, n_structures=40, share=0.5)
    sol = solve_tiled(cand_xy, points[:5], build, tile_m=1000.0, halo_m=300.0)
    assert len(sol.tiles) == 1 and sol.target_met

    def wrong(cand_idx, point_idx):
        return build(cand_idx[:1], point_idx)

    with pytest.raises(ValueError, match="shape"):
        solve_tiled(cand_xy, points, wrong, tile_m=300.0, halo_m=300.0)
    with pytest.raises(ValueError, match="tile_m"):
        solve_tiled(cand_xy, points, build, tile_m=0.0, halo_m=1.0)
