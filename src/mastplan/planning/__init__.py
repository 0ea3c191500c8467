"""The site planner's optimisation core: the cover problem and its solvers.

Pure: arrays in, arrays out (NumPy, SciPy sparse, HiGHS). See ``docs/planning-solvers.md``.
"""

from mastplan.planning.greedy import greedy
from mastplan.planning.milp import solve_milp
from mastplan.planning.problem import (
    CoverProblem,
    Solution,
    check,
    evaluate,
    explain_infeasible,
    reduce_points,
)
from mastplan.planning.solve import solve
from mastplan.planning.tiles import TiledSolution, TileStats, solve_tiled

__all__ = [
    "CoverProblem",
    "Solution",
    "TileStats",
    "TiledSolution",
    "check",
    "evaluate",
    "explain_infeasible",
    "greedy",
    "reduce_points",
    "solve",
    "solve_milp",
    "solve_tiled",
]
