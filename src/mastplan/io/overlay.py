"""The map overlay of a coverage run: the RSRP raster (EPSG:32648) warped to Web Mercator
(EPSG:3857) and coloured by signal class, as an RGBA PNG with its WGS84 corner bounds — what a
Leaflet ``L.imageOverlay(url, bounds)`` lays on a Web-Mercator map, pixel for pixel.

Writes ``overlay.png`` and ``overlay.json`` (``bounds`` ``[[south, west], [north, east]]``,
``legend``, ``crs``, ``width``, ``height``). The colouring is
:func:`mastplan.radio.overlay.classify_rsrp`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from matplotlib import image as mpl_image
from rasterio.features import geometry_mask
from rasterio.warp import Resampling, calculate_default_transform, reproject

from mastplan.geo import STORAGE_EPSG, _transformer, project
from mastplan.radio.overlay import classify_rsrp, legend

__all__ = ["MAX_OVERLAY_PX", "OVERLAY_EPSG", "write_rsrp_overlay"]

OVERLAY_EPSG = 3857
#: The overlay's longer side at most (a coarser pixel beyond).
MAX_OVERLAY_PX = 4096


def write_rsrp_overlay(
    out_dir: Path,
    rsrp_tif: Path,
    area_wgs84: Any | None = None,
    *,
    png_name: str = "overlay.png",
    json_name: str = "overlay.json",
    max_px: int = MAX_OVERLAY_PX,
) -> dict[str, Any]:
    """Warp ``rsrp_tif`` to EPSG:3857, colour it and write ``png_name`` and ``json_name`` in
    ``out_dir``; cells outside ``area_wgs84`` (a shapely geometry, WGS84) are transparent.
    Returns what ``json_name`` holds."""
    out_dir = Path(out_dir)
    with rasterio.open(rsrp_tif) as src:
        rsrp = src.read(1, masked=True).astype("float32").filled(np.nan)
        if area_wgs84 is not None:
            epsg = src.crs.to_epsg()
            shape = area_wgs84 if epsg == STORAGE_EPSG else project(area_wgs84, STORAGE_EPSG, epsg)
            outside = geometry_mask([shape], out_shape=rsrp.shape, transform=src.transform)
            rsrp[outside] = np.nan
        dst_crs = f"EPSG:{OVERLAY_EPSG}"
        transform, width, height = calculate_default_transform(
            src.crs, dst_crs, src.width, src.height, *src.bounds
        )
        if max(width, height) > max_px:
            scale = max(width, height) / max_px
            transform, width, height = calculate_default_transform(
                src.crs, dst_crs, src.width, src.height, *src.bounds,
                resolution=(transform.a * scale, -transform.e * scale),
            )  # fmt: skip
        warped = np.full((height, width), np.nan, dtype="float32")
        reproject(
            rsrp, warped, src_transform=src.transform, src_crs=src.crs, src_nodata=np.nan,
            dst_transform=transform, dst_crs=dst_crs, dst_nodata=np.nan,
            resampling=Resampling.nearest,
        )  # fmt: skip
    rgba = classify_rsrp(warped)
    out_dir.mkdir(parents=True, exist_ok=True)
    mpl_image.imsave(out_dir / png_name, rgba, format="png")
    west, north = transform.c, transform.f
    east, south = west + width * transform.a, north + height * transform.e
    lons, lats = _transformer(OVERLAY_EPSG, STORAGE_EPSG).transform([west, east], [south, north])
    info = {
        "bounds": [[round(float(lats[0]), 7), round(float(lons[0]), 7)],
                   [round(float(lats[1]), 7), round(float(lons[1]), 7)]],
        "legend": legend(),
        "crs": f"EPSG:{OVERLAY_EPSG}",
        "width": int(width),
        "height": int(height),
        "source": Path(rsrp_tif).name,
    }  # fmt: skip
    (out_dir / json_name).write_text(json.dumps(info, ensure_ascii=False, indent=2),
                                     encoding="utf-8")  # fmt: skip
    return info
