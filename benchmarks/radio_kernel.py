"""Benchmark: sector-pixel evaluations per second of the coverage engine's tile kernel.

One evaluation is the received SS-RSRP of one sector at one pixel: TR 38.901 UMa path loss
(LOS, NLOS, and in ``expected`` mode the LOS-probability-weighted mean of the two) plus the
TR 38.901 single element (8 dBi) with mechanical and electrical downtilt, followed by the
per-pixel bookkeeping a prediction needs (strongest servers, received power summed per
carrier, hence best server and SINR). The same random sectors and pixels are computed, in the
same run, by

(a) mastplan's Numba kernel (:func:`mastplan.radio.coverage.predict_tile` on one tile), warm,
    with 1 thread and with all threads. "All pairs": the culling radius is set to infinity and
    the floor to −inf, so every sector-pixel pair is evaluated and accumulated; "culled": the
    radii and floors of ``prepare_sectors`` as a prediction uses them, and the evaluations
    counted are the pairs inside the culling radius;
(b) a straightforward NumPy implementation written here (sectors × pixels broadcast in chunks,
    plain NumPy formulas), the baseline; and the same with mastplan's public vectorised
    functions (``path_loss_db``, ``los_probability``, ``sector_gain_dbi``);
(c) CRRM (PyPI ``crrm``, the ``bench`` extra): its simulator in LOS mode (UMa path gain, its
    3GPP horizontal sector pattern, RSRP, attachment and SINR), and, for ``expected`` mode,
    its UMa LOS and NLOS path gains mixed here with the LOS probability.

Then mastplan's kernel with a synthetic terrain against the same kernel without it, and
(unless ``--no-profile``) what a kernel evaluation costs: the kernel per LOS mode, the
cost of each building block called alone (as the package computes it, and with the per-sector
constants hoisted). Prints Markdown tables for docs/performance.md.

    python benchmarks/radio_kernel.py                  # 300 sectors × 256² pixels
    python benchmarks/radio_kernel.py --quick          # smaller, for a smoke test
"""

from __future__ import annotations

import argparse
import math
import platform
import time
from collections.abc import Callable

import numba
import numpy as np
import pandas as pd

from mastplan.radio import antenna, nr, terrain
from mastplan.radio import coverage as cov
from mastplan.radio.grid import Grid, Tile
from mastplan.radio.propagation import (
    UMA,
    los_probability,
    los_probability_nb,
    path_loss_db,
    path_loss_nb,
)

CENTRE = (652_000.0, 3_271_000.0)  # EPSG:32648, around 106.55E 29.56N (Chongqing)
UE_H = 1.5
F_GHZ = 3.5
BW_MHZ = 100.0
SCS_KHZ = 30.0
POWER_DBM = 53.0
C = 299_792_458.0
LN10_10 = math.log(10.0) / 10.0


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


def make_sectors(n_sectors: int, side_m: float, seed: int, centre=CENTRE) -> pd.DataFrame:
    """Random three-sector sites in a square: azimuths 0/120/240° plus a random rotation per
    site, mast heights 20–40 m, electrical tilt 2–10°, mechanical tilt 0–4°."""
    rng = np.random.default_rng(seed)
    n_sites = math.ceil(n_sectors / 3)
    sx = centre[0] + rng.uniform(-side_m / 2, side_m / 2, n_sites)
    sy = centre[1] + rng.uniform(-side_m / 2, side_m / 2, n_sites)
    h = rng.uniform(20.0, 40.0, n_sites)
    rot = rng.uniform(0.0, 120.0, n_sites)
    df = pd.DataFrame(
        {
            "site": np.repeat(np.arange(n_sites), 3),
            "x_m": np.repeat(sx, 3),
            "y_m": np.repeat(sy, 3),
            "height_m": np.repeat(h, 3),
            "azimuth_deg": (np.repeat(rot, 3) + np.tile([0.0, 120.0, 240.0], n_sites)) % 360.0,
            "tilt_deg": rng.uniform(2.0, 10.0, 3 * n_sites),
            "mechanical_tilt_deg": rng.uniform(0.0, 4.0, 3 * n_sites),
            "power_dbm": POWER_DBM,
            "f_ghz": F_GHZ,
            "bandwidth_mhz": BW_MHZ,
            "model": "uma",
        }
    )
    return df.iloc[:n_sectors].reset_index(drop=True)


def make_grid(px: int, res_m: float, centre=CENTRE) -> Grid:
    half = px * res_m / 2
    return Grid(centre[0] - half, centre[1] + half, res_m, px, px)


def pixel_xy(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    xx, yy = np.meshgrid(grid.x_centres(), grid.y_centres())
    return xx.ravel(), yy.ravel()


def all_pairs(prepared: cov.PreparedSectors) -> cov.PreparedSectors:
    """Infinite culling radius and a −inf floor: every pair is evaluated and accumulated."""
    prepared.radius_m[:] = np.inf
    prepared.radius_levels_m[:] = np.inf  # no culling by direction either
    prepared.floor_dbm[:] = -np.inf
    return prepared


def noise_mw() -> float:
    return 10.0 ** (float(nr.noise_per_re_dbm(SCS_KHZ, 7.0)) / 10.0)


def best_of(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


# ---------------------------------------------------------------------------------------------
# (a) the kernel
# ---------------------------------------------------------------------------------------------


def run_kernel(grid, prepared, opts, terrain_model=None) -> dict:
    res = cov.predict_tile(Tile(0, 0, grid), prepared, opts, terrain_model)
    return {
        "best_rsrp": res.rsrp_dbm.ravel().astype(float),
        "best": res.best_server.ravel(),
        "sinr": res.sinr_db.ravel().astype(float),
    }


def pairs_in_radius(prepared: cov.PreparedSectors, grid: Grid) -> int:
    """The pairs the kernel evaluates: pixel centre within the sector's culling radius."""
    xc, yc = grid.x_centres(), grid.y_centres()
    total = 0
    for s in range(len(prepared)):
        dy = yc - prepared.y_m[s]
        r2 = prepared.radius_m[s] ** 2 - dy * dy
        half = np.sqrt(np.maximum(r2, 0.0))
        lo = np.searchsorted(xc, prepared.x_m[s] - half, side="left")
        hi = np.searchsorted(xc, prepared.x_m[s] + half, side="right")
        total += int(np.where(r2 >= 0, hi - lo, 0).sum())
    return total


# ---------------------------------------------------------------------------------------------
# (b) NumPy baseline and mastplan's public vectorised functions
# ---------------------------------------------------------------------------------------------


def numpy_rsrp(sec: dict, px: np.ndarray, py: np.ndarray, los_mode: str, pz=None) -> np.ndarray:
    """RSRP (dBm per RE) of sectors (rows) at pixels (columns), plain NumPy, TR 38.901.

    ``pz``: ground height of the pixels (m), with ``sec["ground"]`` that of the sectors."""
    col = {k: v[:, None] for k, v in sec.items()}
    dx = px[None, :] - col["x"]
    dy = py[None, :] - col["y"]
    d2 = np.sqrt(dx * dx + dy * dy)
    rx_ground = 0.0 if pz is None else pz[None, :]
    dz = rx_ground + UE_H - (col["ground"] + col["h"])
    # antenna: local frame rotated by the bearing and the mechanical downtilt (7.1.3)
    az, beta = np.radians(col["az"]), np.radians(col["mt"])
    fwd = dx * np.sin(az) + dy * np.cos(az)
    left = -dx * np.cos(az) + dy * np.sin(az)
    x_l = np.cos(beta) * fwd - np.sin(beta) * dz
    z_l = np.sin(beta) * fwd + np.cos(beta) * dz
    theta = np.degrees(np.arctan2(np.hypot(x_l, left), z_l))
    phi = np.degrees(np.arctan2(left, x_l))
    a_v = np.minimum(12.0 * ((theta - 90.0 - col["et"]) / 65.0) ** 2, 30.0)
    a_h = np.minimum(12.0 * (phi / 65.0) ** 2, 30.0)
    gain = 8.0 - np.minimum(a_v + a_h, 30.0)
    # UMa path loss (Table 7.4.1-1), d2D clamped to 10 m, h_E = 1 m
    hbs, fc = col["h"], col["f"]
    d2c = np.maximum(d2, 10.0)
    d3 = np.sqrt(d2c * d2c + (hbs - UE_H) ** 2)
    d_bp = 4.0 * (hbs - 1.0) * (UE_H - 1.0) * fc * 1e9 / C
    lg_d3, lg_fc = np.log10(d3), np.log10(fc)
    pl_los = np.where(
        d2c <= d_bp,
        28.0 + 22.0 * lg_d3 + 20.0 * lg_fc,
        28.0 + 40.0 * lg_d3 + 20.0 * lg_fc - 9.0 * np.log10(d_bp * d_bp + (hbs - UE_H) ** 2),
    )
    pl_nlos = np.maximum(pl_los, 13.54 + 39.08 * lg_d3 + 20.0 * lg_fc - 0.6 * (UE_H - 1.5))
    if los_mode == "los":
        pl = pl_los
    elif los_mode == "nlos":
        pl = pl_nlos
    else:
        p = los_prob_uma(d2c)
        pl = -10.0 * np.log10(p * 10.0 ** (-pl_los / 10.0) + (1.0 - p) * 10.0 ** (-pl_nlos / 10.0))
    return col["pre"] + gain - pl


def los_prob_uma(d2c: np.ndarray) -> np.ndarray:
    """UMa LOS probability (Table 7.4.2-1) for h_UT ≤ 13 m (C'(h_UT) = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 18.0 / d2c + np.exp(-d2c / 63.0) * (1.0 - 18.0 / d2c)
    return np.where(d2c <= 18.0, 1.0, p)


def public_rsrp(sec: dict, px: np.ndarray, py: np.ndarray, los_mode: str) -> np.ndarray:
    """The same with mastplan's public vectorised functions (each a Numba loop inside)."""
    col = {k: v[:, None] for k, v in sec.items()}
    dx = px[None, :] - col["x"]
    dy = py[None, :] - col["y"]
    d2 = np.sqrt(dx * dx + dy * dy)
    dz = UE_H - (col["ground"] + col["h"])
    gain = antenna.sector_gain_dbi(dx, dy, dz, col["az"], col["mt"], col["et"])
    pl_los = path_loss_db("uma", d2, col["h"], UE_H, col["f"], True)
    pl_nlos = path_loss_db("uma", d2, col["h"], UE_H, col["f"], False)
    if los_mode == "los":
        pl = pl_los
    elif los_mode == "nlos":
        pl = pl_nlos
    else:
        p = los_probability("uma", np.maximum(d2, 10.0), UE_H)
        pl = -10.0 * np.log10(p * 10.0 ** (-pl_los / 10.0) + (1.0 - p) * 10.0 ** (-pl_nlos / 10.0))
    return col["pre"] + gain - pl


def sector_dict(prepared: cov.PreparedSectors) -> dict:
    return {
        "x": prepared.x_m,
        "y": prepared.y_m,
        "h": prepared.height_m,
        "ground": prepared.ground_m,
        "az": prepared.azimuth_deg,
        "mt": prepared.mech_tilt_deg,
        "et": prepared.elec_tilt_deg,
        "f": prepared.f_ghz,
        "pre": prepared.p_re_dbm,
    }


def reduce_chunks(rsrp_of_chunk, n_sectors: int, n_px: int, chunk: int, floor=-np.inf) -> dict:
    """Best server, its RSRP and the SINR per pixel from sector chunks of an RSRP matrix."""
    best_rsrp = np.full(n_px, -np.inf)
    best = np.full(n_px, -1, dtype=np.int64)
    total_mw = np.zeros(n_px)
    above = 0
    for s0 in range(0, n_sectors, chunk):
        r = rsrp_of_chunk(s0, min(n_sectors, s0 + chunk))
        ok = r >= floor
        above += int(ok.sum())
        total_mw += np.where(ok, 10.0 ** (r / 10.0), 0.0).sum(axis=0)
        i = np.argmax(np.where(ok, r, -np.inf), axis=0)
        v = r[i, np.arange(n_px)]
        better = (v > best_rsrp) & ok[i, np.arange(n_px)]
        best_rsrp[better] = v[better]
        best[better] = s0 + i[better]
    return {"best_rsrp": best_rsrp, "best": best, "sinr": sinr_db(best_rsrp, total_mw),
            "above_floor": above}  # fmt: skip


def sinr_db(best_rsrp: np.ndarray, total_mw: np.ndarray) -> np.ndarray:
    signal = 10.0 ** (best_rsrp / 10.0)
    return 10.0 * np.log10(signal / (np.maximum(total_mw - signal, 0.0) + noise_mw()))


def run_numpy(sec, px, py, los_mode, impl=numpy_rsrp, chunk_pairs=2_000_000, pz=None, floor=None):
    n_s, n_px = len(sec["x"]), len(px)
    chunk = max(1, chunk_pairs // n_px)

    def rsrp_of_chunk(a, b):
        part = {k: v[a:b] for k, v in sec.items()}
        return impl(part, px, py, los_mode) if pz is None else impl(part, px, py, los_mode, pz)

    return reduce_chunks(rsrp_of_chunk, n_s, n_px, chunk, -np.inf if floor is None else floor)


# ---------------------------------------------------------------------------------------------
# (c) CRRM
# ---------------------------------------------------------------------------------------------


def crrm_available() -> bool:
    try:
        import CRRM  # noqa: F401
    except ImportError:
        return False
    return True


def crrm_sector_angles(az_deg: np.ndarray) -> np.ndarray:
    """CRRM's sector angles are mathematical (from +x, counter-clockwise), in radians."""
    return np.radians(((90.0 - az_deg) + 180.0) % 360.0 - 180.0)


class CrrmLos:
    """CRRM's simulator on one chunk of pixels: UMa LOS path gain × its sector pattern, RSRP,
    attachment (best server) and SINR. Its sectors are its cells; sites are its cell
    locations with three sectors each, the sector angles set to ours."""

    def __init__(self, df: pd.DataFrame, p_re_dbm: float, chunk_px: int):
        import CRRM

        sites = df.groupby("site", sort=True).first()
        self.cells = np.column_stack(
            [sites["x_m"] - CENTRE[0], sites["y_m"] - CENTRE[1], sites["height_m"]]
        )
        self.angles = crrm_sector_angles(df["azimuth_deg"].to_numpy())
        self.p_w = 10.0 ** ((p_re_dbm - 30.0) / 10.0)
        self.chunk = chunk_px
        self.sims: dict[int, object] = {}
        self.crrm = CRRM

    def _sim(self, n: int):
        if n not in self.sims:
            params = self.crrm.Parameters(
                cell_locations=self.cells,
                n_sectors=3,
                ue_initial_locations=np.column_stack([np.zeros(n), np.zeros(n), np.full(n, UE_H)]),
                fc_GHz=F_GHZ,
                bw_MHz=BW_MHZ,
                σ2=noise_mw() * 1e-3 / (BW_MHZ * 1e6),  # noise power = noise per RE
                p_W=self.p_w,
                pathloss_model_name="UMa",
                LOS=True,
                h_UT_default=UE_H,
                smart_update=False,
                display_colored=False,
            )
            sim = self.crrm.Simulator(params)
            sim.g.antenna_gain.sector_angles = self.angles
            self.sims[n] = sim
        return self.sims[n]

    def run(self, px: np.ndarray, py: np.ndarray, keep_rsrp: bool = False) -> dict:
        n_px = len(px)
        best_rsrp, best, sinr = np.empty(n_px), np.empty(n_px, np.int64), np.empty(n_px)
        kept = []
        for a in range(0, n_px, self.chunk):
            b = min(n_px, a + self.chunk)
            sim = self._sim(b - a)
            ues = np.column_stack([px[a:b] - CENTRE[0], py[a:b] - CENTRE[1], np.full(b - a, UE_H)])
            sim.set_ue_locations(np.arange(b - a), ues)
            sim.sinr.update()
            att = sim.a.data
            rsrp_w = sim.rsrp.data[:, :, 0]
            best[a:b] = att
            best_rsrp[a:b] = 10.0 * np.log10(rsrp_w[np.arange(b - a), att]) + 30.0
            sinr[a:b] = 10.0 * np.log10(sim.sinr.data[:, 0])
            if keep_rsrp:
                kept.append(10.0 * np.log10(rsrp_w) + 30.0)
        out = {"best_rsrp": best_rsrp, "best": best, "sinr": sinr}
        if keep_rsrp:
            out["rsrp"] = np.concatenate(kept)  # (pixels, sectors)
        return out


def crrm_expected(df: pd.DataFrame, p_re_dbm: float, px, py, chunk_px: int) -> dict:
    """CRRM's UMa LOS and NLOS path gains and its sector pattern, mixed here with the UMa LOS
    probability (CRRM has no LOS-probability-weighted mode)."""
    from CRRM import Antenna_gain
    from CRRM.UMa_pathloss_model_06 import UMa_pathloss

    sites = df.groupby("site", sort=True).first()
    cells = np.repeat(
        np.column_stack([sites["x_m"] - CENTRE[0], sites["y_m"] - CENTRE[1], sites["height_m"]]),
        3,
        axis=0,
    )[: len(df)]
    ant = Antenna_gain(3, len(sites))
    ant.sector_angles = crrm_sector_angles(df["azimuth_deg"].to_numpy())
    los_model, nlos_model = UMa_pathloss(fc_GHz=F_GHZ, LOS=True), UMa_pathloss(F_GHZ, LOS=False)
    p_w = 10.0 ** ((p_re_dbm - 30.0) / 10.0)
    n_px = len(px)
    best_rsrp, best, total = np.empty(n_px), np.empty(n_px, np.int64), np.empty(n_px)
    for a in range(0, n_px, chunk_px):
        b = min(n_px, a + chunk_px)
        ues = np.column_stack([px[a:b] - CENTRE[0], py[a:b] - CENTRE[1], np.full(b - a, UE_H)])
        v = ues[:, None, :] - cells[None, :, :]
        d2 = np.hypot(v[..., 0], v[..., 1])
        d3 = np.hypot(d2, v[..., 2])
        theta = np.arctan2(v[..., 1], v[..., 0])
        p = los_prob_uma(np.maximum(d2, 10.0))
        g = p * los_model.get_pathgain(d2, d3, ues, cells) + (1.0 - p) * nlos_model.get_pathgain(
            d2, d3, ues, cells
        )
        rsrp_w = p_w * ant(theta) * g
        i = np.argmax(rsrp_w, axis=1)
        w = rsrp_w[np.arange(b - a), i]
        best[a:b] = i
        best_rsrp[a:b] = 10.0 * np.log10(w) + 30.0
        total[a:b] = rsrp_w.sum(axis=1) * 1e3
    return {"best_rsrp": best_rsrp, "best": best, "sinr": sinr_db(best_rsrp, total)}


# ---------------------------------------------------------------------------------------------
# Profile: cost of the building blocks
# ---------------------------------------------------------------------------------------------


@numba.njit
def _component_loop(which, xc, yc, s_x, s_y, s_h, s_az, s_mt, s_et, s_f, hc):  # pragma: no cover
    """Sum of one building block over all (sector, pixel) pairs, loops as in the kernel.

    ``hc``: the per-sector constants of the hoisted variants (:func:`hoisted_constants`)."""
    sa, ca, cb, sb, c_los1, c_los2, d_bp, c_nlos = hc
    acc = 0.0
    for s in range(s_x.size):
        dz = UE_H - s_h[s]
        for row in range(yc.size):
            dy = yc[row] - s_y[s]
            for col in range(xc.size):
                dx = xc[col] - s_x[s]
                d2 = math.sqrt(dx * dx + dy * dy)
                if which == 0:  # geometry and loop only
                    v = d2
                elif which == 1:
                    v = antenna.sector_gain_dbi_nb(dx, dy, dz, s_az[s], s_mt[s], s_et[s])
                elif which == 2:
                    v = _element_gain_hoisted(dx, dy, dz, sa[s], ca[s], cb[s], sb[s], s_et[s])
                elif which == 3:
                    v = path_loss_nb(UMA, d2, s_h[s], UE_H, s_f[s], True, 1.0, 5.0, 20.0, C)
                    v += path_loss_nb(UMA, d2, s_h[s], UE_H, s_f[s], False, 1.0, 5.0, 20.0, C)
                elif which == 4:
                    a, b = _uma_hoisted(d2, dz, c_los1[s], c_los2[s], d_bp[s], c_nlos[s])
                    v = a + b
                elif which == 5:
                    v = los_probability_nb(UMA, max(d2, 10.0), UE_H, False)
                elif which == 6:
                    v = _los_probability_uma_low_ue(max(d2, 10.0))
                elif which == 7:  # the kernel's mix of two losses, and 10^(RSRP/10) of the sum
                    a = 100.0 + 1e-3 * d2
                    p = 1.0 / (1.0 + 1e-3 * d2)
                    pl = -10.0 * math.log10(
                        p * 10.0 ** (-a / 10.0) + (1.0 - p) * 10.0 ** (-(a + 10.0) / 10.0)
                    )
                    v = 10.0 ** ((20.0 - pl) / 10.0)
                else:  # mix in mW: two exp, no log10, no 10^(RSRP/10)
                    a = 100.0 + 1e-3 * d2
                    p = 1.0 / (1.0 + 1e-3 * d2)
                    v = p * math.exp((20.0 - a) * LN10_10) + (1.0 - p) * math.exp(
                        (20.0 - a - 10.0) * LN10_10
                    )
                acc += v
    return acc


COMPONENTS = (
    ("geometry and loops only (subtracted from the others)", None),
    ("antenna: 38.901 element with tilts", (1, 2)),
    ("UMa path loss, LOS and NLOS", (3, 4)),
    ("UMa LOS probability", (5, 6)),
    ("expected-mode mix + 10^(RSRP/10) for the carrier sum", (7, 8)),
)
COMPONENT_HOW = (
    "kernel: sector_gain_dbi_nb — sin/cos of azimuth and tilt per pair, no angles behind the "
    "sector (A_H ≥ A_max); hoisted: sin/cos per sector, always both atan2",
    "kernel: path_loss_nb twice (NLOS recomputes LOS; log10 d3D, log10 fc, breakpoint each "
    "time); hoisted: one log10(d3D²), per-sector constants",
    "kernel: los_probability_nb (computes the C'(h_UT) term's exp and power even when "
    "h_UT ≤ 13 m makes it 0); hoisted: skips it",
    "kernel: −10·log10(p·10^(−a/10) + (1−p)·10^(−b/10)), then 10^(RSRP/10); "
    "hoisted: p·e^(…) + (1−p)·e^(…) in mW, compared in mW",
)


@numba.njit(inline="always")
def _element_gain_hoisted(dx, dy, dz, sa, ca, cb, sb, et):  # pragma: no cover
    fwd = dx * sa + dy * ca
    left = -dx * ca + dy * sa
    x_l = cb * fwd - sb * dz
    z_l = sb * fwd + cb * dz
    theta = math.degrees(math.atan2(math.sqrt(x_l * x_l + left * left), z_l))
    phi = math.degrees(math.atan2(left, x_l))
    a_v = 12.0 * ((theta - 90.0 - et) / 65.0) ** 2
    a_h = 12.0 * (phi / 65.0) ** 2
    return 8.0 - min(min(a_v, 30.0) + min(a_h, 30.0), 30.0)


@numba.njit(inline="always")
def _uma_hoisted(d2, dz, c_los1, c_los2, d_bp, c_nlos):  # pragma: no cover
    d2c = max(d2, 10.0)
    lg = math.log10(d2c * d2c + dz * dz)  # 2·log10(d3D)
    pl_los = c_los1 + 11.0 * lg if d2c <= d_bp else c_los2 + 20.0 * lg
    return pl_los, max(pl_los, c_nlos + 19.54 * lg)


@numba.njit(inline="always")
def _los_probability_uma_low_ue(d2c):  # pragma: no cover
    if d2c <= 18.0:
        return 1.0
    return 18.0 / d2c + math.exp(-d2c / 63.0) * (1.0 - 18.0 / d2c)


def hoisted_constants(prepared: cov.PreparedSectors) -> tuple[np.ndarray, ...]:
    """Per sector: sin/cos of azimuth and mechanical tilt, and the UMa constants."""
    h, f = prepared.height_m, prepared.f_ghz
    az, beta = np.radians(prepared.azimuth_deg), np.radians(prepared.mech_tilt_deg)
    d_bp = 4.0 * (h - 1.0) * (UE_H - 1.0) * f * 1e9 / C
    lg_fc = 20.0 * np.log10(f)
    return (
        np.sin(az), np.cos(az), np.cos(beta), np.sin(beta),
        28.0 + lg_fc, 28.0 + lg_fc - 9.0 * np.log10(d_bp * d_bp + (h - UE_H) ** 2),
        d_bp, 13.54 + lg_fc - 0.6 * (UE_H - 1.5),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def agreement(a: dict, b: dict) -> str:
    d_rsrp = np.nanmax(np.abs(a["best_rsrp"] - b["best_rsrp"]))
    same = np.mean(a["best"] == b["best"])
    d_sinr = np.nanmax(np.abs(a["sinr"] - b["sinr"]))
    return f"max |ΔRSRP| {d_rsrp:.2e} dB, same best server {same:.2%}, max |ΔSINR| {d_sinr:.2e} dB"


def table(rows: list[tuple[str, int, float]], baseline: float, title: str) -> None:
    print(f"\n{title}\n")
    print("| what | threads | evaluations | seconds | evaluations/s | × NumPy baseline |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, threads, n_eval, sec in rows:
        rate = n_eval / sec
        print(
            f"| {name} | {threads} | {n_eval:,} | {sec:.3f} | {rate / 1e6:,.2f} M | "
            f"{rate / baseline:.2f} |"
        )


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sectors", type=int, default=300)
    ap.add_argument("--px", type=int, default=256, help="pixels per side of the tile")
    ap.add_argument("--resolution-m", type=float, default=20.0)
    ap.add_argument("--site-area-m", type=float, default=6000.0, help="side of the site square")
    ap.add_argument("--terrain-px", type=int, default=64, help="pixels per side, terrain run")
    ap.add_argument("--repeat", type=int, default=3, help="best of N")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-crrm", action="store_true")
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--quick", action="store_true", help="60 sectors × 128² pixels, 1 repeat")
    args = ap.parse_args(argv)
    if args.quick:
        args.sectors, args.px, args.repeat, args.terrain_px = 60, 128, 1, 32

    n_threads = numba.config.NUMBA_NUM_THREADS
    print(f"CPU: {cpu_model()}; cores seen by Numba: {n_threads}; numba {numba.__version__}, "
          f"numpy {np.__version__}")  # fmt: skip
    df = make_sectors(args.sectors, args.site_area_m, args.seed)
    grid = make_grid(args.px, args.resolution_m)
    px, py = pixel_xy(grid)
    n_s, n_px = len(df), len(px)
    pairs = n_s * n_px
    print(
        f"{n_s} sectors ({df['site'].nunique()} sites) in a {args.site_area_m / 1e3:g} km "
        f"square; {args.px}×{args.px} pixels at {args.resolution_m:g} m; {pairs:,} pairs; "
        f"UMa {F_GHZ} GHz {BW_MHZ:g} MHz {POWER_DBM:g} dBm, UE 1.5 m, 38.901 element with tilts"
    )
    results: dict[str, list] = {"expected": [], "los": []}
    outputs: dict[tuple[str, str], dict] = {}

    for mode in ("expected", "los"):
        opts = cov.CoverageOptions(los_mode=mode, tile_px=args.px)
        prepared = all_pairs(cov.prepare_sectors(df, opts))
        run_kernel(grid, prepared, opts)  # compile / warm
        for threads in sorted({1, n_threads}):
            numba.set_num_threads(threads)
            sec, out = best_of(lambda o=opts, p=prepared: run_kernel(grid, p, o), args.repeat)
            results[mode].append(("(a) mastplan kernel, all pairs", threads, pairs, sec))
            outputs[(mode, f"kernel{threads}")] = out
        if mode == "expected":
            culled = cov.prepare_sectors(df, opts)
            n_in = pairs_in_radius(culled, grid)
            sec, _ = best_of(lambda o=opts, p=culled: run_kernel(grid, p, o), args.repeat)
            results[mode].append(("(a) mastplan kernel, culled (pairs in radius)", n_threads,
                                  n_in, sec))  # fmt: skip
            radius = float(np.median(culled.radius_m))
        sec_dict = sector_dict(prepared)
        numba.set_num_threads(n_threads)
        sec, out = best_of(lambda m=mode, s=sec_dict: run_numpy(s, px, py, m), args.repeat)
        results[mode].append(("(b) NumPy baseline", 1, pairs, sec))
        outputs[(mode, "numpy")] = out
        run_numpy(sec_dict, px[:64], py[:64], mode, public_rsrp)  # compile
        sec, out = best_of(
            lambda m=mode, s=sec_dict: run_numpy(s, px, py, m, public_rsrp), args.repeat
        )
        results[mode].append(("(b′) NumPy + mastplan public vectorised functions", n_threads,
                              pairs, sec))  # fmt: skip
        outputs[(mode, "public")] = out
        if not args.no_crrm and crrm_available():
            p_re = float(prepared.p_re_dbm[0])
            chunk = max(1, 2_000_000 // n_s)
            if mode == "los":
                runner = CrrmLos(df, p_re, chunk)
                runner.run(px[:chunk], py[:chunk])  # build the simulators
                sec, out = best_of(lambda r=runner: r.run(px, py), args.repeat)
                results[mode].append(("(c) CRRM simulator (LOS; horizontal pattern only)", 1,
                                      pairs, sec))  # fmt: skip
            else:
                sec, out = best_of(
                    lambda p=p_re, c=chunk: crrm_expected(df, p, px, py, c), args.repeat
                )
                results[mode].append(("(c) CRRM path gains mixed with P_LOS (horizontal pattern)",
                                      1, pairs, sec))  # fmt: skip
            outputs[(mode, "crrm")] = out

    for mode, title in (("expected", "LOS-probability-weighted (\"expected\") mode"),
                        ("los", "Fixed LOS mode")):  # fmt: skip
        base = next(n / s for name, _, n, s in results[mode] if name.startswith("(b) NumPy"))
        table(results[mode], base, f"### {title}")
        print()
        kern = outputs[(mode, f"kernel{n_threads}")]
        print(f"- agreement (a) kernel vs (b) NumPy: {agreement(kern, outputs[(mode, 'numpy')])}")
        public = outputs[(mode, "public")]
        print(f"- agreement (a) kernel vs (b′) public: {agreement(kern, public)}")
        if (mode, "crrm") in outputs:
            print(f"- (a) kernel vs (c) CRRM (different antenna model, see below): "
                  f"{agreement(kern, outputs[(mode, 'crrm')])}")  # fmt: skip
    print(
        f"\nCulled run: median culling radius {radius:,.0f} m (expected mode); "
        "the pixels are all within it, so culling removes almost nothing at this size."
    )
    n = min(n_px, 4096)
    _, phi = antenna.sector_angles(
        px[None, :n] - df["x_m"].to_numpy()[:, None], py[None, :n] - df["y_m"].to_numpy()[:, None],
        UE_H - df["height_m"].to_numpy()[:, None], df["azimuth_deg"].to_numpy()[:, None],
        df["mechanical_tilt_deg"].to_numpy()[:, None],
    )  # fmt: skip
    behind = np.mean(12.0 * (phi / 65.0) ** 2 >= 30.0)
    print(
        f"Behind the sector (|φ'| ≥ 102.8°, A_H alone at A_max: gain −22 dBi without the two "
        f"atan2): {behind:.1%} of a sample of {phi.size:,} pairs."
    )

    if not args.no_crrm and crrm_available():
        crrm_check(df, prepared, px, py)
    terrain_run(df, args, n_threads)
    if not args.no_profile:
        profile(df, grid, args, n_threads)


def crrm_check(df, prepared, px, py) -> None:
    """Where the models are the same: CRRM's RSRP per pair against mastplan's public functions
    with the horizontal cut of the element (θ' = 90°) and c = 3e8 m/s as CRRM uses."""
    n = min(len(px), 4096)
    run = CrrmLos(df, float(prepared.p_re_dbm[0]), n)
    crrm = run.run(px[:n], py[:n], keep_rsrp=True)["rsrp"]  # (pixels, sectors)
    sec = sector_dict(prepared)
    dx = px[:n, None] - sec["x"][None, :]
    dy = py[:n, None] - sec["y"][None, :]
    d2 = np.hypot(dx, dy)
    phi = np.degrees(np.arctan2(dy, dx)) - (90.0 - sec["az"][None, :])  # local azimuth
    gain_h = antenna.element_gain_dbi(90.0, phi)
    pl = path_loss_db("uma", d2, sec["h"][None, :], UE_H, F_GHZ, True, c_m_per_s=3.0e8)
    ours = sec["pre"][None, :] + gain_h - pl
    near = d2 < 10.0  # mastplan clamps d2D to 10 m, CRRM does not
    diff = np.abs(ours - crrm)
    print(
        f"\nCRRM vs mastplan where the models are the same (UMa LOS, horizontal element cut, "
        f"c = 3e8 m/s; {diff.size:,} pairs): max |ΔRSRP| {diff[~near].max():.2e} dB"
        + (f" ({near.sum()} pairs under 10 m excluded)" if near.any() else "")
    )
    full = (
        sec["pre"][None, :]
        - pl
        + antenna.sector_gain_dbi(
            dx,
            dy,
            UE_H - sec["h"][None, :],
            sec["az"][None, :],
            sec["mt"][None, :],
            sec["et"][None, :],
        )
    )
    dv = full - crrm
    print(
        "CRRM vs mastplan with the 38.901 vertical pattern and tilts that CRRM lacks (same "
        f"pairs): ΔRSRP median {np.median(dv):+.2f} dB, 5–95 % [{np.percentile(dv, 5):+.2f}, "
        f"{np.percentile(dv, 95):+.2f}] dB"
    )


def terrain_run(df, args, n_threads) -> None:
    """The kernel with and without a synthetic terrain on a smaller tile (same sectors)."""
    grid = make_grid(args.terrain_px, args.resolution_m)
    xmin = min(grid.bounds[0], df["x_m"].min()) - 500
    ymin = min(grid.bounds[1], df["y_m"].min()) - 500
    xmax = max(grid.bounds[2], df["x_m"].max()) + 500
    ymax = max(grid.bounds[3], df["y_m"].max()) + 500
    dem_res = 25.0
    tm = terrain.synthetic_terrain((xmin, ymin, xmax, ymax), dem_res, seed=7)
    opts = cov.CoverageOptions(los_mode="expected", tile_px=args.terrain_px)
    numba.set_num_threads(n_threads)
    rows = []
    pairs = len(df) * grid.nx * grid.ny
    for label, model in (("without terrain", None), ("with synthetic terrain", tm)):
        prepared = cov.prepare_sectors(df, opts, model)
        prepared.radius_m[:] = np.inf  # all pairs, real floor
        prepared.radius_levels_m[:] = np.inf
        run_kernel(grid, prepared, opts, model)
        sec, _ = best_of(lambda p=prepared, m=model: run_kernel(grid, p, opts, m), args.repeat)
        rows.append((label, sec))
    # pairs that pass the floor before the terrain profile (the ones that pay for it)
    prepared = cov.prepare_sectors(df, opts, tm)
    gx, gy = pixel_xy(grid)
    above = run_numpy(sector_dict(prepared), gx, gy, "expected", pz=tm.height_at(gx, gy),
                      floor=float(prepared.floor_dbm[0]))["above_floor"]  # fmt: skip
    z = tm.z_m
    print(
        f"\n### Terrain ({args.terrain_px}×{args.terrain_px} pixels, all {pairs:,} pairs, "
        f"expected mode, real floor, {n_threads} threads)\n\n"
        f"Synthetic terrain {z.shape[1]}×{z.shape[0]} cells at {dem_res:g} m "
        f"(heights {z.min():.0f}–{z.max():.0f} m); profile step = DEM resolution; "
        f"{above:,} pairs ({above / pairs:.1%}) are above the floor and get a terrain profile.\n"
    )
    print("| kernel | seconds | evaluations/s | × without terrain |")
    print("|---|---:|---:|---:|")
    for label, sec in rows:
        print(f"| {label} | {sec:.3f} | {pairs / sec / 1e6:,.2f} M | {rows[0][1] / sec:.3f} |")
    extra_us = (rows[1][1] - rows[0][1]) / above * 1e6 * n_threads
    print(f"\nper profiled pair, terrain adds {extra_us:.2f} µs of one core")


def profile(df, grid, args, n_threads) -> None:
    """What a kernel evaluation costs (1 thread unless said)."""
    print("\n### Profile\n")
    px_n = grid.nx * grid.ny
    rows = []
    for mode in ("expected", "los", "nlos"):
        opts = cov.CoverageOptions(los_mode=mode, tile_px=args.px)
        prepared = all_pairs(cov.prepare_sectors(df, opts))
        for threads in sorted({1, n_threads}):
            numba.set_num_threads(threads)
            sec, _ = best_of(lambda o=opts, p=prepared: run_kernel(grid, p, o), args.repeat)
            rows.append((mode, threads, sec))
    pairs = len(df) * px_n
    print("| kernel los_mode | threads | ns per evaluation per thread | evaluations/s |")
    print("|---|---:|---:|---:|")
    for mode, threads, sec in rows:
        print(f"| {mode} | {threads} | {sec * threads / pairs * 1e9:.1f} | "
              f"{pairs / sec / 1e6:,.2f} M |")  # fmt: skip
    kernel_ns = next(sec for m, t, sec in rows if m == "expected" and t == 1) / pairs * 1e9

    prepared = all_pairs(cov.prepare_sectors(df, cov.CoverageOptions(tile_px=args.px)))
    sub = slice(0, max(3, len(df) // 5))
    arr = (prepared.x_m[sub], prepared.y_m[sub], prepared.height_m[sub],
           prepared.azimuth_deg[sub], prepared.mech_tilt_deg[sub], prepared.elec_tilt_deg[sub],
           prepared.f_ghz[sub], tuple(c[sub] for c in hoisted_constants(prepared)))  # fmt: skip
    xc, yc = grid.x_centres(), grid.y_centres()
    n_sub = len(arr[0]) * px_n
    costs = []
    numba.set_num_threads(1)
    for which in range(9):
        _component_loop(which, xc[:2], yc[:2], *arr)  # compile
        sec, _ = best_of(lambda w=which: _component_loop(w, xc, yc, *arr), args.repeat)
        costs.append(sec / n_sub * 1e9)
    print(f"\nBuilding blocks called alone in the kernel's loop order, 1 thread, "
          f"{n_sub:,} pairs; the kernel (expected mode) takes {kernel_ns:.1f} ns per "
          "evaluation. \"as in the kernel\" calls the package's scalar functions; "
          "\"hoisted\" is the same quantity with the per-sector constants computed once per "
          "sector:\n")  # fmt: skip
    print("| block | as in the kernel, ns | share of the kernel's time | hoisted, ns |")
    print("|---|---:|---:|---:|")
    base = costs[0]
    print(f"| {COMPONENTS[0][0]} | {base:.1f} | {base / kernel_ns:.0%} | |")
    tot_k = tot_h = base
    for name, (ik, ih) in COMPONENTS[1:]:
        k_ns, h_ns = costs[ik] - base, costs[ih] - base
        tot_k += k_ns
        tot_h += h_ns
        print(f"| {name} | {k_ns:.1f} | {k_ns / kernel_ns:.0%} | {h_ns:.1f} |")
    print(f"| sum | {tot_k:.1f} | {tot_k / kernel_ns:.0%} | {tot_h:.1f} |")
    print("\nWhat differs:\n")
    for (name, _), how in zip(COMPONENTS[1:], COMPONENT_HOW, strict=True):
        print(f"- {name}: {how}")


if __name__ == "__main__":
    main()
