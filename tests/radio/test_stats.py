"""Coverage statistics on hand-built rasters with hand-computed answers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mastplan.radio.stats import coverage_stats, covered_pixels, distribution

GOOD_RSRP, BAD_RSRP = -80.0, -120.0
GOOD_SINR = 10.0
PIXEL_M2 = 100.0  # 10 m x 10 m pixels
KM2 = PIXEL_M2 / 1e6


def rasters(covered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """RSRP/SINR rasters that are covered exactly where ``covered`` is True."""
    rsrp = np.where(covered, GOOD_RSRP, BAD_RSRP)
    sinr = np.full(covered.shape, GOOD_SINR)
    return rsrp, sinr


def test_fully_covered_square():
    cov = np.ones((10, 10), dtype=bool)
    s = coverage_stats(*rasters(cov), cov, PIXEL_M2)
    assert s.n_pixels == 100
    assert s.area_km2 == pytest.approx(0.01)
    assert s.covered_share == 1.0
    assert s.covered_area_km2 == pytest.approx(0.01)
    assert s.uncovered_area_km2 == 0.0
    assert s.continuity == 1.0
    assert s.n_covered_regions == 1
    assert s.n_holes == 0 and s.holes == ()
    assert s.holes_area_km2 == 0.0 and s.largest_hole_area_km2 == 0.0


def test_square_with_a_3x3_hole_in_the_middle():
    mask = np.ones((9, 9), dtype=bool)
    cov = mask.copy()
    cov[3:6, 3:6] = False
    s = coverage_stats(*rasters(cov), mask, PIXEL_M2, min_hole_m2=900.0)
    assert s.covered_share == pytest.approx(72 / 81)
    assert s.continuity == pytest.approx(72 / 81)  # the covered ring is one region
    assert s.n_covered_regions == 1
    assert s.n_holes == 1
    hole = s.holes[0]
    assert hole.n_pixels == 9
    assert hole.area_km2 == pytest.approx(900 / 1e6)  # 9 pixels x 100 m2
    assert s.holes_area_km2 == pytest.approx(900 / 1e6)
    assert s.largest_hole_area_km2 == pytest.approx(900 / 1e6)
    assert (hole.centroid_row, hole.centroid_col) == (4.0, 4.0)
    assert not hole.touches_boundary
    assert s.n_holes_touching_boundary == 0
    # min_hole_m2 is inclusive: 900 m2 counts at 900, not at 901.
    assert coverage_stats(*rasters(cov), mask, PIXEL_M2, min_hole_m2=901.0).n_holes == 0


def test_two_blobs_continuity_is_the_larger_one():
    mask = np.ones((10, 10), dtype=bool)
    cov = np.zeros((10, 10), dtype=bool)
    cov[1:4, 1:5] = True  # 12 pixels
    cov[7:9, 7:9] = True  # 4 pixels
    s = coverage_stats(*rasters(cov), mask, PIXEL_M2, min_hole_m2=0.0)
    assert s.n_covered_regions == 2
    assert s.covered_share == pytest.approx(16 / 100)
    assert s.continuity == pytest.approx(12 / 100)
    assert s.largest_region_area_km2 == pytest.approx(12 * KM2)
    # The uncovered rest (84 pixels) is one region touching the polygon's boundary.
    assert s.n_holes == 1 and s.n_holes_touching_boundary == 1
    assert s.holes[0].n_pixels == 84 and s.holes[0].touches_boundary


def test_blobs_touching_at_a_corner_are_one_region():
    mask = np.ones((6, 6), dtype=bool)
    cov = np.zeros((6, 6), dtype=bool)
    cov[1:3, 1:3] = True
    cov[3:5, 3:5] = True  # touches the first blob only at a corner
    s = coverage_stats(*rasters(cov), mask, PIXEL_M2)
    assert s.n_covered_regions == 1
    assert s.continuity == pytest.approx(8 / 36)


def test_uncovered_pixels_touching_at_a_corner_are_separate_holes():
    mask = np.ones((6, 6), dtype=bool)
    cov = mask.copy()
    cov[2, 2] = False
    cov[3, 3] = False
    s = coverage_stats(*rasters(cov), mask, PIXEL_M2, min_hole_m2=PIXEL_M2)
    assert s.n_holes == 2
    assert s.holes_area_km2 == pytest.approx(2 * KM2)
    assert s.n_covered_regions == 1


def test_mask_excludes_pixels():
    cov = np.ones((4, 6), dtype=bool)
    mask = np.zeros((4, 6), dtype=bool)
    mask[:, :2] = True  # two strips of the polygon, joined only through excluded pixels
    mask[:, 4:] = True
    cov[0, 0] = False  # one uncovered polygon pixel, in a corner
    rsrp, sinr = rasters(cov)
    s = coverage_stats(rsrp, sinr, mask, PIXEL_M2, min_hole_m2=PIXEL_M2)
    assert s.n_pixels == 16
    assert s.area_km2 == pytest.approx(16 * KM2)
    assert s.covered_share == pytest.approx(15 / 16)
    assert s.n_covered_regions == 2  # not joined through the pixels outside the polygon
    assert s.continuity == pytest.approx(8 / 16)
    assert s.n_holes == 1 and s.holes[0].touches_boundary
    # Values outside the mask do not enter the distributions.
    rsrp[:, 2:4] = np.nan
    assert coverage_stats(rsrp, sinr, mask, PIXEL_M2).rsrp_dbm.no_signal_share == 0.0


def test_nan_is_not_covered_and_counts_as_no_signal():
    mask = np.ones((4, 5), dtype=bool)
    rsrp = np.full((4, 5), GOOD_RSRP)
    sinr = np.full((4, 5), GOOD_SINR)
    rsrp[0, :] = np.nan  # 5 pixels without RSRP
    sinr[3, 0] = np.nan  # 1 pixel without SINR
    cov = covered_pixels(rsrp, sinr, mask)
    assert cov.sum() == 14
    s = coverage_stats(rsrp, sinr, mask, PIXEL_M2, min_hole_m2=PIXEL_M2)
    assert s.covered_share == pytest.approx(14 / 20)
    assert s.rsrp_dbm.no_signal_share == pytest.approx(5 / 20)
    assert s.sinr_db.no_signal_share == pytest.approx(1 / 20)
    # The lowest 25 % of the polygon has no RSRP: percentiles up to 25 are None.
    pct = dict(s.rsrp_dbm.percentiles)
    assert pct[5.0] is None and pct[25.0] is None
    assert pct[30.0] == GOOD_RSRP
    share = dict(s.rsrp_dbm.share_at_least)
    assert share[-105.0] == pytest.approx(15 / 20)
    assert s.n_holes == 2  # the NaN row, and the lone NaN-SINR pixel


def test_percentiles_of_a_known_ramp():
    rng = np.random.default_rng(7)
    values = rng.permutation(np.arange(100, dtype=float)).reshape(10, 10)  # 0 .. 99
    mask = np.ones((10, 10), dtype=bool)
    d = distribution(values, mask, thresholds=[50.0, 90.0, 100.0])
    pct = dict(d.percentiles)
    # Inverted CDF: p % of 100 pixels is the p-th smallest value, which is p - 1.
    for p in range(5, 100, 5):
        assert pct[float(p)] == p - 1
    assert dict(d.share_at_least) == {50.0: 0.5, 90.0: 0.1, 100.0: 0.0}
    assert d.no_signal_share == 0.0


def test_percentiles_of_a_ramp_with_no_signal_pixels():
    values = np.concatenate([np.arange(80, dtype=float), np.full(20, np.nan)]).reshape(10, 10)
    d = distribution(values, np.ones((10, 10), dtype=bool), thresholds=[])
    pct = dict(d.percentiles)
    assert all(pct[float(p)] is None for p in (5, 10, 15, 20))
    assert pct[25.0] == 4.0  # 25th pixel from the bottom = 5th valued one
    assert pct[95.0] == 74.0


def test_odd_pixel_count_percentile_rounds_up():
    values = np.arange(1, 8, dtype=float).reshape(1, 7)  # 1 .. 7
    d = distribution(values, np.ones((1, 7), dtype=bool), thresholds=[], percentiles=[50])
    assert d.percentiles == ((50.0, 4.0),)  # ceil(3.5) = 4th smallest


def test_as_dict_is_json_ready():
    mask = np.ones((9, 9), dtype=bool)
    cov = mask.copy()
    cov[3:6, 3:6] = False
    rsrp, sinr = rasters(cov)
    rsrp[0, 0] = np.nan
    d = coverage_stats(rsrp, sinr, mask, PIXEL_M2, min_hole_m2=0.0).as_dict()
    text = json.dumps(d, allow_nan=False)
    back = json.loads(text)
    assert back["n_holes"] == 2
    assert back["rsrp_dbm"]["percentiles"][0] == {"p": 5.0, "value": -120.0}
    assert back["holes"][0]["area_km2"] == pytest.approx(9 * KM2)


def test_bad_inputs():
    a = np.zeros((3, 3))
    mask = np.ones((3, 3), dtype=bool)
    with pytest.raises(ValueError, match="no pixels"):
        coverage_stats(a, a, np.zeros((3, 3), dtype=bool), PIXEL_M2)
    with pytest.raises(ValueError, match="shape"):
        coverage_stats(np.zeros((3, 4)), a, mask, PIXEL_M2)
    with pytest.raises(ValueError, match="2-D"):
        coverage_stats(np.zeros(9), a, mask, PIXEL_M2)
    with pytest.raises(ValueError, match="positive"):
        coverage_stats(a, a, mask, 0.0)


# ---------------------------------------------------------------------------------------------
# Invariants

_values = hnp.arrays(
    float,
    (7, 8),
    elements=st.one_of(st.floats(-130, -60), st.just(np.nan)),
)
_sinrs = hnp.arrays(float, (7, 8), elements=st.one_of(st.floats(-10, 30), st.just(np.nan)))
_masks = hnp.arrays(bool, (7, 8)).filter(lambda m: m.any())


@settings(max_examples=150, deadline=None)
@given(
    rsrp=_values,
    sinr=_sinrs,
    mask=_masks,
    min_hole_pixels=st.integers(0, 6),
    pixel_m2=st.sampled_from([1.0, 25.0, 100.0, 400.0]),
)
def test_invariants(rsrp, sinr, mask, min_hole_pixels, pixel_m2):
    s = coverage_stats(rsrp, sinr, mask, pixel_m2, min_hole_m2=min_hole_pixels * pixel_m2)
    assert 0.0 <= s.continuity <= s.covered_share <= 1.0
    assert s.covered_area_km2 + s.uncovered_area_km2 == pytest.approx(s.area_km2)
    assert 0.0 <= s.holes_area_km2 <= s.uncovered_area_km2 + 1e-15
    assert s.largest_hole_area_km2 <= s.holes_area_km2 + 1e-15
    assert s.n_holes_touching_boundary <= s.n_holes == len(s.holes)
    assert (s.n_covered_regions == 0) == (s.covered_share == 0.0)
    if min_hole_pixels <= 1:  # every uncovered pixel belongs to some hole
        assert s.holes_area_km2 == pytest.approx(s.uncovered_area_km2)
    for dist in (s.rsrp_dbm, s.sinr_db):
        assert 0.0 <= dist.no_signal_share <= 1.0
        shares = [v for _, v in dist.share_at_least]
        assert all(0.0 <= v <= 1.0 for v in shares)
        assert shares == sorted(shares, reverse=True)  # thresholds ascend
        values = [v for _, v in dist.percentiles if v is not None]
        assert values == sorted(values)
    # covered share never exceeds the share meeting either threshold alone
    assert s.covered_share <= dict(s.rsrp_dbm.share_at_least)[-105.0] + 1e-12
    assert s.covered_share <= dict(s.sinr_db.share_at_least)[-3.0] + 1e-12
