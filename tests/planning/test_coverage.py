"""CoverBuilder: the cover problem of any subset of candidates and points is the sub-matrix of
the whole area's problem (so tiles see exactly what one problem would), computed from the radio
engine's own RSRP matrix."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from mastplan.data.plan import load_cost_model
from mastplan.planning.candidates import (
    Carrier,
    candidate_configurations,
    candidate_sectors,
    new_tower_positions,
)
from mastplan.planning.coverage import ENGINE_COLUMNS, CoverBuilder, sector_reach_m
from mastplan.radio.matrix import PointIndex, rsrp_matrix

CARRIER = Carrier("china-mobile", "n41", 2.6, 100.0)
X0, Y0 = 560_000.0, 3_270_000.0


@pytest.fixture(scope="module")
def setup():
    costs = load_cost_model(None)
    rng = np.random.default_rng(7)
    n = 12
    structures = pd.DataFrame(
        {
            "external_id": [f"s{i}" for i in range(n)],
            "kind": ["lamp_pole"] * 8 + ["rooftop"] * 2 + ["telecom_tower"] * 2,
            "x_m": X0 + rng.uniform(0, 800, n),
            "y_m": Y0 + rng.uniform(0, 800, n),
            "height_m": [10.0] * 8 + [25.0, 30.0, 40.0, 45.0],
            "tenants": [0] * 11 + [1],
        }
    )
    towers = new_tower_positions(shapely.box(X0, Y0, X0 + 800, Y0 + 800), 300.0)
    cands = candidate_configurations(structures, towers, costs)
    xx, yy = np.meshgrid(np.arange(X0 + 25.0, X0 + 800, 50.0), np.arange(Y0 + 25.0, Y0 + 800, 50.0))
    px, py = xx.ravel(), yy.ravel()
    existing = pd.DataFrame(
        {
            "x_m": X0 + 400.0, "y_m": Y0 + 400.0, "height_m": 30.0,
            "azimuth_deg": [0.0, 120.0, 240.0], "tilt_deg": 6.0, "power_dbm": 53.0,
            "f_ghz": 2.6, "bandwidth_mhz": 100.0, "model": "uma", "site": "on-air-1",
        }
    )  # fmt: skip
    builder = CoverBuilder(
        cands, CARRIER, costs, px, py, np.full(len(px), 2500.0), -100.0, 0.9, existing=existing,
        min_isd_m=150.0,
    )  # fmt: skip
    return builder, cands, costs, px, py, existing


def test_the_whole_problem_is_the_radio_engines_matrix_folded_to_candidates(setup):
    builder, cands, costs, px, py, existing = setup
    n_e = builder.n_existing
    assert n_e == 1
    p = builder(np.arange(builder.n_candidates), np.arange(len(px)))
    assert p.fixed.tolist() == [True] + [False] * len(cands)
    assert p.cost[0] == 0 and np.array_equal(p.cost[1:], cands["cost_yuan"].to_numpy())
    # group: one configuration per structure
    assert np.array_equal(p.group[1:], 1 + cands["host"].to_numpy())
    # candidate j serves p when one of its three sectors gives ≥ −100 dBm (engine, directly)
    csec = candidate_sectors(cands, CARRIER, costs)
    m = rsrp_matrix(csec[ENGINE_COLUMNS], PointIndex(px, py), -100.0).toarray()
    direct = np.zeros((len(cands), len(px)), bool)
    np.logical_or.at(direct, csec["candidate"].to_numpy(), ~np.isnan(m) & (m != 0))
    got = p.coverage.toarray()
    assert np.array_equal(got[1:], direct)
    e = rsrp_matrix(existing[ENGINE_COLUMNS], PointIndex(px, py), -100.0).toarray()
    assert np.array_equal(got[0], (e != 0).any(axis=0))
    assert 0 < got.sum() < got.size
    # conflicts: configurations of hosts closer than 150 m, never within one host
    xy = builder.xy_m
    for a, b in p.conflicts:
        assert np.hypot(*(xy[a] - xy[b])) < 150.0
        assert p.group[a] != p.group[b]


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_a_subset_is_the_sub_matrix_of_the_whole(setup, data):
    builder = setup[0]
    whole = builder(np.arange(builder.n_candidates), np.arange(builder.n_points))
    n, m = builder.n_candidates, builder.n_points
    ci = np.array(sorted(data.draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=40))))
    pi = np.array(sorted(data.draw(st.sets(st.integers(0, m - 1), min_size=1, max_size=60))))
    sub = builder(ci, pi)
    assert np.array_equal(sub.coverage.toarray(), whole.coverage.toarray()[np.ix_(ci, pi)])
    assert np.array_equal(sub.cost, whole.cost[ci])
    assert np.array_equal(sub.fixed, whole.fixed[ci])
    assert np.array_equal(sub.group, whole.group[ci])
    pairs = {tuple(sorted((int(ci[a]), int(ci[b])))) for a, b in (sub.conflicts if sub.conflicts
             is not None else [])}  # fmt: skip
    expected = {tuple(sorted((int(a), int(b)))) for a, b in whole.conflicts
                if a in set(ci) and b in set(ci)}  # fmt: skip
    assert pairs == expected


def _same_problem(a, b) -> None:
    assert np.array_equal(a.coverage.toarray(), b.coverage.toarray())
    for name in ("cost", "fixed", "group", "point_weight"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.target_share == b.target_share and a.budget == b.budget
    ca = set() if a.conflicts is None else {tuple(map(int, c)) for c in a.conflicts}
    cb = set() if b.conflicts is None else {tuple(map(int, c)) for c in b.conflicts}
    assert ca == cb


def test_the_builder_goes_through_a_file_of_arrays_unchanged(setup, tmp_path):
    """What Dask workers load (``np.savez`` without pickles) builds the same problems."""
    builder, _, costs, *_ = setup
    path = tmp_path / "builder.npz"
    np.savez(path, **builder.to_arrays())
    with np.load(path, allow_pickle=False) as data:
        back = CoverBuilder.from_arrays({k: data[k] for k in data.files})
    assert back.costs == costs and back.carrier == CARRIER
    assert back.n_existing == builder.n_existing and back.n_points == builder.n_points
    everything = (np.arange(builder.n_candidates), np.arange(builder.n_points))
    _same_problem(back(*everything), builder(*everything))
    some = (np.arange(0, builder.n_candidates, 3), np.arange(5, builder.n_points, 7))
    _same_problem(back(*some), builder(*some))
    assert np.array_equal(back.candidate_reach_m(), builder.candidate_reach_m())


def test_the_builder_pickles_and_reach_bounds_the_matrix(setup):
    builder, cands, costs, px, py, _ = setup
    again = pickle.loads(pickle.dumps(builder))
    idx = np.arange(0, builder.n_candidates, 7)
    a = builder(idx, np.arange(len(px))).coverage.toarray()
    assert np.array_equal(again(idx, np.arange(len(px))).coverage.toarray(), a)
    # no candidate serves a point beyond the reach radius of its sectors
    r = sector_reach_m(candidate_sectors(cands, CARRIER, costs), -100.0).max()
    whole = builder(np.arange(builder.n_candidates), np.arange(len(px))).coverage.tocoo()
    d = np.hypot(
        builder.xy_m[whole.row, 0] - px[whole.col], builder.xy_m[whole.row, 1] - py[whole.col]
    )
    assert 0 < d.max() <= r + 1e-6


def test_each_candidates_reach_bounds_its_own_row(setup):
    builder, cands, costs, px, py, existing = setup
    reach = builder.candidate_reach_m()
    assert reach.shape == (builder.n_candidates,) and np.all(reach > 0)
    assert reach[0] == pytest.approx(sector_reach_m(existing, -100.0).max())
    for j in (1, 5, builder.n_candidates - 1):  # a small cell, another, a new tower
        one = candidate_sectors(cands.iloc[[j - 1]], CARRIER, costs)
        assert reach[j] == pytest.approx(sector_reach_m(one, -100.0).max())
    whole = builder(np.arange(builder.n_candidates), np.arange(len(px))).coverage.tocoo()
    d = np.hypot(
        builder.xy_m[whole.row, 0] - px[whole.col], builder.xy_m[whole.row, 1] - py[whole.col]
    )
    assert np.all(d <= reach[whole.row] + 1e-6)
    # poles reach less far than macro sites
    small = cands["site_class"].to_numpy() == "small_cell"
    assert reach[1:][small].max() < reach[1:][~small].min()


def test_chunks_of_sectors_give_the_same_matrix(setup, monkeypatch):
    import mastplan.planning.coverage as coverage

    builder = setup[0]
    everything = (np.arange(builder.n_candidates), np.arange(builder.n_points))
    whole = builder(*everything).coverage.toarray()
    monkeypatch.setattr(coverage, "SECTOR_CHUNK", 7)  # 7 sectors: chunks split candidates too
    assert np.array_equal(builder(*everything).coverage.toarray(), whole)


def test_reach_in_chunks_is_the_same(setup, monkeypatch):
    import mastplan.planning.coverage as coverage

    builder = setup[0]
    whole = builder.candidate_reach_m()
    monkeypatch.setattr(coverage, "REACH_CHUNK", 1)
    assert np.array_equal(builder.candidate_reach_m(), whole)


def test_tiles_of_the_builder_run_in_worker_processes(setup):
    # what Dask workers do: the builder and the tile tasks travel pickled to other processes
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from mastplan.planning import solve_tiled

    builder = setup[0]
    reach = builder.candidate_reach_m()
    kwargs = {"tile_m": 300.0, "halo_m": float(reach.max()), "candidate_reach_m": reach}
    here = solve_tiled(builder.xy_m, builder.point_xy_m, builder, **kwargs)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        there = solve_tiled(builder.xy_m, builder.point_xy_m, builder, map_fn=pool.map, **kwargs)
    assert len(here.tiles) > 1 and here.target_met
    assert np.array_equal(there.chosen, here.chosen)
    assert there.cost == here.cost
