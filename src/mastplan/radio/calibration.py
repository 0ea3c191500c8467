"""TR 38.901 §7.8.1 large-scale calibration: coupling loss and geometry of a 19-site, 57-cell
hexagonal network with wrap-around.

The calibration checks the chain path loss + LOS probability + O2I penetration + shadow fading +
BS antenna + UE placement + cell selection against the curves the 3GPP companies published
(R1-165974, summarised in TR 38.901 §7.8.1). No fast fading. Pure computation: arrays in, arrays
out; the only file written is the CSV of :func:`write_calibration_csv` (and the optional PNG of
:func:`plot_calibration_cdfs`).

Conventions (full statement with sources: ``docs/calibration.md``):

* Coordinates in metres, x east, y north. Sector orientations are given in the 3GPP convention
  of Table 7.8-1 (φ = 30°, 150°, 270°, counter-clockwise from east, the GCS azimuth of
  TR 38.901 §7.1); :mod:`mastplan.radio.antenna` takes bearings clockwise from north, so the
  sectors are passed to it as 90° − φ (60°, 300°, 180°).
* The site lattice has its nearest neighbours at 30° + k·60°, so each sector boresight points at
  a neighbouring site and the 57 cells form the usual 3GPP clover-leaf of hexagonal cells.
* **Coupling loss is reported as a signed gain**, as in the R1-165974 spreadsheets and every
  public reproduction of them: ``coupling_loss_db = max over cells (G_BS − PL − O2I − SF)``, a
  negative number (about −120 dB in UMa); its 5th percentile is the worst 5 % of UEs.
* ``geometry_db`` = S / (Σ other cells + thermal noise), full load, the "geometry with white
  noise" of Table 7.8-1; ``geometry_sir_db`` = S / Σ other cells, the curve without noise.
* LOS state, h_E and shadow fading are drawn per UE–site link (the three sectors of a site share
  them); the O2I building type, indoor distance and σ_P draw per UE. Shadow fading is not
  spatially correlated (the calibration only needs its marginal distribution).
* BS antenna: the Table 7.8-1 column of ten elements with fixed weights and 12° electrical
  downtilt, through :func:`mastplan.radio.antenna.array_gain_dbi`, with d_V = 0.5λ
  (:data:`CALIBRATION_PANEL`; see its comment for why not the antenna module's 0.8λ).
"""

from __future__ import annotations

import csv
import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from mastplan.radio.antenna import (
    CALIBRATION_ELECTRICAL_TILT_DEG,
    TR38901_CALIBRATION_PANEL,
    ArrayConfig,
    array_gain_dbi,
    sector_angles,
)
from mastplan.radio.constants import THERMAL_NOISE_DBM_PER_HZ
from mastplan.radio.propagation import (
    O2I_SIGMA_DB,
    SHADOW_SIGMA_DB,
    draw_indoor_distance_m,
    los_probability,
    o2i_loss_db,
    path_loss_db,
    uma_h_e_probability_one_m,
)

__all__ = [
    "CALIBRATION_METRICS",
    "CALIBRATION_PANEL",
    "DEFAULT_DROPS",
    "DEFAULT_SEED",
    "DEFAULT_UES_PER_DROP",
    "O2I_SHADOW_SIGMA_DB",
    "PERCENTILES",
    "R1_165974_COUPLING_LOSS_DB",
    "R1_165974_GEOMETRY_SIR_DB",
    "SECTOR_AZIMUTHS_3GPP_DEG",
    "CalibrationSetup",
    "HexLayout",
    "calibrate_to_csv",
    "calibration_setup",
    "draw_uma_h_e_m",
    "drop_ues",
    "hex_layout",
    "percentile_table",
    "plot_calibration_cdfs",
    "run_calibration",
    "write_calibration_csv",
]

#: Sector boresights of Table 7.8-1, degrees counter-clockwise from east (TR 38.901 GCS).
SECTOR_AZIMUTHS_3GPP_DEG: tuple[float, float, float] = (30.0, 150.0, 270.0)

#: Shadow-fading σ of O2I links, TR 38.901 Table 7.5-6 part 1 (UMa and UMi street canyon, "O2I"
#: column: σ_SF = 7 dB). Outdoor UEs take the LOS/NLOS σ of Table 7.4.1-1.
O2I_SHADOW_SIGMA_DB = 7.0

#: Percentiles of the CDF tables (5, 10, ..., 95), as in R1-165974.
PERCENTILES: tuple[int, ...] = tuple(range(5, 100, 5))

#: Metrics of :func:`percentile_table` and of the CSV.
CALIBRATION_METRICS: tuple[str, ...] = ("coupling_loss_db", "geometry_db", "geometry_sir_db")

#: BS antenna of the calibration: the antenna module's Table 7.8-1 panel (M, N, P) = (10, 1, 1)
#: with the vertical spacing set to 0.5λ. With the module's 0.8λ the UMa coupling-loss and
#: geometry medians fall about 3 dB below the R1-165974 curves (the main beam is narrower and
#: its first null, 7° from the 12° beam, sits where most UEs are); with 0.5λ every percentile of
#: the geometry is within 0.4 dB and the coupling loss within 1.2 dB of them, at 6, 30 and 70 GHz
#: in UMa and UMi, and QuaDRiGa's, NVIDIA Aerial's and the Monster simulator's calibration scripts
#: use 0.5λ too. See docs/calibration.md ("BS antenna spacing").
CALIBRATION_PANEL = dataclasses.replace(
    TR38901_CALIBRATION_PANEL,
    vertical_spacing_wl=0.5,
    name="TR 38.901 Table 7.8-1 BS antenna (M, N, P) = (10, 1, 1), dV = 0.5 wavelength",
)

#: Default drop size: 10 UEs per cell × 57 cells (the TR 36.873 drop that Table 7.8-1 follows).
DEFAULT_UES_PER_DROP = 570
#: Default number of drops: 40 × 570 = 22,800 UEs, about 0.1 dB of sampling error at the median.
DEFAULT_DROPS = 40
DEFAULT_SEED = 1

# 3GPP R1-165974 (TR 38.901 §7.8.1 large-scale calibration), median over the companies at each
# percentile 5, 10, ..., 95, as transcribed in QuaDRiGa's tutorials/calib_3GPP_ref_data.m
# (cl38900a, gf38900a). Coupling loss as a signed gain (dB); geometry without noise (dB).
R1_165974_COUPLING_LOSS_DB: dict[tuple[str, float], tuple[float, ...]] = {
    ("umi", 6.0): (-142.3, -136.4, -132.4, -128.9, -125.8, -122.9, -120.3, -117.6, -115.0,
                   -112.2, -109.5, -106.4, -103.2, -99.9, -96.2, -92.2, -87.6, -82.0, -74.8),
    ("uma", 6.0): (-150.4, -144.7, -140.6, -137.0, -133.9, -131.1, -128.4, -125.8, -123.1,
                   -120.3, -117.5, -114.7, -111.8, -109.1, -106.1, -102.8, -98.8, -93.7, -86.0),
    ("umi", 30.0): (-164.6, -158.5, -154.1, -150.3, -147.1, -144.0, -141.1, -138.2, -135.3,
                    -132.4, -129.4, -126.2, -122.5, -118.3, -113.7, -108.9, -103.5, -97.1, -89.3),
    ("uma", 30.0): (-172.0, -166.3, -161.8, -157.9, -154.5, -151.4, -148.5, -145.7, -142.9,
                    -140.1, -137.0, -133.6, -130.0, -126.6, -123.1, -119.5, -115.4, -110.1,
                    -102.0),
    ("umi", 70.0): (-184.2, -177.8, -173.3, -169.2, -165.5, -162.0, -158.7, -155.5, -152.3,
                    -149.1, -145.8, -142.4, -138.3, -133.6, -127.1, -119.8, -112.8, -105.2,
                    -96.8),
    ("uma", 70.0): (-191.4, -185.5, -180.9, -176.8, -172.8, -169.2, -165.8, -162.6, -159.6,
                    -156.6, -153.3, -149.8, -145.5, -140.4, -135.1, -130.4, -125.5, -119.7,
                    -110.7),
}  # fmt: skip
R1_165974_GEOMETRY_SIR_DB: dict[tuple[str, float], tuple[float, ...]] = {
    ("umi", 6.0): (-1.7, -0.5, 0.4, 1.2, 2.1, 3.0, 4.0, 5.0, 6.1, 7.3, 8.6, 9.9, 11.4, 13.0,
                   14.9, 17.0, 19.4, 22.1, 24.9),
    ("uma", 6.0): (-1.0, 0.1, 1.1, 2.0, 2.9, 3.9, 5.0, 6.0, 7.2, 8.6, 9.9, 11.3, 12.9, 14.7,
                   16.5, 18.6, 20.9, 23.4, 25.6),
    ("umi", 30.0): (-1.6, -0.4, 0.4, 1.3, 2.2, 3.1, 4.1, 5.2, 6.3, 7.5, 8.8, 10.2, 11.7, 13.3,
                    15.1, 17.2, 19.6, 22.2, 24.9),
    ("uma", 30.0): (-1.0, 0.2, 1.1, 2.0, 3.0, 4.0, 5.0, 6.1, 7.3, 8.6, 9.9, 11.3, 13.0, 14.7,
                    16.5, 18.6, 20.9, 23.4, 25.6),
    ("umi", 70.0): (-1.6, -0.4, 0.5, 1.3, 2.2, 3.1, 4.1, 5.2, 6.3, 7.5, 8.8, 10.2, 11.7, 13.4,
                    15.2, 17.3, 19.7, 22.4, 25.0),
    ("uma", 70.0): (-0.9, 0.1, 1.1, 2.0, 3.0, 3.9, 5.0, 6.1, 7.2, 8.5, 9.9, 11.3, 13.0, 14.7,
                    16.5, 18.6, 20.9, 23.4, 25.6),
}  # fmt: skip


# =============================================================================================
# Setup (Table 7.8-1 and the tables it points to)
# =============================================================================================


@dataclass(frozen=True)
class CalibrationSetup:
    """Parameters of one calibration case (defaults: :func:`calibration_setup`).

    Attributes
    ----------
    scenario : {"uma", "umi"}
    fc_ghz : float
        Carrier frequency.
    isd_m, h_bs_m : float
        Inter-site distance and BS height (Table 7.2-1: 500 m / 25 m UMa, 200 m / 10 m UMi).
    min_distance_m : float
        Minimum 2-D BS–UE distance (TR 36.873 Table 6-1: 35 m UMa, 10 m UMi).
    min_distance_on : {"d2d_out", "d2d"}
        ``"d2d_out"``: the minimum applies to the outdoor part d2D − d2D-in (TR 36.873 Table 6-1
        note as read by MathWorks' h38901Scenario; indoor UEs then stay min + d2D-in away);
        ``"d2d"``: to the full 2-D distance (QuaDRiGa, ns-3, Sionna).
    tx_power_dbm, bandwidth_hz, noise_figure_db : float
        Table 7.8-1: 49 dBm (UMa) / 44 dBm (UMi) over 20 MHz at 6 GHz, 35 dBm over 100 MHz at
        30 and 70 GHz; UE noise figure 9 dB.
    electrical_tilt_deg : float
        Beam downtilt below the horizon (θ_etilt = 102° → 12°).
    panel : ArrayConfig
        BS antenna, Table 7.8-1 (M, N, P) = (10, 1, 1): :data:`CALIBRATION_PANEL` (d_V = 0.5λ);
        pass ``antenna.TR38901_CALIBRATION_PANEL`` for the module's 0.8λ.
    indoor_share, high_loss_share : float
        80 % indoor UEs (Table 7.2-1); half of them in high-loss buildings.
    indoor_shadow_sigma_db : float or None
        σ_SF of O2I links (Table 7.5-6: 7 dB); None uses the LOS/NLOS σ of the outdoor part.
    """

    scenario: str
    fc_ghz: float
    isd_m: float
    h_bs_m: float
    min_distance_m: float
    tx_power_dbm: float
    bandwidth_hz: float
    noise_figure_db: float = 9.0
    electrical_tilt_deg: float = 12.0
    panel: ArrayConfig = CALIBRATION_PANEL
    indoor_share: float = 0.8
    high_loss_share: float = 0.5
    indoor_shadow_sigma_db: float | None = O2I_SHADOW_SIGMA_DB
    min_distance_on: str = "d2d_out"
    ut_height_m: float = 1.5

    def __post_init__(self) -> None:
        if self.scenario not in ("uma", "umi"):
            raise ValueError(f"scenario must be 'uma' or 'umi', not {self.scenario!r}")
        if self.min_distance_on not in ("d2d_out", "d2d"):
            raise ValueError(
                f"min_distance_on must be 'd2d_out' or 'd2d', not {self.min_distance_on!r}"
            )
        if not (math.isfinite(self.fc_ghz) and 0.5 <= self.fc_ghz <= 100.0):
            raise ValueError(f"fc_ghz must lie in 0.5..100 GHz, got {self.fc_ghz!r}")
        for name in ("indoor_share", "high_loss_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {value!r}")

    @property
    def noise_dbm(self) -> float:
        """Thermal noise over the bandwidth plus the UE noise figure, dBm."""
        return (
            THERMAL_NOISE_DBM_PER_HZ + 10.0 * math.log10(self.bandwidth_hz) + self.noise_figure_db
        )


def calibration_setup(scenario: str, fc_ghz: float = 6.0, **overrides: Any) -> CalibrationSetup:
    """The Table 7.8-1 setup of ``scenario`` ("uma" or "umi") at ``fc_ghz``.

    Power and bandwidth: the 6 GHz row of Table 7.8-1 for carriers below 24 GHz, the 30/70 GHz
    row above (the table only has 6, 30 and 70 GHz). ``overrides`` replace any field of
    :class:`CalibrationSetup` (for sensitivity runs).
    """
    name = scenario.lower()
    if name not in ("uma", "umi"):
        raise ValueError(f"scenario must be 'uma' or 'umi', not {scenario!r}")
    fc = float(fc_ghz)
    low_band = fc < 24.0
    base: dict[str, Any] = {
        "scenario": name,
        "fc_ghz": fc,
        "isd_m": 500.0 if name == "uma" else 200.0,
        "h_bs_m": 25.0 if name == "uma" else 10.0,
        "min_distance_m": 35.0 if name == "uma" else 10.0,
        "tx_power_dbm": (49.0 if name == "uma" else 44.0) if low_band else 35.0,
        "bandwidth_hz": 20e6 if low_band else 100e6,
        "electrical_tilt_deg": CALIBRATION_ELECTRICAL_TILT_DEG[name],
    }
    base.update(overrides)
    return CalibrationSetup(**base)


# =============================================================================================
# Layout
# =============================================================================================


class HexLayout(NamedTuple):
    """Hexagonal sites with wrap-around.

    Attributes
    ----------
    sites_xy : ndarray, shape (S, 2)
        Site positions, metres; site 0 at the origin.
    wrap_offsets_xy : ndarray, shape (7, 2)
        Translations of the wrap-around copies; row 0 is (0, 0), rows 1..6 the six shifted
        copies of the cluster.
    isd_m : float
        Inter-site distance.
    sector_azimuths_deg : tuple of float
        Boresights in the 3GPP convention (counter-clockwise from east).
    """

    sites_xy: NDArray[np.float64]
    wrap_offsets_xy: NDArray[np.float64]
    isd_m: float
    sector_azimuths_deg: tuple[float, ...]

    @property
    def n_sites(self) -> int:
        return int(self.sites_xy.shape[0])

    @property
    def n_cells(self) -> int:
        return self.n_sites * len(self.sector_azimuths_deg)

    @property
    def sector_bearings_deg(self) -> NDArray[np.float64]:
        """Boresights clockwise from north, as :func:`mastplan.radio.antenna.sector_angles`
        takes them (90° − φ, in [0, 360))."""
        return np.mod(90.0 - np.asarray(self.sector_azimuths_deg, float), 360.0)

    @property
    def site_radius_m(self) -> float:
        """Circumradius of a site's hexagon (its Voronoi cell): ISD/√3."""
        return self.isd_m / math.sqrt(3.0)

    @property
    def wrap_radius_m(self) -> float:
        """Largest distance from any point to the nearest wrap-around image of any site: the
        circumradius of the cluster lattice's Voronoi hexagon, |shift|/√3."""
        return float(np.linalg.norm(self.wrap_offsets_xy[1])) / math.sqrt(3.0)

    def cells(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(site index, sector index) of each cell; cell = 3·site + sector."""
        n_sec = len(self.sector_azimuths_deg)
        idx = np.arange(self.n_cells)
        return idx // n_sec, idx % n_sec

    def nearest_images(
        self, ue_xy: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Vector (dx, dy) from the nearest wrap-around image of every site to every UE.

        Returns two arrays of shape (N, S).
        """
        ue = np.asarray(ue_xy, float)
        images = self.sites_xy[None, :, :] + self.wrap_offsets_xy[:, None, :]  # (7, S, 2)
        d = ue[:, None, None, :] - images[None, :, :, :]  # (N, 7, S, 2)
        k = np.argmin(np.einsum("nksc,nksc->nks", d, d), axis=1)  # (N, S)
        n_idx = np.arange(ue.shape[0])[:, None]
        s_idx = np.arange(self.n_sites)[None, :]
        best = d[n_idx, k, s_idx]  # (N, S, 2)
        return best[..., 0], best[..., 1]


def _ring_sites(n_rings: int) -> list[tuple[int, int]]:
    """Axial coordinates (a, b) of the hexagonal sites within ``n_rings`` rings, centre first,
    then ring by ring."""
    out = [(0, 0)]
    directions = [(1, 0), (0, 1), (-1, 1), (-1, 0), (0, -1), (1, -1)]
    for ring in range(1, n_rings + 1):
        a, b = ring, 0  # the site at 30°, then counter-clockwise
        for side in range(6):
            da, db = directions[(side + 2) % 6]
            for _ in range(ring):
                out.append((a, b))
                a, b = a + da, b + db
    return out


def hex_layout(n_rings: int = 2, isd_m: float = 500.0) -> HexLayout:
    """Sites of a hexagonal network with ``n_rings`` rings around a centre site, and the
    wrap-around translations of the cluster.

    ``n_rings=2`` gives the 19 sites of TR 38.901 Table 7.2-1. The lattice basis is
    a = ISD·(cos 30°, sin 30°), b = ISD·(cos 90°, sin 90°), so the six neighbours of a site lie at
    30° + k·60° and the sector boresights 30°, 150°, 270° point at neighbours. The cluster of
    N = 3·n_rings·(n_rings + 1) + 1 sites tiles the plane under the translations
    (n_rings + 1)·a + n_rings·b rotated by k·60° (|shift| = √N·ISD; for 19 sites the classical
    3a + 2b wrap-around of the 3GPP/ITU-R M.2101 layouts).
    """
    if n_rings < 0 or int(n_rings) != n_rings:
        raise ValueError(f"n_rings must be an integer >= 0, got {n_rings!r}")
    if not (math.isfinite(isd_m) and isd_m > 0.0):
        raise ValueError(f"isd_m must be > 0, got {isd_m!r}")
    n_rings = int(n_rings)
    basis_a = isd_m * np.array([math.cos(math.radians(30.0)), math.sin(math.radians(30.0))])
    basis_b = isd_m * np.array([0.0, 1.0])
    axial = np.array(_ring_sites(n_rings), dtype=float)
    sites = axial[:, :1] * basis_a + axial[:, 1:] * basis_b
    shift = (n_rings + 1) * basis_a + n_rings * basis_b
    offsets = [np.zeros(2)]
    for k in range(6):
        c, s = math.cos(math.radians(60.0 * k)), math.sin(math.radians(60.0 * k))
        offsets.append(np.array([c * shift[0] - s * shift[1], s * shift[0] + c * shift[1]]))
    sites[np.abs(sites) < 1e-9] = 0.0
    return HexLayout(
        sites_xy=sites,
        wrap_offsets_xy=np.vstack(offsets),
        isd_m=float(isd_m),
        sector_azimuths_deg=SECTOR_AZIMUTHS_3GPP_DEG,
    )


def _in_site_hexagon(dx: NDArray[np.float64], dy: NDArray[np.float64], isd_m: float) -> Any:
    """True inside the Voronoi hexagon of a site (edges at ISD/2, normals at 30° + k·60°)."""
    inside = np.ones(np.shape(dx), dtype=bool)
    for k in range(6):
        a = math.radians(30.0 + 60.0 * k)
        inside &= dx * math.cos(a) + dy * math.sin(a) <= 0.5 * isd_m
    return inside


# =============================================================================================
# UE drop
# =============================================================================================


def drop_ues(
    layout: HexLayout, setup: CalibrationSetup, n_ues: int, rng: np.random.Generator
) -> dict[str, NDArray[Any]]:
    """Drop ``n_ues`` UEs per TR 38.901 Table 7.2-1 / TR 36.873 (Table 7.8-1 "UT distribution").

    Each UE picks a site uniformly and a point uniformly in that site's hexagon (so the drop is
    uniform over the 19-site area); indoor with probability ``indoor_share``; indoor UEs get a
    building of N_fl ~ U{4..8} floors, a floor n_fl ~ U{1..N_fl}, h_UT = 3(n_fl − 1) + 1.5 m and
    d2D-in = min of two U(0, 25 m) (Table 7.4.3-2); outdoor UEs h_UT = 1.5 m, d2D-in = 0. UEs
    closer than the minimum distance to their site (the nearest site, wrap-around included) are
    drawn again. Half of the indoor UEs are in high-loss buildings.

    Returns arrays of length ``n_ues``: ``x_m, y_m, site, indoor, high_loss, n_floors, floor,
    h_ut_m, d2d_in_m``.
    """
    if n_ues < 0:
        raise ValueError(f"n_ues must be >= 0, got {n_ues!r}")
    isd = layout.isd_m
    r_hex = layout.site_radius_m
    xs: list[NDArray[np.float64]] = []
    ys: list[NDArray[np.float64]] = []
    site_l: list[NDArray[np.int64]] = []
    indoor_l: list[NDArray[np.bool_]] = []
    din_l: list[NDArray[np.float64]] = []
    got = 0
    while got < n_ues:
        batch = max(64, int(1.5 * (n_ues - got)) + 16)
        site = rng.integers(0, layout.n_sites, batch)
        dx = rng.uniform(-r_hex, r_hex, batch)
        dy = rng.uniform(-0.5 * isd, 0.5 * isd, batch)
        indoor = rng.random(batch) < setup.indoor_share
        d_in = np.where(indoor, draw_indoor_distance_m(setup.scenario, batch, rng), 0.0)
        d2d = np.hypot(dx, dy)
        limit = setup.min_distance_m + (d_in if setup.min_distance_on == "d2d_out" else 0.0)
        keep = _in_site_hexagon(dx, dy, isd) & (d2d >= limit)
        take = np.flatnonzero(keep)[: n_ues - got]
        xs.append(layout.sites_xy[site[take], 0] + dx[take])
        ys.append(layout.sites_xy[site[take], 1] + dy[take])
        site_l.append(site[take])
        indoor_l.append(indoor[take])
        din_l.append(d_in[take])
        got += take.size
    indoor_all = np.concatenate(indoor_l) if indoor_l else np.zeros(0, bool)
    n = indoor_all.size
    n_floors = np.where(indoor_all, rng.integers(4, 9, n), 1)
    floor = np.where(indoor_all, np.floor(rng.random(n) * n_floors).astype(np.int64) + 1, 1)
    h_ut = np.where(indoor_all, 3.0 * (floor - 1) + 1.5, setup.ut_height_m)
    high_loss = indoor_all & (rng.random(n) < setup.high_loss_share)
    return {
        "x_m": np.concatenate(xs) if xs else np.zeros(0),
        "y_m": np.concatenate(ys) if ys else np.zeros(0),
        "site": np.concatenate(site_l) if site_l else np.zeros(0, np.int64),
        "indoor": indoor_all,
        "high_loss": high_loss,
        "n_floors": n_floors.astype(np.int64),
        "floor": floor.astype(np.int64),
        "h_ut_m": h_ut.astype(float),
        "d2d_in_m": np.concatenate(din_l) if din_l else np.zeros(0),
    }


# =============================================================================================
# One drop: links, coupling loss, geometry
# =============================================================================================


def draw_uma_h_e_m(d2d_m: Any, h_ut_m: Any, rng: np.random.Generator) -> NDArray[np.float64]:
    """UMa effective environment height h_E per link (TR 38.901 Table 7.4.1-1 Note 1): 1 m with
    probability 1/(1 + C(d2D, h_UT)), otherwise uniform on {12, 15, ..., h_UT − 1.5} m."""
    d2d_m, h_ut_m = np.broadcast_arrays(np.asarray(d2d_m, float), np.asarray(h_ut_m, float))
    p_one = uma_h_e_probability_one_m(d2d_m, h_ut_m)
    u_one = rng.random(d2d_m.shape)
    u_pick = rng.random(d2d_m.shape)
    # {12, 15, ..., h_UT − 1.5}: n_options values (≥ 1 whenever h_UT ≥ 13.5 m)
    n_options = np.floor((h_ut_m - 1.5 - 12.0) / 3.0 + 1e-9).astype(np.int64) + 1
    n_options = np.maximum(n_options, 1)
    pick = np.minimum(np.floor(u_pick * n_options).astype(np.int64), n_options - 1)
    h_e = 12.0 + 3.0 * pick
    return np.where((u_one < p_one) | (h_ut_m < 13.5), 1.0, h_e)


def _links(
    layout: HexLayout,
    setup: CalibrationSetup,
    ues: Mapping[str, NDArray[Any]],
    rng: np.random.Generator,
) -> dict[str, NDArray[Any]]:
    """Per UE: coupling gains to all cells, serving cell and the quantities of the serving link."""
    n = ues["x_m"].size
    ue_xy = np.column_stack([ues["x_m"], ues["y_m"]])
    dx, dy = layout.nearest_images(ue_xy)  # (N, S), from site image to UE
    d2d = np.hypot(dx, dy)
    h_ut = np.broadcast_to(ues["h_ut_m"][:, None], d2d.shape)
    indoor = ues["indoor"][:, None]
    d_in = ues["d2d_in_m"][:, None]
    d2d_out = np.maximum(d2d - d_in, 0.0)

    p_los = los_probability(setup.scenario, d2d_out, h_ut)
    los = rng.random(d2d.shape) < p_los
    # h_E: Note 1 of Table 7.4.1-1 for UMa (evaluated, like the LOS probability, at d2D-out);
    # UMi street canyon uses 1 m
    h_e = draw_uma_h_e_m(d2d_out, h_ut, rng) if setup.scenario == "uma" else np.ones_like(d2d)

    path_loss = np.empty_like(d2d)
    for value in np.unique(h_e):
        m = h_e == value
        path_loss[m] = path_loss_db(
            setup.scenario, d2d[m], setup.h_bs_m, h_ut[m], setup.fc_ghz, los[m], h_e_m=float(value)
        )

    sigma_los = SHADOW_SIGMA_DB[(setup.scenario, True)]
    sigma_nlos = SHADOW_SIGMA_DB[(setup.scenario, False)]
    sigma = np.where(los, sigma_los, sigma_nlos)
    if setup.indoor_shadow_sigma_db is not None:
        sigma = np.where(indoor, setup.indoor_shadow_sigma_db, sigma)
    shadow = rng.standard_normal(d2d.shape) * sigma

    # O2I penetration: a property of the UE's building, the same on all its links.
    o2i = np.zeros(n)
    ind = ues["indoor"]
    hi = ues["high_loss"]
    for kind, mask in (("low", ind & ~hi), ("high", ind & hi)):
        o2i[mask] = o2i_loss_db(kind, setup.fc_ghz, ues["d2d_in_m"][mask])
    sigma_p = np.where(hi, O2I_SIGMA_DB["high"], O2I_SIGMA_DB["low"])
    o2i = o2i + np.where(ind, rng.standard_normal(n) * sigma_p, 0.0)

    site_gain = -path_loss - shadow - o2i[:, None]  # (N, S), without the BS antenna

    dz = ues["h_ut_m"][:, None, None] - setup.h_bs_m
    theta, phi = sector_angles(
        dx[:, :, None], dy[:, :, None], dz, layout.sector_bearings_deg[None, None, :], 0.0
    )
    antenna = np.asarray(
        array_gain_dbi(theta, phi, setup.panel, beam_elevation_tilt_deg=setup.electrical_tilt_deg),
        float,
    )  # (N, S, 3)
    gain = (site_gain[:, :, None] + antenna).reshape(n, layout.n_cells)  # (N, 57)

    serving = np.argmax(gain, axis=1)
    rows = np.arange(n)
    coupling = gain[rows, serving]
    rx_mw = 10.0 ** ((setup.tx_power_dbm + gain) / 10.0)
    signal = rx_mw[rows, serving]
    interference = rx_mw.sum(axis=1) - signal
    noise = 10.0 ** (setup.noise_dbm / 10.0)
    s_site = serving // len(layout.sector_azimuths_deg)
    return {
        "coupling_loss_db": coupling,
        "geometry_db": 10.0 * np.log10(signal / (interference + noise)),
        "geometry_sir_db": 10.0 * np.log10(signal / interference),
        "serving_cell": serving.astype(np.int64),
        "serving_los": los[rows, s_site],
        "serving_d2d_m": d2d[rows, s_site],
        "serving_path_loss_db": path_loss[rows, s_site],
        "serving_antenna_gain_dbi": antenna.reshape(n, layout.n_cells)[rows, serving],
        "o2i_loss_db": o2i,
    }


def run_calibration(
    scenario: str,
    fc_ghz: float = 6.0,
    drops: int = DEFAULT_DROPS,
    ues_per_drop: int = DEFAULT_UES_PER_DROP,
    seed: int = DEFAULT_SEED,
    **overrides: Any,
) -> dict[str, Any]:
    """Run the TR 38.901 §7.8.1 large-scale calibration of ``scenario`` at ``fc_ghz``.

    Parameters
    ----------
    scenario : {"uma", "umi"}
    fc_ghz : float
        Carrier frequency (Table 7.8-1 has 6, 30 and 70 GHz).
    drops, ues_per_drop : int
        Independent drops of UEs; the default is 40 drops of 570 UEs (10 per cell).
    seed : int
        Seed of the NumPy generator: same seed, same arrays.
    **overrides
        Fields of :class:`CalibrationSetup` to change (sensitivity runs), e.g.
        ``min_distance_on="d2d"`` or ``indoor_shadow_sigma_db=None``.

    Returns
    -------
    dict
        Arrays of length drops·ues_per_drop: ``coupling_loss_db`` (signed, negative),
        ``geometry_db`` (with noise), ``geometry_sir_db`` (without), ``serving_cell`` (3·site +
        sector), ``serving_los``, ``serving_d2d_m``, ``serving_path_loss_db``,
        ``serving_antenna_gain_dbi``, ``o2i_loss_db`` and the drop (``x_m``, ``y_m``,
        ``indoor``, ``high_loss``, ``n_floors``, ``floor``, ``h_ut_m``, ``d2d_in_m``); plus
        ``setup`` (the :class:`CalibrationSetup`) and ``layout`` (the :class:`HexLayout`).
    """
    if int(drops) != drops or drops < 1:
        raise ValueError(f"drops must be an integer >= 1, got {drops!r}")
    if int(ues_per_drop) != ues_per_drop or ues_per_drop < 1:
        raise ValueError(f"ues_per_drop must be an integer >= 1, got {ues_per_drop!r}")
    setup = calibration_setup(scenario, fc_ghz, **overrides)
    layout = hex_layout(2, setup.isd_m)
    rng = np.random.default_rng(seed)
    parts: list[dict[str, NDArray[Any]]] = []
    for _ in range(int(drops)):
        ues = drop_ues(layout, setup, int(ues_per_drop), rng)
        parts.append({**ues, **_links(layout, setup, ues, rng)})
    out: dict[str, Any] = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    out["setup"] = setup
    out["layout"] = layout
    return out


# =============================================================================================
# Tables and files
# =============================================================================================


def percentile_table(
    results: Mapping[str, Any],
    metrics: Sequence[str] = CALIBRATION_METRICS,
    percentiles: Iterable[float] = PERCENTILES,
) -> list[tuple[str, int | float, float]]:
    """Rows ``(metric, percentile, value)`` of the empirical CDFs (NumPy's linear percentile).

    Default: percentiles 5, 10, ..., 95 of ``coupling_loss_db``, ``geometry_db`` and
    ``geometry_sir_db``.
    """
    pct = list(percentiles)
    rows: list[tuple[str, int | float, float]] = []
    for metric in metrics:
        values = np.asarray(results[metric], float)
        if values.size == 0:
            raise ValueError(f"no values for metric {metric!r}")
        for p, v in zip(pct, np.percentile(values, pct), strict=True):
            rows.append((metric, int(p) if float(p).is_integer() else float(p), float(v)))
    return rows


def write_calibration_csv(path: str | Path, rows: Iterable[tuple[str, int | float, float]]) -> Path:
    """Write rows as CSV ``metric,percentile,value`` (values with 3 decimals); returns the
    path."""
    out = Path(path)
    if out.parent != Path():
        out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["metric", "percentile", "value"])
        for metric, percentile, value in rows:
            writer.writerow([metric, percentile, f"{value:.3f}"])
    return out


def calibrate_to_csv(
    scenario: str,
    fc_ghz: float = 6.0,
    drops: int = DEFAULT_DROPS,
    seed: int = DEFAULT_SEED,
    out: str | Path | None = None,
) -> dict[str, float]:
    """Run :func:`run_calibration`, write its :func:`percentile_table` to ``out`` and return the
    medians ``{metric: value}`` (what ``mastplan radio calibrate`` prints)."""
    if out is None:
        raise ValueError("calibrate_to_csv needs an output path (out=...)")
    results = run_calibration(scenario, fc_ghz, drops=drops, seed=seed)
    write_calibration_csv(out, percentile_table(results))
    return {m: float(np.median(results[m])) for m in CALIBRATION_METRICS}


def plot_calibration_cdfs(
    results_by_label: Mapping[str, Mapping[str, Any]],
    path: str | Path,
    references: Mapping[str, Mapping[str, Sequence[float]]] | None = None,
) -> Path:
    """Write a PNG with the CDFs of coupling loss and geometry (with and without noise).

    ``results_by_label`` maps a legend label to a :func:`run_calibration` result;
    ``references`` maps the same labels to ``{metric: values at PERCENTILES}`` drawn as markers
    (e.g. the R1-165974 medians). Uses matplotlib's object-oriented API (no pyplot).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    metrics = (
        ("coupling_loss_db", "Coupling loss, signed (dB)"),
        ("geometry_db", "Geometry with noise (dB)"),
        ("geometry_sir_db", "Geometry without noise (dB)"),
    )
    fig = Figure(figsize=(15, 4.6), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(metrics))
    colours = ("tab:blue", "tab:red", "tab:green", "tab:purple", "tab:orange", "tab:brown")
    for ax, (metric, title) in zip(axes, metrics, strict=True):
        low = min(np.percentile(res[metric], 0.5) for res in results_by_label.values())
        high = max(np.max(res[metric]) for res in results_by_label.values())
        for k, (label, res) in enumerate(results_by_label.items()):
            colour = colours[k % len(colours)]
            values = np.sort(np.asarray(res[metric], float))
            cdf = (np.arange(values.size) + 0.5) / values.size
            ax.plot(values, 100.0 * cdf, color=colour, lw=1.8, label=f"mastplan {label}")
            ref = (references or {}).get(label, {}).get(metric)
            if ref is not None:
                ax.plot(ref, PERCENTILES, "o", color=colour, ms=4, mfc="none",
                        label=f"3GPP {label}")  # fmt: skip
        ax.set_xlim(low, high)
        ax.set_xlabel(title)
        ax.set_ylabel("CDF (%)")
        ax.set_ylim(0, 100)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    out = Path(path)
    fig.savefig(out, dpi=110)
    return out
