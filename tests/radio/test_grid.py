"""The raster grid: alignment, pixel centres, masks and tiles."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from mastplan.radio.grid import Grid


def test_from_bounds_aligns_to_the_resolution():
    g = Grid.from_bounds(1012.0, 2003.0, 1088.0, 2090.0, 25.0)
    assert (g.x0_m, g.y0_m) == (1000.0, 2100.0)
    assert g.shape == (4, 4)
    minx, miny, maxx, maxy = g.bounds
    assert minx <= 1012 and miny <= 2003 and maxx >= 1088 and maxy >= 2090
    assert g.x_centres()[0] == 1012.5 and g.y_centres()[0] == 2087.5


def test_transform_maps_pixel_corners():
    g = Grid(500.0, 1000.0, 10.0, 3, 2)
    assert g.transform @ (0, 0) == (500.0, 1000.0)
    assert g.transform @ (3, 2) == (530.0, 980.0)


def test_mask_is_pixel_centres_inside():
    g = Grid(0.0, 100.0, 10.0, 10, 10)
    m = g.mask(shapely.box(0, 50, 50, 100))  # the upper-left quarter
    assert m.sum() == 25 and m[:5, :5].all()


@settings(max_examples=50, deadline=None)
@given(nx=st.integers(1, 40), ny=st.integers(1, 40), tile=st.integers(1, 16))
def test_tiles_cover_the_grid_exactly_once(nx, ny, tile):
    g = Grid(100.0, 200.0, 5.0, nx, ny)
    seen = np.zeros(g.shape, int)
    for t in g.tiles(tile):
        rows, cols = t.slices
        seen[rows, cols] += 1
        assert np.allclose(t.grid.x_centres(), g.x_centres()[cols])
        assert np.allclose(t.grid.y_centres(), g.y_centres()[rows])
    assert (seen == 1).all()


@settings(max_examples=200, deadline=None)
@given(
    cx=st.floats(-500, 3000), cy=st.floats(-500, 3000), r=st.floats(1, 900),
    n=st.integers(3, 9), res=st.sampled_from([10.0, 25.0, 30.0]),
)  # fmt: skip
def test_window_over_holds_every_pixel_of_the_geometry(cx, cy, r, n, res):
    """A polygon anywhere (inside, across the edge, outside): the window's own mask is the
    grid's mask cut to the window, and the grid has no pixel of it outside the window.

    The vertices are off the pixel lattice (as projected key areas are): a pixel centre exactly
    on an edge is decided by GDAL's scan line, which depends on the raster's origin."""
    grid = Grid.from_bounds(0.0, 0.0, 2500.0, 2000.0, res)
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False) + 0.1234567
    x = cx + 0.3183099 + r * np.cos(angles)
    y = cy + 0.2718281 + r * np.sin(angles)
    poly = shapely.Polygon(np.column_stack([x, y]))
    whole = grid.mask(poly)
    win = grid.window_over(poly)
    rows, cols = win.slices
    assert 0 <= rows.start < rows.stop <= grid.ny and 0 <= cols.start < cols.stop <= grid.nx
    assert np.array_equal(win.grid.mask(poly), whole[rows, cols])
    outside = whole.copy()
    outside[rows, cols] = False
    assert not outside.any()
