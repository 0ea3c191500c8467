"""The hand-worked cover instance shared by the solver tests.

4 candidates × 6 points, every weight 1:
A = {0,1,2} (cost 4), B = {3,4,5} (4), C = {0,1,3,4} (5), D = {2,5} (2).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy import sparse

from mastplan.planning import CoverProblem


@pytest.fixture
def cover() -> np.ndarray:
    return np.array(
        [
            [1, 1, 1, 0, 0, 0],
            [0, 0, 0, 1, 1, 1],
            [1, 1, 0, 1, 1, 0],
            [0, 0, 1, 0, 0, 1],
        ],
        dtype=bool,
    )


@pytest.fixture
def cost() -> np.ndarray:
    return np.array([4.0, 4.0, 5.0, 2.0])


@pytest.fixture
def small(cover: np.ndarray, cost: np.ndarray) -> Callable[..., CoverProblem]:
    """The instance with full cover as target; keyword arguments replace its fields."""

    def make(**kw) -> CoverProblem:
        args = {
            "coverage": sparse.csr_array(cover),
            "point_weight": np.ones(6),
            "cost": cost,
            "target_share": 1.0,
        }
        args.update(kw)
        return CoverProblem(**args)

    return make
