"""Path loss and LOS probability of 3GPP TR 38.901 §7.4 (UMa, UMi street canyon, RMa, InH-office),
the TR 37.885 V2V models, free space and Okumura-Hata / COST-231 Hata.

Every model is written once, as a Numba scalar kernel (``*_nb``), so the coverage engine calls
the same code inside its loops as the vectorised public API does here. The public functions
broadcast their arguments like NumPy ufuncs.

Conventions: distances in metres, heights in metres above ground, carrier frequency in GHz,
losses in dB. ``d3D = sqrt(d2D² + (h_BS − h_UT)²)``. NLOS is ``max(PL_LOS, PL'_NLOS)`` as the
standard defines it. Breakpoint distances use c = 299,792,458 m/s (``c_m_per_s`` can be given
to reproduce tools that used 3e8).

Applicability ranges (Table 7.4.1-1): 2-D distances below the model's minimum (10 m outdoors,
1 m 3-D for InH) are **clamped** to that minimum, so pixels next to a mast do not get a loss
below the model's domain; distances, heights and frequencies beyond the maxima are
**extrapolated** with the same formula and can be **flagged** with :func:`in_validity_range`.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

from mastplan.radio.constants import SPEED_OF_LIGHT_M_PER_S

MIN_DISTANCE_OUTDOOR_M = 10.0  # UMa, UMi and RMa formulas start at d2D = 10 m

# Model codes used by the Numba kernels.
UMA, UMI, RMA, INH, V2V_URBAN, V2V_HIGHWAY, FREE_SPACE = range(7)
MODELS: dict[str, int] = {
    "uma": UMA,
    "umi": UMI,
    "rma": RMA,
    "inh": INH,
    "v2v-urban": V2V_URBAN,
    "v2v-highway": V2V_HIGHWAY,
    "free-space": FREE_SPACE,
}
_ALIASES = {"umi-street-canyon": "umi", "inh-office": "inh", "fspl": "free-space"}

# Shadow-fading standard deviations, dB (Table 7.4.1-1); RMa LOS is 4 before the breakpoint
# and 6 after it.
SHADOW_SIGMA_DB: dict[tuple[str, bool], float] = {
    ("uma", True): 4.0, ("uma", False): 6.0,
    ("umi", True): 4.0, ("umi", False): 7.82,
    ("rma", True): 4.0, ("rma", False): 8.0,
    ("inh", True): 3.0, ("inh", False): 8.03,
}  # fmt: skip
RMA_LOS_SIGMA_AFTER_BREAKPOINT_DB = 6.0

# Shadow-fading decorrelation distances, m (Table 7.5-6 part 1 and 2, "SF" row).
SHADOW_DECORRELATION_M: dict[tuple[str, bool], float] = {
    ("uma", True): 37.0, ("uma", False): 50.0,
    ("umi", True): 10.0, ("umi", False): 13.0,
    ("rma", True): 37.0, ("rma", False): 120.0,
    ("inh", True): 10.0, ("inh", False): 6.0,
}  # fmt: skip

# Applicability ranges (Table 7.4.1-1): d2D (or d3D for InH) min/max in m, and for each model
# the d2D maximum of the LOS and NLOS formulas.
MIN_DISTANCE_M = {UMA: 10.0, UMI: 10.0, RMA: 10.0, INH: 1.0, V2V_URBAN: 0.0, V2V_HIGHWAY: 0.0,
                  FREE_SPACE: 0.0}  # fmt: skip
MAX_DISTANCE_M: dict[tuple[str, bool], float] = {
    ("uma", True): 5000.0, ("uma", False): 5000.0,
    ("umi", True): 5000.0, ("umi", False): 5000.0,
    ("rma", True): 10000.0, ("rma", False): 5000.0,
    ("inh", True): 150.0, ("inh", False): 150.0,
}  # fmt: skip
H_UT_RANGE_M = {"uma": (1.5, 22.5), "umi": (1.5, 22.5), "rma": (1.0, 10.0), "inh": (0.0, 10.0)}
H_BS_RANGE_M = {"uma": (25.0, 25.0), "umi": (10.0, 10.0), "rma": (10.0, 150.0), "inh": (3.0, 3.0)}
F_GHZ_RANGE = {"uma": (0.5, 100.0), "umi": (0.5, 100.0), "rma": (0.5, 30.0), "inh": (0.5, 100.0)}


def model_code(model: str) -> int:
    """The kernel code of a model name (``uma``, ``umi``, ``rma``, ``inh``, ...)."""
    name = _ALIASES.get(model.lower(), model.lower())
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(
            f"unknown propagation model {model!r}; use one of {sorted(MODELS)}"
        ) from None


# --- scalar kernels (TR 38.901 Table 7.4.1-1) ---


@numba.njit(cache=True, inline="always")
def _log10(x: float) -> float:
    return math.log10(x)


@numba.njit(cache=True)
def free_space_nb(d3d: float, f_ghz: float, c: float) -> float:
    """Free-space path loss 20·log10(4π·d·f/c)."""
    return 20.0 * _log10(4.0 * math.pi * d3d * f_ghz * 1e9 / c)


@numba.njit(cache=True)
def _rma_pl1(d: float, fc: float, h: float) -> float:
    return (
        20.0 * _log10(40.0 * math.pi * d * fc / 3.0)
        + min(0.03 * h**1.72, 10.0) * _log10(d)
        - min(0.044 * h**1.72, 14.77)
        + 0.002 * _log10(h) * d
    )


@numba.njit(cache=True)
def _rma_los(
    d2d: float, d3d: float, hbs: float, hut: float, fc: float, h: float, c: float
) -> float:
    d_bp = 2.0 * math.pi * hbs * hut * fc * 1e9 / c
    if d2d <= d_bp:
        return _rma_pl1(d3d, fc, h)
    return _rma_pl1(d_bp, fc, h) + 40.0 * _log10(d3d / d_bp)


@numba.njit(cache=True)
def _rma_nlos_prime(d3d: float, hbs: float, hut: float, fc: float, h: float, w: float) -> float:
    return (
        161.04
        - 7.1 * _log10(w)
        + 7.5 * _log10(h)
        - (24.37 - 3.7 * (h / hbs) ** 2) * _log10(hbs)
        + (43.42 - 3.1 * _log10(hbs)) * (_log10(d3d) - 3.0)
        + 20.0 * _log10(fc)
        - (3.2 * _log10(11.75 * hut) ** 2 - 4.97)
    )


@numba.njit(cache=True, error_model="numpy")
def path_loss_pair_nb(
    model: int,
    d2d: float,
    hbs: float,
    hut: float,
    fc: float,
    h_e: float,
    h_building: float,
    street_width: float,
    c: float,
) -> tuple[float, float]:
    """Deterministic LOS and NLOS path loss (dB) of one link, computed together (one log10 of
    d3D and of f_c serve both); ``model`` is a code from :data:`MODELS`. The NLOS value is
    already max(PL_LOS, PL'_NLOS)."""
    if model == UMA or model == UMI or model == RMA:  # noqa: SIM109 - plain compares for Numba
        d2d = max(d2d, MIN_DISTANCE_OUTDOOR_M)
    dh = hbs - hut
    d3d = math.sqrt(d2d * d2d + dh * dh)
    if model == INH:
        d3d = max(d3d, 1.0)
    lg_d = _log10(d3d)
    lg_f = _log10(fc)
    if model == UMA or model == UMI:  # noqa: SIM109
        d_bp = 4.0 * (hbs - h_e) * (hut - h_e) * fc * 1e9 / c
        if model == UMA:
            if d2d <= d_bp:
                los = 28.0 + 22.0 * lg_d + 20.0 * lg_f
            else:
                los = 28.0 + 40.0 * lg_d + 20.0 * lg_f - 9.0 * _log10(d_bp * d_bp + dh * dh)
            return los, max(los, 13.54 + 39.08 * lg_d + 20.0 * lg_f - 0.6 * (hut - 1.5))
        if d2d <= d_bp:
            los = 32.4 + 21.0 * lg_d + 20.0 * lg_f
        else:
            los = 32.4 + 40.0 * lg_d + 20.0 * lg_f - 9.5 * _log10(d_bp * d_bp + dh * dh)
        return los, max(los, 35.3 * lg_d + 22.4 + 21.3 * lg_f - 0.3 * (hut - 1.5))
    if model == RMA:
        los = _rma_los(d2d, d3d, hbs, hut, fc, h_building, c)
        return los, max(los, _rma_nlos_prime(d3d, hbs, hut, fc, h_building, street_width))
    if model == INH:
        los = 32.4 + 17.3 * lg_d + 20.0 * lg_f
        return los, max(los, 38.3 * lg_d + 17.30 + 24.9 * lg_f)
    if model == V2V_URBAN or model == V2V_HIGHWAY:  # noqa: SIM109 - TR 37.885 Table 6.2.1-1
        nlos = 36.85 + 30.0 * lg_d + 18.9 * lg_f
        if model == V2V_URBAN:
            return 38.77 + 16.7 * lg_d + 18.2 * lg_f, nlos
        return 32.4 + 20.0 * lg_d + 20.0 * lg_f, nlos
    fs = free_space_nb(d3d, fc, c)
    return fs, fs


@numba.njit(cache=True)
def path_loss_nb(
    model: int,
    d2d: float,
    hbs: float,
    hut: float,
    fc: float,
    los: bool,
    h_e: float,
    h_building: float,
    street_width: float,
    c: float,
) -> float:
    """Deterministic path loss (dB) of one link; ``model`` is a code from :data:`MODELS`."""
    pl_los, pl_nlos = path_loss_pair_nb(model, d2d, hbs, hut, fc, h_e, h_building, street_width, c)
    return pl_los if los else pl_nlos


@numba.njit(cache=True, parallel=True)
def _path_loss_many(
    model: int,
    d2d: np.ndarray,
    hbs: np.ndarray,
    hut: np.ndarray,
    fc: np.ndarray,
    los: np.ndarray,
    h_e: float,
    h_building: float,
    street_width: float,
    c: float,
) -> np.ndarray:
    out = np.empty(d2d.size)
    for i in numba.prange(d2d.size):
        out[i] = path_loss_nb(
            model, d2d[i], hbs[i], hut[i], fc[i], los[i], h_e, h_building, street_width, c
        )
    return out


def path_loss_db(
    model: str,
    d2d_m: Any,
    h_bs_m: Any,
    h_ut_m: Any,
    f_ghz: Any,
    los: Any,
    **model_params: float,
) -> np.ndarray:
    """Deterministic path loss of TR 38.901 Table 7.4.1-1 (shadow fading off).

    Parameters
    ----------
    model : {"uma", "umi", "rma", "inh", "v2v-urban", "v2v-highway", "free-space"}
        The scenario (``umi`` is UMi street canyon, ``inh`` InH-office).
    d2d_m, h_bs_m, h_ut_m, f_ghz, los : array_like
        2-D distance (m), base-station and user heights (m), carrier (GHz) and line of sight;
        broadcast against each other.
    **model_params
        ``h_e_m`` (UMa/UMi effective environment height, default 1 m), ``h_building_m`` (RMa
        average building height, default 5 m), ``street_width_m`` (RMa, default 20 m) and
        ``c_m_per_s`` (default 299,792,458).

    Returns
    -------
    ndarray
        Path loss in dB, of the broadcast shape.
    """
    unknown = set(model_params) - {"h_e_m", "h_building_m", "street_width_m", "c_m_per_s"}
    if unknown:
        raise TypeError(f"unknown model parameter(s): {', '.join(sorted(unknown))}")
    code = model_code(model)
    arrays = np.broadcast_arrays(
        np.asarray(d2d_m, dtype=float),
        np.asarray(h_bs_m, dtype=float),
        np.asarray(h_ut_m, dtype=float),
        np.asarray(f_ghz, dtype=float),
        np.asarray(los, dtype=bool),
    )
    shape = arrays[0].shape
    flat = [np.ascontiguousarray(a).ravel() for a in arrays]
    out = _path_loss_many(
        code, *flat,
        float(model_params.get("h_e_m", 1.0)),
        float(model_params.get("h_building_m", 5.0)),
        float(model_params.get("street_width_m", 20.0)),
        float(model_params.get("c_m_per_s", SPEED_OF_LIGHT_M_PER_S)),
    )  # fmt: skip
    return out.reshape(shape)


def free_space_path_loss_db(d3d_m: Any, f_ghz: Any) -> np.ndarray:
    """Free-space path loss 20·log10(4π·d·f/c) in dB."""
    d = np.asarray(d3d_m, dtype=float)
    f = np.asarray(f_ghz, dtype=float)
    return 20.0 * np.log10(4.0 * np.pi * d * f * 1e9 / SPEED_OF_LIGHT_M_PER_S)


def in_validity_range(
    model: str, d2d_m: Any, h_bs_m: Any, h_ut_m: Any, f_ghz: Any, los: Any
) -> np.ndarray:
    """True where the inputs lie inside the model's applicability ranges (Table 7.4.1-1).

    The path loss is still computed outside them (clamped below the minimum distance,
    extrapolated above the maxima); this is the flag for it.
    """
    name = _ALIASES.get(model.lower(), model.lower())
    if name not in H_UT_RANGE_M:
        raise ValueError(f"no applicability ranges for model {model!r}")
    d2d, hbs, hut, fc, los_b = np.broadcast_arrays(
        np.asarray(d2d_m, float),
        np.asarray(h_bs_m, float),
        np.asarray(h_ut_m, float),
        np.asarray(f_ghz, float),
        np.asarray(los, bool),
    )
    dist = np.sqrt(d2d**2 + (hbs - hut) ** 2) if name == "inh" else d2d
    dmax = np.where(los_b, MAX_DISTANCE_M[(name, True)], MAX_DISTANCE_M[(name, False)])
    ok = (dist >= MIN_DISTANCE_M[MODELS[name]]) & (dist <= dmax)
    lo, hi = H_UT_RANGE_M[name]
    ok &= (hut >= lo) & (hut <= hi)
    lo, hi = H_BS_RANGE_M[name]
    ok &= (hbs >= lo) & (hbs <= hi)
    lo, hi = F_GHZ_RANGE[name]
    return ok & (fc >= lo) & (fc <= hi)


# --- LOS probability (Table 7.4.2-1) ---


@numba.njit(cache=True, error_model="numpy")
def los_probability_nb(model: int, d2d: float, hut: float, open_office: bool) -> float:
    """LOS probability of one link (Table 7.4.2-1); ``model`` is a code from :data:`MODELS`."""
    if model == RMA:
        return 1.0 if d2d <= 10.0 else math.exp(-(d2d - 10.0) / 1000.0)
    if model == UMI:
        return 1.0 if d2d <= 18.0 else 18.0 / d2d + math.exp(-d2d / 36.0) * (1.0 - 18.0 / d2d)
    if model == UMA:
        if d2d <= 18.0:
            return 1.0
        base = 18.0 / d2d + math.exp(-d2d / 63.0) * (1.0 - 18.0 / d2d)
        if hut <= 13.0:
            return base  # C'(h_UT) = 0
        c_prime = ((hut - 13.0) / 10.0) ** 1.5
        return base * (1.0 + c_prime * 1.25 * (d2d / 100.0) ** 3 * math.exp(-d2d / 150.0))
    if model == INH and not open_office:
        if d2d <= 1.2:
            return 1.0
        if d2d < 6.5:
            return math.exp(-(d2d - 1.2) / 4.7)
        return math.exp(-(d2d - 6.5) / 32.6) * 0.32
    if model == INH:
        if d2d <= 5.0:
            return 1.0
        if d2d <= 49.0:
            return math.exp(-(d2d - 5.0) / 70.8)
        return math.exp(-(d2d - 49.0) / 211.7) * 0.54
    return 1.0  # V2V and free space: the caller decides LOS


@numba.njit(cache=True, parallel=True)
def _los_probability_many(
    model: int, d2d: np.ndarray, hut: np.ndarray, open_office: bool
) -> np.ndarray:
    out = np.empty(d2d.size)
    for i in numba.prange(d2d.size):
        out[i] = los_probability_nb(model, d2d[i], hut[i], open_office)
    return out


def los_probability(
    model: str, d2d_m: Any, h_ut_m: Any = 1.5, *, office: str = "mixed"
) -> np.ndarray:
    """Probability of line of sight (TR 38.901 Table 7.4.2-1).

    Parameters
    ----------
    model : {"uma", "umi", "rma", "inh"}
    d2d_m : array_like
        2-D (outdoor) distance in m.
    h_ut_m : array_like
        User height in m (only UMa depends on it).
    office : {"mixed", "open"}
        InH-office variant.
    """
    code = model_code(model)
    if code not in (UMA, UMI, RMA, INH) or office not in ("mixed", "open"):
        raise ValueError(f"no LOS probability for model {model!r} (office={office!r})")
    d, hut = np.broadcast_arrays(np.asarray(d2d_m, float), np.asarray(h_ut_m, float))
    out = _los_probability_many(
        code, np.ascontiguousarray(d).ravel(), np.ascontiguousarray(hut).ravel(), office == "open"
    )
    return out.reshape(d.shape)


def uma_h_e_probability_one_m(d2d_m: Any, h_ut_m: Any) -> np.ndarray:
    """Probability that UMa's effective environment height h_E is 1 m (TR 38.901 Note 1).

    h_E = 1 m with probability 1/(1 + C(d2D, h_UT)); otherwise it is drawn uniformly from
    {12, 15, ..., h_UT − 1.5}. For h_UT ≤ 13 m, C = 0 and h_E is always 1 m.
    """
    d, hut = np.broadcast_arrays(np.asarray(d2d_m, float), np.asarray(h_ut_m, float))
    g = np.where(d <= 18.0, 0.0, 5.0 / 4.0 * (d / 100.0) ** 3 * np.exp(-d / 150.0))
    c = np.where(hut < 13.0, 0.0, (np.clip(hut - 13.0, 0.0, None) / 10.0) ** 1.5 * g)
    return 1.0 / (1.0 + c)


# --- O2I building penetration (Table 7.4.3-1, 7.4.3-2) ---


def material_loss_db(material: str, f_ghz: Any) -> np.ndarray:
    """Penetration loss of one material (Table 7.4.3-1): glass, irr_glass, concrete, wood."""
    f = np.asarray(f_ghz, float)
    table = {
        "glass": lambda: 2.0 + 0.2 * f,
        "irr_glass": lambda: 23.0 + 0.3 * f,
        "concrete": lambda: 5.0 + 4.0 * f,
        "wood": lambda: 4.85 + 0.12 * f,
    }
    try:
        return np.asarray(table[material](), float)
    except KeyError:
        raise ValueError(f"unknown material {material!r}; use one of {sorted(table)}") from None


O2I_SIGMA_DB = {"low": 4.4, "high": 6.5}


def o2i_loss_db(loss_model: str, f_ghz: Any, d2d_in_m: Any = 0.0) -> np.ndarray:
    """Mean O2I building penetration loss PL_tw + PL_in (Table 7.4.3-2), without its σ_P.

    ``loss_model`` is ``"low"`` (30 % standard glass, 70 % concrete) or ``"high"`` (70 % IRR
    glass, 30 % concrete); the indoor loss is 0.5 dB per metre of ``d2d_in_m``.
    """
    f = np.asarray(f_ghz, float)
    if loss_model == "low":
        tw = 5.0 - 10.0 * np.log10(
            0.3 * 10 ** (-material_loss_db("glass", f) / 10)
            + 0.7 * 10 ** (-material_loss_db("concrete", f) / 10)
        )
    elif loss_model == "high":
        tw = 5.0 - 10.0 * np.log10(
            0.7 * 10 ** (-material_loss_db("irr_glass", f) / 10)
            + 0.3 * 10 ** (-material_loss_db("concrete", f) / 10)
        )
    else:
        raise ValueError(f"unknown O2I model {loss_model!r}; use 'low' or 'high'")
    return tw + 0.5 * np.asarray(d2d_in_m, float)


def draw_indoor_distance_m(model: str, size: Any, rng: np.random.Generator) -> np.ndarray:
    """Indoor 2-D distance d2D-in: min of two U(0, 25) for UMa/UMi, min of two U(0, 10) for RMa."""
    name = _ALIASES.get(model.lower(), model.lower())
    top = {"uma": 25.0, "umi": 25.0, "rma": 10.0}.get(name)
    if top is None:
        raise ValueError(f"no indoor-distance rule for model {model!r}")
    return np.minimum(rng.uniform(0, top, size), rng.uniform(0, top, size))


# --- shadow fading ---


def shadow_sigma_db(
    model: str,
    los: Any,
    d2d_m: Any = None,
    h_bs_m: float = 35.0,
    h_ut_m: float = 1.5,
    f_ghz: float = 3.5,
) -> np.ndarray:
    """Shadow-fading σ (dB) per Table 7.4.1-1 (RMa LOS: 4 dB before the breakpoint, 6 after)."""
    name = _ALIASES.get(model.lower(), model.lower())
    los_b = np.asarray(los, bool)
    sigma = np.where(los_b, SHADOW_SIGMA_DB[(name, True)], SHADOW_SIGMA_DB[(name, False)])
    if name == "rma" and d2d_m is not None:
        d_bp = 2 * np.pi * h_bs_m * h_ut_m * f_ghz * 1e9 / SPEED_OF_LIGHT_M_PER_S
        sigma = np.where(
            los_b & (np.asarray(d2d_m, float) > d_bp), RMA_LOS_SIGMA_AFTER_BREAKPOINT_DB, sigma
        )
    return np.asarray(sigma, float)


def correlated_shadowing_db(
    shape: tuple[int, int], resolution_m: float, sigma_db: float, decorrelation_m: float, seed: int
) -> np.ndarray:
    """A seeded map of log-normal shadow fading with exponential spatial correlation.

    The field is Gaussian with standard deviation ``sigma_db`` and autocorrelation
    exp(−Δd / d_cor) (the model of TR 38.901 §7.6.3.1 / WINNER), made by filtering white noise
    with the square root of the exponential covariance's 2-D spectrum, exp: S(k) ∝ (1 + (2π k
    d_cor)²)^(−3/2), on a grid padded to avoid wrap-around. Reproducible from ``seed``.
    """
    ny, nx = shape
    pad = math.ceil(4 * decorrelation_m / resolution_m)
    py, px = ny + pad, nx + pad
    rng = np.random.default_rng(seed)
    white = rng.standard_normal((py, px))
    ky = np.fft.fftfreq(py, d=resolution_m)[:, None]
    kx = np.fft.rfftfreq(px, d=resolution_m)[None, :]
    k2 = kx**2 + ky**2
    spectrum = (1.0 + (2 * np.pi * decorrelation_m) ** 2 * k2) ** -1.5
    field = np.fft.irfft2(np.fft.rfft2(white) * np.sqrt(spectrum), s=(py, px))[:ny, :nx]
    # exact variance of the filtered field: mean of the spectrum over all frequencies
    full = (
        1.0
        + (2 * np.pi * decorrelation_m) ** 2
        * (np.fft.fftfreq(px, d=resolution_m)[None, :] ** 2 + ky**2)
    ) ** -1.5
    return field * (sigma_db / math.sqrt(full.mean()))


# --- Okumura-Hata / COST-231 Hata ---


def hata_path_loss_db(
    d_km: Any,
    f_mhz: Any,
    h_bs_m: Any,
    h_ut_m: Any,
    *,
    environment: str = "urban",
    large_city: bool = True,
) -> np.ndarray:
    """Okumura-Hata (150–1500 MHz) and its COST-231 extension (1500–2000 MHz), textbook form.

    ``environment`` is ``urban``, ``suburban`` or ``open``; ``large_city`` selects the mobile
    antenna correction a(h_m) = 3.2·(log10(11.75 h_m))² − 4.97 (large city, f ≥ 400 MHz) instead
    of the small/medium-city one. COST-231 adds C_m = 3 dB in large-city urban areas.
    Valid for 1–20 km, h_BS 30–200 m, h_UT 1–10 m; used here for the 700 MHz band and comparison.
    """
    d, f, hb, hm = np.broadcast_arrays(
        np.asarray(d_km, float),
        np.asarray(f_mhz, float),
        np.asarray(h_bs_m, float),
        np.asarray(h_ut_m, float),
    )
    lf = np.log10(f)
    if large_city:
        a_hm = np.where(
            f >= 400, 3.2 * np.log10(11.75 * hm) ** 2 - 4.97, 8.29 * np.log10(1.54 * hm) ** 2 - 1.1
        )
    else:
        a_hm = (1.1 * lf - 0.7) * hm - (1.56 * lf - 0.8)
    slope = (44.9 - 6.55 * np.log10(hb)) * np.log10(d)
    okumura = 69.55 + 26.16 * lf - 13.82 * np.log10(hb) - a_hm + slope
    cost = 46.3 + 33.9 * lf - 13.82 * np.log10(hb) - a_hm + slope
    if environment == "urban":
        return np.where(f <= 1500, okumura, cost + (3.0 if large_city else 0.0))
    if environment == "suburban":
        return np.where(f <= 1500, okumura - 2 * np.log10(f / 28) ** 2 - 5.4, cost)
    if environment == "open":
        return np.where(f <= 1500, okumura - 4.78 * lf**2 + 18.33 * lf - 40.94, cost)
    raise ValueError(f"unknown environment {environment!r}; use urban, suburban or open")


# --- spatially correlated shadow fading at any coordinate (for tiled maps) ---

SHADOW_COMPONENTS = 64  # cosines per field: enough for a Gaussian-looking field


def shadowing_components(
    n_fields: int, decorrelation_m: float, seed: int, components: int = SHADOW_COMPONENTS
) -> np.ndarray:
    """Random spectral components of ``n_fields`` independent shadow-fading fields.

    Each field is Σ_k √(2/K)·cos(2π(u_k·x + v_k·y) + φ_k) (unit variance), a sum of cosines
    whose spatial frequencies are drawn from the 2-D spectrum of the exponential correlation
    exp(−Δd/d_cor) — the radial frequency has the closed-form quantile
    k = √((1 − q)^−2 − 1) / (2π·d_cor) — so the field has that correlation in expectation.
    Unlike :func:`correlated_shadowing_db` it can be evaluated at any coordinate, so tiles
    computed apart agree at their seams. Returns an array (n_fields, K, 3): u, v, φ.
    """
    rng = np.random.default_rng(seed)
    q = rng.uniform(0.0, 1.0, (n_fields, components))
    k = np.sqrt(1.0 / (1.0 - q) ** 2 - 1.0) / (2.0 * np.pi * decorrelation_m)
    angle = rng.uniform(0.0, 2.0 * np.pi, (n_fields, components))
    phase = rng.uniform(0.0, 2.0 * np.pi, (n_fields, components))
    return np.stack([k * np.cos(angle), k * np.sin(angle), phase], axis=-1)


@numba.njit(cache=True)
def shadowing_at_nb(components: np.ndarray, field: int, x: float, y: float) -> float:
    """Unit-variance value of shadow-fading field ``field`` at (x, y) metres."""
    total = 0.0
    n = components.shape[1]
    for i in range(n):
        total += math.cos(
            2.0 * math.pi * (components[field, i, 0] * x + components[field, i, 1] * y)
            + components[field, i, 2]
        )
    return total * math.sqrt(2.0 / n)


@numba.njit(cache=True, parallel=True)
def _shadowing_many(components: np.ndarray, field: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.empty(x.size)
    for i in numba.prange(x.size):
        out[i] = shadowing_at_nb(components, field, x[i], y[i])
    return out


def shadowing_db(
    components: np.ndarray, field: int, x_m: Any, y_m: Any, sigma_db: float
) -> np.ndarray:
    """Shadow fading (dB) of one field at the given coordinates, standard deviation ``sigma_db``."""
    x, y = np.broadcast_arrays(np.asarray(x_m, float), np.asarray(y_m, float))
    out = _shadowing_many(
        components, int(field), np.ascontiguousarray(x).ravel(), np.ascontiguousarray(y).ravel()
    )
    return sigma_db * out.reshape(x.shape)
