"""Coordinate helpers: projections round-trip; the polygon index finds the containing polygon."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from mastplan.geo import PolygonIndex, to_metric, to_storage


def test_utm48n_of_a_known_point():
    # 105°E is the central meridian of UTM zone 48: easting 500 000 m there by definition
    x, y = to_metric(np.array([105.0]), np.array([0.0]))
    assert abs(x[0] - 500_000.0) < 1e-6 and abs(y[0]) < 1e-6


@given(st.floats(102.0, 111.0), st.floats(28.0, 32.5))
def test_projection_round_trip(lon, lat):
    x, y = to_metric(np.array([lon]), np.array([lat]))
    lon2, lat2 = to_storage(x, y)
    assert abs(lon2[0] - lon) < 1e-9 and abs(lat2[0] - lat) < 1e-9


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(-1, 3), st.floats(-1, 3)), min_size=1, max_size=50))
def test_polygon_index_matches_shapely(points):
    polys = [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(0, 1, 2, 2)]
    index = PolygonIndex(["a", "b", "c"], polys)
    xy = np.array(points)
    got = index.locate(xy[:, 0], xy[:, 1])
    for (x, y), code in zip(points, got, strict=True):
        inside = [c for c, p in zip("abc", polys, strict=True) if p.intersects(shapely.Point(x, y))]
        assert code == (inside[0] if inside else None)


def test_polygon_index_ignores_non_finite_points():
    index = PolygonIndex(["a"], [shapely.box(0, 0, 1, 1)])
    got = index.locate(np.array([0.5, np.nan, np.inf]), np.array([0.5, 0.5, 0.5]))
    assert got.tolist() == ["a", None, None]
