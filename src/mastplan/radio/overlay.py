"""Colouring an RSRP raster by signal class for a map overlay: arrays in, an RGBA array out.

The classes are the usual drive-test bands of SS-RSRP (dBm per resource element): a class holds
the values ``from_dbm <= v < to_dbm`` (an open end is ``None``). Cells without a value (NaN,
infinite) and cells outside the ``valid`` mask are fully transparent. Writing the image (warped
to Web Mercator) is :mod:`mastplan.io.overlay`'s part.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["RSRP_CLASSES", "RsrpClass", "classify_rsrp", "legend", "rsrp_class_index"]


@dataclass(frozen=True)
class RsrpClass:
    """One colour class of RSRP: ``from_dbm <= v < to_dbm`` (``None``: open)."""

    from_dbm: float | None
    to_dbm: float | None
    colour: str  # "#rrggbb"
    label_zh: str
    label_en: str

    def rgb(self) -> tuple[int, int, int]:
        h = self.colour.lstrip("#")
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


#: Strongest first.
RSRP_CLASSES: tuple[RsrpClass, ...] = (
    RsrpClass(-85.0, None, "#1a7837", "极好 (≥ −85 dBm)", "excellent (≥ −85 dBm)"),
    RsrpClass(-95.0, -85.0, "#5aae61", "良好 (−95 至 −85 dBm)", "good (−95 to −85 dBm)"),
    RsrpClass(-105.0, -95.0, "#fee08b", "一般 (−105 至 −95 dBm)", "fair (−105 to −95 dBm)"),
    RsrpClass(-115.0, -105.0, "#fc8d59", "弱 (−115 至 −105 dBm)", "weak (−115 to −105 dBm)"),
    RsrpClass(None, -115.0, "#d73027", "很弱 (< −115 dBm)", "very weak (< −115 dBm)"),
)


def legend(classes: tuple[RsrpClass, ...] = RSRP_CLASSES) -> list[dict[str, Any]]:
    """The classes as JSON-ready dicts (``from_dbm``, ``to_dbm``, ``colour``, labels)."""
    return [asdict(c) for c in classes]


def rsrp_class_index(
    rsrp_dbm: np.ndarray,
    valid: np.ndarray | None = None,
    classes: tuple[RsrpClass, ...] = RSRP_CLASSES,
) -> np.ndarray:
    """The class (index into ``classes``) of every cell; ``-1`` for no value or not ``valid``.

    A value falls in the first class whose bounds hold it; one held by none (a gap between
    classes) is ``-1`` too.
    """
    values = np.asarray(rsrp_dbm, dtype=float)
    out = np.full(values.shape, -1, dtype=np.int8)
    ok = np.isfinite(values)
    if valid is not None:
        valid = np.asarray(valid, dtype=bool)
        if valid.shape != values.shape:
            raise ValueError(f"valid mask of shape {valid.shape} for a raster of {values.shape}")
        ok &= valid
    free = ok.copy()
    with np.errstate(invalid="ignore"):
        for i, c in enumerate(classes):
            hit = free.copy()
            if c.from_dbm is not None:
                hit &= values >= c.from_dbm
            if c.to_dbm is not None:
                hit &= values < c.to_dbm
            out[hit] = i
            free &= ~hit
    return out


def classify_rsrp(
    rsrp_dbm: np.ndarray,
    valid: np.ndarray | None = None,
    classes: tuple[RsrpClass, ...] = RSRP_CLASSES,
    alpha: int = 255,
) -> np.ndarray:
    """An RGBA image (``shape + (4,)``, ``uint8``) of the RSRP classes: each class in its
    colour with ``alpha``; no value, outside ``valid`` or in no class: transparent (0, 0, 0, 0).
    """
    if not 0 <= alpha <= 255:
        raise ValueError("alpha is 0 to 255")
    index = rsrp_class_index(rsrp_dbm, valid, classes)
    palette = np.zeros((len(classes) + 1, 4), dtype=np.uint8)  # the last row: transparent
    for i, c in enumerate(classes):
        palette[i, :3] = c.rgb()
        palette[i, 3] = alpha
    return palette[np.where(index < 0, len(classes), index)]
