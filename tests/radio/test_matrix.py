"""The sparse RSRP matrix: each entry is the RSRP a prediction gives that sector at that point,
and exactly the pairs at or above the threshold are present."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mastplan.radio import Grid, predict_coverage
from mastplan.radio.matrix import PointIndex, rsrp_matrix


def _sectors(n_sites: int, seed: int, side_m: float = 3000.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, side_m, n_sites)
    y = rng.uniform(0, side_m, n_sites)
    h = rng.uniform(8.0, 40.0, n_sites)
    return pd.DataFrame(
        {
            "x_m": np.repeat(x, 3),
            "y_m": np.repeat(y, 3),
            "height_m": np.repeat(h, 3),
            "azimuth_deg": np.tile([0.0, 120.0, 240.0], n_sites)
            + np.repeat(rng.uniform(0, 120, n_sites), 3),
            "tilt_deg": rng.uniform(0.0, 10.0, 3 * n_sites),
            "mechanical_tilt_deg": rng.uniform(0.0, 4.0, 3 * n_sites),
            "power_dbm": 49.0,
            "f_ghz": 3.5,
            "bandwidth_mhz": 100.0,
            "model": np.where(np.repeat(h, 3) >= 20.0, "uma", "umi"),
        }
    )


@pytest.mark.parametrize("antenna", ["element", "array"])
@pytest.mark.parametrize("los_mode", ["expected", "los"])
def test_each_entry_is_the_prediction_of_that_sector_alone(antenna, los_mode):
    grid = Grid(0.0, 3000.0, 50.0, 60, 60)
    xx, yy = np.meshgrid(grid.x_centres(), grid.y_centres())
    points = PointIndex(xx.ravel(), yy.ravel(), cell_m=150.0)
    sectors = _sectors(4, seed=3)
    m = rsrp_matrix(sectors, points, -100.0, antenna=antenna, los_mode=los_mode)
    assert m.shape == (len(sectors), grid.nx * grid.ny)
    for s in range(len(sectors)):
        alone = predict_coverage(
            grid, sectors.iloc[[s]], antenna=antenna, los_mode=los_mode
        ).rsrp_dbm.ravel()
        row = m[[s], :].toarray().ravel()
        present = np.zeros(row.size, bool)
        present[m.indices[m.indptr[s] : m.indptr[s + 1]]] = True
        # present exactly where the prediction reaches the threshold (float32 at the boundary)
        expected = np.nan_to_num(alone, nan=-np.inf) >= -100.0
        boundary = np.abs(np.nan_to_num(alone, nan=-999.0) + 100.0) < 1e-3
        assert np.array_equal(present[~boundary], expected[~boundary])
        assert np.allclose(row[present], alone[present], atol=1e-3)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 5),
    st.integers(0, 10_000),
    st.floats(-115.0, -70.0),
    st.floats(20.0, 400.0),
)
def test_the_bucketing_never_changes_the_result(n_sites, seed, threshold, cell_m):
    rng = np.random.default_rng(seed)
    px, py = rng.uniform(-500, 3500, 400), rng.uniform(-500, 3500, 400)
    sectors = _sectors(n_sites, seed)
    a = rsrp_matrix(sectors, PointIndex(px, py, cell_m=cell_m), threshold)
    b = rsrp_matrix(sectors, PointIndex(px, py, cell_m=5000.0), threshold)  # one bucket
    assert (a != b).nnz == 0
    assert a.nnz == 0 or a.data.min() >= threshold


def test_empty_inputs_give_an_empty_matrix():
    points = PointIndex(np.array([0.0]), np.array([0.0]))
    assert rsrp_matrix(_sectors(1, 0).iloc[:0], points, -100.0).shape == (0, 1)


def test_points_must_be_finite():
    with pytest.raises(ValueError, match="finite"):
        PointIndex(np.array([0.0, np.nan]), np.array([0.0, 1.0]))
