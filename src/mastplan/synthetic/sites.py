"""Seeded synthetic existing operator sites and sectors on structures — SYNTHETIC DATA.

Existing (pre-plan) sites of the four Chinese operators are placed on the telecom towers and on a
small share of the rooftops of a :class:`~mastplan.synthetic.structures.StructureBatch`:

* towers carry 0–4 tenants with a mean of about 1.6 (China Tower's tenancy ratio, 1.62 in 2019),
  rooftops 1–2; never two sites of one operator on a structure, never more sites than the
  structure's mount positions;
* each site has one carrier in a real Chinese allocation of its operator (NR or LTE by
  ``nr_share``), a status, a transmit power per sector, and three sectors.

Every random draw is a counter-based hash of ``(seed, local_id, operator, ...)``, so a structure
always gets the same sites whatever the order or the company of the structures passed in.
Numbers are module-level constants; docs/synthetic-data.md gives their sources.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mastplan.synthetic.structures import (
    GENERATOR_VERSION,
    ROOFTOP,
    TELECOM_TOWER,
    StructureBatch,
    hash_uniform,
)

__all__ = [
    "BAND_PLAN",
    "OPERATORS",
    "SITE_STATUSES",
    "SectorBatch",
    "SiteBatch",
    "generate_sites",
]

OPERATORS = ("china-mobile", "china-telecom", "china-unicom", "china-broadnet")
CHINA_MOBILE, CHINA_TELECOM, CHINA_UNICOM, CHINA_BROADNET = range(len(OPERATORS))
SITE_STATUSES = ("planned", "approved", "built", "on_air")

# ---------------------------------------------------------------------------------------------
# Tenancy
# ---------------------------------------------------------------------------------------------

#: P(0, 1, 2, 3, 4 tenants) on a telecom tower: mean 1.63, against China Tower's 1.62 (2019).
TOWER_TENANTS_P = (0.03, 0.45, 0.40, 0.10, 0.02)
#: Share of rooftops that already carry an operator site.
ROOFTOP_HOST_P = 0.08
#: P(0, 1, 2 tenants) on a rooftop that carries sites.
ROOFTOP_TENANTS_P = (0.0, 0.7, 0.3)
#: Relative chance that each operator is a tenant (weighted sampling without replacement):
#: China Mobile has the largest network, China Broadnet started in 2020.
OPERATOR_WEIGHT = (0.42, 0.27, 0.25, 0.06)

# ---------------------------------------------------------------------------------------------
# Carriers: (operator, rat, band, block low MHz, block high MHz, carrier MHz, bandwidth MHz,
#            weight within the operator's RAT, tx power per sector dBm)
# Blocks are the operator's downlink block; the carrier is its centre. 5G: MIIT 2018/2019/2020
# allocations; LTE: the operators' existing 1800/2100/TD-LTE/800/900 MHz holdings (approximate).
# China Mobile's 160 MHz n41 block carries a 100 MHz NR carrier (2515-2615 MHz; 100 MHz is the
# widest FR1 channel of TS 38.101-1 Table 5.3.2-1) and a 60 MHz one; we model the 100 MHz one.
# Powers: 5G AAU 64T64R 200 W -> 53.0 dBm, 700 MHz 4T4R
# RRU 4 x 60 W -> 53.8 dBm, LTE 2T2R RRU 2 x 40 W -> 49.0 dBm (typical macro values).
# ---------------------------------------------------------------------------------------------

BAND_PLAN: tuple[tuple[int, str, str, float, float, float, float, float, float], ...] = (
    (CHINA_MOBILE, "NR", "n41", 2515.0, 2615.0, 2565.0, 100.0, 0.85, 53.0),
    (CHINA_MOBILE, "NR", "n79", 4800.0, 4900.0, 4850.0, 100.0, 0.15, 53.0),
    (CHINA_TELECOM, "NR", "n78", 3400.0, 3500.0, 3450.0, 100.0, 1.0, 53.0),
    (CHINA_UNICOM, "NR", "n78", 3500.0, 3600.0, 3550.0, 100.0, 1.0, 53.0),
    (CHINA_BROADNET, "NR", "n28", 758.0, 788.0, 773.0, 30.0, 0.8, 53.8),
    (CHINA_BROADNET, "NR", "n79", 4900.0, 5000.0, 4950.0, 100.0, 0.2, 53.0),
    (CHINA_MOBILE, "LTE", "B39", 1885.0, 1915.0, 1900.0, 20.0, 0.3, 49.0),
    (CHINA_MOBILE, "LTE", "B41", 2575.0, 2635.0, 2605.0, 20.0, 0.3, 49.0),
    (CHINA_MOBILE, "LTE", "B3", 1805.0, 1830.0, 1817.5, 20.0, 0.3, 49.0),
    (CHINA_MOBILE, "LTE", "B8", 934.0, 949.0, 941.5, 10.0, 0.1, 49.0),
    (CHINA_TELECOM, "LTE", "B3", 1860.0, 1880.0, 1870.0, 20.0, 0.5, 49.0),
    (CHINA_TELECOM, "LTE", "B1", 2110.0, 2130.0, 2120.0, 20.0, 0.4, 49.0),
    (CHINA_TELECOM, "LTE", "B5", 870.0, 880.0, 875.0, 5.0, 0.1, 49.0),
    (CHINA_UNICOM, "LTE", "B3", 1830.0, 1860.0, 1845.0, 20.0, 0.6, 49.0),
    (CHINA_UNICOM, "LTE", "B1", 2130.0, 2145.0, 2137.5, 15.0, 0.4, 49.0),
)
#: Operators without an LTE network get NR whatever ``nr_share`` says.
NR_ONLY_OPERATORS = frozenset({CHINA_BROADNET})

#: Status probabilities (SITE_STATUSES order) of existing sites: NR still rolling out.
NR_STATUS_P = (0.05, 0.07, 0.10, 0.78)
LTE_STATUS_P = (0.0, 0.0, 0.02, 0.98)

# ---------------------------------------------------------------------------------------------
# Sectors
# ---------------------------------------------------------------------------------------------

SECTORS_PER_SITE = 3
#: Sector k points at (random orientation + (k - 1) * 120°).
SECTOR_SEPARATION_DEG = 120.0
MECHANICAL_TILT_DEG = (0.0, 6.0)
ELECTRICAL_TILT_DEG = (2.0, 9.0)
#: On towers (and any non-rooftop) antennas hang this far below the top ...
ANTENNA_BELOW_TOP_M = (1.0, 3.0)
#: ... but never lower than this.
MIN_ANTENNA_HEIGHT_M = 3.0
#: On rooftops antennas stand on a mast (抱杆/增高架) this tall above the roof.
ROOF_MAST_M = (2.0, 5.0)

# ---------------------------------------------------------------------------------------------
# Dates: when each site reached each status
# ---------------------------------------------------------------------------------------------

#: NR roll-out in Chongqing (chongqing-facts.md): licences on 6 June 2019, about 10,000 base
#: stations at the end of 2019, 49,000 at the end of 2020, over 70,000 sites in January 2022 —
#: as the cumulative share of the sites on air by each date (piecewise linear in between).
NR_ROLLOUT = (("2019-06-06", 0.0), ("2019-12-31", 10 / 70), ("2020-12-31", 49 / 70),
              ("2021-12-31", 1.0))  # fmt: skip
#: LTE sites went on air between the TD-LTE licences (4 December 2013) and the end of 2018.
LTE_ON_AIR = ("2013-12-04", "2018-12-31")
#: NR sites not yet on air reached their status in the second half of 2021.
PENDING_WINDOW = ("2021-07-01", "2021-12-31")
#: Days from planned to approved, approved to built, built to on air.
LAG_DAYS = ((30, 120), (30, 90), (15, 60))

# Salts that keep the hashed streams apart.
_SALT_COUNT, _SALT_HOST, _SALT_OP, _SALT_RAT, _SALT_BAND, _SALT_STATUS = range(0x5100, 0x5106)
_SALT_AZIMUTH, _SALT_MTILT, _SALT_ETILT, _SALT_HEIGHT = range(0x5110, 0x5114)
_SALT_DATE, _SALT_LAG = 0x5120, 0x5121


@dataclass(frozen=True, eq=False)
class SiteBatch:
    """Synthetic existing sites, one row per site."""

    structure_row: np.ndarray  # int64 index into the StructureBatch passed in
    operator: np.ndarray  # int8 index into OPERATORS
    rat: np.ndarray  # str: "NR" or "LTE"
    band: np.ndarray  # str: "n41", "n78", "n79", "n28", "B3", "B39", ...
    status: np.ndarray  # str: "planned", "approved", "built", "on_air"
    carrier_frequency_mhz: np.ndarray  # float32, downlink carrier centre
    bandwidth_mhz: np.ndarray  # float32
    tx_power_dbm: np.ndarray  # float32, total transmit power per sector
    status_dates: np.ndarray  # datetime64[D], (n, 4): planned, approved, built, on air; NaT ahead

    def __len__(self) -> int:
        return len(self.structure_row)


@dataclass(frozen=True, eq=False)
class SectorBatch:
    """Sectors of a SiteBatch, one row per sector."""

    site_row: np.ndarray  # int64 index into the SiteBatch
    sector_number: np.ndarray  # int8, 1..3
    azimuth_deg: np.ndarray  # float32, [0, 360)
    mechanical_tilt_deg: np.ndarray  # float32
    electrical_tilt_deg: np.ndarray  # float32
    antenna_height_m: np.ndarray  # float32

    def __len__(self) -> int:
        return len(self.site_row)


def _pick(p: tuple[float, ...], u: np.ndarray) -> np.ndarray:
    """Index drawn from probabilities ``p`` with uniforms ``u``."""
    cum = np.cumsum(p)
    return np.minimum(np.searchsorted(cum / cum[-1], u, side="right"), len(p) - 1)


def _scaled(bounds: tuple[float, float], u: np.ndarray) -> np.ndarray:
    """``u`` in [0, 1) mapped onto [low, high)."""
    return bounds[0] + (bounds[1] - bounds[0]) * u


def _u(seed: int, salt: int, *words: np.ndarray | int) -> np.ndarray:
    return hash_uniform(GENERATOR_VERSION, salt, seed, *words)


def _day(text: str) -> int:
    return int(np.datetime64(text, "D").astype(np.int64))


def _status_dates(
    seed: int, slid: np.ndarray, op: np.ndarray, nr: np.ndarray, status_ix: np.ndarray
) -> np.ndarray:
    """The day each site reached each status (NaT for statuses it has not reached): the
    current status's day from the roll-out, the earlier ones ``LAG_DAYS`` before."""
    u = _u(seed, _SALT_DATE, slid, op)
    on_air = status_ix == len(SITE_STATUSES) - 1
    knots = np.asarray([_day(d) for d, _ in NR_ROLLOUT], dtype=float)
    shares = np.asarray([f for _, f in NR_ROLLOUT])
    day = np.where(
        on_air & nr,
        np.interp(u, shares, knots),
        np.where(
            on_air,
            _day(LTE_ON_AIR[0]) + u * (_day(LTE_ON_AIR[1]) - _day(LTE_ON_AIR[0])),
            _day(PENDING_WINDOW[0]) + u * (_day(PENDING_WINDOW[1]) - _day(PENDING_WINDOW[0])),
        ),
    ).astype(np.int64)
    out = np.full((slid.size, len(SITE_STATUSES)), np.datetime64("NaT"), dtype="datetime64[D]")
    for k in range(len(SITE_STATUSES) - 1, -1, -1):  # from the current status backwards
        reached = status_ix >= k
        out[reached, k] = day[reached].astype("datetime64[D]")
        if k:
            low, high = LAG_DAYS[k - 1]
            lag = low + _u(seed, _SALT_LAG, slid, op, k) * (high - low)
            day = np.where(status_ix >= k, day - lag.astype(np.int64), day)
    return out


def generate_sites(
    structures: StructureBatch, *, seed: int = 2019, nr_share: float = 0.5
) -> tuple[SiteBatch, SectorBatch]:
    """Synthetic existing operator sites (and their sectors) on ``structures``.

    Sites sit on telecom towers and on a small share of rooftops; rows come ordered by
    ``structure_row`` and then operator. A structure's sites depend only on ``seed``,
    ``nr_share`` and its ``local_id`` (and its kind, height and mount positions).
    """
    if not (isinstance(seed, int | np.integer) and 0 <= seed < 2**63):
        raise ValueError(f"seed must be an integer in [0, 2**63), got {seed!r}")
    if not 0.0 <= nr_share <= 1.0:
        raise ValueError(f"nr_share must be in [0, 1], got {nr_share!r}")
    lid = np.asarray(structures.local_id, dtype=np.int64)
    kind = np.asarray(structures.kind)
    n = lid.size
    n_ops = len(OPERATORS)

    # --- how many tenants -----------------------------------------------------------------------
    u_count = _u(seed, _SALT_COUNT, lid)
    u_host = _u(seed, _SALT_HOST, lid)
    tenants = np.zeros(n, dtype=np.int64)
    tower = kind == TELECOM_TOWER
    tenants[tower] = _pick(TOWER_TENANTS_P, u_count[tower])
    roof = (kind == ROOFTOP) & (u_host < ROOFTOP_HOST_P)
    tenants[roof] = _pick(ROOFTOP_TENANTS_P, u_count[roof])
    tenants = np.minimum(tenants, np.asarray(structures.mount_positions, dtype=np.int64))
    tenants = np.minimum(tenants, n_ops)

    # --- which operators: weighted sampling without replacement (Efraimidis–Spirakis keys) -----
    host = np.flatnonzero(tenants > 0)
    ops = np.arange(n_ops)
    u_op = _u(seed, _SALT_OP, lid[host][:, None], ops[None, :]).reshape(host.size, n_ops)
    keys = np.log(np.maximum(u_op, 1e-300)) / np.asarray(OPERATOR_WEIGHT)[None, :]
    rank = np.argsort(-keys, axis=1, kind="stable").argsort(axis=1, kind="stable")
    hrow, op = np.nonzero(rank < tenants[host][:, None])  # sorted by structure, then operator
    srow = host[hrow]
    slid = lid[srow]
    ns = srow.size

    # --- carrier ----------------------------------------------------------------------------------
    nr = _u(seed, _SALT_RAT, slid, op) < nr_share
    nr |= np.isin(op, list(NR_ONLY_OPERATORS))
    u_band = _u(seed, _SALT_BAND, slid, op)
    band = np.empty(ns, dtype="<U3")
    freq = np.empty(ns, dtype=np.float32)
    bw = np.empty(ns, dtype=np.float32)
    power = np.empty(ns, dtype=np.float32)
    for o in range(n_ops):
        for rat_is_nr in (True, False):
            sel = np.flatnonzero((op == o) & (nr == rat_is_nr))
            rows = [r for r in BAND_PLAN if r[0] == o and (r[1] == "NR") == rat_is_nr]
            if sel.size == 0 or not rows:
                continue
            pick = _pick(tuple(r[7] for r in rows), u_band[sel])
            band[sel] = np.asarray([r[2] for r in rows])[pick]
            freq[sel] = np.asarray([r[5] for r in rows], np.float32)[pick]
            bw[sel] = np.asarray([r[6] for r in rows], np.float32)[pick]
            power[sel] = np.asarray([r[8] for r in rows], np.float32)[pick]
    u_status = _u(seed, _SALT_STATUS, slid, op)
    status_ix = np.where(nr, _pick(NR_STATUS_P, u_status), _pick(LTE_STATUS_P, u_status))
    sites = SiteBatch(
        status_dates=_status_dates(seed, slid, op, nr, status_ix),
        structure_row=srow.astype(np.int64),
        operator=op.astype(np.int8),
        rat=np.where(nr, "NR", "LTE").astype("<U3"),
        band=band,
        status=np.asarray(SITE_STATUSES)[status_ix].astype("<U8"),
        carrier_frequency_mhz=freq,
        bandwidth_mhz=bw,
        tx_power_dbm=power,
    )

    # --- sectors ----------------------------------------------------------------------------------
    site_row = np.repeat(np.arange(ns, dtype=np.int64), SECTORS_PER_SITE)
    number = np.tile(np.arange(1, SECTORS_PER_SITE + 1, dtype=np.int64), ns)
    k_lid, k_op = slid[site_row], op[site_row]
    base = _u(seed, _SALT_AZIMUTH, slid, op) * SECTOR_SEPARATION_DEG
    az = np.mod(base[site_row] + (number - 1) * SECTOR_SEPARATION_DEG, 360.0)
    mtilt = _scaled(MECHANICAL_TILT_DEG, _u(seed, _SALT_MTILT, k_lid, k_op, number))
    etilt = _scaled(ELECTRICAL_TILT_DEG, _u(seed, _SALT_ETILT, k_lid, k_op, number))
    u_h = _u(seed, _SALT_HEIGHT, k_lid, k_op, number)
    s_height = np.asarray(structures.height_m, dtype=np.float64)[srow][site_row]
    on_roof = kind[srow][site_row] == ROOFTOP
    below = _scaled(ANTENNA_BELOW_TOP_M, u_h)
    mast = _scaled(ROOF_MAST_M, u_h)
    height = np.where(on_roof, s_height + mast, np.maximum(s_height - below, MIN_ANTENNA_HEIGHT_M))
    az32 = az.astype(np.float32)
    az32[az32 >= np.float32(360.0)] -= np.float32(360.0)
    sectors = SectorBatch(
        site_row=site_row,
        sector_number=number.astype(np.int8),
        azimuth_deg=az32,
        mechanical_tilt_deg=mtilt.astype(np.float32),
        electrical_tilt_deg=etilt.astype(np.float32),
        antenna_height_m=height.astype(np.float32),
    )
    return sites, sectors
