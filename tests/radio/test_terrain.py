"""Terrain, synthetic terrain and diffraction (ITU-R P.526-15) — references computed by hand.

Every reference value below is worked out in the test itself from the printed equations
(P.526-15 eq. 26 for ν, eq. 31 for J(ν), the Deygout construction, the k = 4/3 bulge), with
``math`` only, never with the code under test; the literal numbers next to them are the same
values written out, so that a wrong formula in both places would still be caught.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mastplan.radio.terrain import (
    SyntheticTerrainParams,
    Terrain,
    deygout_loss_db,
    earth_bulge_m,
    fresnel_v,
    knife_edge_loss_db,
    profile_loss_nb,
    profile_loss_reference,
    synthetic_height_m,
    synthetic_terrain,
    terrain_loss,
)

C = 299_792_458.0
LAMBDA_3G5 = C / 3.5e9  # 0.085655 m
AE = 4.0 / 3.0 * 6_371_000.0  # effective Earth radius, k = 4/3


def j_by_hand(v: float) -> float:
    """P.526-15 eq. (31), typed out again; 0 at and below v = -0.78."""
    if v <= -0.78:
        return 0.0
    return 6.9 + 20.0 * math.log10(math.sqrt((v - 0.1) ** 2 + 1.0) + v - 0.1)


def v_by_hand(h: float, d1: float, d2: float, lam: float) -> float:
    """P.526-15 eq. (26)."""
    return h * math.sqrt(2.0 / lam * (1.0 / d1 + 1.0 / d2))


# --- J(v) -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("v", "expected_db"),
    [
        (0.0, 6.0329),  # 6.9 + 20 log10(sqrt(1.01) - 0.1) = 6.9 - 0.8671
        (-0.78, 0.0),  # the threshold itself: J = 0 (the formula would give 0.004)
        (-1.5, 0.0),
        (-0.5, 1.9592),  # 6.9 + 20 log10(sqrt(1.36) - 0.6)
        (1.0, 13.9257),  # 6.9 + 20 log10(sqrt(1.81) + 0.9)
        (2.4, 20.5393),  # 6.9 + 20 log10(sqrt(6.29) + 2.3)
    ],
)
def test_knife_edge_loss_hand_values(v: float, expected_db: float) -> None:
    assert j_by_hand(v) == pytest.approx(expected_db, abs=1e-4)
    assert float(knife_edge_loss_db(v)) == pytest.approx(j_by_hand(v), abs=1e-12)


def test_knife_edge_loss_vectorised_and_continuous_at_threshold() -> None:
    v = np.array([[-1e9, -0.78, -0.7799], [0.0, 1.0, 50.0]])
    j = knife_edge_loss_db(v)
    assert j.shape == v.shape
    assert j[0, 0] == 0.0 and j[0, 1] == 0.0
    assert j[0, 2] == pytest.approx(0.00469, abs=1e-4)  # just above the threshold: ~0 dB
    assert np.all(np.diff(j[1]) > 0)


def test_fresnel_v_single_edge_midway_1km_3g5() -> None:
    # a 10 m obstacle midway on a 1 km path at 3.5 GHz:
    # v = 10 * sqrt(2 / 0.085655 * (1/500 + 1/500)) = 10 * sqrt(0.093398) = 3.0561
    v = v_by_hand(10.0, 500.0, 500.0, LAMBDA_3G5)
    assert v == pytest.approx(3.0561, abs=1e-4)
    assert j_by_hand(v) == pytest.approx(22.5735, abs=1e-4)
    assert float(fresnel_v(10.0, 500.0, 500.0, LAMBDA_3G5)) == pytest.approx(v, rel=1e-12)
    assert float(fresnel_v(-10.0, 500.0, 500.0, LAMBDA_3G5)) == pytest.approx(-v, rel=1e-12)


def test_earth_bulge_hand_value() -> None:
    # 500 m * 500 m / (2 * 8 494 667 m) = 0.014715 m
    assert float(earth_bulge_m(500.0, 500.0)) == pytest.approx(0.014715, abs=1e-6)
    assert float(earth_bulge_m(5_000.0, 5_000.0)) == pytest.approx(1.4715, abs=1e-4)


# --- Deygout on explicit profiles ---------------------------------------------------------------


def test_deygout_single_edge_equals_knife_edge() -> None:
    # antennas at 30 m over flat ground at 0 m; one 40 m point midway (10 m above the ray)
    d = np.arange(50.0, 1000.0, 50.0)
    z = np.zeros_like(d)
    z[d == 500.0] = 40.0
    loss = deygout_loss_db(d, z, 1000.0, 30.0, 30.0, LAMBDA_3G5)
    assert loss == pytest.approx(j_by_hand(v_by_hand(10.0, 500.0, 500.0, LAMBDA_3G5)), abs=1e-9)
    assert loss == pytest.approx(22.5735, abs=1e-4)


def test_deygout_two_edges_by_hand() -> None:
    # 2 km path, antennas at 20 m; edge A at 600 m (35 m, 15 m above the ray), edge B at 1400 m
    # (45 m, 25 m above the ray); ground elsewhere at 0 m.
    # Both see the same distance factor, so B (v = 5.8946) is the principal edge (A: 3.5368).
    # Tx side: the ray tx(20 m) -> top of B (45 m) is at 20 + 25 * 600/1400 = 30.714 m at A,
    # so A stands 4.2857 m above it with d1 = 600, d2 = 800: v_t = 1.1184.
    # Rx side: nothing near the ray B -> rx.  L = J(5.8946) + J(1.1184) = 28.2450 + 14.6681.
    d = np.arange(100.0, 2000.0, 100.0)
    z = np.zeros_like(d)
    z[d == 600.0] = 35.0
    z[d == 1400.0] = 45.0
    v_b = v_by_hand(25.0, 1400.0, 600.0, LAMBDA_3G5)
    v_t = v_by_hand(35.0 - (20.0 + 25.0 * 600.0 / 1400.0), 600.0, 800.0, LAMBDA_3G5)
    assert v_b == pytest.approx(5.8946, abs=1e-4)
    assert v_t == pytest.approx(1.1184, abs=1e-4)
    expected = j_by_hand(v_b) + j_by_hand(v_t)
    assert expected == pytest.approx(42.9132, abs=1e-4)
    assert deygout_loss_db(d, z, 2000.0, 20.0, 20.0, LAMBDA_3G5) == pytest.approx(
        expected, abs=1e-9
    )
    # reversed (rx <-> tx): the same construction, mirrored
    rev = deygout_loss_db(2000.0 - d[::-1], z[::-1], 2000.0, 20.0, 20.0, LAMBDA_3G5)
    assert rev == pytest.approx(expected, abs=1e-9)


def test_deygout_clear_profile_is_zero_and_bad_input_refused() -> None:
    d = np.linspace(10.0, 990.0, 50)
    assert deygout_loss_db(d, np.zeros_like(d), 1000.0, 30.0, 30.0, LAMBDA_3G5) == 0.0
    assert deygout_loss_db([], [], 1000.0, 30.0, 30.0, LAMBDA_3G5) == 0.0
    with pytest.raises(ValueError):
        deygout_loss_db([0.0, 500.0], [0.0, 0.0], 1000.0, 30.0, 30.0, LAMBDA_3G5)


# --- Terrain grid --------------------------------------------------------------------------------


def _plane_terrain() -> Terrain:
    # z = 100 + 0.5 x' - 0.25 y' at the cell centres, x' and y' relative to the origin
    rows, cols, res = 6, 8, 10.0
    xc = (np.arange(cols) + 0.5) * res
    yc = 60.0 - (np.arange(rows) + 0.5) * res
    z = 100.0 + 0.5 * xc[None, :] - 0.25 * yc[:, None]
    return Terrain(z.astype(np.float32), 0.0, 60.0, res)


def test_terrain_geometry_and_bilinear() -> None:
    t = _plane_terrain()
    assert t.shape == (6, 8)
    assert t.bounds == (0.0, 0.0, 80.0, 60.0)
    assert t.z_m.dtype == np.float32
    # exact on the plane inside the hull of the cell centres
    x = np.array([5.0, 12.3, 41.0, 75.0])
    y = np.array([55.0, 33.3, 20.0, 5.0])
    np.testing.assert_allclose(t.height_at(x, y), 100.0 + 0.5 * x - 0.25 * y, atol=1e-9)
    # outside: the nearest edge value (clamped to the first/last cell centres)
    assert float(t.height_at(-500.0, 55.0)) == pytest.approx(100.0 + 0.5 * 5.0 - 0.25 * 55.0)
    assert float(t.height_at(1e6, -1e6)) == pytest.approx(100.0 + 0.5 * 75.0 - 0.25 * 5.0)
    assert t.height_at(np.zeros((2, 3)), 30.0).shape == (2, 3)


def test_terrain_rejects_nan_and_bad_resolution() -> None:
    with pytest.raises(ValueError, match="finite"):
        Terrain(np.array([[1.0, np.nan]]), 0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="resolution"):
        Terrain(np.zeros((2, 2)), 0.0, 0.0, 0.0)


def test_numba_bilinear_matches_height_at() -> None:
    t = synthetic_terrain((650_000, 3_260_000, 652_000, 3_261_000), 50.0, 3)
    rng = np.random.default_rng(1)
    x = rng.uniform(649_900, 652_100, 200)
    y = rng.uniform(3_259_900, 3_261_100, 200)
    from mastplan.radio.terrain import _bilinear_nb

    nb = [
        _bilinear_nb(t.z_m, t.x0_m, t.y0_m, t.resolution_m, a, b) for a, b in zip(x, y, strict=True)
    ]
    np.testing.assert_allclose(nb, t.height_at(x, y), rtol=0, atol=1e-9)


# --- the Numba path kernel -----------------------------------------------------------------------


def _walls_terrain(walls: dict[int, float], res: float = 25.0, cols: int = 90) -> Terrain:
    """Flat ground at 0 m, 5 rows; whole columns raised to the given heights."""
    z = np.zeros((5, cols), dtype=np.float32)
    for col, h in walls.items():
        z[:, col] = h
    return Terrain(z, 0.0, 5 * res, res)


def _kernel(t: Terrain, tx_x, tx_h, rx_x, rx_h, lam=LAMBDA_3G5, step=25.0, y=62.5):
    return profile_loss_nb(
        t.z_m, t.x0_m, t.y0_m, t.resolution_m, tx_x, y, tx_h, rx_x, y, rx_h, lam, step
    )


def test_kernel_single_edge_with_earth_bulge_by_hand() -> None:
    # path along the middle row from the centre of column 0 (x = 12.5) to that of column 40
    # (x = 1012.5); samples fall on cell centres; a 40 m wall in column 20 (x = 512.5, midway)
    t = _walls_terrain({20: 40.0})
    los, loss = _kernel(t, 12.5, 30.0, 1012.5, 30.0)
    # the wall stands 10 m + the bulge 500 * 500 / (2 * 8 494 667) = 0.014715 m above the ray
    v = v_by_hand(10.0 + 500.0 * 500.0 / (2.0 * AE), 500.0, 500.0, LAMBDA_3G5)
    assert v == pytest.approx(3.0606, abs=1e-4)
    assert not los
    assert loss == pytest.approx(j_by_hand(v), abs=1e-9)
    assert loss == pytest.approx(22.5860, abs=1e-4)


def test_kernel_two_edges_by_hand() -> None:
    # 2 km path, antennas at 20 m, 35 m wall at 600 m (column 24), 45 m wall at 1400 m
    # (column 56); the bulge under both is 600 * 1400 / (2 ae) = 0.049443 m
    t = _walls_terrain({24: 35.0, 56: 45.0})
    los, loss = _kernel(t, 12.5, 20.0, 2012.5, 20.0)
    b = 600.0 * 1400.0 / (2.0 * AE)
    v_p = v_by_hand(25.0 + b, 1400.0, 600.0, LAMBDA_3G5)  # principal: the 45 m wall
    top = 45.0 + b
    v_t = v_by_hand(35.0 + b - (20.0 + (top - 20.0) * 600.0 / 1400.0), 600.0, 800.0, LAMBDA_3G5)
    expected = j_by_hand(v_p) + j_by_hand(v_t)
    assert expected == pytest.approx(42.9751, abs=1e-4)
    assert not los
    assert loss == pytest.approx(expected, abs=1e-9)
    # and the other way round
    los_r, loss_r = _kernel(t, 2012.5, 20.0, 12.5, 20.0)
    assert not los_r
    assert loss_r == pytest.approx(expected, abs=1e-9)


def test_flat_terrain_is_los_with_zero_loss() -> None:
    t = Terrain(np.full((200, 200), 250.0, dtype=np.float32), 0.0, 5_000.0, 25.0)
    rng = np.random.default_rng(7)
    rx_x = rng.uniform(0.0, 5_000.0, 2_000)
    rx_y = rng.uniform(0.0, 5_000.0, 2_000)
    los, loss = terrain_loss(t, (2_500.0, 2_500.0, 30.0), rx_x, rx_y, 1.5, 3.5)
    assert los.all()
    assert np.all(loss == 0.0)


def test_ridge_gives_nlos_and_loss_growing_with_height() -> None:
    # a Gaussian ridge (sigma 60 m) across the middle of a 2 km path
    cols = 90
    xc = (np.arange(cols) + 0.5) * 25.0
    shape = np.exp(-0.5 * ((xc - 1012.5) / 60.0) ** 2)
    losses = []
    for height in (20.0, 40.0, 80.0, 160.0):
        z = np.repeat((300.0 + height * shape)[None, :], 5, axis=0).astype(np.float32)
        t = Terrain(z, 0.0, 125.0, 25.0)
        los, loss = terrain_loss(t, (12.5, 62.5, 30.0), np.array([2012.5]), 62.5, 1.5, 3.5)
        assert not los[0]
        losses.append(float(loss[0]))
    assert np.all(np.diff(losses) > 0), losses
    assert losses[0] > 6.0  # the crest is above the ray: more than J(0)


def test_short_and_degenerate_paths() -> None:
    t = _walls_terrain({1: 100.0})
    assert _kernel(t, 12.5, 10.0, 30.0, 10.0) == (True, 0.0)  # shorter than two steps
    los, loss = _kernel(t, 12.5, 10.0, math.nan, 10.0)
    assert not los and math.isnan(loss)


@pytest.fixture(scope="module")
def hills() -> Terrain:
    return synthetic_terrain((645_000, 3_255_000, 655_000, 3_265_000), 25.0, 2019)


def _random_paths(t: Terrain, n: int, seed: int):
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = t.bounds
    a = np.column_stack([rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)])
    ang = rng.uniform(0, 2 * np.pi, n)
    dist = rng.uniform(50.0, 4_000.0, n)
    b = a + np.column_stack([np.cos(ang), np.sin(ang)]) * dist[:, None]
    ha = t.height_at(a[:, 0], a[:, 1]) + rng.uniform(1.5, 40.0, n)
    hb = t.height_at(b[:, 0], b[:, 1]) + rng.uniform(1.5, 40.0, n)
    return a, b, ha, hb


def test_kernel_matches_numpy_reference(hills: Terrain) -> None:
    a, b, ha, hb = _random_paths(hills, 400, 11)
    n_nlos = 0
    for k in range(len(a)):
        args = (a[k, 0], a[k, 1], ha[k], b[k, 0], b[k, 1], hb[k], LAMBDA_3G5, 25.0)
        los_nb, loss_nb = profile_loss_nb(
            hills.z_m, hills.x0_m, hills.y0_m, hills.resolution_m, *args
        )
        los_np, loss_np = profile_loss_reference(hills, *args)
        assert los_nb == los_np
        assert loss_nb == pytest.approx(loss_np, abs=1e-9)
        n_nlos += not los_nb
    assert 20 < n_nlos < 380  # the sample really exercises both branches


def test_loss_is_symmetric(hills: Terrain) -> None:
    a, b, ha, hb = _random_paths(hills, 400, 12)
    t = hills
    forward = [
        profile_loss_nb(t.z_m, t.x0_m, t.y0_m, 25.0, *a[k], ha[k], *b[k], hb[k], LAMBDA_3G5, 25.0)
        for k in range(len(a))
    ]
    backward = [
        profile_loss_nb(t.z_m, t.x0_m, t.y0_m, 25.0, *b[k], hb[k], *a[k], ha[k], LAMBDA_3G5, 25.0)
        for k in range(len(a))
    ]
    assert [f[0] for f in forward] == [r[0] for r in backward]
    np.testing.assert_allclose([f[1] for f in forward], [r[1] for r in backward], atol=1e-6)
    assert max(f[1] for f in forward) > 10.0


def test_terrain_loss_wrapper_matches_kernel_and_keeps_shape(hills: Terrain) -> None:
    tx = (650_000.0, 3_260_000.0, 30.0)
    rng = np.random.default_rng(5)
    rx_x = rng.uniform(647_000, 653_000, (20, 30))
    rx_y = rng.uniform(3_257_000, 3_263_000, (20, 30))
    los, loss = terrain_loss(hills, tx, rx_x, rx_y, 1.5, 3.5)
    assert los.shape == (20, 30) and loss.shape == (20, 30) and los.dtype == bool
    tx_abs = float(hills.height_at(tx[0], tx[1])) + 30.0
    los2, loss2 = terrain_loss(
        hills, (tx[0], tx[1], tx_abs), rx_x, rx_y, 1.5, 3.5, tx_z_is_agl=False
    )
    np.testing.assert_array_equal(los, los2)
    np.testing.assert_array_equal(loss, loss2)
    lam = C / 3.5e9
    for i, j in [(0, 0), (5, 7), (19, 29)]:
        rx_h = float(hills.height_at(rx_x[i, j], rx_y[i, j])) + 1.5
        ref = profile_loss_reference(
            hills, tx[0], tx[1], tx_abs, rx_x[i, j], rx_y[i, j], rx_h, lam, 25.0
        )
        assert ref[0] == los[i, j]
        assert ref[1] == pytest.approx(loss[i, j], abs=1e-9)
    with pytest.raises(ValueError):
        terrain_loss(hills, tx, rx_x, rx_y, 1.5, 0.0)


# --- synthetic terrain ---------------------------------------------------------------------------


def test_synthetic_is_deterministic_and_seeded() -> None:
    bounds = (640_000, 3_250_000, 646_000, 3_256_000)
    a = synthetic_terrain(bounds, 100.0, 2019)
    b = synthetic_terrain(bounds, 100.0, 2019)
    c = synthetic_terrain(bounds, 100.0, 2020)
    assert a.synthetic and a.crs == "EPSG:32648"
    np.testing.assert_array_equal(a.z_m, b.z_m)
    assert np.abs(a.z_m - c.z_m).mean() > 5.0


def test_synthetic_window_independence() -> None:
    big = synthetic_terrain((640_000, 3_250_000, 650_000, 3_260_000), 50.0, 7)
    # a window 3 km east and 2 km north of the big one's south-west corner, on the same grid
    sub = synthetic_terrain((643_000, 3_252_000, 645_500, 3_255_000), 50.0, 7)
    rows, cols = sub.shape
    r0 = int((big.y0_m - sub.y0_m) / 50.0)
    c0 = int((sub.x0_m - big.x0_m) / 50.0)
    np.testing.assert_array_equal(sub.z_m, big.z_m[r0 : r0 + rows, c0 : c0 + cols])
    # and the pointwise field agrees with the rasters
    x, y = sub.cell_centres()
    np.testing.assert_allclose(synthetic_height_m(x[None, :], y[:, None], 7), sub.z_m, atol=1e-3)


@pytest.fixture(scope="module")
def region() -> Terrain:
    # 70 km x 70 km around central Chongqing at 200 m
    return synthetic_terrain((620_000, 3_230_000, 690_000, 3_300_000), 200.0, 2019)


def test_synthetic_elevations_are_plausible(region: Terrain) -> None:
    z = region.z_m
    p = np.percentile(z, [0, 5, 50, 95, 100])
    assert 150.0 <= p[0] <= 200.0  # river level ~175 m
    assert p[1] <= 250.0  # valleys 170-250 m
    assert 250.0 <= p[2] <= 450.0  # rolling hills
    assert p[3] >= 500.0  # ridges
    assert 800.0 <= p[4] <= 1_050.0  # crests up to ~1000 m


def _gradient_azimuth_deg(t: Terrain) -> float:
    """Azimuth (0-180°) of the dominant gradient direction (structure tensor)."""
    g_south, g_east = np.gradient(t.z_m.astype(np.float64))
    g_north = -g_south
    tensor = np.array(
        [
            [np.sum(g_east * g_east), np.sum(g_east * g_north)],
            [np.sum(g_east * g_north), np.sum(g_north * g_north)],
        ]
    )
    _, vectors = np.linalg.eigh(tensor)
    east, north = vectors[:, 1]
    return math.degrees(math.atan2(east, north)) % 180.0


def test_synthetic_ridges_run_ne_sw(region: Terrain) -> None:
    # the ridges' axes run at ~30°, so the terrain mostly slopes across them, at ~120°
    assert abs(_gradient_azimuth_deg(region) - 120.0) < 10.0
    # and the orientation follows the parameter
    turned = synthetic_terrain(
        region.bounds, 200.0, 2019, params=SyntheticTerrainParams(ridge_azimuth_deg=75.0)
    )
    assert abs(_gradient_azimuth_deg(turned) - 165.0) < 10.0


def test_synthetic_ridge_spacing(region: Terrain) -> None:
    # sample across the ridges (azimuth 120°) through the middle: crests (> 500 m) recur
    # every 15-20 km
    s = np.arange(-35_000.0, 35_000.0, 100.0)
    az = math.radians(120.0)
    x = 655_000.0 + s * math.sin(az)
    y = 3_265_000.0 + s * math.cos(az)
    z = synthetic_height_m(x, y, 2019)
    high = z > 500.0
    starts = s[1:][high[1:] & ~high[:-1]]
    gaps = np.diff(starts)
    assert len(starts) >= 3
    assert np.all((gaps > 10_000.0) & (gaps < 25_000.0)), gaps
