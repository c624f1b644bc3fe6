"""Comparing measurements taken in interleaved rounds: medians and per-round ratios.

A machine's speed drifts by 10-20% over minutes, so each benchmark measures
every variant once per round, round after round, and compares two variants by
their ratio within each round: the median ratio, with the range over rounds.
"""

import statistics
from typing import Sequence


def median(values: Sequence[float]) -> float:
  return statistics.median(values)


def ratio(numerator: Sequence[float], denominator: Sequence[float], digits: int = 2) -> str:
  """'1.23x (1.10-1.31)': the median of the per-round ratios, and their range."""
  ratios = [a / b for a, b in zip(numerator, denominator)]
  return (f'{statistics.median(ratios):.{digits}f}x '
          f'({min(ratios):.2f}-{max(ratios):.2f})')
