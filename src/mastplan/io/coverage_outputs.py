"""Files of a coverage run: cloud-optimised GeoTIFFs, PNG quick-looks, covered-area GeoJSON."""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import rasterio
import shapely
from matplotlib import font_manager
from matplotlib.figure import Figure
from rasterio.features import shapes

from mastplan.geo import METRIC_EPSG, STORAGE_EPSG, project
from mastplan.radio.grid import Grid

# Fonts that hold the Chinese glyphs (Debian: fonts-wqy-microhei, fonts-noto-cjk).
CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC")
_CJK_FILE_HINTS = ("wqy", "notosanscjk", "noto-cjk", "sourcehan")


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The name of an installed font with Chinese glyphs, or None (then labels are English)."""

    def known() -> str | None:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return next((n for n in CJK_FONTS if n in names), None)

    found = known()
    if found is None:  # installed after Matplotlib built its font cache
        for path in font_manager.findSystemFonts():
            if any(h in path.lower() for h in _CJK_FILE_HINTS):
                font_manager.fontManager.addfont(path)
        found = known()
    return found


def bilingual(zh: str, en: str) -> str:
    """``zh en`` where a Chinese font is installed, else ``en`` (no empty boxes in images)."""
    return f"{zh} {en}" if cjk_font() else en


def write_cog(path: Path, array: np.ndarray, grid: Grid, description: str) -> Path:
    """Write one layer as a cloud-optimised GeoTIFF (deflate, internal tiles, overviews)."""
    nodata: Any = np.nan if np.issubdtype(array.dtype, np.floating) else -1
    if array.dtype == np.uint8:
        nodata = None
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(
        path,
        "w",
        driver="COG",
        width=grid.nx,
        height=grid.ny,
        count=1,
        dtype=array.dtype,
        crs=grid.crs,
        transform=grid.transform,
        nodata=nodata,
        compress="deflate",
    ) as dst:
        dst.write(array, 1)
        dst.set_band_description(1, description)
    return path


#: Most pixels a side that a quick-look PNG draws (about twice its width).
QUICKLOOK_MAX_PX = 2048


def write_quicklook_png(
    path: Path,
    array: np.ndarray,
    grid: Grid,
    *,
    title: str,
    label: str,
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    outline: shapely.Geometry | None = None,
    points: tuple[np.ndarray, np.ndarray] | None = None,
) -> Path:
    """A PNG of one layer with a colour scale, the area outline and the sites (if given).

    A raster of more than :data:`QUICKLOOK_MAX_PX` pixels a side is shown every n-th pixel (the
    figure is 880 pixels wide: a city-wide 25 m raster's other pixels would never be seen)."""
    step = max(1, math.ceil(max(array.shape) / QUICKLOOK_MAX_PX))
    array = array[::step, ::step]
    font = cjk_font()
    families = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    with matplotlib.rc_context({"font.family": families}):
        minx, miny, maxx, maxy = grid.bounds
        fig = Figure(figsize=(8, 8 * grid.ny / max(grid.nx, 1) + 0.6), dpi=110)
        ax = fig.subplots()
        image = ax.imshow(
            np.ma.masked_invalid(array),
            extent=(minx, maxx, miny, maxy),
            cmap=cmap,
            vmin=vmin,
            vmax=vmax,
            interpolation="nearest",
        )
        if outline is not None and not outline.is_empty:
            for poly in getattr(outline, "geoms", [outline]):
                xs, ys = poly.exterior.xy
                ax.plot(xs, ys, color="black", linewidth=1.0, label=bilingual("区域", "area"))
        if points is not None and len(points[0]):
            ax.scatter(
                points[0], points[1], s=6, c="red", marker="^", label=bilingual("站点", "sites")
            )
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            unique = dict(zip(labels, handles, strict=True))
            ax.legend(unique.values(), unique.keys(), loc="lower right", fontsize=8)
        fig.colorbar(image, ax=ax, shrink=0.8, label=label)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(f"x (m, EPSG:{METRIC_EPSG})")
        ax.set_ylabel("y (m)")
        ax.set_xlim(minx, maxx)
        ax.set_ylim(miny, maxy)
        ax.ticklabel_format(style="plain", useOffset=False)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    return path


def covered_area(mask: np.ndarray, grid: Grid) -> shapely.Geometry:
    """The union of the pixels where ``mask`` is true, as polygons in the grid's CRS."""
    polys = [
        shapely.geometry.shape(geom)
        for geom, value in shapes(mask.astype(np.uint8), mask=mask, transform=grid.transform)
        if value == 1
    ]
    return shapely.union_all(polys) if polys else shapely.MultiPolygon()


def write_covered_geojson(
    path: Path, mask: np.ndarray, grid: Grid, properties: dict[str, Any]
) -> Path:
    """Write the covered area as a GeoJSON FeatureCollection in WGS84 (RFC 7946)."""
    area = covered_area(mask, grid)
    wgs84 = project(area, int(grid.crs.split(":")[1]), STORAGE_EPSG) if not area.is_empty else area
    feature = {
        "type": "Feature",
        "properties": {**properties, "area_km2": round(area.area / 1e6, 4)},
        "geometry": shapely.geometry.mapping(wgs84) if not wgs84.is_empty else None,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature]}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path
