"""NR link quantities: resource blocks, SS-RSRP per resource element, noise, SINR and throughput.

Pure functions over NumPy arrays (they broadcast like ufuncs); no database, no files.

Sources (the numbers used are transcribed below as data, each with its table):

* TS 38.101-1 Table 5.3.2-1 — maximum transmission bandwidth configuration N_RB (FR1).
* TS 38.306 §4.1.2 — approximate (peak) data rate of a carrier.
* TS 38.214 Tables 5.2.2.1-2 and 5.2.2.1-3 — the 4-bit CQI tables (modulation, code rate,
  spectral efficiency).
* TR 36.942 Annex A.2 — the attenuated and truncated Shannon bound used as the default
  SINR → spectral-efficiency mapping.

Conventions: powers in dBm or mW, ratios in dB, bandwidths in MHz, subcarrier spacings (SCS) in
kHz, carrier frequencies in GHz, data rates in Mbit/s. Every name carries its unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mastplan.radio.constants import THERMAL_NOISE_DBM_PER_HZ

__all__ = [
    "CQI_TABLE_1",
    "CQI_TABLE_1_SINR_DB",
    "CQI_TABLE_2",
    "FR1_F_GHZ_RANGE",
    "NRB_FR1",
    "OVERHEAD_DL_FR1",
    "OVERHEAD_DL_FR2",
    "OVERHEAD_UL_FR1",
    "OVERHEAD_UL_FR2",
    "R_MAX",
    "SHANNON_ALPHA_DL",
    "SHANNON_SINR_MIN_DB",
    "SUBCARRIERS_PER_RB",
    "Carrier",
    "CqiEntry",
    "dbm_to_mw",
    "downlink_throughput_mbps",
    "mw_to_dbm",
    "n_rb",
    "noise_dbm",
    "noise_per_re_dbm",
    "numerology",
    "peak_data_rate_mbps",
    "rsrp_dbm",
    "sinr_db",
    "spectral_efficiency",
    "symbol_duration_s",
]

SUBCARRIERS_PER_RB = 12  # TS 38.211 §4.4.4.1

# ---------------------------------------------------------------------------------------------
# TS 38.101-1 Table 5.3.2-1: maximum transmission bandwidth configuration N_RB, FR1.
# {SCS kHz: {channel bandwidth MHz: N_RB}}; a missing entry is "N/A" in the table.
# (The 3 MHz channel of later releases is left out: the planner works with 5-100 MHz carriers.)
NRB_FR1: dict[int, dict[int, int]] = {
    15: {5: 25, 10: 52, 15: 79, 20: 106, 25: 133, 30: 160, 35: 188, 40: 216, 45: 242, 50: 270},
    30: {5: 11, 10: 24, 15: 38, 20: 51, 25: 65, 30: 78, 35: 92, 40: 106, 45: 119, 50: 133,
         60: 162, 70: 189, 80: 217, 90: 245, 100: 273},
    60: {10: 11, 15: 18, 20: 24, 25: 31, 30: 38, 35: 44, 40: 51, 45: 58, 50: 65, 60: 79,
         70: 93, 80: 107, 90: 121, 100: 135},
}  # fmt: skip

# FR1 frequency range, GHz (TS 38.101-1 Table 5.1-1: 410 MHz - 7125 MHz).
FR1_F_GHZ_RANGE = (0.410, 7.125)

# ---------------------------------------------------------------------------------------------
# TS 38.306 §4.1.2: approximate data rate.
R_MAX = 948 / 1024  # highest LDPC code rate of the MCS tables
# Overhead OH^(j): 0.14 FR1 DL, 0.18 FR2 DL, 0.08 FR1 UL, 0.10 FR2 UL.
OVERHEAD_DL_FR1 = 0.14
OVERHEAD_DL_FR2 = 0.18
OVERHEAD_UL_FR1 = 0.08
OVERHEAD_UL_FR2 = 0.10
# Scaling factor f^(j): one of these, signalled per band (combination) by the UE.
SCALING_FACTORS = (1.0, 0.8, 0.75, 0.4)


# ---------------------------------------------------------------------------------------------
# TS 38.214 §5.2.2.1, 4-bit CQI tables: (CQI index, modulation order Q_m, code rate x 1024,
# spectral efficiency in bit/s/Hz as printed). CQI 0 is "out of range".
@dataclass(frozen=True)
class CqiEntry:
    """One row of a TS 38.214 4-bit CQI table."""

    cqi: int
    modulation_order: int
    code_rate_x1024: int
    efficiency: float


# Table 5.2.2.1-2 ("CQI table 1", up to 64QAM; identical to TS 36.213 Table 7.2.3-1).
CQI_TABLE_1: tuple[CqiEntry, ...] = tuple(
    CqiEntry(*row)
    for row in (
        (1, 2, 78, 0.1523), (2, 2, 120, 0.2344), (3, 2, 193, 0.3770), (4, 2, 308, 0.6016),
        (5, 2, 449, 0.8770), (6, 2, 602, 1.1758), (7, 4, 378, 1.4766), (8, 4, 490, 1.9141),
        (9, 4, 616, 2.4063), (10, 6, 466, 2.7305), (11, 6, 567, 3.3223), (12, 6, 666, 3.9023),
        (13, 6, 772, 4.5234), (14, 6, 873, 5.1152), (15, 6, 948, 5.5547),
    )
)  # fmt: skip

# Table 5.2.2.1-3 ("CQI table 2", up to 256QAM).
CQI_TABLE_2: tuple[CqiEntry, ...] = tuple(
    CqiEntry(*row)
    for row in (
        (1, 2, 78, 0.1523), (2, 2, 193, 0.3770), (3, 2, 449, 0.8770), (4, 4, 378, 1.4766),
        (5, 4, 490, 1.9141), (6, 4, 616, 2.4063), (7, 6, 466, 2.7305), (8, 6, 567, 3.3223),
        (9, 6, 666, 3.9023), (10, 6, 772, 4.5234), (11, 6, 873, 5.1152), (12, 8, 711, 5.5547),
        (13, 8, 797, 6.2266), (14, 8, 885, 6.9141), (15, 8, 948, 7.4063),
    )
)  # fmt: skip

# ASSUMPTION (not 3GPP): the lowest SINR, dB, at which each CQI of Table 5.2.2.1-2 meets a 10 %
# block error rate: SISO link-level results in AWGN, as published by Kawser et al., "Downlink
# SNR to CQI Mapping for Different Multiple Antenna Techniques in LTE", IJIEE 2(5), 2012 (Vienna
# LTE link-level simulator). The CQI table is the same as LTE's (TS 36.213 Table 7.2.3-1), so the
# LTE link curves are used for NR; LDPC codes do somewhat better, so this errs on the low side.
CQI_TABLE_1_SINR_DB: tuple[float, ...] = (
    -6.7, -4.7, -2.3, 0.2, 2.4, 4.3, 5.9, 8.1, 10.3, 11.7, 14.1, 16.3, 18.7, 21.0, 22.7,
)  # fmt: skip

# ---------------------------------------------------------------------------------------------
# TR 36.942 Annex A.2, Table A.2-1 (downlink): Thr = alpha * log2(1 + SINR) between SINR_MIN and
# the SINR where Thr reaches Thr_MAX; 0 below SINR_MIN; Thr_MAX above. alpha models the
# implementation losses. TR 36.942 uses Thr_MAX = 4.4 bit/s/Hz for LTE; for NR the cap here is the
# spectral efficiency of the highest MCS, Q_m * R_max (7.40625 for 256QAM, 5.5547 for 64QAM).
SHANNON_ALPHA_DL = 0.6
SHANNON_SINR_MIN_DB = -10.0

SpectralModel = Literal["shannon", "cqi"]


# ---------------------------------------------------------------------------------------------
# Small helpers
def _out(values: NDArray[Any], *inputs: Any) -> Any:
    """A Python float/int when every input was a scalar, else the array."""
    if all(np.ndim(x) == 0 for x in inputs):
        return values.item()
    return values


def dbm_to_mw(power_dbm: ArrayLike) -> Any:
    """Power in mW of a power in dBm (``-inf`` dBm is 0 mW)."""
    p = np.asarray(power_dbm, dtype=float)
    return _out(np.power(10.0, p / 10.0), power_dbm)


def mw_to_dbm(power_mw: ArrayLike) -> Any:
    """Power in dBm of a power in mW (0 mW is ``-inf`` dBm)."""
    p = np.asarray(power_mw, dtype=float)
    with np.errstate(divide="ignore"):
        out = 10.0 * np.log10(p)
    return _out(out, power_mw)


def numerology(scs_khz: ArrayLike) -> Any:
    """The numerology μ of a subcarrier spacing, SCS = 15 kHz · 2^μ (TS 38.211 §4.2).

    Raises
    ------
    ValueError
        For a spacing that is not 15 kHz times a power of two (μ = 0 … 6).
    """
    scs = np.asarray(scs_khz, dtype=float)
    mu = np.log2(scs / 15.0)
    ok = np.isfinite(mu) & (mu == np.round(mu)) & (mu >= 0) & (mu <= 6)
    if not np.all(ok):
        bad = scs[~ok] if scs.ndim else scs
        raise ValueError(
            f"subcarrier spacing {np.ravel(bad)[0]:g} kHz is not 15 kHz x 2^mu (mu = 0..6)"
        )
    return _out(np.round(mu).astype(np.int64), scs_khz)


def symbol_duration_s(scs_khz: ArrayLike) -> Any:
    """Average OFDM symbol duration T_s^μ = 10⁻³ / (14 · 2^μ) s, normal cyclic prefix.

    This is the symbol duration of the TS 38.306 §4.1.2 data-rate formula (cyclic prefix
    included).
    """
    mu = np.asarray(numerology(scs_khz))
    return _out(1e-3 / (14.0 * np.power(2.0, mu)), scs_khz)


# ---------------------------------------------------------------------------------------------
# Resource blocks
def n_rb(bandwidth_mhz: ArrayLike, scs_khz: ArrayLike) -> Any:
    """Maximum transmission bandwidth configuration N_RB (TS 38.101-1 Table 5.3.2-1, FR1).

    Parameters
    ----------
    bandwidth_mhz
        Channel bandwidth, MHz (5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 60, 70, 80, 90, 100).
    scs_khz
        Subcarrier spacing, kHz (15, 30 or 60). Broadcasts against ``bandwidth_mhz``.

    Returns
    -------
    int or numpy.ndarray of int
        Number of resource blocks; an ``int`` when both inputs are scalars.

    Raises
    ------
    ValueError
        For a combination the table does not have (for example 100 MHz at 15 kHz, or 5 MHz at
        60 kHz); the message names the combination.
    """
    bw, scs = np.broadcast_arrays(
        np.asarray(bandwidth_mhz, dtype=float), np.asarray(scs_khz, dtype=float)
    )
    out = np.empty(bw.shape, dtype=np.int64)
    pairs = np.stack([bw.ravel(), scs.ravel()], axis=1)
    uniq, inverse = np.unique(pairs, axis=0, return_inverse=True)
    values = np.empty(len(uniq), dtype=np.int64)
    for i, (b, s) in enumerate(uniq):
        values[i] = _lookup_n_rb(float(b), float(s))
    out.ravel()[:] = values[np.ravel(inverse)]
    return _out(out, bandwidth_mhz, scs_khz)


def _lookup_n_rb(bandwidth_mhz: float, scs_khz: float) -> int:
    row = NRB_FR1.get(int(scs_khz)) if float(scs_khz).is_integer() else None
    value = (
        row.get(int(bandwidth_mhz))
        if row is not None and float(bandwidth_mhz).is_integer()
        else None
    )
    if value is None:
        raise ValueError(
            f"TS 38.101-1 Table 5.3.2-1 has no N_RB for a {bandwidth_mhz:g} MHz channel at "
            f"{scs_khz:g} kHz subcarrier spacing (FR1: 15 kHz up to 50 MHz, 30 kHz 5-100 MHz, "
            f"60 kHz 10-100 MHz)"
        )
    return value


# ---------------------------------------------------------------------------------------------
# Power, noise, SINR
def rsrp_dbm(
    total_power_dbm: ArrayLike,
    bandwidth_mhz: ArrayLike,
    scs_khz: ArrayLike,
    gains_db: ArrayLike = 0.0,
    ssb_boost_db: ArrayLike = 0.0,
) -> Any:
    """SS-RSRP, the power of one resource element of the SS block, dBm.

    ``RSRP = P_total − 10·log10(12·N_RB) + ssb_boost_db + gains_db``.

    Assumptions: the transmitter spreads its total power evenly over all ``12·N_RB``
    subcarriers of the carrier, and the SSB resource elements carry the same energy per
    resource element as the rest (``ssb_boost_db = 0``, no SSB power boosting). A network that
    boosts the SSB (for example +3 dB) passes that as ``ssb_boost_db``.

    Parameters
    ----------
    total_power_dbm
        Total transmit power of the cell (all antenna ports together) at the antenna
        connector, dBm.
    bandwidth_mhz, scs_khz
        The carrier (see :func:`n_rb`).
    gains_db
        Everything between the connector and the UE, dB: antenna gains minus feeder losses
        minus path loss. The caller computes it (propagation and antenna models); the default 0
        gives the RSRP at the connector.
    ssb_boost_db
        SSB energy per resource element above the average, dB.

    Returns
    -------
    float or numpy.ndarray
        SS-RSRP in dBm, broadcast over the inputs.
    """
    n = np.asarray(n_rb(bandwidth_mhz, scs_khz), dtype=float)
    out = (
        np.asarray(total_power_dbm, dtype=float)
        - 10.0 * np.log10(SUBCARRIERS_PER_RB * n)
        + np.asarray(ssb_boost_db, dtype=float)
        + np.asarray(gains_db, dtype=float)
    )
    return _out(np.asarray(out), total_power_dbm, bandwidth_mhz, scs_khz, gains_db, ssb_boost_db)


def noise_per_re_dbm(scs_khz: ArrayLike, noise_figure_db: ArrayLike = 7.0) -> Any:
    """Thermal noise in one resource element (one subcarrier), dBm.

    ``N_RE = −174 dBm/Hz + 10·log10(SCS in Hz) + NF``: kT at 290 K over the subcarrier
    spacing, plus the UE noise figure (7 dB by default, a common FR1 handset assumption).
    It is the noise to compare with the per-resource-element RSRP.
    """
    scs = np.asarray(scs_khz, dtype=float)
    out = (
        THERMAL_NOISE_DBM_PER_HZ
        + 10.0 * np.log10(scs * 1e3)
        + np.asarray(noise_figure_db, dtype=float)
    )
    return _out(np.asarray(out), scs_khz, noise_figure_db)


def noise_dbm(
    bandwidth_mhz: ArrayLike, scs_khz: ArrayLike, noise_figure_db: ArrayLike = 7.0
) -> Any:
    """Thermal noise over the occupied bandwidth ``12·N_RB·SCS`` of a carrier, dBm.

    ``N = −174 dBm/Hz + 10·log10(12·N_RB·SCS in Hz) + NF``. Equal to
    :func:`noise_per_re_dbm` plus ``10·log10(12·N_RB)``, so total signal over total noise and
    RSRP over noise-per-RE give the same SNR.
    """
    n = np.asarray(n_rb(bandwidth_mhz, scs_khz), dtype=float)
    occupied_hz = SUBCARRIERS_PER_RB * n * np.asarray(scs_khz, dtype=float) * 1e3
    out = THERMAL_NOISE_DBM_PER_HZ + 10.0 * np.log10(occupied_hz) + np.asarray(noise_figure_db)
    return _out(np.asarray(out, dtype=float), bandwidth_mhz, scs_khz, noise_figure_db)


def sinr_db(
    signal_mw: ArrayLike,
    interference_mw: ArrayLike,
    noise_mw: ArrayLike,
    load: ArrayLike = 1.0,
) -> Any:
    """Signal to interference-plus-noise ratio, dB: ``S / (load·I + N)``.

    All three powers must be on the same basis (all per resource element, or all over the
    carrier) and in mW.

    Parameters
    ----------
    signal_mw
        Power received from the serving cell. Zero or NaN means "no signal": the SINR is NaN.
    interference_mw
        Sum of the powers received from the other co-channel cells *if they transmitted on
        every resource element*.
    noise_mw
        Thermal noise (see :func:`noise_per_re_dbm` / :func:`noise_dbm`, converted with
        :func:`dbm_to_mw`).
    load
        Cell load in [0, 1]: the fraction of the interferers' resource elements that carry
        data. The interference is scaled by it, so ``load=1`` is the fully loaded, worst case
        (every interferer transmits all the time) and ``load=0`` gives the SNR. One number for
        every interferer, or an array that broadcasts with ``interference_mw`` when the caller
        has already summed per-cell loads into it (then pass ``load=1``).

    Returns
    -------
    float or numpy.ndarray
        SINR in dB; NaN where there is no signal.

    Raises
    ------
    ValueError
        If a load is outside [0, 1] or a power is negative.
    """
    s = np.asarray(signal_mw, dtype=float)
    i = np.asarray(interference_mw, dtype=float)
    n = np.asarray(noise_mw, dtype=float)
    ld = np.asarray(load, dtype=float)
    if np.any((ld < 0) | (ld > 1)):
        raise ValueError("load must be within [0, 1]")
    if np.any(s < 0) or np.any(i < 0) or np.any(n < 0):
        raise ValueError("powers in mW cannot be negative")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = s / (ld * i + n)
        out = 10.0 * np.log10(ratio)
    out = np.where((s > 0) & np.isfinite(s), out, np.nan)
    return _out(np.asarray(out, dtype=float), signal_mw, interference_mw, noise_mw, load)


# ---------------------------------------------------------------------------------------------
# Throughput
def _resource_rate_mbps(
    n_prb: ArrayLike, scs_khz: ArrayLike, scaling_factor: ArrayLike, overhead: ArrayLike
) -> NDArray[np.float64]:
    """``10⁻⁶ · f · 12·N_PRB / T_s^μ · (1 − OH)``: Mbit/s per layer per bit/RE."""
    ts = np.asarray(symbol_duration_s(scs_khz), dtype=float)
    return np.asarray(
        1e-6
        * np.asarray(scaling_factor, dtype=float)
        * SUBCARRIERS_PER_RB
        * np.asarray(n_prb, dtype=float)
        / ts
        * (1.0 - np.asarray(overhead, dtype=float)),
        dtype=float,
    )


def peak_data_rate_mbps(
    n_prb: ArrayLike,
    scs_khz: ArrayLike,
    layers: ArrayLike = 4,
    modulation_order: ArrayLike = 8,
    scaling_factor: ArrayLike = 1.0,
    overhead: ArrayLike = OVERHEAD_DL_FR1,
) -> Any:
    """Approximate data rate of one carrier, Mbit/s (TS 38.306 §4.1.2).

    ``10⁻⁶ · v_layers · Q_m · f · R_max · 12·N_PRB / T_s^μ · (1 − OH)`` with
    ``R_max = 948/1024`` and ``T_s^μ = 10⁻³ / (14·2^μ)``. For carrier aggregation the
    standard sums this over the component carriers; do that by summing the results.

    Parameters
    ----------
    n_prb
        Resource blocks N_PRB^{BW,μ} of the carrier (see :func:`n_rb`).
    scs_khz
        Subcarrier spacing, kHz (gives μ).
    layers
        Maximum number of MIMO layers v.
    modulation_order
        Maximum modulation order Q_m (2 QPSK, 4 16QAM, 6 64QAM, 8 256QAM).
    scaling_factor
        f: 1, 0.8, 0.75 or 0.4.
    overhead
        OH: 0.14 FR1 downlink (default), 0.18 FR2 downlink, 0.08 FR1 uplink, 0.10 FR2 uplink.
    """
    out = (
        np.asarray(layers, dtype=float)
        * np.asarray(modulation_order, dtype=float)
        * R_MAX
        * _resource_rate_mbps(n_prb, scs_khz, scaling_factor, overhead)
    )
    return _out(np.asarray(out), n_prb, scs_khz, layers, modulation_order, scaling_factor, overhead)


def spectral_efficiency(
    sinr_db: ArrayLike,
    model: SpectralModel = "shannon",
    *,
    modulation_order: int = 8,
    alpha: float = SHANNON_ALPHA_DL,
    sinr_min_db: float = SHANNON_SINR_MIN_DB,
) -> Any:
    """Spectral efficiency per layer, bit per resource element (bit/s/Hz of subcarrier).

    Two mappings from the SINR of a resource element:

    ``"shannon"`` (default) — the attenuated and truncated Shannon bound of TR 36.942 A.2:
        0 for SINR < ``sinr_min_db`` (−10 dB); ``alpha·log2(1 + SINR)`` above it (α = 0.6 for
        the downlink); capped at the spectral efficiency of the highest MCS,
        ``Q_m · R_max`` = ``modulation_order · 948/1024``. Continuous above the threshold.
    ``"cqi"`` — the CQI table 5.2.2.1-2 of TS 38.214 (up to 64QAM): the efficiency of the
        highest CQI whose 10 %-BLER SINR threshold (:data:`CQI_TABLE_1_SINR_DB`, an assumption
        from LTE link-level results) the SINR reaches; 0 below CQI 1 (−6.7 dB). Entries with a
        modulation order above ``modulation_order`` are not used. A staircase.

    NaN in gives NaN out. Both mappings are non-decreasing in the SINR.

    Raises
    ------
    ValueError
        For an unknown model or a modulation order that is not 2, 4, 6 or 8.
    """
    if modulation_order not in (2, 4, 6, 8):
        raise ValueError(f"modulation order must be 2, 4, 6 or 8, not {modulation_order}")
    x = np.asarray(sinr_db, dtype=float)
    if model == "shannon":
        cap = modulation_order * R_MAX
        with np.errstate(over="ignore"):
            se = np.minimum(alpha * np.log2(1.0 + np.power(10.0, x / 10.0)), cap)
        se = np.where(x < sinr_min_db, 0.0, se)
    elif model == "cqi":
        rows = [
            (t, e.efficiency)
            for t, e in zip(CQI_TABLE_1_SINR_DB, CQI_TABLE_1, strict=True)
            if e.modulation_order <= modulation_order
        ]
        thresholds = np.array([t for t, _ in rows])
        eff = np.concatenate([[0.0], [e for _, e in rows]])
        idx = np.searchsorted(thresholds, np.nan_to_num(x, nan=-np.inf), side="right")
        se = eff[idx]
    else:
        raise ValueError(f"unknown spectral-efficiency model {model!r}: 'shannon' or 'cqi'")
    se = np.where(np.isnan(x), np.nan, se)
    return _out(np.asarray(se, dtype=float), sinr_db)


def downlink_throughput_mbps(
    sinr_db: ArrayLike,
    bandwidth_mhz: ArrayLike,
    scs_khz: ArrayLike,
    layers: ArrayLike = 4,
    *,
    modulation_order: int = 8,
    scaling_factor: ArrayLike = 1.0,
    overhead: ArrayLike = OVERHEAD_DL_FR1,
    model: SpectralModel = "shannon",
    alpha: float = SHANNON_ALPHA_DL,
    sinr_min_db: float = SHANNON_SINR_MIN_DB,
) -> Any:
    """Downlink throughput a UE could get at each pixel, Mbit/s.

    The TS 38.306 §4.1.2 formula with ``Q_m · R_max`` replaced by the per-layer spectral
    efficiency at the pixel's SINR (:func:`spectral_efficiency`)::

        10⁻⁶ · layers · f · SE(SINR) · 12·N_RB / T_s^μ · (1 − OH)

    so it never exceeds :func:`peak_data_rate_mbps` and reaches it once the SINR is high enough
    (with the default Shannon model, 0.6·log2(1+SINR) = 7.406 at about 37 dB).

    Assumptions: the UE has the whole carrier to itself (full buffer, no other users; divide
    by the number of active users for a fair share), every layer sees the same SINR and the
    rank is ``layers`` at every SINR — an upper bound where the channel would not support that
    many layers.

    Parameters
    ----------
    sinr_db
        SINR per resource element, dB; NaN (no signal) gives NaN.
    bandwidth_mhz, scs_khz
        The carrier (see :func:`n_rb`).
    layers
        MIMO layers (4 by default: 4x4 downlink on a 64T64R or 4T4R FR1 cell).
    modulation_order, scaling_factor, overhead
        As in :func:`peak_data_rate_mbps`.
    model, alpha, sinr_min_db
        As in :func:`spectral_efficiency`.
    """
    se = np.asarray(
        spectral_efficiency(
            sinr_db, model, modulation_order=modulation_order, alpha=alpha, sinr_min_db=sinr_min_db
        )
    )
    n = np.asarray(n_rb(bandwidth_mhz, scs_khz), dtype=float)
    out = (
        np.asarray(layers, dtype=float)
        * se
        * _resource_rate_mbps(n, scs_khz, scaling_factor, overhead)
    )
    return _out(np.asarray(out, dtype=float), sinr_db, bandwidth_mhz, scs_khz, layers)


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Carrier:
    """An FR1 NR carrier: channel bandwidth, subcarrier spacing and centre frequency.

    Raises ``ValueError`` on construction for a bandwidth/SCS pair that TS 38.101-1
    Table 5.3.2-1 does not have, or a frequency outside FR1 (0.41-7.125 GHz).
    """

    bandwidth_mhz: float
    scs_khz: float
    f_ghz: float

    def __post_init__(self) -> None:
        n_rb(self.bandwidth_mhz, self.scs_khz)  # validates the pair
        lo, hi = FR1_F_GHZ_RANGE
        if not lo <= self.f_ghz <= hi:
            raise ValueError(f"carrier frequency {self.f_ghz:g} GHz is outside FR1 ({lo}-{hi} GHz)")

    @property
    def n_rb(self) -> int:
        """Resource blocks (TS 38.101-1 Table 5.3.2-1)."""
        return int(n_rb(self.bandwidth_mhz, self.scs_khz))

    @property
    def n_subcarriers(self) -> int:
        """Occupied subcarriers, 12·N_RB."""
        return SUBCARRIERS_PER_RB * self.n_rb

    @property
    def numerology(self) -> int:
        """μ, with SCS = 15 kHz · 2^μ."""
        return int(numerology(self.scs_khz))

    @property
    def occupied_bandwidth_hz(self) -> float:
        """12·N_RB·SCS, Hz."""
        return self.n_subcarriers * self.scs_khz * 1e3

    @property
    def rsrp_offset_db(self) -> float:
        """``−10·log10(12·N_RB)``: add it to the total power (dBm) to get the power per RE."""
        return -10.0 * math.log10(self.n_subcarriers)

    def rsrp_dbm(
        self, total_power_dbm: ArrayLike, gains_db: ArrayLike = 0.0, ssb_boost_db: float = 0.0
    ) -> Any:
        """SS-RSRP on this carrier (see :func:`rsrp_dbm`)."""
        return rsrp_dbm(total_power_dbm, self.bandwidth_mhz, self.scs_khz, gains_db, ssb_boost_db)

    def noise_per_re_dbm(self, noise_figure_db: float = 7.0) -> float:
        """Thermal noise per resource element, dBm (see :func:`noise_per_re_dbm`)."""
        return float(noise_per_re_dbm(self.scs_khz, noise_figure_db))

    def noise_dbm(self, noise_figure_db: float = 7.0) -> float:
        """Thermal noise over the occupied bandwidth, dBm (see :func:`noise_dbm`)."""
        return float(noise_dbm(self.bandwidth_mhz, self.scs_khz, noise_figure_db))

    def peak_data_rate_mbps(
        self,
        layers: int = 4,
        modulation_order: int = 8,
        scaling_factor: float = 1.0,
        overhead: float = OVERHEAD_DL_FR1,
    ) -> float:
        """TS 38.306 §4.1.2 data rate of this carrier (see :func:`peak_data_rate_mbps`)."""
        return float(
            peak_data_rate_mbps(
                self.n_rb, self.scs_khz, layers, modulation_order, scaling_factor, overhead
            )
        )

    def downlink_throughput_mbps(self, sinr_db: ArrayLike, layers: int = 4, **kwargs: Any) -> Any:
        """Per-pixel downlink throughput (see :func:`downlink_throughput_mbps`)."""
        return downlink_throughput_mbps(sinr_db, self.bandwidth_mhz, self.scs_khz, layers, **kwargs)
