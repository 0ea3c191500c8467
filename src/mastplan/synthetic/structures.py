"""Seeded synthetic generator of structures (towers and social poles) — SYNTHETIC DATA.

No real pole inventory of Chongqing is available to this project, so the default data set
generates plausible structures instead. Everything made here is **synthetic**: store it with
``synthetic=True`` and :func:`source_tag` as its source, never as an inventory.

The generator is a pure core: a shapely (Multi)Polygon in EPSG:32648 metres in, numpy arrays out.
It works tile by tile over a fixed grid anchored at (0, 0) of the CRS (tile index
``floor(x / tile_m)``). A tile's content depends only on ``(seed, tile_ix, tile_iy)`` and the
parameters ``tile_m`` and ``density``, never on the other tiles of the area or on the order in
which tiles run, so tiles can be generated on different workers and a sub-area reproduces the
same structures (with the same ``local_id``) as a larger area.

Per tile the model lays a street network in a local frame rotated by a few degrees: a jittered
grid of trunk roads, secondary roads between them and short branch roads inside the blocks.
Lamp poles stand along the roads at CJJ 45-2015 spacings, traffic-signal and CCTV poles at the
junctions, CCTV poles along trunk roads, power poles along some branch roads, rooftops inside the
blocks, and a few smart poles (多杆合一) replace trunk-road lamps. Telecom towers sit on one
jittered hexagonal lattice for the whole CRS (positions from a counter-based hash of the lattice
index), so they have no seams at tile borders and still depend on nothing but the seed.

Every number below is a module-level constant; docs/synthetic-data.md gives the source of each.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields

import numpy as np
import shapely

__all__ = [
    "GENERATOR_VERSION",
    "PROVENANCE",
    "STRUCTURE_KINDS",
    "StructureBatch",
    "concat_structures",
    "decode_local_id",
    "generate_structures",
    "generate_tile",
    "kind_counts",
    "max_structures_per_tile",
    "source_tag",
    "tile_key",
    "tiles_of",
]

# ---------------------------------------------------------------------------------------------
# Provenance
# ---------------------------------------------------------------------------------------------

#: Every structure from this module is synthetic; store it so (``Structure.synthetic = True``).
PROVENANCE = "synthetic"
#: Bumped whenever the same seed would give different structures; part of every random stream.
GENERATOR_VERSION = 1

# ---------------------------------------------------------------------------------------------
# Kinds (the order is part of the API: ``kind`` arrays index into it)
# ---------------------------------------------------------------------------------------------

STRUCTURE_KINDS = (
    "telecom_tower",
    "lamp_pole",
    "traffic_signal_pole",
    "cctv_pole",
    "power_pole",
    "rooftop",
    "smart_pole",
)
TELECOM_TOWER, LAMP_POLE, TRAFFIC_SIGNAL_POLE, CCTV_POLE, POWER_POLE, ROOFTOP, SMART_POLE = range(
    len(STRUCTURE_KINDS)
)

# ---------------------------------------------------------------------------------------------
# Tiling and ids
# ---------------------------------------------------------------------------------------------

#: Bits of ``local_id`` for the index within a tile: a tile may hold at most 2**20 - 1 structures.
INDEX_BITS = 20
#: Bits for each zig-zag encoded tile index: |tile_ix|, |tile_iy| < 2**20.
TILE_INDEX_BITS = 21
#: local_id = ((zz(ix) << 21 | zz(iy)) << 20) | i  <  2**62, so it fits in int64.
MAX_TILE_INDEX = 2 ** (TILE_INDEX_BITS - 1)
#: density is the share of a dense urban core (1.0 = 渝中区); above 2 the model is meaningless.
MAX_DENSITY = 2.0

# ---------------------------------------------------------------------------------------------
# Street network (per tile). Road classes: 0 trunk (主干路), 1 secondary (次干路), 2 branch (支路).
# Spacings are at density 1.0 and divided by ``density``, so road length per km² scales with it.
# ---------------------------------------------------------------------------------------------

TRUNK, SECONDARY, BRANCH = 0, 1, 2
#: Local grid rotated by U(-15°, 15°) per tile (road grids are rarely north-aligned).
GRID_ROTATION_MAX_DEG = 15.0
#: Trunk-road spacing, drawn per tile and direction (brief: ~400–600 m in a dense core).
TRUNK_SPACING_M = (400.0, 600.0)
#: Secondary-road spacing, drawn per tile and direction (brief: ~150–250 m).
SECONDARY_SPACING_M = (150.0, 250.0)
#: Standard deviation of each road line's offset, as a fraction of the spacing (jittered grid).
LINE_JITTER_FRAC = 0.08
#: The jitter is clipped to this fraction of the spacing so lines never swap order.
LINE_JITTER_CLIP_FRAC = 0.25
#: A secondary line closer than this fraction of its spacing to a trunk line is dropped.
SECONDARY_MIN_GAP_FRAC = 0.35
#: Probabilities of 0, 1 or 2 branch roads across a block.
BRANCH_COUNT_P = (0.45, 0.40, 0.15)
#: A block narrower than this (across the branch road) gets no branch road.
BRANCH_MIN_BLOCK_M = 80.0
#: A lone branch road lies between these fractions of the block's width ...
BRANCH_POSITION_FRAC = (0.3, 0.7)
#: ... two parallel ones between these (first, second).
BRANCH_PAIR_POSITION_FRAC = ((0.2, 0.4), (0.6, 0.8))
#: No lamps within this distance of a branch road's ends (the junction with the bounding road).
BRANCH_END_CLEAR_M = 20.0

# Street lamps, per road class (trunk, secondary, branch). CJJ 45-2015 as cited in the facts file:
# spacing 30–50 m on trunk roads, 25–35 m on secondary roads, 20–30 m on branch roads; 8–15 m.
LAMP_SPACING_M = np.array([[30.0, 50.0], [25.0, 35.0], [20.0, 30.0]])
#: Share of roads lit on both sides ("often both sides" on trunk roads).
LAMP_BOTH_SIDES_P = np.array([0.6, 0.2, 0.0])
#: Lateral distance of the lamp line from the road centre line (about half the carriageway).
LAMP_OFFSET_M = np.array([[12.0, 20.0], [7.0, 12.0], [3.0, 6.0]])
#: Lamp heights by road class (wider roads, taller poles), inside CJJ 45's 8–15 m.
LAMP_HEIGHT_M = np.array([[12.0, 15.0], [10.0, 12.0], [8.0, 10.0]])
#: Lamps are kept this far beyond the crossing road's lamp line at junctions.
JUNCTION_CLEAR_EXTRA_M = 3.0

# Junctions of trunk/secondary roads: type 0 trunk×trunk, 1 trunk×secondary, 2 secondary×secondary.
#: Share of junctions with traffic signals, by junction type.
SIGNAL_P = np.array([1.0, 0.5, 0.15])
#: Traffic-signal poles per signalised junction (one per corner used): 2–4.
SIGNAL_POLES_PER_JUNCTION = (2, 4)
#: Share of signalised junctions with a CCTV pole (天网 / e-police cameras).
CCTV_AT_SIGNAL_P = 0.5
#: The junction CCTV pole stands this much further out than the corner (diagonally).
CCTV_CORNER_EXTRA_M = 2.0
#: CCTV poles along trunk roads, one side, this far apart.
CCTV_TRUNK_SPACING_M = (250.0, 400.0)
#: Trunk-road CCTV poles keep this much further from junctions than lamps (corner CCTV there).
CCTV_JUNCTION_CLEAR_EXTRA_M = 10.0
#: CCTV line this far outside the trunk road's lamp line (back of the pavement).
CCTV_TRUNK_EXTRA_OFFSET_M = 3.0
#: Share of trunk-road lamp positions that are smart poles (多杆合一) instead.
SMART_POLE_P = 0.04

#: Share of branch roads with an overhead power line: in the core (density >= 1) and rural
#: (density -> 0); linear in between. City-core distribution is mostly underground.
POWER_ON_BRANCH_P = (0.15, 0.6)
#: Distribution-line pole spacing (10 kV / 0.4 kV overhead lines in towns).
POWER_SPACING_M = (50.0, 80.0)
#: Power poles stand on the branch road's unlit side, this far from its centre line.
POWER_OFFSET_M = (2.0, 4.0)

# Rooftops (buildings that could carry antennas).
#: Candidate rooftops per km² of block area at density 1.0 (scaled by density).
ROOFTOPS_PER_KM2 = 45.0
#: The tile's rooftop count is Poisson, capped at mean + this many standard deviations (+ the
#: slack below) so the per-tile count has a hard bound; the cap is never reached in practice.
ROOFTOP_CAP_SIGMAS = 10.0
ROOFTOP_CAP_SLACK = 50
#: Buildings stand at least this far inside the block edge (a quarter of the block at most).
ROOF_SETBACK_M = 15.0
#: No rooftop within this distance of a branch road's centre line (its lamps and power poles).
ROOF_ROAD_CLEAR_M = 12.0
#: Rooftops closer than this to an earlier rooftop of the tile are dropped (distinct buildings).
ROOF_MIN_SEPARATION_M = 20.0
#: Building height is log-normal: median = a + b * min(density, 1) metres ...
ROOF_HEIGHT_MEDIAN_M = (18.0, 22.0)
#: ... with log-sigma = a + b * min(density, 1) (heavier tail in the core) ...
ROOF_HEIGHT_SIGMA = (0.30, 0.25)
#: ... clipped to this range (5–50 floors).
ROOF_HEIGHT_CLIP_M = (15.0, 150.0)

# Telecom towers: one jittered hexagonal lattice for the whole CRS.
#: Lattice spacing at density 1.0 (brief: 300–500 m in urban areas; ITU-R M.2135 urban macro ISD
#: is 500 m); divided by sqrt(density) so towers per km² scale with density.
TOWER_SPACING_M = 400.0
#: Each lattice point moves uniformly within a disc of this radius (fraction of the spacing).
TOWER_JITTER_FRAC = 0.2
#: Share of lattice points with a tower (some sites were never acquired).
TOWER_KEEP_P = 0.9
#: Other structures closer than this to a tower are dropped (the tower's plot).
TOWER_PLOT_CLEAR_M = 10.0

# ---------------------------------------------------------------------------------------------
# Attributes by kind, rows in STRUCTURE_KINDS order:
# tower, lamp, traffic signal, CCTV, power, rooftop, smart pole.
# ---------------------------------------------------------------------------------------------

#: Height range (m). Lamp and rooftop heights come from LAMP_HEIGHT_M and ROOF_HEIGHT_* instead.
HEIGHT_M = np.array(
    [[25.0, 45.0], [8.0, 15.0], [6.0, 8.0], [6.0, 10.0], [10.0, 15.0], [15.0, 150.0], [10.0, 15.0]]
)
#: Antenna mount positions (inclusive integer range).
MOUNT_POSITIONS = np.array([[3, 6], [1, 2], [1, 2], [1, 2], [1, 2], [2, 6], [2, 4]])
#: Extra payload the structure can take (kg).
MAX_PAYLOAD_KG = np.array(
    [
        [300.0, 600.0],
        [20.0, 60.0],
        [20.0, 60.0],
        [20.0, 60.0],
        [20.0, 60.0],
        [100.0, 400.0],
        [60.0, 150.0],
    ]
)
#: Power available to tenants (kW).
AVAILABLE_POWER_KW = np.array(
    [[10.0, 20.0], [0.5, 2.0], [0.5, 2.0], [0.5, 2.0], [0.5, 2.0], [3.0, 10.0], [2.0, 5.0]]
)
#: Probability that fibre is at the structure.
FIBRE_P = np.array([0.9, 0.25, 0.8, 0.9, 0.15, 0.6, 0.95])
#: Probability that the owner offers the structure for sharing.
OPEN_FOR_SHARING_P = np.array([0.95, 0.85, 0.7, 0.6, 0.75, 0.65, 0.95])


# ---------------------------------------------------------------------------------------------
# The batch
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class StructureBatch:
    """Structures as parallel arrays (all the same length). Synthetic when made by this module."""

    local_id: np.ndarray  # int64, unique over a run, deterministic (see decode_local_id)
    x_m: np.ndarray  # float64, EPSG:32648 metres (the CRS of the input area)
    y_m: np.ndarray  # float64
    kind: np.ndarray  # int8 index into STRUCTURE_KINDS
    height_m: np.ndarray  # float32
    mount_positions: np.ndarray  # int16, >= 1
    max_payload_kg: np.ndarray  # float32
    available_power_kw: np.ndarray  # float32
    fibre: np.ndarray  # bool
    open_for_sharing: np.ndarray  # bool

    def __post_init__(self) -> None:
        n = len(self.local_id)
        for f in fields(self):
            if len(getattr(self, f.name)) != n:
                raise ValueError(f"StructureBatch.{f.name} has a different length than local_id")

    def __len__(self) -> int:
        return len(self.local_id)

    def take(self, index: np.ndarray | slice) -> StructureBatch:
        """The rows selected by an index array, boolean mask or slice."""
        return StructureBatch(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def kind_names(self) -> np.ndarray:
        """``kind`` as strings (``STRUCTURE_KINDS`` values)."""
        return np.asarray(STRUCTURE_KINDS)[self.kind]


def concat_structures(batches: Iterable[StructureBatch]) -> StructureBatch:
    """One batch holding the rows of all ``batches`` in order (an empty batch if none)."""
    batches = list(batches)
    if not batches:
        return _empty_batch()
    return StructureBatch(
        **{
            f.name: np.concatenate([getattr(b, f.name) for b in batches])
            for f in fields(StructureBatch)
        }
    )


def source_tag(*, seed: int = 2019, density: float = 1.0, tile_m: float = 2000.0) -> str:
    """A short provenance string for ``Structure.source`` (marks the rows as synthetic)."""
    return (
        f"synthetic:mastplan.synthetic.structures v{GENERATOR_VERSION} "
        f"seed={seed} density={density:g} tile_m={tile_m:g}"
    )


# ---------------------------------------------------------------------------------------------
# Counter-based hashing (SplitMix64), also used by sites.py
# ---------------------------------------------------------------------------------------------

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _mix64(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = z + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def _as_u64(word: int | np.ndarray) -> np.ndarray:
    return np.atleast_1d(np.asarray(word, dtype=np.int64)).astype(np.uint64)


def hash_words(*words: int | np.ndarray) -> np.ndarray:
    """SplitMix64 hash of a sequence of int64 words (broadcast over arrays), as uint64."""
    h = _mix64(_as_u64(words[0]))
    for w in words[1:]:
        h = _mix64(h ^ _as_u64(w))
    return h


def hash_uniform(*words: int | np.ndarray) -> np.ndarray:
    """Uniform floats in [0, 1) that depend only on the words (a counter-based RNG)."""
    return (hash_words(*words) >> np.uint64(11)).astype(np.float64) * 2.0**-53


# Salts that keep the hashed streams apart.
_SALT_TOWER_FRAME = 0x7057
_SALT_TOWER_POINT = 0x7058


# ---------------------------------------------------------------------------------------------
# Ids
# ---------------------------------------------------------------------------------------------


def _zigzag(i: int) -> int:
    return 2 * i if i >= 0 else -2 * i - 1


def _unzigzag(z: np.ndarray) -> np.ndarray:
    return np.where(z % 2 == 0, z // 2, -(z + 1) // 2)


def tile_key(tile_ix: int, tile_iy: int) -> int:
    """A unique non-negative key < 2**42 for a tile index pair."""
    lo, hi = -MAX_TILE_INDEX, MAX_TILE_INDEX
    if not (lo <= tile_ix < hi and lo <= tile_iy < hi):
        raise ValueError(f"tile index ({tile_ix}, {tile_iy}) outside ±2**{TILE_INDEX_BITS - 1}")
    return (_zigzag(tile_ix) << TILE_INDEX_BITS) | _zigzag(tile_iy)


def decode_local_id(local_id: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(tile_ix, tile_iy, index_within_tile)`` of each ``local_id``."""
    lid = np.asarray(local_id, dtype=np.int64)
    index = lid & ((1 << INDEX_BITS) - 1)
    key = lid >> INDEX_BITS
    zx = key >> TILE_INDEX_BITS
    zy = key & ((1 << TILE_INDEX_BITS) - 1)
    return _unzigzag(zx), _unzigzag(zy), index


# ---------------------------------------------------------------------------------------------
# Parameter checks and the per-tile bound
# ---------------------------------------------------------------------------------------------


def _check_params(seed: int, tile_m: float, density: float) -> None:
    if not (isinstance(seed, int | np.integer) and 0 <= seed < 2**63):
        raise ValueError(f"seed must be an integer in [0, 2**63), got {seed!r}")
    if not (math.isfinite(tile_m) and tile_m > 0):
        raise ValueError(f"tile_m must be a positive number of metres, got {tile_m!r}")
    if not (math.isfinite(density) and 0 < density <= MAX_DENSITY):
        raise ValueError(f"density must be in (0, {MAX_DENSITY}], got {density!r}")
    bound = max_structures_per_tile(tile_m, density)
    if bound >= 2**INDEX_BITS:
        raise ValueError(
            f"tile_m={tile_m:g} at density={density:g} could hold up to {bound} structures; "
            f"local_id allows {2**INDEX_BITS - 1} per tile: use smaller tiles"
        )


def _half_extent(tile_m: float) -> float:
    """Half-side of the rotated local square that covers the tile for any rotation."""
    return tile_m * math.sqrt(0.5) + BRANCH_MIN_BLOCK_M


def _rooftop_cap(mean: float) -> int:
    """Hard cap on a tile's rooftop count, far above any Poisson draw of that ``mean``."""
    return math.ceil(mean + ROOFTOP_CAP_SIGMAS * math.sqrt(mean)) + ROOFTOP_CAP_SLACK


def max_structures_per_tile(tile_m: float, density: float) -> int:
    """A hard upper bound on the structures one tile can hold (before clipping to the tile).

    Derived from the minimum spacings of every element, so the real count can never exceed it;
    ``generate_structures`` refuses parameters whose bound would overflow ``local_id``.
    """
    span = 2.0 * _half_extent(tile_m)
    lines = 0.0  # road lines per direction, trunk and secondary
    for spacing in (TRUNK_SPACING_M[0], SECONDARY_SPACING_M[0]):
        lines += span / (spacing / density) + 1.0
    lamp_min = float(LAMP_SPACING_M[:2, 0].min())
    # full lines in both directions, two sides each, plus CCTV along trunk roads
    along = 2.0 * lines * (2.0 * (span / lamp_min + 1.0) + span / CCTV_TRUNK_SPACING_M[0] + 1.0)
    junctions = lines * lines * (SIGNAL_POLES_PER_JUNCTION[1] + 1)
    blocks = (lines + 1.0) ** 2
    # at most two branch roads per block, each no longer than the block's height h_j (vertical)
    # or width w_i (horizontal): sum over blocks of 2 (h_j + w_i) <= 4 (lines + 1) span.
    branch_len = 4.0 * (lines + 1.0) * span
    branch = (
        branch_len / LAMP_SPACING_M[BRANCH, 0]
        + branch_len / POWER_SPACING_M[0]
        + 2.0 * 2.0 * blocks
    )
    roofs = _rooftop_cap(span * span * 1e-6 * ROOFTOPS_PER_KM2 * density)
    # towers: lattice points at least d apart inside a square of side L -> <= (L + d)^2 / (pi d^2/4)
    d = TOWER_SPACING_M / math.sqrt(density)
    side = tile_m + 2.0 * TOWER_JITTER_FRAC * d
    towers = (side + d) ** 2 / (math.pi * d * d / 4.0)
    return math.ceil(along + junctions + branch + roofs + towers)


# ---------------------------------------------------------------------------------------------
# Geometry helpers (local frame: u along the rotated x axis, v along the rotated y axis)
# ---------------------------------------------------------------------------------------------


def _grid_lines(rng: np.random.Generator, spacing: float, half: float) -> np.ndarray:
    """Jittered, sorted line positions in [-half, half] at about ``spacing``."""
    phase = rng.uniform(0.0, spacing)
    pos = np.arange(-half + phase, half, spacing)
    clip = LINE_JITTER_CLIP_FRAC * spacing
    pos = pos + np.clip(rng.normal(0.0, LINE_JITTER_FRAC * spacing, pos.size), -clip, clip)
    return pos[(pos > -half) & (pos < half)]


def _road_lines(
    rng: np.random.Generator, half: float, density: float
) -> tuple[np.ndarray, np.ndarray]:
    """Positions and classes (TRUNK/SECONDARY), sorted, of the road lines in one direction."""
    trunk = _grid_lines(rng, rng.uniform(*TRUNK_SPACING_M) / density, half)
    s_spacing = rng.uniform(*SECONDARY_SPACING_M) / density
    secondary = _grid_lines(rng, s_spacing, half)
    if trunk.size and secondary.size:
        gap = np.abs(secondary[:, None] - trunk[None, :]).min(axis=1)
        secondary = secondary[gap >= SECONDARY_MIN_GAP_FRAC * s_spacing]
    pos = np.concatenate([trunk, secondary])
    cls = np.concatenate([np.full(trunk.size, TRUNK), np.full(secondary.size, SECONDARY)])
    order = np.argsort(pos, kind="stable")
    return pos[order], cls[order].astype(np.int8)


def _along(
    fixed: np.ndarray,
    t0: np.ndarray,
    t1: np.ndarray,
    spacing: np.ndarray,
    phase: np.ndarray,
    vertical: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Points every ``spacing`` from ``t0 + phase`` to ``t1`` along many runs at once.

    A vertical run lies at u = fixed and runs along v; a horizontal one at v = fixed along u.
    Returns (u, v, t, run index).
    """
    count = np.floor((t1 - t0 - phase) / spacing).astype(np.int64) + 1
    count = np.maximum(count, 0)
    run = np.repeat(np.arange(count.size), count)
    k = np.arange(run.size) - np.repeat(np.cumsum(count) - count, count)
    t = t0[run] + phase[run] + k * spacing[run]
    f = fixed[run]
    vert = vertical[run]
    return np.where(vert, f, t), np.where(vert, t, f), t, run


def _clear_of(t: np.ndarray, cross_pos: np.ndarray, cross_clear: np.ndarray) -> np.ndarray:
    """Mask of positions ``t`` farther than the clearance from every crossing line."""
    if cross_pos.size == 0 or t.size == 0:
        return np.ones(t.size, dtype=bool)
    right = np.clip(np.searchsorted(cross_pos, t), 0, cross_pos.size - 1)
    left = np.clip(right - 1, 0, cross_pos.size - 1)
    ok_right = np.abs(t - cross_pos[right]) >= cross_clear[right]
    ok_left = np.abs(t - cross_pos[left]) >= cross_clear[left]
    return ok_right & ok_left


def _pairs_within(
    ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray, dist: float
) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i into a, j into b) of points at most ``dist`` apart (sweep over sorted x)."""
    order = np.argsort(bx, kind="stable")
    sbx = bx[order]
    lo = np.searchsorted(sbx, ax - dist, side="left")
    count = np.searchsorted(sbx, ax + dist, side="right") - lo
    ia = np.repeat(np.arange(ax.size), count)
    k = np.arange(ia.size) - np.repeat(np.cumsum(count) - count, count)
    ib = order[lo[ia] + k]
    close = (ax[ia] - bx[ib]) ** 2 + (ay[ia] - by[ib]) ** 2 <= dist * dist
    return ia[close], ib[close]


# ---------------------------------------------------------------------------------------------
# One tile
# ---------------------------------------------------------------------------------------------


class _Parts:
    """Collects (u, v, kind, height-or-nan) pieces in a fixed order."""

    def __init__(self) -> None:
        self.u: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.kind: list[np.ndarray] = []
        self.height: list[np.ndarray] = []

    def add(self, u: np.ndarray, v: np.ndarray, kind: np.ndarray | int, height: np.ndarray | float):
        n = u.size
        self.u.append(np.asarray(u, dtype=np.float64))
        self.v.append(np.asarray(v, dtype=np.float64))
        self.kind.append(np.broadcast_to(np.asarray(kind, dtype=np.int8), (n,)))
        self.height.append(np.broadcast_to(np.asarray(height, dtype=np.float64), (n,)))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return (
            np.concatenate(self.u),
            np.concatenate(self.v),
            np.concatenate(self.kind),
            np.concatenate(self.height),
        )


def _street_structures(rng: np.random.Generator, half: float, density: float, parts: _Parts):
    """Lay the street network of one tile and add lamps, signals, CCTV, power poles, rooftops."""
    u_pos, u_cls = _road_lines(rng, half, density)  # vertical roads (run along v) at u = u_pos
    v_pos, v_cls = _road_lines(rng, half, density)  # horizontal roads at v = v_pos
    u_off = rng.uniform(LAMP_OFFSET_M[u_cls, 0], LAMP_OFFSET_M[u_cls, 1])
    v_off = rng.uniform(LAMP_OFFSET_M[v_cls, 0], LAMP_OFFSET_M[v_cls, 1])
    u_clear = u_off + JUNCTION_CLEAR_EXTRA_M
    v_clear = v_off + JUNCTION_CLEAR_EXTRA_M

    # --- lamps (and smart poles) along the full trunk/secondary lines -------------------------
    pos = np.concatenate([u_pos, v_pos])
    cls = np.concatenate([u_cls, v_cls])
    off = np.concatenate([u_off, v_off])
    vertical = np.concatenate([np.ones(u_pos.size, bool), np.zeros(v_pos.size, bool)])
    n_lines = pos.size
    both = rng.random(n_lines) < LAMP_BOTH_SIDES_P[cls]
    first_side = np.where(rng.random(n_lines) < 0.5, -1.0, 1.0)
    # side runs: every line's first side, then the second side of lines lit on both sides
    line_of_run = np.concatenate([np.arange(n_lines), np.flatnonzero(both)])
    side = np.concatenate([first_side, -first_side[both]])
    spacing = rng.uniform(LAMP_SPACING_M[cls[line_of_run], 0], LAMP_SPACING_M[cls[line_of_run], 1])
    phase = rng.uniform(0.0, spacing)
    full = np.full(line_of_run.size, half)
    lu, lv, lt, lrun = _along(
        pos[line_of_run] + side * off[line_of_run],
        -full,
        full,
        spacing,
        phase,
        vertical[line_of_run],
    )
    lamp_line = line_of_run[lrun]
    lvert = vertical[lamp_line]
    keep = np.where(lvert, _clear_of(lt, v_pos, v_clear), _clear_of(lt, u_pos, u_clear))
    lu, lv, lamp_line = lu[keep], lv[keep], lamp_line[keep]
    lcls = cls[lamp_line]
    lamp_h = rng.uniform(LAMP_HEIGHT_M[lcls, 0], LAMP_HEIGHT_M[lcls, 1])
    smart = (lcls == TRUNK) & (rng.random(lu.size) < SMART_POLE_P)
    lamp_kind = np.where(smart, SMART_POLE, LAMP_POLE)
    lamp_h = np.where(smart, np.nan, lamp_h)  # smart poles take the HEIGHT_M row
    parts.add(lu, lv, lamp_kind, lamp_h)

    # --- junctions: traffic-signal poles and CCTV --------------------------------------------
    ju = np.repeat(u_pos, v_pos.size)
    jv = np.tile(v_pos, u_pos.size)
    j_off_u = np.repeat(u_off, v_pos.size)
    j_off_v = np.tile(v_off, u_pos.size)
    j_type = np.repeat(u_cls, v_pos.size) + np.tile(v_cls, u_pos.size)
    signal = rng.random(ju.size) < SIGNAL_P[j_type]
    n_poles = rng.integers(SIGNAL_POLES_PER_JUNCTION[0], SIGNAL_POLES_PER_JUNCTION[1] + 1, ju.size)
    corner_rank = np.argsort(rng.random((ju.size, 4)), axis=1).argsort(axis=1)
    corner_su = np.array([-1.0, 1.0, -1.0, 1.0])
    corner_sv = np.array([-1.0, -1.0, 1.0, 1.0])
    use = signal[:, None] & (corner_rank < n_poles[:, None])
    jj, cc = np.nonzero(use)
    parts.add(
        ju[jj] + corner_su[cc] * j_off_u[jj],
        jv[jj] + corner_sv[cc] * j_off_v[jj],
        TRAFFIC_SIGNAL_POLE,
        np.nan,
    )
    cctv_j = signal & (rng.random(ju.size) < CCTV_AT_SIGNAL_P)
    cctv_corner = rng.integers(0, 4, ju.size)
    jc = np.flatnonzero(cctv_j)
    cc = cctv_corner[jc]
    parts.add(
        ju[jc] + corner_su[cc] * (j_off_u[jc] + CCTV_CORNER_EXTRA_M),
        jv[jc] + corner_sv[cc] * (j_off_v[jc] + CCTV_CORNER_EXTRA_M),
        CCTV_POLE,
        np.nan,
    )

    # --- CCTV along trunk roads ----------------------------------------------------------------
    trunk_lines = np.flatnonzero(cls == TRUNK)
    c_side = np.where(rng.random(trunk_lines.size) < 0.5, -1.0, 1.0)
    c_spacing = rng.uniform(*CCTV_TRUNK_SPACING_M, trunk_lines.size)
    c_phase = rng.uniform(0.0, c_spacing)
    c_full = np.full(trunk_lines.size, half)
    cu, cv, ct, crun = _along(
        pos[trunk_lines] + c_side * (off[trunk_lines] + CCTV_TRUNK_EXTRA_OFFSET_M),
        -c_full,
        c_full,
        c_spacing,
        c_phase,
        vertical[trunk_lines],
    )
    cvert = vertical[trunk_lines[crun]]
    extra = CCTV_JUNCTION_CLEAR_EXTRA_M
    keep = np.where(
        cvert, _clear_of(ct, v_pos, v_clear + extra), _clear_of(ct, u_pos, u_clear + extra)
    )
    parts.add(cu[keep], cv[keep], CCTV_POLE, np.nan)

    # --- blocks --------------------------------------------------------------------------------
    bu = np.concatenate([[-half], u_pos, [half]])
    bv = np.concatenate([[-half], v_pos, [half]])
    # half-widths of the bounding roads (0 at the frame edge)
    bu_w = np.concatenate([[0.0], u_clear, [0.0]])
    bv_w = np.concatenate([[0.0], v_clear, [0.0]])
    bi = np.repeat(np.arange(bu.size - 1), bv.size - 1)
    bj = np.tile(np.arange(bv.size - 1), bu.size - 1)
    u_lo, u_hi = bu[bi] + bu_w[bi], bu[bi + 1] - bu_w[bi + 1]
    v_lo, v_hi = bv[bj] + bv_w[bj], bv[bj + 1] - bv_w[bj + 1]
    width = np.maximum(u_hi - u_lo, 0.0)
    height = np.maximum(v_hi - v_lo, 0.0)
    n_blocks = bi.size

    # --- branch roads: lamps on one side, power poles on the other on some ---------------------
    n_branch = rng.choice(len(BRANCH_COUNT_P), size=n_blocks, p=BRANCH_COUNT_P)
    first_vertical = rng.random(n_blocks) < 0.5
    pair = n_branch >= 2
    frac = np.stack(
        [
            np.where(
                pair,
                rng.uniform(*BRANCH_PAIR_POSITION_FRAC[0], n_blocks),
                rng.uniform(*BRANCH_POSITION_FRAC, n_blocks),
            ),
            rng.uniform(*BRANCH_PAIR_POSITION_FRAC[1], n_blocks),
        ],
        axis=1,
    )
    b_blk = np.concatenate([np.flatnonzero(n_branch >= 1), np.flatnonzero(n_branch >= 2)])
    b_vert = np.concatenate([first_vertical[n_branch >= 1], first_vertical[pair]])
    b_frac = np.concatenate([frac[n_branch >= 1, 0], frac[n_branch >= 2, 1]])
    across = np.where(b_vert, width[b_blk], height[b_blk])
    b_slot = np.concatenate(
        [np.zeros((n_branch >= 1).sum(), np.intp), np.ones((n_branch >= 2).sum(), np.intp)]
    )
    ok = across >= BRANCH_MIN_BLOCK_M
    b_blk, b_vert, b_frac, b_slot = b_blk[ok], b_vert[ok], b_frac[ok], b_slot[ok]
    b_fixed = np.where(
        b_vert,
        u_lo[b_blk] + b_frac * width[b_blk],
        v_lo[b_blk] + b_frac * height[b_blk],
    )
    b_t0 = np.where(b_vert, v_lo[b_blk], u_lo[b_blk]) + BRANCH_END_CLEAR_M
    b_t1 = np.where(b_vert, v_hi[b_blk], u_hi[b_blk]) - BRANCH_END_CLEAR_M
    nb = b_blk.size
    b_side = np.where(rng.random(nb) < 0.5, -1.0, 1.0)
    b_off = rng.uniform(LAMP_OFFSET_M[BRANCH, 0], LAMP_OFFSET_M[BRANCH, 1], nb)
    b_spacing = rng.uniform(LAMP_SPACING_M[BRANCH, 0], LAMP_SPACING_M[BRANCH, 1], nb)
    b_phase = rng.uniform(0.0, b_spacing)
    bu_, bv_, _, brun = _along(b_fixed + b_side * b_off, b_t0, b_t1, b_spacing, b_phase, b_vert)
    parts.add(bu_, bv_, LAMP_POLE, rng.uniform(*LAMP_HEIGHT_M[BRANCH], brun.size))

    core = min(density, 1.0)
    p_power = POWER_ON_BRANCH_P[1] + (POWER_ON_BRANCH_P[0] - POWER_ON_BRANCH_P[1]) * core
    powered = np.flatnonzero(rng.random(nb) < p_power)
    p_spacing = rng.uniform(*POWER_SPACING_M, powered.size)
    p_phase = rng.uniform(0.0, p_spacing)
    p_off = rng.uniform(*POWER_OFFSET_M, powered.size)
    pu, pv, _, _ = _along(
        b_fixed[powered] - b_side[powered] * p_off,
        b_t0[powered],
        b_t1[powered],
        p_spacing,
        p_phase,
        b_vert[powered],
    )
    parts.add(pu, pv, POWER_POLE, np.nan)

    # --- rooftops --------------------------------------------------------------------------------
    setback_u = np.minimum(ROOF_SETBACK_M, 0.25 * width)
    setback_v = np.minimum(ROOF_SETBACK_M, 0.25 * height)
    # one Poisson count for the frame, spread over the blocks by area (= a Poisson per block)
    block_area = width * height
    total_area = float(block_area.sum())
    lam = total_area * 1e-6 * ROOFTOPS_PER_KM2 * density
    n_roof = min(int(rng.poisson(lam)), _rooftop_cap(lam)) if total_area > 0 else 0
    cum = np.cumsum(block_area) / max(total_area, 1e-300)
    rb = np.sort(np.minimum(np.searchsorted(cum, rng.random(n_roof), side="right"), n_blocks - 1))
    ru = u_lo[rb] + setback_u[rb] + rng.random(rb.size) * (width[rb] - 2 * setback_u[rb])
    rv = v_lo[rb] + setback_v[rb] + rng.random(rb.size) * (height[rb] - 2 * setback_v[rb])
    median = ROOF_HEIGHT_MEDIAN_M[0] + ROOF_HEIGHT_MEDIAN_M[1] * core
    sigma = ROOF_HEIGHT_SIGMA[0] + ROOF_HEIGHT_SIGMA[1] * core
    rh = np.clip(median * np.exp(sigma * rng.standard_normal(rb.size)), *ROOF_HEIGHT_CLIP_M)
    # keep buildings off the branch roads of their block ...
    road_fixed = np.full((n_blocks, 2), np.nan)
    road_vert = np.zeros((n_blocks, 2), bool)
    road_fixed[b_blk, b_slot] = b_fixed
    road_vert[b_blk, b_slot] = b_vert
    clear = np.ones(rb.size, bool)
    for slot in (0, 1):
        f = road_fixed[rb, slot]
        dist = np.where(road_vert[rb, slot], np.abs(ru - f), np.abs(rv - f))
        clear &= ~(dist < ROOF_ROAD_CLEAR_M)  # NaN (no road) compares False
    # ... and apart from each other: drop the later of any two closer than the separation
    i, j = _pairs_within(ru, rv, ru, rv, ROOF_MIN_SEPARATION_M)
    clear[j[i < j]] = False
    parts.add(ru[clear], rv[clear], ROOFTOP, rh[clear])


def _tower_frame(seed: int, density: float) -> tuple[float, np.ndarray, np.ndarray]:
    """Spacing, origin (2,) and basis (2, 2) of the city-wide tower lattice for a seed."""
    d = TOWER_SPACING_M / math.sqrt(density)
    h = hash_uniform(GENERATOR_VERSION, _SALT_TOWER_FRAME, seed, np.arange(3))
    angle = h[0] * math.pi / 3.0  # hexagonal lattice: 60° symmetry
    origin = np.array([h[1] * d, h[2] * d])
    basis = d * np.array(
        [
            [math.cos(angle), math.cos(angle + math.pi / 3.0)],
            [math.sin(angle), math.sin(angle + math.pi / 3.0)],
        ]
    )  # columns: a1, a2
    return d, origin, basis


def _towers(
    seed: int, tile_ix: int, tile_iy: int, tile_m: float, density: float
) -> tuple[np.ndarray, np.ndarray]:
    """World (x, y) of the towers whose jittered lattice position falls in this tile."""
    d, origin, basis = _tower_frame(seed, density)
    reach = TOWER_JITTER_FRAC * d
    x0, y0 = tile_ix * tile_m - reach, tile_iy * tile_m - reach
    x1, y1 = (tile_ix + 1) * tile_m + reach, (tile_iy + 1) * tile_m + reach
    corners = np.array([[x0, x1, x0, x1], [y0, y0, y1, y1]]) - origin[:, None]
    ij = np.linalg.solve(basis, corners)
    i_rng = np.arange(math.floor(ij[0].min()) - 1, math.ceil(ij[0].max()) + 2, dtype=np.int64)
    j_rng = np.arange(math.floor(ij[1].min()) - 1, math.ceil(ij[1].max()) + 2, dtype=np.int64)
    jj, ii = np.meshgrid(j_rng, i_rng, indexing="ij")  # row-major over (j, i)
    ii, jj = ii.ravel(), jj.ravel()
    x = origin[0] + ii * basis[0, 0] + jj * basis[0, 1]
    y = origin[1] + ii * basis[1, 0] + jj * basis[1, 1]
    near = (x >= x0) & (x < x1) & (y >= y0) & (y < y1)
    ii, jj, x, y = ii[near], jj[near], x[near], y[near]
    h = [hash_uniform(GENERATOR_VERSION, _SALT_TOWER_POINT, seed, ii, jj, k) for k in range(3)]
    r = reach * np.sqrt(h[0])
    phi = 2.0 * math.pi * h[1]
    x = x + r * np.cos(phi)
    y = y + r * np.sin(phi)
    own = (np.floor(x / tile_m) == tile_ix) & (np.floor(y / tile_m) == tile_iy)
    own &= h[2] < TOWER_KEEP_P
    return x[own], y[own]


def _tile_rng(seed: int, tile_ix: int, tile_iy: int) -> np.random.Generator:
    entropy = [GENERATOR_VERSION, seed, _zigzag(tile_ix), _zigzag(tile_iy)]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def generate_tile(
    tile_ix: int, tile_iy: int, *, seed: int = 2019, tile_m: float = 2000.0, density: float = 1.0
) -> StructureBatch:
    """All synthetic structures of one tile (not clipped to any area).

    The result depends only on ``(seed, tile_ix, tile_iy, tile_m, density)``; rows come in a
    fixed order (towers, road-side poles, junction poles, CCTV, branch lamps, power poles,
    rooftops) and ``local_id`` encodes the tile and the row (see :func:`decode_local_id`).
    """
    _check_params(seed, tile_m, density)
    key = tile_key(tile_ix, tile_iy)
    rng = _tile_rng(seed, tile_ix, tile_iy)

    half = _half_extent(tile_m)
    theta = math.radians(rng.uniform(-GRID_ROTATION_MAX_DEG, GRID_ROTATION_MAX_DEG))
    parts = _Parts()
    _street_structures(rng, half, density, parts)
    u, v, kind, height = parts.arrays()
    cx, cy = (tile_ix + 0.5) * tile_m, (tile_iy + 0.5) * tile_m
    cos_t, sin_t = math.cos(theta), math.sin(theta)
    x = cx + u * cos_t - v * sin_t
    y = cy + u * sin_t + v * cos_t

    tx, ty = _towers(seed, tile_ix, tile_iy, tile_m, density)
    if tx.size and x.size:  # a tower's plot holds no other structure
        near = _pairs_within(tx, ty, x, y, TOWER_PLOT_CLEAR_M)[1]
        free = np.ones(x.size, bool)
        free[near] = False
        x, y, kind, height = x[free], y[free], kind[free], height[free]
    x = np.concatenate([tx, x])
    y = np.concatenate([ty, y])
    kind = np.concatenate([np.full(tx.size, TELECOM_TOWER, np.int8), kind])
    height = np.concatenate([np.full(tx.size, np.nan), height])

    own = (np.floor(x / tile_m) == tile_ix) & (np.floor(y / tile_m) == tile_iy)
    x, y, kind, height = x[own], y[own], kind[own], height[own]
    n = x.size
    if n >= 2**INDEX_BITS:  # cannot happen while max_structures_per_tile holds; kept as a guard
        raise RuntimeError(f"tile ({tile_ix}, {tile_iy}) holds {n} structures, over 2**20 - 1")

    kind_i = kind.astype(np.intp)
    height = np.where(
        np.isnan(height), rng.uniform(HEIGHT_M[kind_i, 0], HEIGHT_M[kind_i, 1]), height
    )
    mounts = rng.integers(MOUNT_POSITIONS[kind_i, 0], MOUNT_POSITIONS[kind_i, 1] + 1)
    payload = rng.uniform(MAX_PAYLOAD_KG[kind_i, 0], MAX_PAYLOAD_KG[kind_i, 1])
    power = rng.uniform(AVAILABLE_POWER_KW[kind_i, 0], AVAILABLE_POWER_KW[kind_i, 1])
    fibre = rng.random(n) < FIBRE_P[kind_i]
    open_ = rng.random(n) < OPEN_FOR_SHARING_P[kind_i]
    return StructureBatch(
        local_id=(np.int64(key) << INDEX_BITS) + np.arange(n, dtype=np.int64),
        x_m=x.astype(np.float64),
        y_m=y.astype(np.float64),
        kind=kind.astype(np.int8),
        height_m=height.astype(np.float32),
        mount_positions=mounts.astype(np.int16),
        max_payload_kg=payload.astype(np.float32),
        available_power_kw=power.astype(np.float32),
        fibre=fibre,
        open_for_sharing=open_,
    )


# ---------------------------------------------------------------------------------------------
# An area
# ---------------------------------------------------------------------------------------------


def _empty_batch() -> StructureBatch:
    return StructureBatch(
        local_id=np.empty(0, np.int64),
        x_m=np.empty(0, np.float64),
        y_m=np.empty(0, np.float64),
        kind=np.empty(0, np.int8),
        height_m=np.empty(0, np.float32),
        mount_positions=np.empty(0, np.int16),
        max_payload_kg=np.empty(0, np.float32),
        available_power_kw=np.empty(0, np.float32),
        fibre=np.empty(0, bool),
        open_for_sharing=np.empty(0, bool),
    )


def tiles_of(
    area: shapely.Polygon | shapely.MultiPolygon, tile_m: float = 2000.0
) -> Iterator[tuple[int, int, bool]]:
    """``(tile_ix, tile_iy, inside)`` of the tiles meeting ``area``, row-major (y, then x).

    ``inside`` is true when the tile lies in the area's interior (no point test needed).
    """
    if area.is_empty:
        return
    minx, miny, maxx, maxy = area.bounds
    ix0, ix1 = math.floor(minx / tile_m), math.floor(maxx / tile_m)
    iy0, iy1 = math.floor(miny / tile_m), math.floor(maxy / tile_m)
    shapely.prepare(area)
    ixs = np.arange(ix0, ix1 + 1)
    for iy in range(iy0, iy1 + 1):
        boxes = shapely.box(ixs * tile_m, iy * tile_m, (ixs + 1) * tile_m, (iy + 1) * tile_m)
        meets = shapely.intersects(area, boxes)
        inside = shapely.contains_properly(area, boxes)
        for k in np.flatnonzero(meets):
            yield int(ixs[k]), iy, bool(inside[k])


def generate_structures(
    area: shapely.Polygon | shapely.MultiPolygon,
    *,
    seed: int = 2019,
    tile_m: float = 2000.0,
    density: float = 1.0,
    limit: int | None = None,
) -> Iterator[StructureBatch]:
    """Synthetic structures inside ``area`` (EPSG:32648 metres), one batch per tile.

    Tiles run in row-major order over the area's bounds; tiles that miss the area and tiles
    with no structure inside it are skipped. Only points strictly inside the area are kept.
    ``limit`` stops after that many structures in total (the last batch is truncated).
    The output is synthetic: mark it so when storing it (see :func:`source_tag`).
    """
    _check_params(seed, tile_m, density)
    if not isinstance(area, shapely.Polygon | shapely.MultiPolygon):
        raise TypeError(f"area must be a Polygon or MultiPolygon, got {type(area).__name__}")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    remaining = math.inf if limit is None else int(limit)
    if remaining == 0:
        return
    for ix, iy, inside in tiles_of(area, tile_m):
        batch = generate_tile(ix, iy, seed=seed, tile_m=tile_m, density=density)
        if not inside and len(batch):
            batch = batch.take(shapely.contains_xy(area, batch.x_m, batch.y_m))
        if len(batch) == 0:
            continue
        if len(batch) >= remaining:
            yield batch.take(slice(0, int(remaining)))
            return
        remaining -= len(batch)
        yield batch


def kind_counts(batches: Sequence[StructureBatch] | StructureBatch) -> dict[str, int]:
    """Structures per kind name (all kinds listed, zero included)."""
    if isinstance(batches, StructureBatch):
        batches = [batches]
    counts = np.zeros(len(STRUCTURE_KINDS), np.int64)
    for b in batches:
        counts += np.bincount(b.kind, minlength=len(STRUCTURE_KINDS))
    return dict(zip(STRUCTURE_KINDS, counts.tolist(), strict=True))
