"""Latency percentiles for the benchmark scripts: one definition, the standard library's.

The scripts import it as ``from percentiles import percentile``: they run as ``python benchmarks/NAME.py``,
which puts this folder first on ``sys.path``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], percent: int) -> float:
    """The ``percent``-th percentile (1 to 99) of ``values``; NaN without values.

    ``statistics.quantiles(..., method="inclusive")``: the timings are the whole population, and a
    percentile falling between two of them is interpolated linearly (numpy's default definition too).
    """
    if not 1 <= percent <= 99:
        raise ValueError(f"a percentile is between 1 and 99, not {percent}")
    if not values:
        return math.nan
    if len(values) == 1:  # quantiles() needs two points; every percentile of one value is that value
        return float(values[0])
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]
