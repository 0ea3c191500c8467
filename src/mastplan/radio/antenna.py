"""Base-station antennas: the TR 38.901 element, sector geometry, massive-MIMO panels and
imported (MSI/Planet) patterns.

Pure computation: arrays in, arrays out. The only files read are the package's own pattern
library (``mastplan/radio/patterns/*.msi``, through :mod:`importlib.resources`).

Every gain is written once, as a Numba scalar kernel (``*_nb``, plain float arguments), so the
coverage engine calls the same code inside its sector × pixel loops as the vectorised public
functions here, which broadcast their arguments like NumPy ufuncs.

Conventions (the full statement, with the formulas, is ``docs/antennas.md``):

* Global frame: x east, y north, z up; ``dx_m, dy_m, dz_m`` go from the antenna to the
  receiver.
* ``azimuth_deg``: sector boresight, clockwise from north (0 = north, 90 = east), as planners
  write it.
* Tilts: positive is *down* (below the horizon). Mechanical tilt rotates the antenna's local
  coordinate system (TR 38.901 §7.1.3, rotation β = downtilt); electrical tilt moves the beam
  inside that system.
* Local angles (TR 38.901 §7.1): zenith angle θ' (0 = up, 90 = boresight plane, 180 = down) and
  azimuth φ' measured counter-clockwise from boresight seen from above, in (−180, 180].
* Pattern (MSI) angles: azimuth offset clockwise from boresight, elevation offset positive
  *above* boresight; the MSI vertical cut itself counts 0 = horizon, positive downwards.
* Gains in dBi, attenuations in dB (positive numbers).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, NamedTuple

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "ANALYTIC_ELEMENT_NAMES",
    "ARRAY_FACTOR_FLOOR_DB",
    "CALIBRATION_ELECTRICAL_TILT_DEG",
    "DBD_TO_DBI",
    "TR38901_A_MAX_DB",
    "TR38901_CALIBRATION_PANEL",
    "TR38901_G_MAX_DBI",
    "TR38901_PHI_3DB_DEG",
    "TR38901_SLA_V_DB",
    "TR38901_THETA_3DB_DEG",
    "AntennaPattern",
    "ArrayConfig",
    "MsiParseError",
    "PatternArrays",
    "array_factor_db_nb",
    "array_gain_dbi",
    "array_gain_dbi_nb",
    "array_sector_gain_dbi_nb",
    "best_beam_gain_dbi",
    "best_beam_gain_dbi_nb",
    "element_gain_dbi",
    "element_gain_dbi_nb",
    "generate_library_patterns",
    "list_patterns",
    "load_pattern",
    "make_codebook",
    "parse_msi",
    "pattern_gain_dbi_nb",
    "pattern_sector_gain_dbi_nb",
    "sector_angles",
    "sector_angles_nb",
    "sector_gain_dbi",
    "sector_gain_dbi_nb",
    "sector_gain_trig_dbi_nb",
    "write_msi",
]

# --- TR 38.901 Table 7.3-1: radiation power pattern of a single antenna element ---
TR38901_THETA_3DB_DEG = 65.0  # vertical half-power beamwidth θ_3dB
TR38901_PHI_3DB_DEG = 65.0  # horizontal half-power beamwidth φ_3dB
TR38901_SLA_V_DB = 30.0  # side-lobe level limit of the vertical cut
TR38901_A_MAX_DB = 30.0  # front-to-back ratio A_max
TR38901_G_MAX_DBI = 8.0  # maximum directional gain of an element G_E,max

DBD_TO_DBI = 2.15  # gain of a half-wave dipole over isotropic, dB

#: Pattern names that :func:`sector_gain_dbi` maps to the analytic Table 7.3-1 element (the
#: registry stores ``"tr38901-element"``); the library file of that name is its tabulation.
ANALYTIC_ELEMENT_NAMES = frozenset({"tr38901", "38.901", "tr38901-element"})

# Numerical guard of the array factor: |Σ w·v|² is never taken below −60 dB, so exact nulls
# give a finite gain (a guard, not a physical model; real panels never null that deep).
ARRAY_FACTOR_FLOOR_DB = -60.0
_ARRAY_FACTOR_FLOOR_LIN = 10.0 ** (ARRAY_FACTOR_FLOOR_DB / 10.0)

FloatOrArray = Any  # a Python float for scalar inputs, else an ndarray of the broadcast shape


# =============================================================================================
# Scalar Numba kernels
# =============================================================================================


@numba.njit(cache=True, fastmath=False)
def _wrap180_nb(angle_deg: float) -> float:
    """An angle in [−180, 180)."""
    if -180.0 <= angle_deg < 180.0:  # the usual case (angles from atan2): no division
        return angle_deg
    return (angle_deg + 180.0) % 360.0 - 180.0


@numba.njit(cache=True, fastmath=False)
def _element_att_db_nb(theta_deg: float, phi_deg: float, etilt_deg: float) -> float:
    """Attenuation −A(θ'', φ'') of Table 7.3-1 (positive dB), vertical cut centred at
    90° + ``etilt_deg``."""
    phi = _wrap180_nb(phi_deg)
    a_v = 12.0 * ((theta_deg - 90.0 - etilt_deg) / TR38901_THETA_3DB_DEG) ** 2
    if a_v > TR38901_SLA_V_DB:
        a_v = TR38901_SLA_V_DB
    a_h = 12.0 * (phi / TR38901_PHI_3DB_DEG) ** 2
    if a_h > TR38901_A_MAX_DB:
        a_h = TR38901_A_MAX_DB
    a = a_v + a_h
    if a > TR38901_A_MAX_DB:
        a = TR38901_A_MAX_DB
    return a


@numba.njit(cache=True, fastmath=False)
def element_gain_dbi_nb(theta_deg: float, phi_deg: float) -> float:
    """Gain (dBi) of the TR 38.901 Table 7.3-1 element in its local coordinate system.

    ``G = G_E,max − min(−(A_V + A_H), A_max)`` with ``A_V = −min(12((θ−90)/θ_3dB)², SLA_V)``
    and ``A_H = −min(12(φ/φ_3dB)², A_max)``; θ_3dB = φ_3dB = 65°, SLA_V = A_max = 30 dB,
    G_E,max = 8 dBi. ``theta_deg`` is the zenith angle (90 = horizon of the element),
    ``phi_deg`` the azimuth from boresight (wrapped to [−180, 180)).
    """
    return TR38901_G_MAX_DBI - _element_att_db_nb(theta_deg, phi_deg, 0.0)


@numba.njit(cache=True, fastmath=False)
def sector_angles_nb(
    dx: float, dy: float, dz: float, azimuth_deg: float, mech_tilt_deg: float
) -> tuple[float, float]:
    """Local angles (θ', φ') in degrees of the direction (dx, dy, dz) seen by a sector.

    The local coordinate system is the global one rotated by the bearing α = 90° −
    ``azimuth_deg`` about z and by the downtilt β = ``mech_tilt_deg`` about the new y axis
    (TR 38.901 §7.1.3, eq. 7.1-7/7.1-8 with slant γ = 0). θ' is the local zenith angle
    (90 = boresight plane), φ' the local azimuth, counter-clockwise from boresight seen from
    above, in (−180, 180]. A zero vector gives (0, 0).
    """
    az = math.radians(azimuth_deg)
    beta = math.radians(mech_tilt_deg)
    return sector_angles_trig_nb(
        dx, dy, dz, math.sin(az), math.cos(az), math.sin(beta), math.cos(beta)
    )


@numba.njit(cache=True, fastmath=False, inline="always")
def _local_frame_nb(
    dx: float, dy: float, dz: float, sin_az: float, cos_az: float, sin_tilt: float, cos_tilt: float
) -> tuple[float, float, float]:
    """(x', y', z') of the direction in the sector's local frame: x' on the tilted boresight,
    y' to its left (counter-clockwise seen from above), z' up (TR 38.901 §7.1.3)."""
    forward = dx * sin_az + dy * cos_az  # along the horizontal boresight
    left = -dx * cos_az + dy * sin_az  # 90° counter-clockwise from it
    return cos_tilt * forward - sin_tilt * dz, left, sin_tilt * forward + cos_tilt * dz


@numba.njit(cache=True, fastmath=False, inline="always", error_model="numpy")
def sector_angles_trig_nb(
    dx: float,
    dy: float,
    dz: float,
    sin_az: float,
    cos_az: float,
    sin_tilt: float,
    cos_tilt: float,
) -> tuple[float, float]:
    """:func:`sector_angles_nb` with the sines and cosines of azimuth and mechanical tilt given,
    so a loop over many receivers of one sector computes them once."""
    x_l, left, z_l = _local_frame_nb(dx, dy, dz, sin_az, cos_az, sin_tilt, cos_tilt)
    theta = math.degrees(math.atan2(math.sqrt(x_l * x_l + left * left), z_l))
    phi = math.degrees(math.atan2(left, x_l))
    return theta, phi


@numba.njit(cache=True, fastmath=False)
def sector_gain_dbi_nb(
    dx: float,
    dy: float,
    dz: float,
    azimuth_deg: float,
    mech_tilt_deg: float,
    elec_tilt_deg: float,
) -> float:
    """Gain (dBi) of a sector with the TR 38.901 element towards (dx, dy, dz).

    Mechanical tilt rotates the local coordinate system (:func:`sector_angles_nb`); electrical
    tilt centres the element's vertical cut at θ' = 90° + ``elec_tilt_deg`` (single-element
    model of an electrically tilted antenna).
    """
    az = math.radians(azimuth_deg)
    beta = math.radians(mech_tilt_deg)
    return sector_gain_trig_dbi_nb(
        dx, dy, dz, math.sin(az), math.cos(az), math.sin(beta), math.cos(beta), elec_tilt_deg
    )


# Where the horizontal cut alone reaches A_max (|φ'| ≥ φ_3dB·√(A_max/12) ≈ 102.8°), the
# element's attenuation is A_max whatever θ' is: cos φ' at that angle.
_COS_PHI_AT_A_MAX = math.cos(math.radians(TR38901_PHI_3DB_DEG * math.sqrt(TR38901_A_MAX_DB / 12.0)))


@numba.njit(cache=True, fastmath=False, inline="always", error_model="numpy")
def sector_gain_trig_dbi_nb(
    dx: float,
    dy: float,
    dz: float,
    sin_az: float,
    cos_az: float,
    sin_tilt: float,
    cos_tilt: float,
    elec_tilt_deg: float,
) -> float:
    """:func:`sector_gain_dbi_nb` with the sines and cosines of azimuth and mechanical tilt
    given (a loop over many receivers of one sector computes them once).

    Behind the sector, where the horizontal cut alone reaches A_max, the gain is
    G_E,max − A_max without computing the angles (two ``atan2`` saved for ~40 % of a map).
    """
    x_l, left, z_l = _local_frame_nb(dx, dy, dz, sin_az, cos_az, sin_tilt, cos_tilt)
    rho = math.sqrt(x_l * x_l + left * left)
    if x_l < _COS_PHI_AT_A_MAX * rho:  # cos φ' < cos φ'_sat: |φ'| beyond the A_max angle
        return TR38901_G_MAX_DBI - TR38901_A_MAX_DB
    theta = math.degrees(math.atan2(rho, z_l))
    phi = math.degrees(math.atan2(left, x_l))
    return TR38901_G_MAX_DBI - _element_att_db_nb(theta, phi, elec_tilt_deg)


@numba.njit(cache=True, fastmath=False)
def _dirichlet_power_nb(x: float, n: float) -> float:
    """|Σ_{k=0}^{n−1} exp(j·k·x)|² = sin²(n·x/2) / sin²(x/2) (n² where sin(x/2) = 0)."""
    s = math.sin(0.5 * x)
    if abs(s) < 1e-12:
        return n * n
    t = math.sin(0.5 * n * x)
    return (t * t) / (s * s)


@numba.njit(cache=True, fastmath=False)
def array_factor_db_nb(
    theta_local_deg: float,
    phi_local_deg: float,
    m_rows: float,
    n_cols: float,
    dv: float,
    dh: float,
    beam_tilt_deg: float,
    beam_az_deg: float,
) -> float:
    """Array factor 10·log10|Σ_m Σ_n w_m,n · v_m,n|² (dB) of an M×N uniform planar array.

    Elements lie in the local y'-z' plane (rows along z', columns along y', spacings ``dv``,
    ``dh`` in wavelengths). Response ``v = exp(j2π(m·dv·cos θ + n·dh·sin θ·sin φ))``, weights
    ``w = exp(−j2π(m·dv·cos θ_s + n·dh·sin θ_s·sin φ_s)) / √(MN)`` with θ_s = 90° +
    ``beam_tilt_deg`` and φ_s = ``beam_az_deg`` (local, counter-clockwise). The double sum
    factorises into two Dirichlet kernels. Floored at :data:`ARRAY_FACTOR_FLOOR_DB`.
    """
    th = math.radians(theta_local_deg)
    ph = math.radians(phi_local_deg)
    ths = math.radians(90.0 + beam_tilt_deg)
    phs = math.radians(beam_az_deg)
    a = 2.0 * math.pi * dv * (math.cos(th) - math.cos(ths))
    b = 2.0 * math.pi * dh * (math.sin(th) * math.sin(ph) - math.sin(ths) * math.sin(phs))
    p = _dirichlet_power_nb(a, m_rows) * _dirichlet_power_nb(b, n_cols) / (m_rows * n_cols)
    if not p >= _ARRAY_FACTOR_FLOOR_LIN:  # also catches NaN
        if p != p:
            return math.nan
        p = _ARRAY_FACTOR_FLOOR_LIN
    return 10.0 * math.log10(p)


@numba.njit(cache=True, fastmath=False)
def array_gain_dbi_nb(
    theta_local_deg: float,
    phi_local_deg: float,
    m_rows: float,
    n_cols: float,
    dv: float,
    dh: float,
    beam_tilt_deg: float,
    beam_az_deg: float,
) -> float:
    """Gain (dBi) of one beam of an M×N panel of TR 38.901 elements.

    Element gain (Table 7.3-1, not electrically tilted: the tilt is the beam steering) plus
    :func:`array_factor_db_nb`. At broadside with 0.5λ spacing and no steering this is
    8 + 10·log10(MN) dBi.
    """
    return element_gain_dbi_nb(theta_local_deg, phi_local_deg) + array_factor_db_nb(
        theta_local_deg, phi_local_deg, m_rows, n_cols, dv, dh, beam_tilt_deg, beam_az_deg
    )


@numba.njit(cache=True, fastmath=False)
def array_sector_gain_dbi_nb(
    dx: float,
    dy: float,
    dz: float,
    azimuth_deg: float,
    mech_tilt_deg: float,
    m_rows: float,
    n_cols: float,
    dv: float,
    dh: float,
    beam_tilt_deg: float,
    beam_az_deg: float,
) -> float:
    """Gain (dBi) of one beam of a panel sector towards (dx, dy, dz) (see
    :func:`sector_angles_nb` and :func:`array_gain_dbi_nb`)."""
    theta, phi = sector_angles_nb(dx, dy, dz, azimuth_deg, mech_tilt_deg)
    return array_gain_dbi_nb(theta, phi, m_rows, n_cols, dv, dh, beam_tilt_deg, beam_az_deg)


@numba.njit(cache=True, fastmath=False)
def _best_beam_nb(
    theta_local_deg: float,
    phi_local_deg: float,
    m_rows: float,
    n_cols: float,
    dv: float,
    dh: float,
    beam_tilts_deg: np.ndarray,
    beam_azs_deg: np.ndarray,
) -> tuple[float, int]:
    best = -math.inf
    best_k = -1
    for k in range(beam_tilts_deg.shape[0]):
        af = array_factor_db_nb(
            theta_local_deg,
            phi_local_deg,
            m_rows,
            n_cols,
            dv,
            dh,
            beam_tilts_deg[k],
            beam_azs_deg[k],
        )
        if af > best:
            best = af
            best_k = k
    if best_k < 0:
        return math.nan, -1
    return element_gain_dbi_nb(theta_local_deg, phi_local_deg) + best, best_k


@numba.njit(cache=True, fastmath=False)
def best_beam_gain_dbi_nb(
    theta_local_deg: float,
    phi_local_deg: float,
    m_rows: float,
    n_cols: float,
    dv: float,
    dh: float,
    beam_tilts_deg: np.ndarray,
    beam_azs_deg: np.ndarray,
) -> float:
    """Largest :func:`array_gain_dbi_nb` over a codebook given as two equal-length arrays of
    beam tilts and beam azimuths (degrees). NaN for an empty codebook or NaN angles."""
    g, _ = _best_beam_nb(
        theta_local_deg, phi_local_deg, m_rows, n_cols, dv, dh, beam_tilts_deg, beam_azs_deg
    )
    return g


@numba.njit(cache=True, fastmath=False)
def _interp_circular_nb(table: np.ndarray, angle_deg: float) -> float:
    """Linear interpolation in a table sampled at 0, 360/n, ... degrees, periodic in 360°."""
    if not math.isfinite(angle_deg):
        return math.nan
    n = table.shape[0]
    step = 360.0 / n
    x = (angle_deg % 360.0) / step
    i = math.floor(x)
    f = x - i
    if i >= n:  # (−tiny) % 360 rounds to 360.0
        i -= n
    j = i + 1
    if j >= n:
        j -= n
    return table[i] * (1.0 - f) + table[j] * f


@numba.njit(cache=True, fastmath=False)
def pattern_gain_dbi_nb(
    horizontal_att_db: np.ndarray,
    vertical_att_db: np.ndarray,
    peak_gain_dbi: float,
    floor_att_db: float,
    azimuth_off_deg: float,
    elevation_off_deg: float,
    tilt_shift_deg: float,
) -> float:
    """Gain (dBi) of a two-cut (MSI) pattern by the summing method.

    ``A = clip(A_H(az) + A_V(v − shift) − c, 0, floor)`` and ``G = peak − A``, where ``az`` is
    the azimuth offset (clockwise from boresight, wrapped to [−180, 180)), ``v`` the MSI
    vertical angle of the direction (0 = horizon, positive down): the depression in the front
    hemisphere (|az| ≤ 90°), 180° − depression behind. ``c`` is the attenuation both cuts
    share where they cross on that side — ``min(A_H(0), A_V(−shift))`` in front,
    ``min(A_H(180), A_V(180 − shift))`` behind — so it is not counted twice (the front-to-back
    ratio stays the front-to-back ratio). ``shift`` rotates the vertical cut downwards (an
    electrical-tilt adjustment); ``floor`` is the deepest value in the cuts. Cuts are tables
    over [0, 360) interpolated linearly; elevation is clamped to ±90°.
    """
    if not (math.isfinite(azimuth_off_deg) and math.isfinite(elevation_off_deg)):
        return math.nan
    az = _wrap180_nb(azimuth_off_deg)
    el = elevation_off_deg
    if el > 90.0:
        el = 90.0
    elif el < -90.0:
        el = -90.0
    depression = -el
    if abs(az) <= 90.0:
        v = depression
        c = min(horizontal_att_db[0], _interp_circular_nb(vertical_att_db, -tilt_shift_deg))
    else:
        v = 180.0 - depression
        c = min(
            _interp_circular_nb(horizontal_att_db, 180.0),
            _interp_circular_nb(vertical_att_db, 180.0 - tilt_shift_deg),
        )
    a = (
        _interp_circular_nb(horizontal_att_db, az)
        + _interp_circular_nb(vertical_att_db, v - tilt_shift_deg)
        - c
    )
    if a > floor_att_db:
        a = floor_att_db
    if a < 0.0:
        a = 0.0
    return peak_gain_dbi - a


@numba.njit(cache=True, fastmath=False)
def pattern_sector_gain_dbi_nb(
    horizontal_att_db: np.ndarray,
    vertical_att_db: np.ndarray,
    peak_gain_dbi: float,
    floor_att_db: float,
    dx: float,
    dy: float,
    dz: float,
    azimuth_deg: float,
    mech_tilt_deg: float,
    tilt_shift_deg: float,
) -> float:
    """Gain (dBi) of a sector with a two-cut pattern towards (dx, dy, dz): local angles of
    :func:`sector_angles_nb`, then :func:`pattern_gain_dbi_nb` with azimuth offset −φ' and
    elevation offset 90° − θ'."""
    theta, phi = sector_angles_nb(dx, dy, dz, azimuth_deg, mech_tilt_deg)
    return pattern_gain_dbi_nb(
        horizontal_att_db,
        vertical_att_db,
        peak_gain_dbi,
        floor_att_db,
        -phi,
        90.0 - theta,
        tilt_shift_deg,
    )


# --- loops behind the vectorised API (they call the scalar kernels above) ---


@numba.njit(cache=True, fastmath=False)
def _element_loop(theta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    out = np.empty(theta.size)
    for i in range(theta.size):
        out[i] = element_gain_dbi_nb(theta[i], phi[i])
    return out


@numba.njit(cache=True, fastmath=False)
def _angles_loop(
    dx: np.ndarray, dy: np.ndarray, dz: np.ndarray, az: np.ndarray, mt: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    theta = np.empty(dx.size)
    phi = np.empty(dx.size)
    for i in range(dx.size):
        theta[i], phi[i] = sector_angles_nb(dx[i], dy[i], dz[i], az[i], mt[i])
    return theta, phi


@numba.njit(cache=True, fastmath=False)
def _sector_element_loop(
    dx: np.ndarray,
    dy: np.ndarray,
    dz: np.ndarray,
    az: np.ndarray,
    mt: np.ndarray,
    et: np.ndarray,
) -> np.ndarray:
    out = np.empty(dx.size)
    for i in range(dx.size):
        out[i] = sector_gain_dbi_nb(dx[i], dy[i], dz[i], az[i], mt[i], et[i])
    return out


@numba.njit(cache=True, fastmath=False)
def _sector_array_loop(
    dx: np.ndarray,
    dy: np.ndarray,
    dz: np.ndarray,
    az: np.ndarray,
    mt: np.ndarray,
    et: np.ndarray,
    m_rows: float,
    n_cols: float,
    dv: float,
    dh: float,
) -> np.ndarray:
    out = np.empty(dx.size)
    for i in range(dx.size):
        out[i] = array_sector_gain_dbi_nb(
            dx[i], dy[i], dz[i], az[i], mt[i], m_rows, n_cols, dv, dh, et[i], 0.0
        )
    return out


@numba.njit(cache=True, fastmath=False)
def _sector_pattern_loop(
    h: np.ndarray,
    v: np.ndarray,
    peak: float,
    floor: float,
    dx: np.ndarray,
    dy: np.ndarray,
    dz: np.ndarray,
    az: np.ndarray,
    mt: np.ndarray,
    shift: np.ndarray,
) -> np.ndarray:
    out = np.empty(dx.size)
    for i in range(dx.size):
        out[i] = pattern_sector_gain_dbi_nb(
            h, v, peak, floor, dx[i], dy[i], dz[i], az[i], mt[i], shift[i]
        )
    return out


@numba.njit(cache=True, fastmath=False)
def _array_loop(
    theta: np.ndarray,
    phi: np.ndarray,
    tilt: np.ndarray,
    baz: np.ndarray,
    m_rows: float,
    n_cols: float,
    dv: float,
    dh: float,
) -> np.ndarray:
    out = np.empty(theta.size)
    for i in range(theta.size):
        out[i] = array_gain_dbi_nb(theta[i], phi[i], m_rows, n_cols, dv, dh, tilt[i], baz[i])
    return out


@numba.njit(cache=True, fastmath=False)
def _best_beam_loop(
    theta: np.ndarray,
    phi: np.ndarray,
    m_rows: float,
    n_cols: float,
    dv: float,
    dh: float,
    tilts: np.ndarray,
    azs: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    out = np.empty(theta.size)
    idx = np.empty(theta.size, dtype=np.int64)
    for i in range(theta.size):
        out[i], idx[i] = _best_beam_nb(theta[i], phi[i], m_rows, n_cols, dv, dh, tilts, azs)
    return out, idx


@numba.njit(cache=True, fastmath=False)
def _pattern_loop(
    h: np.ndarray,
    v: np.ndarray,
    peak: float,
    floor: float,
    az: np.ndarray,
    el: np.ndarray,
    shift: np.ndarray,
) -> np.ndarray:
    out = np.empty(az.size)
    for i in range(az.size):
        out[i] = pattern_gain_dbi_nb(h, v, peak, floor, az[i], el[i], shift[i])
    return out


# =============================================================================================
# Vectorised NumPy API
# =============================================================================================


def _flat(*args: ArrayLike) -> tuple[tuple[int, ...], list[NDArray[np.float64]], bool]:
    """Broadcast float64 copies of the arguments; return (shape, flat arrays, all scalar)."""
    arrays = np.broadcast_arrays(*[np.asarray(a, dtype=np.float64) for a in args])
    shape = arrays[0].shape
    flat = [np.ascontiguousarray(a).ravel() for a in arrays]
    return shape, flat, all(np.ndim(a) == 0 for a in args)


def _shaped(values: NDArray[Any], shape: tuple[int, ...], scalar: bool) -> FloatOrArray:
    return float(values[0]) if scalar else values.reshape(shape)


def element_gain_dbi(theta_deg: ArrayLike, phi_deg: ArrayLike) -> FloatOrArray:
    """Gain of the TR 38.901 Table 7.3-1 element (see :func:`element_gain_dbi_nb`).

    Parameters
    ----------
    theta_deg : array_like
        Local zenith angle θ'', degrees (90 = the element's horizon).
    phi_deg : array_like
        Local azimuth φ'' from boresight, degrees (any value; wrapped to [−180, 180)).

    Returns
    -------
    float or ndarray
        Gain in dBi, between 8 − 30 = −22 and 8; a float when both inputs are scalars.
    """
    shape, (t, p), scalar = _flat(theta_deg, phi_deg)
    return _shaped(_element_loop(t, p), shape, scalar)


def sector_angles(
    dx_m: ArrayLike,
    dy_m: ArrayLike,
    dz_m: ArrayLike,
    azimuth_deg: ArrayLike,
    mechanical_tilt_deg: ArrayLike = 0.0,
) -> tuple[FloatOrArray, FloatOrArray]:
    """Local angles (θ', φ') of receivers seen from sectors (see :func:`sector_angles_nb`).

    Parameters
    ----------
    dx_m, dy_m, dz_m : array_like
        Vector from the antenna to the receiver, metres (x east, y north, z up).
    azimuth_deg : array_like
        Sector boresight, degrees clockwise from north.
    mechanical_tilt_deg : array_like, optional
        Mechanical downtilt, degrees (positive = below the horizon).

    Returns
    -------
    theta_local_deg, phi_local_deg : float or ndarray
        Local zenith angle (90 = boresight plane) and local azimuth (counter-clockwise from
        boresight, (−180, 180]), degrees.
    """
    shape, flat, scalar = _flat(dx_m, dy_m, dz_m, azimuth_deg, mechanical_tilt_deg)
    theta, phi = _angles_loop(*flat)
    return _shaped(theta, shape, scalar), _shaped(phi, shape, scalar)


@dataclass(frozen=True)
class ArrayConfig:
    """A uniform planar array (panel) of TR 38.901 elements, single polarisation.

    Parameters
    ----------
    n_rows : int
        M, elements per column (vertical, along the local z' axis).
    n_cols : int
        N, columns (horizontal, along the local y' axis).
    vertical_spacing_wl, horizontal_spacing_wl : float
        d_V and d_H in wavelengths (default 0.5).
    name : str
        Free label.
    """

    n_rows: int
    n_cols: int
    vertical_spacing_wl: float = 0.5
    horizontal_spacing_wl: float = 0.5
    name: str = ""

    def __post_init__(self) -> None:
        for label in ("n_rows", "n_cols"):
            value = getattr(self, label)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"ArrayConfig.{label} must be an integer >= 1, got {value!r}")
            object.__setattr__(self, label, int(value))
        for label in ("vertical_spacing_wl", "horizontal_spacing_wl"):
            value = float(getattr(self, label))
            if not (math.isfinite(value) and value > 0.0):
                raise ValueError(f"ArrayConfig.{label} must be > 0 wavelengths, got {value!r}")
            object.__setattr__(self, label, value)

    @property
    def n_elements(self) -> int:
        """M·N."""
        return self.n_rows * self.n_cols

    @property
    def broadside_gain_dbi(self) -> float:
        """G_E,max + 10·log10(MN): the gain of an unsteered beam at broadside (0.5λ)."""
        return TR38901_G_MAX_DBI + 10.0 * math.log10(self.n_elements)

    def kernel_args(self) -> tuple[float, float, float, float]:
        """``(M, N, d_V, d_H)`` as floats: the panel arguments of the ``array_*_nb`` kernels."""
        return (
            float(self.n_rows),
            float(self.n_cols),
            self.vertical_spacing_wl,
            self.horizontal_spacing_wl,
        )


#: TR 38.901 Table 7.8-1 (large-scale calibration) BS antenna: (M, N, P, Mg, Ng) =
#: (10, 1, 1, 1, 1), d_V = 0.8λ, the ten elements of the column driven by one TXRU with fixed
#: weights; the electrical tilt is :data:`CALIBRATION_ELECTRICAL_TILT_DEG`.
TR38901_CALIBRATION_PANEL = ArrayConfig(
    n_rows=10,
    n_cols=1,
    vertical_spacing_wl=0.8,
    horizontal_spacing_wl=0.5,
    name="TR 38.901 Table 7.8-1 BS antenna (M, N, P) = (10, 1, 1), dV = 0.8 wavelength",
)

#: Electrical downtilt below the horizon of the Table 7.8-1 calibration panel: θ_etilt = 102°
#: zenith for UMa and UMi street canyon, 110° for indoor office.
CALIBRATION_ELECTRICAL_TILT_DEG: dict[str, float] = {"uma": 12.0, "umi": 12.0, "inh": 20.0}


def array_gain_dbi(
    theta_deg: ArrayLike,
    phi_deg: ArrayLike,
    config: ArrayConfig,
    beam_elevation_tilt_deg: ArrayLike = 0.0,
    beam_azimuth_deg: ArrayLike = 0.0,
) -> FloatOrArray:
    """Gain of one fixed (broadcast/SSB) beam of a panel (see :func:`array_gain_dbi_nb`).

    Parameters
    ----------
    theta_deg, phi_deg : array_like
        Local zenith angle and local azimuth (counter-clockwise from boresight), degrees.
    config : ArrayConfig
        The panel.
    beam_elevation_tilt_deg : array_like, optional
        Beam downtilt below the panel's boresight plane, degrees (θ_s = 90° + tilt).
    beam_azimuth_deg : array_like, optional
        Beam azimuth in the same local convention as ``phi_deg``.

    Returns
    -------
    float or ndarray
        Gain in dBi, of the broadcast shape.
    """
    shape, (t, p, tilt, baz), scalar = _flat(
        theta_deg, phi_deg, beam_elevation_tilt_deg, beam_azimuth_deg
    )
    return _shaped(_array_loop(t, p, tilt, baz, *config.kernel_args()), shape, scalar)


def make_codebook(
    n_azimuth: int,
    n_tilt: int,
    azimuth_span_deg: float = 60.0,
    tilt_range_deg: tuple[float, float] = (0.0, 12.0),
) -> NDArray[np.float64]:
    """A DFT-style grid of K × L beams.

    Beam azimuths are spaced uniformly in sin φ_s over [−span, +span] (the spatial frequencies
    a DFT codebook uses); beam tilts uniformly in cos θ_s = −sin(tilt) over ``tilt_range_deg``.
    With one beam in a dimension it sits at the middle of that range.

    Parameters
    ----------
    n_azimuth, n_tilt : int
        K and L.
    azimuth_span_deg : float
        Half-width of the azimuth range, degrees (default ±60°).
    tilt_range_deg : (float, float)
        Smallest and largest beam downtilt, degrees.

    Returns
    -------
    ndarray, shape (K·L, 2)
        Columns: beam tilt (deg below boresight), beam azimuth (deg, local counter-clockwise).
        Tilt varies slowest.
    """
    if n_azimuth < 1 or n_tilt < 1:
        raise ValueError("a codebook needs at least one beam in each dimension")
    s = math.sin(math.radians(azimuth_span_deg))
    u = np.array([0.0]) if n_azimuth == 1 else np.linspace(-s, s, n_azimuth)
    lo, hi = (math.sin(math.radians(t)) for t in tilt_range_deg)
    w = np.array([0.5 * (lo + hi)]) if n_tilt == 1 else np.linspace(lo, hi, n_tilt)
    az = np.degrees(np.arcsin(u))
    tilt = np.degrees(np.arcsin(w))
    tt, aa = np.meshgrid(tilt, az, indexing="ij")
    return np.column_stack([tt.ravel(), aa.ravel()])


def best_beam_gain_dbi(
    theta_deg: ArrayLike,
    phi_deg: ArrayLike,
    config: ArrayConfig,
    codebook: ArrayLike,
    return_index: bool = False,
) -> Any:
    """Largest beam gain over a codebook (the beam a UE would report), dBi.

    Parameters
    ----------
    theta_deg, phi_deg : array_like
        Local zenith angle and azimuth, degrees.
    config : ArrayConfig
        The panel.
    codebook : array_like, shape (n_beams, 2)
        Rows of (beam tilt, beam azimuth), degrees, as :func:`make_codebook` builds them.
    return_index : bool
        Also return the index of the best beam (int64, −1 for NaN input).

    Returns
    -------
    gain : float or ndarray
        Best-beam gain, dBi.
    index : int or ndarray
        Only when ``return_index``.
    """
    cb = np.asarray(codebook, dtype=np.float64)
    if cb.ndim != 2 or cb.shape[1] != 2 or cb.shape[0] == 0:
        raise ValueError("codebook must have shape (n_beams, 2) with n_beams >= 1")
    tilts = np.ascontiguousarray(cb[:, 0])
    azs = np.ascontiguousarray(cb[:, 1])
    shape, (t, p), scalar = _flat(theta_deg, phi_deg)
    gain, idx = _best_beam_loop(t, p, *config.kernel_args(), tilts, azs)
    if not return_index:
        return _shaped(gain, shape, scalar)
    return _shaped(gain, shape, scalar), (int(idx[0]) if scalar else idx.reshape(shape))


def sector_gain_dbi(
    dx_m: ArrayLike,
    dy_m: ArrayLike,
    dz_m: ArrayLike,
    azimuth_deg: ArrayLike,
    mechanical_tilt_deg: ArrayLike = 0.0,
    electrical_tilt_deg: ArrayLike = 0.0,
    pattern: str | ArrayConfig | AntennaPattern = "tr38901",
) -> FloatOrArray:
    """Gain of sectors towards receivers, dBi.

    Parameters
    ----------
    dx_m, dy_m, dz_m : array_like
        Vector from the antenna to the receiver, metres (x east, y north, z up).
    azimuth_deg : array_like
        Sector boresight, degrees clockwise from north.
    mechanical_tilt_deg : array_like
        Mechanical downtilt, degrees (positive down): rotates the local coordinate system.
    electrical_tilt_deg : array_like
        Total electrical downtilt, degrees (positive down). For ``"tr38901"`` it centres the
        element's vertical cut at θ' = 90° + tilt; for an :class:`ArrayConfig` it is the tilt of
        the fixed beam (azimuth 0); for an :class:`AntennaPattern` the vertical cut is rotated
        by ``electrical_tilt_deg − pattern.electrical_tilt_deg`` (a file measured at the wanted
        tilt is used as it is).
    pattern : str, ArrayConfig or AntennaPattern
        ``"tr38901"`` or ``"tr38901-element"`` (the analytic Table 7.3-1 element, see
        :data:`ANALYTIC_ELEMENT_NAMES`), the name of another library pattern
        (:func:`list_patterns`), a panel, or an imported pattern. To use the *tabulated*
        element file instead, pass ``load_pattern("tr38901-element")``.

    Returns
    -------
    float or ndarray
        Gain in dBi, of the broadcast shape.
    """
    if isinstance(pattern, str):
        if pattern.lower() in ANALYTIC_ELEMENT_NAMES:
            shape, flat, scalar = _flat(
                dx_m, dy_m, dz_m, azimuth_deg, mechanical_tilt_deg, electrical_tilt_deg
            )
            return _shaped(_sector_element_loop(*flat), shape, scalar)
        pattern = load_pattern(pattern)
    if isinstance(pattern, ArrayConfig):
        shape, flat, scalar = _flat(
            dx_m, dy_m, dz_m, azimuth_deg, mechanical_tilt_deg, electrical_tilt_deg
        )
        return _shaped(_sector_array_loop(*flat, *pattern.kernel_args()), shape, scalar)
    if isinstance(pattern, AntennaPattern):
        arr = pattern.arrays
        shape, (dx, dy, dz, az, mt, et), scalar = _flat(
            dx_m, dy_m, dz_m, azimuth_deg, mechanical_tilt_deg, electrical_tilt_deg
        )
        shift = et - pattern.electrical_tilt_deg
        out = _sector_pattern_loop(
            arr.horizontal_att_db,
            arr.vertical_att_db,
            arr.peak_gain_dbi,
            arr.floor_att_db,
            dx,
            dy,
            dz,
            az,
            mt,
            shift,
        )
        return _shaped(out, shape, scalar)
    raise TypeError(f"unsupported antenna pattern {pattern!r}")


# =============================================================================================
# Imported two-cut patterns (MSI / Planet)
# =============================================================================================


class PatternArrays(NamedTuple):
    """The Numba-ready form of an :class:`AntennaPattern` (arguments of
    :func:`pattern_gain_dbi_nb` and :func:`pattern_sector_gain_dbi_nb`)."""

    horizontal_att_db: NDArray[np.float64]  # 360 values, azimuth offset 0..359° clockwise
    vertical_att_db: NDArray[np.float64]  # 360 values, MSI vertical angle 0..359°
    peak_gain_dbi: float
    floor_att_db: float
    electrical_tilt_deg: float


def _as_cut(values: Any, label: str) -> tuple[float, ...]:
    try:
        cut = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise ValueError(f"AntennaPattern.{label} must be 360 numbers") from None
    if len(cut) != 360:
        raise ValueError(f"AntennaPattern.{label} must have 360 values, got {len(cut)}")
    for i, v in enumerate(cut):
        if not math.isfinite(v) or v < 0.0:
            raise ValueError(
                f"AntennaPattern.{label}[{i}] = {v!r}: attenuations must be finite and >= 0 dB"
            )
    return cut


_HEADER_KEYS = {
    "NAME",
    "MAKE",
    "FREQUENCY",
    "H_WIDTH",
    "V_WIDTH",
    "FRONT_TO_BACK",
    "GAIN",
    "TILT",
    "ELECTRICAL_TILT",
    "COMMENT",
}
_BLOCK_KEYS = {"HORIZONTAL", "VERTICAL"}
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER_RE = re.compile(rf"^{_NUMBER}$")
_GAIN_RE = re.compile(rf"^({_NUMBER})\s*(dbi|dbd)?$", re.IGNORECASE)
_FREQ_RE = re.compile(rf"^({_NUMBER})(?:\s*-\s*({_NUMBER}))?\s*(hz|khz|mhz|ghz)?$", re.IGNORECASE)
_ANGLE_RE = re.compile(rf"^({_NUMBER})\s*(?:deg|degrees|°)?$", re.IGNORECASE)
_DB_RE = re.compile(rf"^({_NUMBER})\s*(?:db)?$", re.IGNORECASE)
_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")
_FREQ_SCALE_TO_MHZ = {"hz": 1e-6, "khz": 1e-3, "mhz": 1.0, "ghz": 1e3}
_LINE_BREAK_RE = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _one_line(text: Any, label: str, allow_empty: bool) -> str:
    if not isinstance(text, str):
        raise ValueError(f"AntennaPattern.{label} must be a string")
    text = text.strip()
    if _LINE_BREAK_RE.search(text):
        raise ValueError(f"AntennaPattern.{label} must be a single line")
    if not text and not allow_empty:
        raise ValueError(f"AntennaPattern.{label} must not be empty")
    return text


@dataclass(frozen=True, kw_only=True)
class AntennaPattern:
    """An antenna pattern given by its horizontal and vertical cuts (MSI/Planet style).

    Attributes
    ----------
    name : str
        Pattern name (one line).
    peak_gain_dbi : float
        Gain at the pattern's peak, dBi (the MSI ``GAIN``, converted from dBd if needed).
    horizontal_att_db : tuple of 360 float
        Attenuation below the peak (dB, >= 0) at azimuth offsets 0, 1, ..., 359° clockwise
        from boresight, in the horizontal plane.
    vertical_att_db : tuple of 360 float
        Attenuation below the peak (dB, >= 0) at MSI vertical angles 0, 1, ..., 359°: 0 =
        horizon in front, 90 = straight down, 180 = horizon behind, 270 = straight up.
    make : str
        Manufacturer.
    frequency_mhz : float or None
        Frequency the pattern was measured at.
    electrical_tilt_deg : float
        Electrical downtilt built into the vertical cut, degrees.
    h_width_deg, v_width_deg, front_to_back_db : float or None
        Informational header values (half-power widths, front-to-back ratio).
    tilt_type : str or None
        ``"MECHANICAL"`` or ``"ELECTRICAL"`` (the MSI ``TILT`` key).
    comment : str
        Free text (one MSI ``COMMENT`` line per text line).
    extra : tuple of (key, value)
        Other header keys, kept in order.
    """

    name: str
    peak_gain_dbi: float
    horizontal_att_db: tuple[float, ...]
    vertical_att_db: tuple[float, ...]
    make: str = ""
    frequency_mhz: float | None = None
    electrical_tilt_deg: float = 0.0
    h_width_deg: float | None = None
    v_width_deg: float | None = None
    front_to_back_db: float | None = None
    tilt_type: str | None = None
    comment: str = ""
    extra: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _one_line(self.name, "name", allow_empty=False))
        object.__setattr__(self, "make", _one_line(self.make, "make", allow_empty=True))
        cut = _as_cut(self.horizontal_att_db, "horizontal_att_db")
        object.__setattr__(self, "horizontal_att_db", cut)
        object.__setattr__(
            self, "vertical_att_db", _as_cut(self.vertical_att_db, "vertical_att_db")
        )
        for label in ("peak_gain_dbi", "electrical_tilt_deg"):
            value = float(getattr(self, label))
            if not math.isfinite(value):
                raise ValueError(f"AntennaPattern.{label} must be finite")
            object.__setattr__(self, label, value)
        for label in ("frequency_mhz", "h_width_deg", "v_width_deg", "front_to_back_db"):
            value = getattr(self, label)
            if value is not None:
                value = float(value)
                if not math.isfinite(value):
                    raise ValueError(f"AntennaPattern.{label} must be finite or None")
                object.__setattr__(self, label, value)
        if self.frequency_mhz is not None and self.frequency_mhz <= 0.0:
            raise ValueError("AntennaPattern.frequency_mhz must be > 0")
        if self.tilt_type is not None and self.tilt_type not in ("MECHANICAL", "ELECTRICAL"):
            raise ValueError("AntennaPattern.tilt_type must be MECHANICAL, ELECTRICAL or None")
        if not isinstance(self.comment, str):
            raise ValueError("AntennaPattern.comment must be a string")
        lines = [line.strip() for line in _LINE_BREAK_RE.split(self.comment)]
        while lines and not lines[-1]:
            lines.pop()
        object.__setattr__(self, "comment", "\n".join(lines))
        extra = []
        for key, val in self.extra:
            key = str(key)
            if not _KEY_RE.match(key) or key.upper() in _HEADER_KEYS | _BLOCK_KEYS:
                raise ValueError(f"AntennaPattern.extra: {key!r} cannot be an extra header key")
            extra.append((key, _one_line(str(val), f"extra[{key}]", allow_empty=True)))
        object.__setattr__(self, "extra", tuple(extra))

    @property
    def floor_att_db(self) -> float:
        """Deepest attenuation of the summing method: the largest value in either cut."""
        return max(max(self.horizontal_att_db), max(self.vertical_att_db))

    @functools.cached_property
    def arrays(self) -> PatternArrays:
        """The cuts as float64 arrays for the Numba kernels."""
        h = np.array(self.horizontal_att_db, dtype=np.float64)
        v = np.array(self.vertical_att_db, dtype=np.float64)
        h.flags.writeable = False
        v.flags.writeable = False
        return PatternArrays(
            h,
            v,
            self.peak_gain_dbi,
            self.floor_att_db,
            self.electrical_tilt_deg,
        )

    def gain_dbi(
        self,
        azimuth_off_deg: ArrayLike,
        elevation_off_deg: ArrayLike,
        electrical_tilt_deg: ArrayLike | None = None,
    ) -> FloatOrArray:
        """Gain towards a direction relative to the antenna's boresight, dBi.

        Summing method (see :func:`pattern_gain_dbi_nb`):
        ``G = peak − clip(A_H(az) + A_V(v) − c, 0, floor)``.

        Parameters
        ----------
        azimuth_off_deg : array_like
            Azimuth offset from boresight, degrees, clockwise seen from above.
        elevation_off_deg : array_like
            Elevation offset from the boresight plane, degrees, positive *upwards*
            (clamped to ±90).
        electrical_tilt_deg : array_like, optional
            Wanted electrical downtilt; the vertical cut is rotated by the difference from
            :attr:`electrical_tilt_deg`. Default: the pattern as it is.

        Returns
        -------
        float or ndarray
            Gain in dBi.
        """
        tilt = self.electrical_tilt_deg if electrical_tilt_deg is None else electrical_tilt_deg
        shape, (az, el, et), scalar = _flat(azimuth_off_deg, elevation_off_deg, tilt)
        a = self.arrays
        out = _pattern_loop(
            a.horizontal_att_db,
            a.vertical_att_db,
            a.peak_gain_dbi,
            a.floor_att_db,
            az,
            el,
            et - self.electrical_tilt_deg,
        )
        return _shaped(out, shape, scalar)


class MsiParseError(ValueError):
    """Bad MSI input; the message names the source, the line (1-based, 0 if none) and the
    field."""

    def __init__(self, source: str, line: int, field_name: str, problem: str) -> None:
        self.source = source
        self.line = line
        self.field = field_name
        where = f"{source}, line {line}" if line else source
        super().__init__(f"{where}: {field_name}: {problem}")


def _finite(text: str, source: str, line: int, key: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise MsiParseError(source, line, key, f"{text!r} is not a finite number")
    return value


def _resample_cut(
    points: list[tuple[float, float]], source: str, line: int, key: str
) -> tuple[float, ...]:
    """Attenuations at 0..359° from (angle, attenuation) points, linear and periodic."""
    angles = np.array([p[0] for p in points])
    values = np.array([p[1] for p in points])
    if len(points) == 360 and np.array_equal(angles, np.arange(360.0)):
        return tuple(float(v) for v in values)
    if angles[-1] == 360.0 and angles[0] == 0.0:
        angles, values = angles[:-1], values[:-1]
    if angles.size < 2:
        raise MsiParseError(source, line, key, "needs at least two distinct angles")
    grid = np.arange(360.0)
    return tuple(float(v) for v in np.interp(grid, angles, values, period=360.0))


def parse_msi(text: str, source: str = "<msi>") -> AntennaPattern:
    """Parse an antenna pattern in the MSI / Planet text format.

    Header lines are ``KEY value`` (keys in any case): ``NAME``, ``MAKE``, ``FREQUENCY``
    (MHz, or with a unit Hz/kHz/MHz/GHz, or a range ``a-b`` whose middle is kept),
    ``H_WIDTH``, ``V_WIDTH``, ``FRONT_TO_BACK``, ``GAIN`` (``dBi``, ``dBd`` or no unit, which
    Planet reads as dBd; dBd + 2.15 = dBi), ``TILT`` (``MECHANICAL``/``ELECTRICAL``, or a
    number taken as the electrical tilt), ``ELECTRICAL_TILT`` (degrees) and ``COMMENT``
    (repeatable). A first line that is not a key is the name (some vendors omit ``NAME``);
    other ``KEY value`` lines are kept in :attr:`AntennaPattern.extra`. Then the blocks
    ``HORIZONTAL n`` and ``VERTICAL n``, each followed by n lines ``angle attenuation_dB``
    (angles strictly increasing in [0, 360]; anything but 0, 1, ..., 359 is resampled linearly
    onto whole degrees). Horizontal angles run clockwise from boresight seen from above;
    vertical angles count 0 = horizon in front, 90 = down, 180 = horizon behind, 270 = up.
    Attenuations are dB below the peak and must be >= 0. ``NAME`` and ``GAIN`` are required;
    an optional key with an empty value counts as absent. Blank lines, CRLF/CR line ends, a
    byte-order mark and comment lines starting with ``#``, ``;`` or ``//`` are ignored.

    Parameters
    ----------
    text : str
        The file's content.
    source : str
        Name used in error messages (e.g. the file name).

    Returns
    -------
    AntennaPattern

    Raises
    ------
    MsiParseError
        A ValueError naming the source, line and field of the first problem.
    """
    if not isinstance(text, str):
        raise MsiParseError(source, 0, "file", "expected text (str)")
    lines = text.lstrip("\ufeff").splitlines()
    header: dict[str, tuple[str, int]] = {}
    comments: list[str] = []
    extra: list[tuple[str, str]] = []
    cuts: dict[str, tuple[float, ...]] = {}
    i = 0
    first = True
    while i < len(lines):
        raw = lines[i].strip()
        lineno = i + 1
        i += 1
        if not raw or raw.startswith(("#", ";", "//")):
            continue
        parts = raw.split(None, 1)
        key = parts[0].upper()
        rest = parts[1].strip() if len(parts) > 1 else ""
        is_first, first = first, False
        if key in _BLOCK_KEYS:
            if key in cuts:
                raise MsiParseError(source, lineno, key, "block given twice")
            count_text = rest.split()[0] if rest else ""
            if not (count_text.isascii() and count_text.isdigit() and len(count_text) <= 6):
                raise MsiParseError(source, lineno, key, f"expected a point count, got {rest!r}")
            count = int(count_text)
            if count < 1:
                raise MsiParseError(source, lineno, key, "point count must be >= 1")
            points: list[tuple[float, float]] = []
            while len(points) < count:
                if i >= len(lines):
                    raise MsiParseError(
                        source,
                        len(lines),
                        key,
                        f"declares {count} points but the file ends after {len(points)}",
                    )
                data = lines[i].strip()
                dline = i + 1
                i += 1
                if not data or data.startswith(("#", ";", "//")):
                    continue
                tokens = data.replace(";", " ").split()
                if len(tokens) != 2 or not all(_NUMBER_RE.match(t) for t in tokens):
                    raise MsiParseError(
                        source,
                        dline,
                        key,
                        f"expected 'angle attenuation' (point {len(points) + 1} of {count}),"
                        f" got {data[:40]!r}",
                    )
                angle = _finite(tokens[0], source, dline, key)
                att = _finite(tokens[1], source, dline, key)
                if not 0.0 <= angle <= 360.0:
                    raise MsiParseError(source, dline, key, f"angle {angle:g} outside 0..360")
                if points and angle <= points[-1][0]:
                    raise MsiParseError(source, dline, key, f"angle {angle:g} does not increase")
                if att < 0.0:
                    raise MsiParseError(source, dline, key, f"attenuation {att:g} dB is negative")
                points.append((angle, att))
            cuts[key] = _resample_cut(points, source, lineno, key)
            continue
        if key == "COMMENT":
            comments.append(rest)
            continue
        if key in _HEADER_KEYS:
            if key in header:
                raise MsiParseError(source, lineno, key, "given twice")
            header[key] = (rest, lineno)
            continue
        if is_first and "NAME" not in header:
            header["NAME"] = (raw, lineno)  # vendor files without the NAME token
            continue
        if _KEY_RE.match(parts[0]):
            extra.append((parts[0], rest))
            continue
        raise MsiParseError(source, lineno, "line", f"not a header key or data: {raw[:40]!r}")

    for key in ("HORIZONTAL", "VERTICAL"):
        if key not in cuts:
            raise MsiParseError(source, 0, key, "block missing")

    def value(key: str) -> tuple[str, int] | None:
        """A header value; an empty one is absent, except for the required NAME and GAIN."""
        got = header.get(key)
        if got is not None and not got[0]:
            if key in ("NAME", "GAIN"):
                raise MsiParseError(source, got[1], key, "has no value")
            return None
        return got

    def number(key: str, pattern: re.Pattern[str]) -> float | None:
        got = value(key)
        if got is None:
            return None
        m = pattern.match(got[0])
        if m is None:
            raise MsiParseError(source, got[1], key, f"not a number: {got[0][:40]!r}")
        return _finite(m.group(1), source, got[1], key)

    name_item = value("NAME")
    if name_item is None:
        raise MsiParseError(source, 0, "NAME", "missing")
    gain_item = value("GAIN")
    if gain_item is None:
        raise MsiParseError(source, 0, "GAIN", "missing")
    m = _GAIN_RE.match(gain_item[0])
    if m is None:
        raise MsiParseError(source, gain_item[1], "GAIN", f"not a gain: {gain_item[0][:40]!r}")
    gain = _finite(m.group(1), source, gain_item[1], "GAIN")
    if (m.group(2) or "dbd").lower() == "dbd":
        gain += DBD_TO_DBI

    frequency_mhz = None
    freq_item = value("FREQUENCY")
    if freq_item is not None:
        m = _FREQ_RE.match(freq_item[0])
        if m is None:
            raise MsiParseError(
                source, freq_item[1], "FREQUENCY", f"not a frequency: {freq_item[0][:40]!r}"
            )
        lo = _finite(m.group(1), source, freq_item[1], "FREQUENCY")
        hi = lo if m.group(2) is None else _finite(m.group(2), source, freq_item[1], "FREQUENCY")
        frequency_mhz = 0.5 * (lo + hi) * _FREQ_SCALE_TO_MHZ[(m.group(3) or "mhz").lower()]
        if not (math.isfinite(frequency_mhz) and frequency_mhz > 0.0):
            raise MsiParseError(
                source, freq_item[1], "FREQUENCY", f"{freq_item[0][:40]!r} is not above 0 Hz"
            )

    tilt_type = None
    etilt = number("ELECTRICAL_TILT", _ANGLE_RE)
    tilt_item = value("TILT")
    if tilt_item is not None:
        word = tilt_item[0].upper()
        if word in ("MECHANICAL", "ELECTRICAL"):
            tilt_type = word
        elif _ANGLE_RE.match(tilt_item[0]):
            tilt_type = "ELECTRICAL"
            if etilt is None:
                etilt = number("TILT", _ANGLE_RE)
        else:
            raise MsiParseError(
                source,
                tilt_item[1],
                "TILT",
                f"expected MECHANICAL, ELECTRICAL or degrees, got {tilt_item[0][:40]!r}",
            )

    try:
        return AntennaPattern(
            name=name_item[0],
            make=(value("MAKE") or ("", 0))[0],
            frequency_mhz=frequency_mhz,
            peak_gain_dbi=gain,
            electrical_tilt_deg=0.0 if etilt is None else etilt,
            horizontal_att_db=cuts["HORIZONTAL"],
            vertical_att_db=cuts["VERTICAL"],
            h_width_deg=number("H_WIDTH", _ANGLE_RE),
            v_width_deg=number("V_WIDTH", _ANGLE_RE),
            front_to_back_db=number("FRONT_TO_BACK", _DB_RE),
            tilt_type=tilt_type,
            comment="\n".join(comments),
            extra=tuple(extra),
        )
    except MsiParseError:
        raise
    except ValueError as exc:  # pragma: no cover - a safety net; the checks above come first
        raise MsiParseError(source, 0, "pattern", str(exc)) from None


def _fmt(value: float) -> str:
    """Shortest text that reads back as the same float."""
    return repr(float(value))


def write_msi(pattern: AntennaPattern) -> str:
    """The pattern as MSI/Planet text (``parse_msi(write_msi(p)) == p``).

    Gain is written in dBi, frequency in MHz, both cuts as 360 lines at whole degrees; numbers
    use the shortest text that reads back exactly. Lines end with ``\\n``.
    """
    out = [f"NAME {pattern.name}"]
    if pattern.make:
        out.append(f"MAKE {pattern.make}")
    if pattern.frequency_mhz is not None:
        out.append(f"FREQUENCY {_fmt(pattern.frequency_mhz)}")
    if pattern.h_width_deg is not None:
        out.append(f"H_WIDTH {_fmt(pattern.h_width_deg)}")
    if pattern.v_width_deg is not None:
        out.append(f"V_WIDTH {_fmt(pattern.v_width_deg)}")
    if pattern.front_to_back_db is not None:
        out.append(f"FRONT_TO_BACK {_fmt(pattern.front_to_back_db)}")
    out.append(f"GAIN {_fmt(pattern.peak_gain_dbi)} dBi")
    if pattern.tilt_type is not None:
        out.append(f"TILT {pattern.tilt_type}")
    out.append(f"ELECTRICAL_TILT {_fmt(pattern.electrical_tilt_deg)}")
    if pattern.comment:
        out.extend(f"COMMENT {line}".rstrip() for line in pattern.comment.split("\n"))
    out.extend(f"{key} {val}".rstrip() for key, val in pattern.extra)
    out.append("HORIZONTAL 360")
    out.extend(f"{a} {_fmt(v)}" for a, v in enumerate(pattern.horizontal_att_db))
    out.append("VERTICAL 360")
    out.extend(f"{a} {_fmt(v)}" for a, v in enumerate(pattern.vertical_att_db))
    return "\n".join(out) + "\n"


# --- the pattern library ---

_LIBRARY_PACKAGE = "mastplan.radio.patterns"


def list_patterns() -> list[str]:
    """Names of the patterns shipped in ``mastplan/radio/patterns`` (file names without
    ``.msi``), sorted."""
    root = resources.files(_LIBRARY_PACKAGE)
    return sorted(p.name[:-4] for p in root.iterdir() if p.name.endswith(".msi"))


@functools.lru_cache(maxsize=64)
def load_pattern(name: str) -> AntennaPattern:
    """A library pattern by name (see :func:`list_patterns`).

    Raises
    ------
    ValueError
        Unknown name (the message lists the known ones), or a bad file.
    """
    if name not in list_patterns():
        raise ValueError(f"unknown antenna pattern {name!r}; known: {', '.join(list_patterns())}")
    text = (resources.files(_LIBRARY_PACKAGE) / f"{name}.msi").read_text(encoding="utf-8")
    return parse_msi(text, source=f"{name}.msi")


def _cut_from(vertical_front_db: Any, back_extra_db: float, cap_db: float) -> tuple[float, ...]:
    """A 360-point vertical cut from the front attenuation as a function of the depression
    (degrees, −90..90); the back half is the mirrored front plus ``back_extra_db``."""
    out = []
    for v in range(360):
        if v <= 90:
            a = vertical_front_db(float(v))
        elif v >= 270:
            a = vertical_front_db(float(v - 360))
        else:
            a = vertical_front_db(180.0 - v) + back_extra_db
        out.append(round(min(a, cap_db), 2))
    return tuple(out)


def _uniform_column_att_db(depression_deg: float, n: int, spacing_wl: float) -> float:
    """Attenuation (dB, >= 0) of an n-element uniform broadside column, array factor only."""
    x = math.pi * spacing_wl * math.sin(math.radians(depression_deg))
    s = math.sin(x)
    if abs(s) < 1e-12:
        return 0.0
    af = (math.sin(n * x) / (n * s)) ** 2
    return math.inf if af <= 1e-30 else -10.0 * math.log10(af)


def generate_library_patterns() -> dict[str, AntennaPattern]:
    """The synthetic patterns shipped in ``mastplan/radio/patterns``, rebuilt from their models.

    * ``tr38901-element``: the Table 7.3-1 element tabulated (8 dBi, 65°/65°, 30 dB floor).
    * ``panel-65deg-17dbi``: 65° sector panel, 9-element column at 0.8λ (about 7° vertical),
      25 dB front-to-back, 17 dBi.
    * ``panel-33deg-21dbi``: 33° panel (two columns), 12-element column at 0.8λ, 30 dB
      front-to-back, 21 dBi.
    * ``omni-11dbi``: omnidirectional collinear, 10 dipoles at 0.8λ, 11 dBi.

    The horizontal cuts are the 38.901 parabola 12(φ/φ_3dB)² capped at the front-to-back ratio;
    the vertical cuts are a uniform column's array factor plus 12(ε/65)² (panels) or the
    dipole's −20·log10(cos ε) (omni), capped at 40 dB (panels) or 30 dB (omni). Values are
    rounded to 0.01 dB. None of them is a vendor's measurement.
    """
    synthetic = (
        "Generic synthetic pattern generated by mastplan from a parametric model; "
        "not a vendor measurement."
    )

    def element_v(dep: float) -> float:
        return min(12.0 * (dep / TR38901_THETA_3DB_DEG) ** 2, TR38901_SLA_V_DB)

    element = AntennaPattern(
        name="TR 38.901 element",
        make="generic",
        peak_gain_dbi=TR38901_G_MAX_DBI,
        horizontal_att_db=tuple(
            round(min(12.0 * (_wrap180(a) / TR38901_PHI_3DB_DEG) ** 2, TR38901_A_MAX_DB), 2)
            for a in range(360)
        ),
        vertical_att_db=_cut_from(element_v, TR38901_A_MAX_DB, TR38901_A_MAX_DB),
        h_width_deg=TR38901_PHI_3DB_DEG,
        v_width_deg=TR38901_THETA_3DB_DEG,
        front_to_back_db=TR38901_A_MAX_DB,
        comment=synthetic + "\nTR 38.901 Table 7.3-1 element: theta_3dB = phi_3dB = 65 deg,"
        " SLA_V = A_max = 30 dB, G_E,max = 8 dBi.",
    )

    def panel(
        name: str, h_3db: float, fb_db: float, n_v: int, d_v: float, gain: float, freq: float
    ) -> AntennaPattern:
        def front(dep: float) -> float:
            return _uniform_column_att_db(dep, n_v, d_v) + element_v(dep)

        v_width = 2.0 * _half_power_depression(front)
        return AntennaPattern(
            name=name,
            make="generic",
            frequency_mhz=freq,
            peak_gain_dbi=gain,
            horizontal_att_db=tuple(
                round(min(12.0 * (_wrap180(a) / h_3db) ** 2, fb_db), 2) for a in range(360)
            ),
            vertical_att_db=_cut_from(front, fb_db, 40.0),
            h_width_deg=h_3db,
            v_width_deg=round(v_width, 1),
            front_to_back_db=fb_db,
            tilt_type="ELECTRICAL",
            comment=synthetic
            + f"\nHorizontal 12(phi/{h_3db:g})^2 capped at {fb_db:g} dB; vertical: "
            f"{n_v}-element uniform column at {d_v:g} wavelength plus 12(e/65)^2, cap 40 dB.",
        )

    def omni_front(dep: float) -> float:
        c = math.cos(math.radians(dep))
        dipole = 30.0 if c <= 10.0 ** (-1.5) else -20.0 * math.log10(c)
        return _uniform_column_att_db(dep, 10, 0.8) + dipole

    omni = AntennaPattern(
        name="Omni 11 dBi",
        make="generic",
        frequency_mhz=3500.0,
        peak_gain_dbi=11.0,
        horizontal_att_db=(0.0,) * 360,
        vertical_att_db=_cut_from(omni_front, 0.0, 30.0),
        h_width_deg=360.0,
        v_width_deg=round(2.0 * _half_power_depression(omni_front), 1),
        tilt_type="ELECTRICAL",
        comment=synthetic
        + "\nHorizontal omnidirectional; vertical: 10 dipoles at 0.8 wavelength, cap 30 dB.",
    )
    return {
        "tr38901-element": element,
        "panel-65deg-17dbi": panel("Panel 65deg 17dBi", 65.0, 25.0, 9, 0.8, 17.0, 3500.0),
        "panel-33deg-21dbi": panel("Panel 33deg 21dBi", 33.0, 30.0, 12, 0.8, 21.0, 3500.0),
        "omni-11dbi": omni,
    }


def _wrap180(angle_deg: float) -> float:
    return (angle_deg + 180.0) % 360.0 - 180.0


def _half_power_depression(front_att_db: Any) -> float:
    """Smallest depression (0.01° steps) where a front attenuation reaches 3 dB."""
    for k in range(1, 9001):
        if front_att_db(k / 100.0) >= 3.0:
            return k / 100.0
    return 90.0
