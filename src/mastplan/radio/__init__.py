"""mastplan.radio: the radio engine, a pure core (arrays in, arrays out; no database, no files).

TR 38.901 propagation and antennas, terrain diffraction, NR link quantities and coverage
prediction over grids. The names below are the stable public API.
"""

from mastplan.radio.coverage import CoverageOptions, CoverageResult, predict_coverage
from mastplan.radio.grid import Grid, Tile
from mastplan.radio.propagation import los_probability, path_loss_db
from mastplan.radio.stats import coverage_stats

__all__ = [
    "CoverageOptions",
    "CoverageResult",
    "Grid",
    "Tile",
    "coverage_stats",
    "los_probability",
    "path_loss_db",
    "predict_coverage",
]
