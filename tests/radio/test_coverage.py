"""Coverage prediction: composition of path loss, antenna and NR quantities; servers; SINR;
tiling and culling change nothing; terrain blocks."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mastplan.radio import antenna, nr
from mastplan.radio.coverage import CoverageOptions, predict_coverage, prepare_sectors
from mastplan.radio.grid import Grid
from mastplan.radio.propagation import path_loss_db


def sector(x=0.0, y=0.0, az=90.0, f=3.5, power=49.0, height=25.0, tilt=6.0, model="uma", bw=100.0):
    return {
        "x_m": x,
        "y_m": y,
        "height_m": height,
        "azimuth_deg": az,
        "tilt_deg": tilt,
        "power_dbm": power,
        "f_ghz": f,
        "bandwidth_mhz": bw,
        "model": model,
    }


GRID = Grid.from_bounds(-1000.0, -1000.0, 1000.0, 1000.0, 25.0)


def pixel(grid: Grid, x: float, y: float) -> tuple[int, int]:
    col = int((x - grid.x0_m) // grid.resolution_m)
    row = int((grid.y0_m - y) // grid.resolution_m)
    return row, col


def test_rsrp_is_power_per_re_plus_gain_minus_path_loss():
    sectors = pd.DataFrame([sector()])
    res = predict_coverage(GRID, sectors, los_mode="los")
    for x, y in [(312.5, 12.5), (-412.5, 212.5), (87.5, -612.5)]:
        row, col = pixel(GRID, x, y)
        d2d = math.hypot(x, y)
        gain = float(antenna.sector_gain_dbi(x, y, 1.5 - 25.0, 90.0, 0.0, 6.0))
        expected = (
            float(nr.rsrp_dbm(49.0, 100.0, 30.0))
            + gain
            - float(path_loss_db("uma", d2d, 25.0, 1.5, 3.5, True))
        )
        assert res.rsrp_dbm[row, col] == pytest.approx(expected, abs=1e-3)
        assert res.best_server[row, col] == 0 and res.second_server[row, col] == -1


def test_expected_mode_lies_between_los_and_nlos():
    sectors = pd.DataFrame([sector()])
    los = predict_coverage(GRID, sectors, los_mode="los").rsrp_dbm
    nlos = predict_coverage(GRID, sectors, los_mode="nlos").rsrp_dbm
    mean = predict_coverage(GRID, sectors, los_mode="expected").rsrp_dbm
    ok = np.isfinite(los) & np.isfinite(nlos) & np.isfinite(mean)
    assert (mean[ok] <= los[ok] + 1e-4).all() and (mean[ok] >= nlos[ok] - 1e-4).all()


def test_best_server_and_sinr_between_two_cochannel_sectors():
    # two sectors facing each other 1 km apart: at the midpoint S = I
    sectors = pd.DataFrame([sector(x=-500.0, az=90.0), sector(x=500.0, az=270.0)])
    res = predict_coverage(GRID, sectors, los_mode="los")
    row, col = pixel(GRID, -300.0, 12.5)
    assert res.best_server[row, col] == 0 and res.second_server[row, col] == 1
    row, col = pixel(GRID, 12.5, 12.5)
    # the two powers differ only by the 12.5 m offset; noise is far below them
    s0 = res.rsrp_dbm[row, col]
    assert res.sinr_db[row, col] == pytest.approx(0.0, abs=0.5)
    assert res.servers_within_margin[row, col] == 2
    half = predict_coverage(GRID, sectors, los_mode="los", load=0.5)
    assert half.sinr_db[row, col] == pytest.approx(
        res.sinr_db[row, col] + 10 * math.log10(2), abs=0.05
    )
    assert half.rsrp_dbm[row, col] == s0


def test_other_carriers_do_not_interfere():
    sectors = pd.DataFrame([sector(x=-500.0, az=90.0), sector(x=500.0, az=270.0, f=2.6, bw=100.0)])
    res = predict_coverage(GRID, sectors, los_mode="los")
    row, col = pixel(GRID, 12.5, 12.5)
    assert res.sinr_db[row, col] > 20


def test_tiling_and_culling_do_not_change_the_result():
    rng = np.random.default_rng(3)
    sectors = pd.DataFrame(
        [
            sector(x=float(x), y=float(y), az=float(a))
            for x, y, a in zip(
                rng.uniform(-900, 900, 6),
                rng.uniform(-900, 900, 6),
                rng.uniform(0, 360, 6),
                strict=True,
            )
        ]
    )
    base = predict_coverage(GRID, sectors, tile_px=256)
    small = predict_coverage(GRID, sectors, tile_px=7)
    for name in base.layers:
        np.testing.assert_array_equal(base.layers[name], small.layers[name])
    loose = predict_coverage(GRID, sectors, cull_below_noise_db=200.0)
    served = np.isfinite(base.rsrp_dbm)
    # a wider culling radius stretches each sector's path-loss table: the interpolation then
    # differs by less than its 0.01 dB bound
    np.testing.assert_allclose(base.rsrp_dbm[served], loose.rsrp_dbm[served], atol=0.01)
    # culling drops contributions below noise − 20 dB: with 6 sectors that moves the SINR by
    # at most 10·log10(1 + 6·0.01) = 0.25 dB
    np.testing.assert_allclose(base.sinr_db[served], loose.sinr_db[served], atol=0.26)
    floor = float(nr.noise_per_re_dbm(30.0, 7.0)) - 20.0
    assert (loose.rsrp_dbm[~served] < floor).all()


def test_culling_radius_cuts_far_pixels():
    weak = pd.DataFrame([sector(power=0.0, f=28.0, bw=100.0)])
    prepared = prepare_sectors(weak, CoverageOptions())
    assert 10.0 < prepared.radius_m[0] < 1000.0
    res = predict_coverage(GRID, weak)
    row, col = pixel(GRID, 987.5, 987.5)
    assert np.isnan(res.rsrp_dbm[row, col]) and res.best_server[row, col] == -1


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="power_dbm"):
        predict_coverage(GRID, pd.DataFrame([sector()]).drop(columns="power_dbm"))


def test_a_ridge_between_sector_and_pixels_costs_diffraction_loss():
    from mastplan.radio.terrain import Terrain

    grid = Grid.from_bounds(-1000.0, -1000.0, 1000.0, 1000.0, 25.0)
    z = np.full(grid.shape, 200.0, dtype=np.float32)
    flat = Terrain(z.copy(), grid.x0_m, grid.y0_m, grid.resolution_m)
    cols = (grid.x_centres() > 250) & (grid.x_centres() < 300)
    z[:, cols] = 215.0  # a 15 m ridge running north-south, 250–300 m east of the mast
    ridge = Terrain(z, grid.x0_m, grid.y0_m, grid.resolution_m)
    sectors = pd.DataFrame([sector(az=90.0)])
    a = predict_coverage(grid, sectors, terrain_model=flat, los_mode="los")
    b = predict_coverage(grid, sectors, terrain_model=ridge, los_mode="los")
    before = pixel(grid, 137.5, 12.5)
    behind = pixel(grid, 412.5, 12.5)
    assert b.rsrp_dbm[before] == pytest.approx(a.rsrp_dbm[before], abs=1e-4)
    # behind the ridge: NLOS path loss and a knife-edge loss of well over 10 dB
    nlos = predict_coverage(grid, sectors, terrain_model=flat, los_mode="nlos")
    assert b.rsrp_dbm[behind] < nlos.rsrp_dbm[behind] - 10.0


def test_array_antennas_fixed_beam_and_best_beam():
    sectors = pd.DataFrame([sector(az=90.0, tilt=6.0)])
    element = predict_coverage(GRID, sectors, los_mode="los")
    ssb = predict_coverage(GRID, sectors, los_mode="los", antenna="array")
    best = predict_coverage(GRID, sectors, los_mode="los", antenna="array-best-beam")
    row, col = pixel(GRID, 212.5, 12.5)  # on boresight, near the tilt's ground point
    # an 8 × 8 panel adds up to 10·log10(64) = 18 dB over one element near its beam
    assert ssb.rsrp_dbm[row, col] > element.rsrp_dbm[row, col] + 10.0
    ok = np.isfinite(ssb.rsrp_dbm) & np.isfinite(best.rsrp_dbm)
    # the best beam of the codebook is never worse than the broadcast beam it contains
    assert (best.rsrp_dbm[ok] >= ssb.rsrp_dbm[ok] - 1e-3).all()
    off = pixel(GRID, 212.5, 512.5)  # 67° off boresight: a steered beam does better
    assert best.rsrp_dbm[off] > ssb.rsrp_dbm[off] + 3.0


def test_shadowing_is_off_by_default_and_seeded_when_on():
    sectors = pd.DataFrame([sector(az=90.0), sector(az=210.0)])  # one site, two sectors
    plain = predict_coverage(GRID, sectors)
    a = predict_coverage(GRID, sectors, shadowing_seed=5)
    b = predict_coverage(GRID, sectors, shadowing_seed=5, tile_px=9)
    c = predict_coverage(GRID, sectors, shadowing_seed=6)
    np.testing.assert_array_equal(a.rsrp_dbm, b.rsrp_dbm)  # reproducible, seamless tiles
    ok = np.isfinite(a.rsrp_dbm) & np.isfinite(plain.rsrp_dbm) & np.isfinite(c.rsrp_dbm)
    delta = (a.rsrp_dbm - plain.rsrp_dbm)[ok]
    assert 3.0 < delta.std() < 9.0  # UMa NLOS σ = 6 dB, on the best of two sectors
    assert not np.allclose(a.rsrp_dbm[ok], c.rsrp_dbm[ok])
