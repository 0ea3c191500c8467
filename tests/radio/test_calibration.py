"""TR 38.901 §7.8.1 large-scale calibration: layout, drop, determinism and the 3GPP curves."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from mastplan.radio.antenna import TR38901_CALIBRATION_PANEL, sector_angles
from mastplan.radio.calibration import (
    CALIBRATION_METRICS,
    PERCENTILES,
    calibrate_to_csv,
    calibration_setup,
    draw_uma_h_e_m,
    drop_ues,
    hex_layout,
    percentile_table,
    run_calibration,
    write_calibration_csv,
)

# Published medians of the large-scale calibration at 6 GHz: 3GPP R1-165974 (TR 38.901 §7.8.1,
# Table 7.8-1 setup), median over the companies, as transcribed in QuaDRiGa's
# tutorials/calib_3GPP_ref_data.m (cl38900a / gf38900a, 50th percentile). Coupling loss as a signed
# gain; geometry without noise.
PUBLISHED_MEDIAN_6GHZ = {
    ("uma", "coupling_loss_db"): -120.3,
    ("umi", "coupling_loss_db"): -112.2,
    ("uma", "geometry_sir_db"): 8.6,
    ("umi", "geometry_sir_db"): 7.3,
    # Geometry with noise: the R1-165974 per-company curves (NVIDIA Aerial's
    # 3gpp_calibration_phase1.json, "geometry_sinr"); the medians of the companies read there are
    # 5.4..6.2 dB (UMa) and 5.5..5.9 dB (UMi); the mid-points are used.
    ("uma", "geometry_db"): 5.8,
    ("umi", "geometry_db"): 5.7,
}
# ±3 dB: the 20 companies' own medians spread over about this band around their median (UMi
# 6 GHz coupling loss: −114.9 to −110.5 dB around −112.2 dB), so a result inside it is as close
# to 3GPP as the companies are to each other. The sampling error of a median of 4,560 UEs is
# about 0.1 dB. With the antenna module's 0.8λ panel the UMa medians miss by about 3 dB.
TOLERANCE_DB = 3.0


@pytest.fixture(scope="module")
def runs() -> dict[str, dict]:
    return {
        sc: run_calibration(sc, 6.0, drops=8, ues_per_drop=570, seed=7) for sc in ("uma", "umi")
    }


# --- layout ---


def test_hex_layout_has_19_sites_at_the_isd() -> None:
    lay = hex_layout(2, 500.0)
    assert lay.sites_xy.shape == (19, 2)
    assert lay.n_cells == 57
    assert np.allclose(lay.sites_xy[0], 0.0)
    d = np.linalg.norm(lay.sites_xy[:, None] - lay.sites_xy[None], axis=-1)
    off = d[~np.eye(19, dtype=bool)]
    assert off.min() == pytest.approx(500.0)
    # every site has 6 neighbours at the ISD except the outer ring; the centre exactly 6
    assert np.sum(np.isclose(d[0], 500.0)) == 6
    assert np.sum(np.isclose(np.linalg.norm(lay.sites_xy, axis=1), 1000.0)) == 6
    assert len(np.unique(lay.sites_xy.round(6), axis=0)) == 19


def test_sectors_point_at_30_150_270_degrees() -> None:
    lay = hex_layout(2, 200.0)
    assert lay.sector_azimuths_deg == (30.0, 150.0, 270.0)
    assert np.allclose(lay.sector_bearings_deg, [60.0, 300.0, 180.0])
    for az, bearing in zip(lay.sector_azimuths_deg, lay.sector_bearings_deg, strict=True):
        a = math.radians(az)
        _, phi = sector_angles(100 * math.cos(a), 100 * math.sin(a), -8.5, bearing)
        assert phi == pytest.approx(0.0, abs=1e-9)  # boresight towards the 3GPP azimuth
    # boresights point at neighbouring sites (the 3GPP clover-leaf orientation)
    for az in lay.sector_azimuths_deg:
        target = 200.0 * np.array([math.cos(math.radians(az)), math.sin(math.radians(az))])
        assert np.min(np.linalg.norm(lay.sites_xy - target, axis=1)) < 1e-6


def _lattice_nearest(points: np.ndarray, isd: float) -> np.ndarray:
    """Distance to the nearest point of the infinite site lattice (brute force around)."""
    a = isd * np.array([math.cos(math.radians(30)), 0.5])
    b = isd * np.array([0.0, 1.0])
    ij = np.array([(i, j) for i in range(-12, 13) for j in range(-12, 13)], float)
    lattice = ij[:, :1] * a + ij[:, 1:] * b
    return np.min(np.linalg.norm(points[:, None] - lattice[None], axis=-1), axis=1)


def test_wrap_around_copies_tile_the_plane() -> None:
    lay = hex_layout(2, 500.0)
    copies = (lay.sites_xy[None] + lay.wrap_offsets_xy[:, None]).reshape(-1, 2)
    assert len(np.unique(copies.round(6), axis=0)) == 7 * 19  # no overlap
    assert np.allclose(np.linalg.norm(lay.wrap_offsets_xy[1:], axis=1), math.sqrt(19) * 500.0)
    # around the cluster (out to 2.8 ISD, beyond its farthest corner at 2.58 ISD) the nearest of
    # the 133 sites is the nearest site of the infinite lattice: the copies leave no hole
    rng = np.random.default_rng(3)
    r = 1400.0 * np.sqrt(rng.random(4000))
    t = rng.uniform(0, 2 * np.pi, 4000)
    pts = np.column_stack([r * np.cos(t), r * np.sin(t)])
    nearest = np.min(np.linalg.norm(pts[:, None] - copies[None], axis=-1), axis=1)
    assert np.allclose(nearest, _lattice_nearest(pts, 500.0))


def test_wrap_around_gives_each_ue_the_nearest_image_within_the_cluster_radius() -> None:
    lay = hex_layout(2, 500.0)
    setup = calibration_setup("uma")
    ues = drop_ues(lay, setup, 2000, np.random.default_rng(5))
    xy = np.column_stack([ues["x_m"], ues["y_m"]])
    dx, dy = lay.nearest_images(xy)
    d = np.hypot(dx, dy)
    # the covering radius of the cluster lattice (√19·ISD/√3): no UE is farther from any cell
    assert lay.wrap_radius_m == pytest.approx(math.sqrt(19 / 3) * 500.0)
    assert d.max() <= lay.wrap_radius_m + 1e-6
    assert d.max() > 0.95 * lay.wrap_radius_m  # the bound is reached, so it is tight
    # the chosen image is the nearest of a wider set of copies (two rings of shifts)
    s1, s2 = lay.wrap_offsets_xy[1], lay.wrap_offsets_xy[2]
    shifts = np.array([m * s1 + n * s2 for m in range(-2, 3) for n in range(-2, 3)])
    images = lay.sites_xy[None, :, :] + shifts[:, None, :]
    brute = np.min(np.linalg.norm(xy[:, None, None] - images[None], axis=-1), axis=1)
    assert np.allclose(d, brute)
    # without wrap-around a corner UE would be about 4.5 ISD from the opposite corner site
    plain = np.linalg.norm(xy[:, None] - lay.sites_xy[None], axis=-1)
    assert plain.max() > 1.5 * lay.wrap_radius_m


# --- drop ---


@pytest.mark.parametrize("scenario", ["uma", "umi"])
def test_minimum_distance_respected(scenario: str) -> None:
    setup = calibration_setup(scenario)
    lay = hex_layout(2, setup.isd_m)
    ues = drop_ues(lay, setup, 5000, np.random.default_rng(11))
    dx, dy = lay.nearest_images(np.column_stack([ues["x_m"], ues["y_m"]]))
    d2d = np.hypot(dx, dy)
    assert d2d.min() >= setup.min_distance_m
    # TR 36.873 note: for indoor UEs the minimum is on the outdoor part d2D − d2D-in
    assert np.all(d2d.min(axis=1) - ues["d2d_in_m"] >= setup.min_distance_m - 1e-9)
    # the closest UEs do come near the limit (the rule is not stricter than asked)
    assert np.min(d2d.min(axis=1)[~ues["indoor"]]) < setup.min_distance_m + 0.05 * setup.isd_m
    # option: the minimum on the full 2-D distance
    loose = calibration_setup(scenario, min_distance_on="d2d")
    ues2 = drop_ues(lay, loose, 5000, np.random.default_rng(11))
    d2 = np.hypot(*lay.nearest_images(np.column_stack([ues2["x_m"], ues2["y_m"]])))
    assert d2.min() >= setup.min_distance_m
    assert np.any(d2.min(axis=1) - ues2["d2d_in_m"] < setup.min_distance_m)


def test_drop_is_uniform_over_the_19_sites() -> None:
    setup = calibration_setup("uma")
    lay = hex_layout(2, setup.isd_m)
    ues = drop_ues(lay, setup, 19_000, np.random.default_rng(2))
    counts = np.bincount(ues["site"], minlength=19)
    assert counts.min() > 850 and counts.max() < 1150  # 1000 ± about 5 σ
    # every UE lies in the hexagon of its site: its own site is its nearest one
    dx, dy = lay.nearest_images(np.column_stack([ues["x_m"], ues["y_m"]]))
    assert np.array_equal(np.argmin(np.hypot(dx, dy), axis=1), ues["site"])


def test_indoor_share_floors_heights_and_indoor_distance() -> None:
    setup = calibration_setup("uma")
    lay = hex_layout(2, setup.isd_m)
    ues = drop_ues(lay, setup, 40_000, np.random.default_rng(4))
    indoor = ues["indoor"]
    assert abs(indoor.mean() - 0.8) < 0.02
    assert np.all(ues["h_ut_m"][~indoor] == 1.5) and np.all(ues["d2d_in_m"][~indoor] == 0.0)
    nfl, fl, h = ues["n_floors"][indoor], ues["floor"][indoor], ues["h_ut_m"][indoor]
    assert set(np.unique(nfl)) == {4, 5, 6, 7, 8}
    assert np.all((fl >= 1) & (fl <= nfl))
    assert np.allclose(h, 3.0 * (fl - 1) + 1.5)
    # P(n_fl = 1) = mean over N_fl ~ U{4..8} of 1/N_fl; P(n_fl = 8) = 1/40
    p1 = np.mean([1 / n for n in range(4, 9)])
    assert abs(np.mean(fl == 1) - p1) < 0.01
    assert abs(np.mean(fl == 8) - 1 / 40) < 0.005
    assert abs(h.mean() - 9.0) < 0.15  # E[h] = 3·(E[N_fl] + 1)/2 − 1.5 = 9 m
    # d2D-in = min of two U(0, 25): mean 25/3, never above 25
    d_in = ues["d2d_in_m"][indoor]
    assert abs(d_in.mean() - 25 / 3) < 0.2 and d_in.max() <= 25.0
    # half of the indoor UEs are in high-loss buildings, no outdoor UE is
    assert abs(ues["high_loss"][indoor].mean() - 0.5) < 0.02
    assert not ues["high_loss"][~indoor].any()


def test_uma_h_e_draw() -> None:
    rng = np.random.default_rng(0)
    h_ut = np.repeat([1.5, 10.5, 13.5, 22.5], 20_000)
    d2d = np.full(h_ut.shape, 200.0)
    h_e = draw_uma_h_e_m(d2d, h_ut, rng)
    assert np.all(h_e[h_ut < 13] == 1.0)
    tall = h_e[h_ut == 22.5]
    assert set(np.unique(tall)) == {1.0, 12.0, 15.0, 18.0, 21.0}
    # P(h_E = 1) = 1 / (1 + C) with C = ((22.5 − 13)/10)^1.5 · 1.25 · 2³ · exp(−200/150)
    c = (9.5 / 10) ** 1.5 * 1.25 * 8 * math.exp(-200 / 150)
    assert abs(np.mean(tall == 1.0) - 1 / (1 + c)) < 0.015
    others = tall[tall > 1]
    assert np.all(np.abs(np.bincount((others - 12).astype(int) // 3) / others.size - 0.25) < 0.02)
    assert set(np.unique(h_e[h_ut == 13.5])) <= {1.0, 12.0}


# --- runs ---


def test_determinism_and_seed(runs: dict[str, dict]) -> None:
    again = run_calibration("uma", 6.0, drops=8, ues_per_drop=570, seed=7)
    for key in ("coupling_loss_db", "geometry_db", "serving_cell", "x_m", "h_ut_m"):
        assert np.array_equal(again[key], runs["uma"][key])
    other = run_calibration("uma", 6.0, drops=2, ues_per_drop=570, seed=8)
    assert not np.array_equal(other["coupling_loss_db"], runs["uma"]["coupling_loss_db"][:1140])


def test_result_consistency(runs: dict[str, dict]) -> None:
    for res in runs.values():
        n = res["coupling_loss_db"].size
        assert n == 8 * 570
        assert np.all(res["coupling_loss_db"] < 0)  # a signed gain, as 3GPP plots it
        assert np.all(res["geometry_db"] <= res["geometry_sir_db"] + 1e-12)  # noise only lowers it
        assert set(np.unique(res["serving_cell"])) == set(range(57))
        # the serving antenna gain never exceeds the panel's 8 + 10·log10(10) dBi
        assert res["serving_antenna_gain_dbi"].max() <= 18.0 + 1e-9


def test_percentile_table_is_monotone(runs: dict[str, dict]) -> None:
    rows = percentile_table(runs["umi"])
    assert len(rows) == len(CALIBRATION_METRICS) * len(PERCENTILES)
    for metric in CALIBRATION_METRICS:
        values = [v for m, _, v in rows if m == metric]
        assert [p for m, p, _ in rows if m == metric] == list(range(5, 100, 5))
        assert np.all(np.diff(values) >= 0)


@pytest.mark.parametrize(("scenario", "metric"), sorted(PUBLISHED_MEDIAN_6GHZ))
def test_medians_match_3gpp_6ghz(runs: dict[str, dict], scenario: str, metric: str) -> None:
    median = float(np.median(runs[scenario][metric]))
    published = PUBLISHED_MEDIAN_6GHZ[(scenario, metric)]
    assert abs(median - published) <= TOLERANCE_DB, (scenario, metric, median, published)


def test_tails_match_3gpp_6ghz(runs: dict[str, dict]) -> None:
    # 5th and 95th percentiles of R1-165974 (median of the companies, QuaDRiGa transcription)
    published = {
        ("uma", "coupling_loss_db"): (-150.4, -86.0),
        ("umi", "coupling_loss_db"): (-142.3, -74.8),
        ("uma", "geometry_sir_db"): (-1.0, 25.6),
        ("umi", "geometry_sir_db"): (-1.7, 24.9),
    }
    for (scenario, metric), (p5, p95) in published.items():
        got = np.percentile(runs[scenario][metric], [5, 95])
        assert np.all(np.abs(got - [p5, p95]) <= TOLERANCE_DB), (scenario, metric, got)


def test_module_panel_spacing_is_what_moves_uma_off_3gpp() -> None:
    # The antenna module's 0.8λ panel puts the UMa geometry median about 3 dB below 3GPP;
    # the calibration's 0.5λ panel within a few tenths of a dB (docs/calibration.md).
    wide = run_calibration("uma", 6.0, drops=4, seed=3, panel=TR38901_CALIBRATION_PANEL)
    half = run_calibration("uma", 6.0, drops=4, seed=3)
    err_wide = abs(np.median(wide["geometry_sir_db"]) - 8.6)
    err_half = abs(np.median(half["geometry_sir_db"]) - 8.6)
    assert err_half < 1.0 < 2.0 < err_wide


# --- files ---


def test_csv_round_trip_and_calibrate_to_csv(tmp_path: Path) -> None:
    rows = [("coupling_loss_db", 5, -150.12345), ("geometry_db", 50, 6.0)]
    path = write_calibration_csv(tmp_path / "sub" / "x.csv", rows)
    with path.open(encoding="utf-8") as fh:
        got = list(csv.reader(fh))
    assert got == [["metric", "percentile", "value"], ["coupling_loss_db", "5", "-150.123"],
                   ["geometry_db", "50", "6.000"]]  # fmt: skip

    out = tmp_path / "umi.csv"
    medians = calibrate_to_csv("umi", 6.0, drops=2, seed=1, out=out)
    assert set(medians) == set(CALIBRATION_METRICS)
    with out.open(encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 3 * 19
    med = {r["metric"]: float(r["value"]) for r in table if r["percentile"] == "50"}
    for metric, value in medians.items():
        assert med[metric] == pytest.approx(value, abs=1e-3)
    with pytest.raises(ValueError):
        calibrate_to_csv("umi", 6.0, drops=1, seed=1)


def test_setup_values_and_errors() -> None:
    uma, umi = calibration_setup("uma"), calibration_setup("UMi")
    assert (uma.isd_m, uma.h_bs_m, uma.min_distance_m, uma.tx_power_dbm) == (500, 25, 35, 49)
    assert (umi.isd_m, umi.h_bs_m, umi.min_distance_m, umi.tx_power_dbm) == (200, 10, 10, 44)
    assert uma.bandwidth_hz == 20e6 and uma.noise_figure_db == 9.0
    assert uma.noise_dbm == pytest.approx(-174 + 10 * math.log10(20e6) + 9)
    assert uma.electrical_tilt_deg == 12.0  # θ_etilt = 102°
    mm = calibration_setup("uma", 30.0)
    assert (mm.tx_power_dbm, mm.bandwidth_hz) == (35.0, 100e6)
    with pytest.raises(ValueError):
        calibration_setup("rma")
    with pytest.raises(ValueError):
        run_calibration("uma", drops=0)
    with pytest.raises(ValueError):
        calibration_setup("uma", min_distance_on="sometimes")
