"""Find an installed font with Chinese glyphs, for the report's images and its PDF.

A report must never show Chinese as empty boxes (tofu), so a missing font is an error, not a
fallback: :func:`find_cjk_font` raises :class:`~mastplan.errors.MastplanError` telling which
Debian package to install. Matplotlib's font manager finds the font (a font installed after
Matplotlib built its cache is registered on the fly); WeasyPrint gets the same family name and
resolves it through fontconfig.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import matplotlib
from matplotlib import font_manager, ft2font

from mastplan.errors import MastplanError

__all__ = ["CJK_FAMILIES", "DEBIAN_PACKAGE", "CjkFont", "cjk_rc", "find_cjk_font"]

#: Families tried in this order: simplified-Chinese forms first (Debian: fonts-noto-cjk,
#: fonts-wqy-microhei, fonts-wqy-zenhei).
CJK_FAMILIES: Final = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
)
#: The Debian package the error message asks for.
DEBIAN_PACKAGE: Final = "fonts-noto-cjk"
# Characters the report prints; a font counts only if it has a glyph for each.
_PROBE: Final = "重庆关键指标基站覆盖率达成无数据区县"


@dataclass(frozen=True)
class CjkFont:
    """An installed CJK font: its family name, file and face index within a collection."""

    family: str
    path: Path
    index: int = 0


def _font_entries(rescan: bool) -> Sequence[font_manager.FontEntry]:
    """The fonts Matplotlib knows; with ``rescan``, first register system fonts it lacks."""
    if rescan:  # fonts installed after Matplotlib built its cache are not in it
        known = {os.path.realpath(e.fname) for e in font_manager.fontManager.ttflist}
        for path in font_manager.findSystemFonts():
            if os.path.realpath(path) not in known:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue  # an unreadable font file is not ours to report
    return list(font_manager.fontManager.ttflist)


def _has_glyphs(entry: font_manager.FontEntry) -> bool:
    """Whether the font face has a glyph for every probe character."""
    try:
        face = ft2font.FT2Font(entry.fname, face_index=getattr(entry, "index", 0))
    except (OSError, RuntimeError, ValueError):
        return False
    return all(face.get_char_index(ord(ch)) for ch in _PROBE)


def _pick(entries: Sequence[font_manager.FontEntry]) -> CjkFont | None:
    """The first regular-weight face of the preferred families that has the glyphs."""
    by_family: dict[str, list[font_manager.FontEntry]] = {}
    for entry in entries:
        by_family.setdefault(entry.name, []).append(entry)
    for family in CJK_FAMILIES:
        faces = sorted(
            by_family.get(family, ()),
            key=lambda e: (e.style != "normal", abs(_weight(e.weight) - 400)),
        )
        for entry in faces:
            if _has_glyphs(entry):
                return CjkFont(family, Path(entry.fname), int(getattr(entry, "index", 0)))
    return None


def _weight(weight: int | str) -> int:
    """A numeric CSS weight from Matplotlib's weight (a number or a name)."""
    if isinstance(weight, int):
        return weight
    return font_manager.weight_dict.get(str(weight), 400)


def find_cjk_font() -> CjkFont:
    """Find an installed font that renders Chinese.

    Returns
    -------
    CjkFont
        The first of :data:`CJK_FAMILIES` that is installed and has the report's glyphs.

    Raises
    ------
    MastplanError
        No such font is installed; the message names the Debian package to install.
    """
    for rescan in (False, True):
        found = _pick(_font_entries(rescan))
        if found is not None:
            return found
    raise MastplanError(
        "no font with Chinese glyphs found for the report (looked for Noto Sans CJK SC, "
        f"WenQuanYi Micro Hei, ...): install the Debian package {DEBIAN_PACKAGE} "
        f"(apt-get install {DEBIAN_PACKAGE})"
    )


@contextmanager
def cjk_rc(font: CjkFont) -> Iterator[None]:
    """Matplotlib settings for drawing with ``font`` (DejaVu Sans for anything it lacks)."""
    with matplotlib.rc_context(
        {
            "font.family": [font.family, "DejaVu Sans"],
            "axes.unicode_minus": False,  # not every CJK font has U+2212
            "svg.fonttype": "none",
            "hatch.linewidth": 0.6,
        }
    ):
        yield
