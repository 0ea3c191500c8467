"""Coverage prediction over a grid: SS-RSRP, best and second server, overlap, SINR, throughput.

The work is cut into tiles (:meth:`Grid.tiles`). For each tile only the sectors that can reach
it above the culling floor are evaluated, by one Numba kernel that runs over the tile's rows in
parallel and keeps, per pixel, the strongest few servers and the received power summed per
carrier. No sector × pixel matrix is ever built: memory is the output rasters plus one tile's
work arrays, and :func:`predict_tile` is a pure function of (tile, prepared sectors, options),
so tiles can be computed anywhere and in any order.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numba
import numpy as np
import pandas as pd
import shapely

from mastplan.radio import antenna, nr, terrain
from mastplan.radio.constants import SPEED_OF_LIGHT_M_PER_S
from mastplan.radio.grid import Grid, Tile
from mastplan.radio.propagation import (
    MODELS,
    RMA,
    SHADOW_DECORRELATION_M,
    SHADOW_SIGMA_DB,
    UMA,
    UMI,
    los_probability,
    model_code,
    path_loss_db,
    path_loss_pair_nb,
    shadowing_at_nb,
    shadowing_components,
)

REQUIRED_COLUMNS = (
    "x_m",
    "y_m",
    "height_m",
    "azimuth_deg",
    "tilt_deg",
    "power_dbm",
    "f_ghz",
    "bandwidth_mhz",
    "model",
)
TOP_K = 8  # servers kept per pixel (best, second, and the count within the overlap margin)

# How the link decides between the LOS and NLOS formulas.
LOS_EXPECTED, LOS_ALWAYS, LOS_NEVER = 0, 1, 2
LOS_MODES = {"expected": LOS_EXPECTED, "los": LOS_ALWAYS, "nlos": LOS_NEVER}
# Antenna models of the kernel.
ANT_ELEMENT, ANT_ARRAY, ANT_ARRAY_BEST_BEAM = 0, 1, 2
ANTENNAS = {"element": ANT_ELEMENT, "array": ANT_ARRAY, "array-best-beam": ANT_ARRAY_BEST_BEAM}


@dataclass(frozen=True)
class CoverageOptions:
    """Settings of a prediction (all powers per resource element unless named otherwise).

    Attributes
    ----------
    ue_height_m : float
        Receiver height above ground.
    noise_figure_db : float
        UE noise figure (TR 38.901 calibration: 9 dB; 7 dB is typical of handsets).
    load : float
        Share of the interfering cells' resources in use (1.0 = full load).
    overlap_margin_db : float
        A server counts towards overlap when within this margin of the best.
    los_mode : {"expected", "los", "nlos"}
        ``expected`` weights the LOS and NLOS path losses by the LOS probability of
        Table 7.4.2-1 (mean received power); ``los``/``nlos`` force one of them. With terrain,
        a terrain-obstructed path is NLOS plus the diffraction loss, whatever the mode.
    cull_below_noise_db : float
        A sector is evaluated only where it could be received above (noise per RE − this).
    antenna : {"element", "array", "array-best-beam"}
        The 38.901 single element (8 dBi) with tilts; or a panel of ``array_rows`` ×
        ``array_cols`` 38.901 elements, either as one fixed broadcast (SSB) beam steered to the
        sector's tilt, or with the best beam, per pixel, of a DFT-style codebook of
        ``codebook_azimuths`` × ``codebook_tilts`` beams (±60° in azimuth, the sector's tilt
        ± 6°), as a traffic channel sees it.
    shadowing_seed : int, optional
        Off (None) by default, for deterministic maps. Given a seed, every site gets its own
        spatially correlated log-normal shadow-fading field (σ and decorrelation distance of
        its sectors' model and LOS mode, TR 38.901 Tables 7.4.1-1 and 7.5-6), evaluated at
        the pixel coordinates, so tiles agree at their seams and runs are reproducible.
    tile_px : int
        Tile edge in pixels.
    """

    ue_height_m: float = 1.5
    noise_figure_db: float = 7.0
    load: float = 1.0
    overlap_margin_db: float = 3.0
    los_mode: str = "expected"
    cull_below_noise_db: float = 20.0
    antenna: str = "element"
    array_rows: int = 8
    array_cols: int = 8
    array_spacing_wavelengths: float = 0.5
    shadowing_seed: int | None = None
    codebook_azimuths: int = 9  # odd, so the broadcast direction is one of the beams
    codebook_tilts: int = 3
    tile_px: int = 128
    h_e_m: float = 1.0
    h_building_m: float = 5.0
    street_width_m: float = 20.0
    layers: int = 4

    def __post_init__(self) -> None:
        if self.los_mode not in LOS_MODES:
            raise ValueError(f"los_mode must be one of {sorted(LOS_MODES)}")
        if self.antenna not in ANTENNAS:
            raise ValueError(f"antenna must be one of {sorted(ANTENNAS)}")
        if not 0.0 <= self.load <= 1.0:
            raise ValueError("load must be within [0, 1]")


@dataclass
class PreparedSectors:
    """Sectors as the kernel wants them: contiguous float arrays plus culling radii."""

    x_m: np.ndarray
    y_m: np.ndarray
    height_m: np.ndarray
    ground_m: np.ndarray
    azimuth_deg: np.ndarray
    mech_tilt_deg: np.ndarray
    sin_az: np.ndarray
    cos_az: np.ndarray
    sin_mech_tilt: np.ndarray
    cos_mech_tilt: np.ndarray
    elec_tilt_deg: np.ndarray
    p_re_dbm: np.ndarray
    f_ghz: np.ndarray
    model: np.ndarray
    carrier: np.ndarray
    radius_m: np.ndarray
    radius_levels_m: np.ndarray
    pl_table_db: np.ndarray  # one row per distinct (model, height, frequency, power, floor)
    pl_table_row: np.ndarray  # each sector's row of pl_table_db
    pl_table_inv_du: np.ndarray
    floor_dbm: np.ndarray
    shadow_sigma_db: np.ndarray
    shadow_field: np.ndarray
    shadow_components: np.ndarray
    bandwidth_mhz: np.ndarray
    scs_khz: np.ndarray
    n_carriers: int

    def __len__(self) -> int:
        return len(self.x_m)


@dataclass
class CoverageResult:
    """Per-pixel results on ``grid`` (NaN / −1 where no sector is received above the floor)."""

    grid: Grid
    rsrp_dbm: np.ndarray
    best_server: np.ndarray
    second_server: np.ndarray
    servers_within_margin: np.ndarray
    sinr_db: np.ndarray
    throughput_mbps: np.ndarray
    layers: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.layers = {
            "rsrp_dbm": self.rsrp_dbm, "best_server": self.best_server,
            "second_server": self.second_server,
            "servers_within_margin": self.servers_within_margin, "sinr_db": self.sinr_db,
            "throughput_mbps": self.throughput_mbps,
        }  # fmt: skip


def default_scs_khz(f_ghz: np.ndarray) -> np.ndarray:
    """30 kHz for the TDD mid bands (n41, n78, n79), 15 kHz below 2.5 GHz (n28, n1, n3)."""
    return np.where(np.asarray(f_ghz) >= 2.5, 30.0, 15.0)


def prepare_sectors(
    sectors: pd.DataFrame, options: CoverageOptions, terrain_model: terrain.Terrain | None = None
) -> PreparedSectors:
    """Check the sector table and turn it into kernel arrays with culling radii.

    Required columns: ``x_m, y_m, height_m, azimuth_deg, tilt_deg, power_dbm, f_ghz,
    bandwidth_mhz, model``. ``tilt_deg`` is the electrical downtilt; an optional
    ``mechanical_tilt_deg`` adds a mechanical one. ``power_dbm`` is the sector's total transmit
    power over the carrier; optional ``scs_khz`` (default by band). Sectors on the same
    ``f_ghz`` and bandwidth share a carrier and interfere with each other.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in sectors.columns]
    if missing:
        raise ValueError(f"sectors lack column(s): {', '.join(missing)}")
    n = len(sectors)
    f = sectors["f_ghz"].to_numpy(float)
    bw = sectors["bandwidth_mhz"].to_numpy(float)
    scs = sectors["scs_khz"].to_numpy(float) if "scs_khz" in sectors else default_scs_khz(f)
    p_re = np.asarray(nr.rsrp_dbm(sectors["power_dbm"].to_numpy(float), bw, scs), float)
    codes = np.array([model_code(m) for m in sectors["model"]], dtype=np.int64)
    carriers = pd.factorize(pd.Series(list(zip(f, bw, strict=True))))[0].astype(np.int64)
    mech = (
        sectors["mechanical_tilt_deg"].to_numpy(float)
        if "mechanical_tilt_deg" in sectors
        else np.zeros(n)
    )
    x = sectors["x_m"].to_numpy(float)
    y = sectors["y_m"].to_numpy(float)
    ground = terrain_model.height_at(x, y) if terrain_model is not None else np.zeros(n)
    floor = (
        np.asarray(nr.noise_per_re_dbm(scs, options.noise_figure_db)) - options.cull_below_noise_db
    )
    sigma, field, components = _shadowing(sectors, codes, x, y, options)
    # sectors alike in (model, height, frequency, power, floor) share radii and path-loss
    # tables: computed once per distinct combination (planning candidates repeat them a lot)
    h = sectors["height_m"].to_numpy(float)
    max_rsrp = p_re + max_gain_dbi(options) + 2.0 * sigma  # 2σ of shadowing above the mean
    key = np.column_stack([codes, h, f, max_rsrp, np.broadcast_to(floor, (n,))])
    uniq, row = np.unique(key, axis=0, return_inverse=True) if n else (key, np.zeros(0, int))
    row = row.ravel().astype(np.int64)
    u_codes = uniq[:, 0].astype(np.int64)
    radius_u = cull_radius_m(
        uniq[:, 3], uniq[:, 4], uniq[:, 2], uniq[:, 1], options.ue_height_m, u_codes, options,
        CULL_LEVELS_DB,
    )  # fmt: skip
    radius = radius_u[row]
    radius_levels = np.where((mech == 0.0)[:, None], radius, radius[:, :1])
    table, inv_du_u = path_loss_table_db(
        u_codes, uniq[:, 1], options.ue_height_m, uniq[:, 2], radius_u[:, 0], options
    )
    inv_du = inv_du_u[row]
    return PreparedSectors(
        x_m=np.ascontiguousarray(x),
        y_m=np.ascontiguousarray(y),
        height_m=sectors["height_m"].to_numpy(float).copy(),
        ground_m=np.asarray(ground, float),
        sin_az=np.sin(np.radians(sectors["azimuth_deg"].to_numpy(float))),
        cos_az=np.cos(np.radians(sectors["azimuth_deg"].to_numpy(float))),
        sin_mech_tilt=np.sin(np.radians(mech)),
        cos_mech_tilt=np.cos(np.radians(mech)),
        azimuth_deg=sectors["azimuth_deg"].to_numpy(float) % 360.0,
        mech_tilt_deg=mech.astype(float),
        elec_tilt_deg=sectors["tilt_deg"].to_numpy(float),
        p_re_dbm=p_re,
        f_ghz=f.copy(),
        model=codes,
        carrier=carriers,
        radius_m=np.ascontiguousarray(radius[:, 0]),
        radius_levels_m=np.ascontiguousarray(radius_levels),
        pl_table_db=table,
        pl_table_row=row,
        pl_table_inv_du=inv_du,
        floor_dbm=np.asarray(floor, float),
        shadow_sigma_db=sigma,
        shadow_field=field,
        shadow_components=components,
        bandwidth_mhz=bw.copy(),
        scs_khz=np.asarray(scs, float),
        n_carriers=int(carriers.max()) + 1 if n else 0,
    )


def _shadowing(
    sectors: pd.DataFrame, codes: np.ndarray, x: np.ndarray, y: np.ndarray, options: CoverageOptions
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per sector: shadowing σ (0 when off), the index of its site's field, and the fields."""
    n = len(sectors)
    if options.shadowing_seed is None:
        return np.zeros(n), np.zeros(n, np.int64), np.zeros((1, 1, 3))
    names = {v: k for k, v in MODELS.items()}
    los = options.los_mode == "los"
    sigma = np.array([SHADOW_SIGMA_DB.get((names[int(c)], los), 0.0) for c in codes])
    dcor = np.array([SHADOW_DECORRELATION_M.get((names[int(c)], los), 50.0) for c in codes])
    field = pd.factorize(pd.Series(list(zip(np.round(x, 1), np.round(y, 1), strict=True))))[0]
    unit = shadowing_components(int(field.max()) + 1, 1.0, options.shadowing_seed)
    scale = np.ones(len(unit))
    scale[field] = dcor  # a site's field takes its sectors' decorrelation distance
    unit[:, :, 0] /= scale[:, None]
    unit[:, :, 1] /= scale[:, None]
    return sigma, field.astype(np.int64), np.ascontiguousarray(unit)


def max_gain_dbi(options: CoverageOptions) -> float:
    gain = antenna.TR38901_G_MAX_DBI
    if options.antenna != "element":
        gain += 10.0 * math.log10(options.array_rows * options.array_cols)
    return gain


# Culling by direction: the TR 38.901 element (and a panel of them) loses at least
# A_H(φ) = min(12·(φ/65°)², 30) dB at a horizontal angle φ off boresight, because A_V ≤ 0. Each
# sector gets one radius per attenuation level below, and a pixel at angle φ only needs the
# radius of the largest level its A_H reaches (valid without mechanical tilt, where the local
# φ is the horizontal angle; tilted sectors keep the boresight radius at every level).
CULL_LEVELS_DB = np.arange(0.0, 30.0 + 1e-9, 3.0)
CULL_LEVEL_COS = np.cos(np.radians(65.0 * np.sqrt(CULL_LEVELS_DB / 12.0)))


SECTOR_CHUNK = 256  # sectors evaluated at a time in the per-sector distance ladders


def mode_path_loss_db(
    codes: np.ndarray,
    h_bs_m: np.ndarray,
    h_ut_m: float,
    f_ghz: np.ndarray,
    distances_m: np.ndarray,
    options: CoverageOptions,
) -> np.ndarray:
    """The path loss a prediction uses — LOS, NLOS or the LOS-probability-weighted mean,
    without terrain — of each sector (rows) at its own distances (columns, d2D in m).

    Computed with :func:`path_loss_db` and :func:`los_probability`, the one implementation of
    the formulas, per model and in chunks of :data:`SECTOR_CHUNK` sectors (bounded memory).
    """
    out = np.empty(distances_m.shape)
    names = {v: k for k, v in MODELS.items()}
    kw = {
        "h_e_m": options.h_e_m,
        "h_building_m": options.h_building_m,
        "street_width_m": options.street_width_m,
    }
    for code in np.unique(codes):
        model = names[int(code)]
        same = np.flatnonzero(codes == code)
        for start in range(0, len(same), SECTOR_CHUNK):
            rows = same[start : start + SECTOR_CHUNK]
            d = distances_m[rows]
            args = (d, h_bs_m[rows, None], h_ut_m, f_ghz[rows, None])
            pl_los = path_loss_db(model, *args, True, **kw)
            if options.los_mode == "los":
                out[rows] = pl_los
                continue
            pl_nlos = path_loss_db(model, *args, False, **kw)
            if options.los_mode == "nlos":
                out[rows] = pl_nlos
                continue
            p = (
                los_probability(model, d, h_ut_m)
                if int(code) in (UMA, UMI, RMA)
                else np.ones_like(pl_los)
            )
            out[rows] = -10.0 * np.log10(p * 10 ** (-pl_los / 10) + (1 - p) * 10 ** (-pl_nlos / 10))
    return out


def cull_radius_m(
    max_rsrp_at_0_dbm: np.ndarray,
    floor_dbm: np.ndarray,
    f_ghz: np.ndarray,
    h_bs_m: np.ndarray,
    h_ut_m: float,
    codes: np.ndarray,
    options: CoverageOptions,
    offsets_db: np.ndarray | None = None,
) -> np.ndarray:
    """The distance beyond which a sector stays below the floor at full antenna gain.

    The path loss is the prediction's (:func:`mode_path_loss_db`), without terrain, which can
    only add loss; it grows with distance (an invariant the tests check), so the radius is the
    last distance on a fine logarithmic ladder where ``max_rsrp − offset − PL(d) ≥ floor``.
    Returns one column per offset in ``offsets_db``.
    """
    offsets_db = np.zeros(1) if offsets_db is None else offsets_db
    ladder = np.broadcast_to(np.geomspace(10.0, 200_000.0, 600), (len(f_ghz), 600))
    pl = mode_path_loss_db(codes, h_bs_m, h_ut_m, f_ghz, ladder, options)
    out = np.empty((len(f_ghz), len(offsets_db)))
    for j, offset in enumerate(offsets_db):
        ok = (max_rsrp_at_0_dbm - offset - floor_dbm)[:, None] - pl >= 0
        last = np.where(ok.any(axis=1), 599 - np.argmax(ok[:, ::-1], axis=1), -1)
        out[:, j] = np.where(last >= 0, ladder[0, np.minimum(last + 1, 599)], 0.0)
    return out


LN10_OVER_10 = math.log(10.0) / 10.0  # 10^(x/10) = exp(x · ln10/10)
PL_TABLE_POINTS = 2048  # per sector, uniform in log10(d2D) from 10 m to the culling radius


def path_loss_table_db(
    codes: np.ndarray,
    h_bs_m: np.ndarray,
    h_ut_m: float,
    f_ghz: np.ndarray,
    radius_m: np.ndarray,
    options: CoverageOptions,
) -> tuple[np.ndarray, np.ndarray]:
    """Each sector's path loss of the prediction's LOS mode, tabulated against log10(d2D).

    Sampled with :func:`mode_path_loss_db` on :data:`PL_TABLE_POINTS` points from 10 m to the
    culling radius; the kernel interpolates linearly in log-distance, which is exact on each
    log-linear piece of the TR 38.901 formulas and off by < 0.01 dB in the one cell around a
    breakpoint. Returns the table (float32, sectors × points) and 1/Δu per sector.
    """
    u_max = np.log10(np.maximum(radius_m, 20.0))
    frac = np.linspace(0.0, 1.0, PL_TABLE_POINTS)[None, :]
    table = np.empty((len(codes), PL_TABLE_POINTS), dtype=np.float32)
    for start in range(0, len(codes), SECTOR_CHUNK):  # the float64 ladder, a chunk at a time
        rows = slice(start, start + SECTOR_CHUNK)
        d = 10.0 ** (1.0 + (u_max[rows, None] - 1.0) * frac)
        table[rows] = mode_path_loss_db(codes[rows], h_bs_m[rows], h_ut_m, f_ghz[rows], d, options)
    inv_du = (PL_TABLE_POINTS - 1) / (u_max - 1.0)
    return table, inv_du


@numba.njit(cache=True, inline="always", error_model="numpy")
def table_path_loss_db_nb(pl_table, pl_row, pl_inv_du, s, d2sq):  # pragma: no cover - numba
    """Sector ``s``'s path loss at squared distance ``d2sq`` (m²), interpolated in its table
    (:func:`path_loss_table_db`, row ``pl_row[s]``) linearly in log-distance; d2D below 10 m is
    taken as 10 m."""
    t = (0.5 * math.log10(max(d2sq, 100.0)) - 1.0) * pl_inv_du[s]
    i = min(int(t), pl_table.shape[1] - 2)
    w = t - i
    r = pl_row[s]
    return pl_table[r, i] + w * (pl_table[r, i + 1] - pl_table[r, i])


@numba.njit(cache=True, inline="always", error_model="numpy")
def sector_gain_nb(
    ant_mode, dx, dy, dz, sin_az, cos_az, sin_mt, cos_mt, etilt, arr_m, arr_n, arr_d, beam_tilts,
    cb_az,
):  # pragma: no cover - numba  # fmt: skip
    """Gain (dBi) of one sector towards (dx, dy, dz) for the prediction's antenna model: the
    38.901 element, a panel's fixed beam, or its best beam of the codebook."""
    if ant_mode == ANT_ELEMENT:
        return antenna.sector_gain_trig_dbi_nb(dx, dy, dz, sin_az, cos_az, sin_mt, cos_mt, etilt)
    theta, phi = antenna.sector_angles_trig_nb(dx, dy, dz, sin_az, cos_az, sin_mt, cos_mt)
    if ant_mode == ANT_ARRAY:
        return antenna.array_gain_dbi_nb(theta, phi, arr_m, arr_n, arr_d, arr_d, etilt, 0.0)
    return antenna.best_beam_gain_dbi_nb(theta, phi, arr_m, arr_n, arr_d, arr_d, beam_tilts, cb_az)


@numba.njit(cache=True, parallel=True, error_model="numpy")
def _tile_kernel(
    xc,
    yc,
    ue_h,
    ground,
    s_x,
    s_y,
    s_h,
    s_ground,
    s_sin_az,
    s_cos_az,
    s_sin_mt,
    s_cos_mt,
    s_etilt,
    s_pre,
    s_f,
    s_model,
    s_carrier,
    s_radius,
    s_radius_lv,
    level_cos,
    pl_table,
    pl_row,
    pl_inv_du,
    s_floor_mw,
    s_sigma,
    s_field,
    shadow,
    sel,
    los_mode,
    ant_mode,
    arr_m,
    arr_n,
    arr_d,
    cb_tilt,
    cb_az,
    h_e,
    h_building,
    street_width,
    c,
    use_terrain,
    dem,
    dem_x0,
    dem_y0,
    dem_res,
    top_mw,
    top_idx,
    carrier_mw,
):  # pragma: no cover - numba
    """Received power (mW per RE) of the selected sectors at the tile's pixels.

    Per-sector constants (sines and cosines of azimuth and tilt) come precomputed; LOS and
    NLOS path losses come from one call; the LOS-probability mix, the floor test, the carrier
    sums and the strongest-k lists all work in milliwatts (no logarithm per evaluation).
    """
    ny = yc.size
    nx = xc.size
    k = top_mw.shape[2]
    for row in numba.prange(ny):
        y = yc[row]
        for j in range(sel.size):
            s = sel[j]
            dy = y - s_y[s]
            r = s_radius[s]
            if abs(dy) > r:
                continue
            r2 = r * r
            r_dir2 = s_radius_lv[s, 1] * s_radius_lv[s, 1]
            beam_tilts = cb_tilt
            if ant_mode == ANT_ARRAY_BEST_BEAM:
                beam_tilts = cb_tilt + s_etilt[s]  # the codebook around this sector's tilt
            for col in range(nx):
                dx = xc[col] - s_x[s]
                d2sq = dx * dx + dy * dy  # squared: no square root for the pairs culled here
                if d2sq > r2:
                    continue
                if d2sq > r_dir2:  # far enough for the direction to matter
                    far = math.sqrt(d2sq)
                    cos_phi = (dx * s_sin_az[s] + dy * s_cos_az[s]) / far
                    lv = 0
                    while lv + 1 < level_cos.size and cos_phi <= level_cos[lv + 1]:
                        lv += 1
                    if far > s_radius_lv[s, lv]:
                        continue
                rx_ground = ground[row, col] if use_terrain else 0.0
                dz = rx_ground + ue_h - (s_ground[s] + s_h[s])
                gain = sector_gain_nb(
                    ant_mode, dx, dy, dz, s_sin_az[s], s_cos_az[s], s_sin_mt[s], s_cos_mt[s],
                    s_etilt[s], arr_m, arr_n, arr_d, beam_tilts, cb_az,
                )  # fmt: skip
                e = s_pre[s] + gain  # dBm per RE before the path loss
                if s_sigma[s] > 0.0:
                    e += s_sigma[s] * shadowing_at_nb(shadow, s_field[s], xc[col], y)
                # the mode's path loss, interpolated in log-distance (see path_loss_table_db)
                pl = table_path_loss_db_nb(pl_table, pl_row, pl_inv_du, s, d2sq)
                v = math.exp((e - pl) * LN10_OVER_10)
                if v < s_floor_mw[s]:
                    continue  # below the floor before terrain, which can only add loss
                if use_terrain:
                    # terrain decides: an obstructed path is NLOS; any edge within the first
                    # Fresnel zone (also on a grazing LOS path) adds its diffraction loss
                    los_t, diff_db = terrain.profile_loss_nb(
                        dem,
                        dem_x0,
                        dem_y0,
                        dem_res,
                        s_x[s],
                        s_y[s],
                        s_ground[s] + s_h[s],
                        xc[col],
                        y,
                        rx_ground + ue_h,
                        c / (s_f[s] * 1e9),
                        dem_res,
                    )
                    if not los_t:
                        pl_nlos = path_loss_pair_nb(
                            s_model[s],
                            math.sqrt(d2sq),
                            s_h[s],
                            ue_h,
                            s_f[s],
                            h_e,
                            h_building,
                            street_width,
                            c,
                        )[1]
                        v = math.exp((e - pl_nlos) * LN10_OVER_10)
                    v *= math.exp(-diff_db * LN10_OVER_10)
                    if v < s_floor_mw[s]:
                        continue
                carrier_mw[s_carrier[s], row, col] += v
                # keep the k strongest, sorted descending
                if v > top_mw[row, col, k - 1]:
                    pos = k - 1
                    while pos > 0 and top_mw[row, col, pos - 1] < v:
                        top_mw[row, col, pos] = top_mw[row, col, pos - 1]
                        top_idx[row, col, pos] = top_idx[row, col, pos - 1]
                        pos -= 1
                    top_mw[row, col, pos] = v
                    top_idx[row, col, pos] = s


@dataclass
class TileResult:
    """The outputs of one tile, to be written into the full rasters at ``tile.slices``."""

    tile: Tile
    rsrp_dbm: np.ndarray
    best_server: np.ndarray
    second_server: np.ndarray
    servers_within_margin: np.ndarray
    sinr_db: np.ndarray
    throughput_mbps: np.ndarray


def sectors_for_tile(prepared: PreparedSectors, tile: Tile) -> np.ndarray:
    """Indices of the sectors whose culling circle reaches the tile."""
    minx, miny, maxx, maxy = tile.grid.bounds
    cx = np.clip(prepared.x_m, minx, maxx)
    cy = np.clip(prepared.y_m, miny, maxy)
    near = np.hypot(prepared.x_m - cx, prepared.y_m - cy) <= prepared.radius_m
    return np.flatnonzero(near).astype(np.int64)


def predict_tile(
    tile: Tile,
    prepared: PreparedSectors,
    options: CoverageOptions,
    terrain_model: terrain.Terrain | None = None,
) -> TileResult:
    """Predict one tile (pure: the same inputs give the same outputs, anywhere)."""
    g = tile.grid
    ny, nx = g.shape
    sel = sectors_for_tile(prepared, tile)
    top_mw = np.zeros((ny, nx, TOP_K))
    top_idx = np.full((ny, nx, TOP_K), -1, dtype=np.int64)
    carrier_mw = np.zeros((max(prepared.n_carriers, 1), ny, nx))
    codebook = antenna.make_codebook(
        options.codebook_azimuths, options.codebook_tilts, 60.0, (-6.0, 6.0)
    )
    cb_tilt = np.ascontiguousarray(codebook[:, 0])
    cb_az = np.ascontiguousarray(codebook[:, 1])
    xc, yc = g.x_centres(), g.y_centres()
    if terrain_model is not None:
        ground = terrain_model.height_at(*np.meshgrid(xc, yc)).astype(float)
        dem = terrain_model.z_m
        dem_x0, dem_y0, dem_res = terrain_model.x0_m, terrain_model.y0_m, terrain_model.resolution_m
    else:
        ground = np.zeros((1, 1))
        dem, dem_x0, dem_y0, dem_res = np.zeros((1, 1), np.float32), 0.0, 0.0, 1.0
    if len(sel):
        _tile_kernel(
            xc,
            yc,
            options.ue_height_m,
            ground,
            prepared.x_m,
            prepared.y_m,
            prepared.height_m,
            prepared.ground_m,
            prepared.sin_az,
            prepared.cos_az,
            prepared.sin_mech_tilt,
            prepared.cos_mech_tilt,
            prepared.elec_tilt_deg,
            prepared.p_re_dbm,
            prepared.f_ghz,
            prepared.model,
            prepared.carrier,
            prepared.radius_m,
            prepared.radius_levels_m,
            CULL_LEVEL_COS,
            prepared.pl_table_db,
            prepared.pl_table_row,
            prepared.pl_table_inv_du,
            10.0 ** (prepared.floor_dbm / 10.0),
            prepared.shadow_sigma_db,
            prepared.shadow_field,
            prepared.shadow_components,
            sel,
            LOS_MODES[options.los_mode],
            ANTENNAS[options.antenna],
            options.array_rows,
            options.array_cols,
            options.array_spacing_wavelengths,
            cb_tilt,
            cb_az,
            options.h_e_m,
            options.h_building_m,
            options.street_width_m,
            SPEED_OF_LIGHT_M_PER_S,
            terrain_model is not None,
            dem,
            dem_x0,
            dem_y0,
            dem_res,
            top_mw,
            top_idx,
            carrier_mw,
        )
    return _finish_tile(tile, prepared, options, top_mw, top_idx, carrier_mw)


def _finish_tile(
    tile: Tile,
    prepared: PreparedSectors,
    options: CoverageOptions,
    top_mw: np.ndarray,
    top_idx: np.ndarray,
    carrier_mw: np.ndarray,
) -> TileResult:
    best = top_idx[:, :, 0]
    served = best >= 0
    with np.errstate(divide="ignore"):
        top_rsrp = 10.0 * np.log10(top_mw)
    rsrp = np.where(served, top_rsrp[:, :, 0], np.nan).astype(np.float32)
    within = (top_rsrp >= top_rsrp[:, :, :1] - options.overlap_margin_db) & (top_idx >= 0)
    sinr = np.full(best.shape, np.nan, dtype=np.float32)
    thr = np.zeros(best.shape, dtype=np.float32)
    if served.any():
        b = best[served]
        signal = top_mw[:, :, 0][served]
        same = carrier_mw[prepared.carrier[b], *np.nonzero(served)]
        noise = 10.0 ** (
            np.asarray(nr.noise_per_re_dbm(prepared.scs_khz[b], options.noise_figure_db)) / 10.0
        )
        interference = options.load * np.maximum(same - signal, 0.0)
        s_db = 10.0 * np.log10(signal / (interference + noise))
        sinr[served] = s_db
        thr[served] = nr.downlink_throughput_mbps(
            s_db, prepared.bandwidth_mhz[b], prepared.scs_khz[b], layers=options.layers
        )
    return TileResult(
        tile=tile,
        rsrp_dbm=rsrp,
        best_server=best.astype(np.int32),
        second_server=top_idx[:, :, 1].astype(np.int32),
        servers_within_margin=within.sum(axis=2).astype(np.uint8),
        sinr_db=sinr,
        throughput_mbps=thr,
    )


def predict_coverage(
    grid: Grid,
    sectors: pd.DataFrame,
    *,
    terrain_model: terrain.Terrain | None = None,
    region: shapely.Geometry | None = None,
    progress: Callable[[int, int], None] | None = None,
    **options: object,
) -> CoverageResult:
    """Predict coverage of ``sectors`` over ``grid``.

    Parameters
    ----------
    grid : Grid
        Where to predict (projected CRS, metres); the sectors' ``x_m``/``y_m`` are in it.
    sectors : DataFrame
        One row per sector; see :func:`prepare_sectors` for the columns.
    terrain_model : Terrain, optional
        Ground heights; when given, terrain decides LOS and adds diffraction loss.
    region : shapely geometry, optional
        Only tiles that intersect it are computed (the rest stay empty).
    progress : callable, optional
        Called as ``progress(tiles_done, tiles_total)``.
    **options
        Fields of :class:`CoverageOptions`.

    Returns
    -------
    CoverageResult
        SS-RSRP (dBm per RE) of the best server, best and second server (row index into
        ``sectors``), servers within the overlap margin, SINR (dB) and downlink throughput.
    """
    opts = CoverageOptions(**options)  # type: ignore[arg-type]
    prepared = prepare_sectors(sectors, opts, terrain_model)
    ny, nx = grid.shape
    out = CoverageResult(
        grid=grid,
        rsrp_dbm=np.full((ny, nx), np.nan, dtype=np.float32),
        best_server=np.full((ny, nx), -1, dtype=np.int32),
        second_server=np.full((ny, nx), -1, dtype=np.int32),
        servers_within_margin=np.zeros((ny, nx), dtype=np.uint8),
        sinr_db=np.full((ny, nx), np.nan, dtype=np.float32),
        throughput_mbps=np.zeros((ny, nx), dtype=np.float32),
    )
    tiles = list(grid.tiles(opts.tile_px))
    if region is not None:
        shapely.prepare(region)
        tiles = [t for t in tiles if region.intersects(shapely.box(*t.grid.bounds))]
    for i, tile in enumerate(tiles):
        res = predict_tile(tile, prepared, opts, terrain_model)
        rows, cols = tile.slices
        for name in out.layers:
            out.layers[name][rows, cols] = getattr(res, name)
        if progress:
            progress(i + 1, len(tiles))
    return out
