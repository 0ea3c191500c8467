"""Tests of the synthetic structure generator (mastplan.synthetic.structures)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mastplan.synthetic.structures import (
    AVAILABLE_POWER_KW,
    HEIGHT_M,
    MAX_PAYLOAD_KG,
    MOUNT_POSITIONS,
    STRUCTURE_KINDS,
    StructureBatch,
    concat_structures,
    decode_local_id,
    generate_structures,
    generate_tile,
    kind_counts,
    max_structures_per_tile,
    source_tag,
)

# A window in central Chongqing, EPSG:32648 metres (渝中区 lies near x 650 km, y 3270 km).
X0, Y0 = 652_000.0, 3_268_000.0
TILE = 2000.0
FIELDS = (
    "local_id",
    "x_m",
    "y_m",
    "kind",
    "height_m",
    "mount_positions",
    "max_payload_kg",
    "available_power_kw",
    "fibre",
    "open_for_sharing",
)
KIND = {name: i for i, name in enumerate(STRUCTURE_KINDS)}


def _all(area, **kw) -> StructureBatch:
    return concat_structures(generate_structures(area, **kw))


def _sorted(b: StructureBatch) -> StructureBatch:
    return b.take(np.argsort(b.local_id))


def _assert_same(a: StructureBatch, b: StructureBatch) -> None:
    assert len(a) == len(b)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def _nearest(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    pts = shapely.points(x, y)
    (i, _), d = shapely.STRtree(pts).query_nearest(
        pts, exclusive=True, return_distance=True, all_matches=False
    )
    out = np.full(len(pts), np.inf)
    out[i] = d
    return out


@pytest.fixture(scope="module")
def core() -> StructureBatch:
    """Dense-core structures on 6 km x 6 km (nine whole tiles)."""
    return _all(shapely.box(X0, Y0, X0 + 3 * TILE, Y0 + 3 * TILE), seed=11)


# --- determinism and independence ---------------------------------------------------------------


def test_same_seed_same_arrays_different_seed_different():
    area = shapely.Polygon([(X0, Y0), (X0 + 5000, Y0 + 500), (X0 + 3500, Y0 + 4200)])
    a, b = _all(area, seed=5), _all(area, seed=5)
    _assert_same(a, b)
    a, c = _sorted(a), _sorted(_all(area, seed=6))
    assert len(a) > 1000
    assert len(a) != len(c) or not np.array_equal(a.x_m, c.x_m)
    # the ids are positional, so they may coincide; the content must not
    common = np.intersect1d(a.local_id, c.local_id)
    ia = np.searchsorted(a.local_id, common)
    ic = np.searchsorted(c.local_id, common)
    assert not np.allclose(a.x_m[ia], c.x_m[ic])


def test_sub_area_reproduces_the_larger_run():
    big = shapely.box(X0 - 1000, Y0 - 1000, X0 + 7000, Y0 + 5000)
    # an irregular sub-area that crosses tile borders (tile edges at multiples of 2 km)
    sub = shapely.Polygon(
        [(X0 + 300, Y0 + 200), (X0 + 5300, Y0 + 900), (X0 + 4100, Y0 + 3900), (X0 + 900, Y0 + 3100)]
    )
    whole = _sorted(_all(big, seed=3))
    part = _sorted(_all(sub, seed=3))
    expected = whole.take(shapely.contains_xy(sub, whole.x_m, whole.y_m))
    assert len(part) > 1000
    _assert_same(part, expected)


def test_tile_content_does_not_depend_on_order_or_neighbours():
    tiles = [(326, 1634), (327, 1634), (326, 1635)]
    forward = [generate_tile(ix, iy, seed=9) for ix, iy in tiles]
    backward = [generate_tile(ix, iy, seed=9) for ix, iy in reversed(tiles)][::-1]
    for a, b in zip(forward, backward, strict=True):
        _assert_same(a, b)
    # a tile wholly inside an area comes out of generate_structures unchanged
    ix, iy = tiles[0]
    area = shapely.box((ix - 1) * TILE, (iy - 1) * TILE, (ix + 2) * TILE, (iy + 2) * TILE)
    from_area = [
        b for b in generate_structures(area, seed=9) if b.local_id[0] == forward[0].local_id[0]
    ]
    assert len(from_area) == 1
    _assert_same(from_area[0], forward[0])


def test_batches_are_tiles_in_row_major_order(core):
    batches = list(generate_structures(shapely.box(X0, Y0, X0 + 3 * TILE, Y0 + 3 * TILE), seed=11))
    assert len(batches) == 9
    keys = []
    for b in batches:
        ix, iy, index = decode_local_id(b.local_id)
        assert len(np.unique(ix)) == 1 and len(np.unique(iy)) == 1
        np.testing.assert_array_equal(ix, np.floor(b.x_m / TILE))
        np.testing.assert_array_equal(iy, np.floor(b.y_m / TILE))
        assert np.all(np.diff(index) > 0)
        keys.append((int(iy[0]), int(ix[0])))
    assert keys == sorted(keys)


# --- invariants ---------------------------------------------------------------------------------


def test_points_inside_ids_unique_and_types(core):
    area = shapely.box(X0, Y0, X0 + 3 * TILE, Y0 + 3 * TILE)
    assert shapely.contains_xy(area, core.x_m, core.y_m).all()
    assert len(np.unique(core.local_id)) == len(core)
    assert core.local_id.dtype == np.int64 and core.x_m.dtype == np.float64
    assert core.kind.dtype == np.int8 and core.height_m.dtype == np.float32
    assert core.mount_positions.dtype == np.int16 and core.fibre.dtype == bool
    assert set(np.unique(core.kind)) == set(range(len(STRUCTURE_KINDS)))


def test_capacity_ranges_per_kind(core):
    for k in range(len(STRUCTURE_KINDS)):
        m = core.kind == k
        assert m.any(), STRUCTURE_KINDS[k]
        assert core.mount_positions[m].min() >= max(1, MOUNT_POSITIONS[k, 0])
        assert core.mount_positions[m].max() <= MOUNT_POSITIONS[k, 1]
        lo, hi = MAX_PAYLOAD_KG[k]
        assert lo <= core.max_payload_kg[m].min() and core.max_payload_kg[m].max() <= hi
        lo, hi = AVAILABLE_POWER_KW[k]
        assert lo <= core.available_power_kw[m].min() and core.available_power_kw[m].max() <= hi
        lo, hi = HEIGHT_M[k]
        assert lo <= core.height_m[m].min() and core.height_m[m].max() <= hi
    towers = core.kind == KIND["telecom_tower"]
    assert core.height_m[towers].min() >= 25 and core.height_m[towers].max() <= 45
    assert set(np.unique(core.mount_positions[towers])) <= {3, 4, 5, 6}
    lamps = core.kind == KIND["lamp_pole"]
    assert core.height_m[lamps].min() >= 8 and core.height_m[lamps].max() <= 15
    assert core.mount_positions[lamps].max() <= 2
    # fibre: likely on towers, rarer on lamp poles; most structures open for sharing
    assert core.fibre[towers].mean() > 0.75 > 0.4 > core.fibre[lamps].mean()
    assert 0.6 < core.open_for_sharing.mean() < 1.0


def test_spacing_is_plausible(core):
    lamps = core.kind == KIND["lamp_pole"]
    lamp_nn = np.median(_nearest(core.x_m[lamps], core.y_m[lamps]))
    assert 20.0 <= lamp_nn <= 50.0  # CJJ 45-2015: 20-50 m along streets
    towers = core.kind == KIND["telecom_tower"]
    tower_nn = np.median(_nearest(core.x_m[towers], core.y_m[towers]))
    assert 300.0 <= tower_nn <= 600.0  # ITU-R M.2135 urban macro ISD 500 m
    # no two structures on top of each other
    assert _nearest(core.x_m, core.y_m).min() > 2.0


def test_counts_per_tile_and_density():
    tile = generate_tile(326, 1634, seed=1)
    assert 1000 <= len(tile) <= 3000
    assert len(tile) < max_structures_per_tile(TILE, 1.0) < 2**20
    dense_big = generate_tile(100, 500, seed=1, tile_m=5000.0, density=2.0)
    assert len(dense_big) < max_structures_per_tile(5000.0, 2.0)
    area = shapely.box(X0, Y0, X0 + 2 * TILE, Y0 + 2 * TILE)
    dense, sparse = _all(area, seed=1), _all(area, seed=1, density=0.3)
    assert len(sparse) < 0.6 * len(dense)
    lamps_per_km2 = kind_counts(dense)["lamp_pole"] / 16.0
    # lamps every 20-50 m on ~10-15 km of road per km², one or both sides
    assert 200 <= lamps_per_km2 <= 800


def test_limit():
    area = shapely.box(X0, Y0, X0 + 3 * TILE, Y0 + 2 * TILE)
    full = _all(area, seed=2)
    for limit in (0, 1, 2500, len(full) - 1):
        got = _all(area, seed=2, limit=limit)
        assert len(got) == limit
        _assert_same(got, full.take(slice(0, limit)))
    assert len(_all(area, seed=2, limit=len(full) + 10)) == len(full)
    with pytest.raises(ValueError):
        list(generate_structures(area, limit=-1))


def test_parameters_are_checked():
    area = shapely.box(X0, Y0, X0 + 100, Y0 + 100)
    with pytest.raises(ValueError):
        list(generate_structures(area, density=0.0))
    with pytest.raises(ValueError):
        list(generate_structures(area, seed=-1))
    with pytest.raises(ValueError, match="smaller tiles"):
        list(generate_structures(area, tile_m=50_000.0))
    with pytest.raises(TypeError):
        list(generate_structures(shapely.Point(X0, Y0)))
    assert max_structures_per_tile(2000.0, 2.0) < 2**20
    assert list(generate_structures(shapely.Polygon())) == []
    assert "synthetic" in source_tag(seed=1)


def test_negative_coordinates_and_multipolygon():
    area = shapely.MultiPolygon(
        [shapely.box(-2500, -2500, -100, 1500), shapely.box(3000, 3000, 4500, 4200)]
    )
    b = _all(area, seed=4)
    ix, iy, _ = decode_local_id(b.local_id)
    assert (ix < 0).any() and (ix >= 0).any()
    np.testing.assert_array_equal(ix, np.floor(b.x_m / TILE))
    np.testing.assert_array_equal(iy, np.floor(b.y_m / TILE))
    assert shapely.contains_xy(area, b.x_m, b.y_m).all()
    assert len(np.unique(b.local_id)) == len(b)


@st.composite
def polygons(draw):
    cx = draw(st.floats(-5000.0, 700_000.0))
    cy = draw(st.floats(-5000.0, 3_300_000.0))
    n = draw(st.integers(3, 8))
    radius = draw(st.floats(50.0, 2500.0))
    angles = sorted(draw(st.lists(st.floats(0, 2 * math.pi), min_size=n, max_size=n)))
    scale = draw(st.lists(st.floats(0.2, 1.0), min_size=n, max_size=n))
    pts = [
        (cx + radius * s * math.cos(a), cy + radius * s * math.sin(a))
        for a, s in zip(angles, scale, strict=True)
    ]
    poly = shapely.make_valid(shapely.Polygon(pts))
    polys = [g for g in getattr(poly, "geoms", [poly]) if isinstance(g, shapely.Polygon)]
    return shapely.MultiPolygon(polys) if len(polys) != 1 else polys[0]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    area=polygons(),
    seed=st.integers(0, 2**32),
    density=st.floats(0.05, 2.0),
    tile_m=st.sampled_from([500.0, 1000.0, 2000.0]),
)
def test_invariants_on_random_polygons(area, seed, density, tile_m):
    batches = list(generate_structures(area, seed=seed, density=density, tile_m=tile_m))
    b = concat_structures(batches)
    assert all(len(x) > 0 for x in batches)
    assert len(b) >= 0
    if len(b):
        assert shapely.contains_xy(area, b.x_m, b.y_m).all()
        assert len(np.unique(b.local_id)) == len(b)
        assert b.kind.min() >= 0 and b.kind.max() < len(STRUCTURE_KINDS)
        assert b.mount_positions.min() >= 1
        assert np.isfinite(b.height_m).all() and b.height_m.min() > 0
        ix, iy, index = decode_local_id(b.local_id)
        np.testing.assert_array_equal(ix, np.floor(b.x_m / tile_m))
        np.testing.assert_array_equal(iy, np.floor(b.y_m / tile_m))
        assert index.max() < max_structures_per_tile(tile_m, density)
