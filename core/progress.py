"""Progress of long work as log lines: how far, how fast, and when it ends.

Every long loop of the package reports through `Progress`: training steps
(with the loss and learning rate), evaluation batches, downloads and dataset
conversion. A line reads

    step 120/1000: loss 2.3011, lr 0.01, 85.3 images/s, ETA 0:02:34

`<what> <done>[/<total>][ <unit>]: [<details>, ]<rate> <unit>/s[, ETA h:mm:ss]`,
with the rate measured since the previous line (so a slow start, such as
compiling the step, does not bend the estimate for long).

This module imports neither TensorFlow nor Keras.
"""

import time
from typing import Callable, Optional

from absl import logging


class Progress:
  """Logs the progress of one long piece of work, at most every `every_s` seconds.

      progress = Progress('flowers train', total=len(files), unit='images')
      for name in files:
        ...
        progress.update()

  Args:
    what: what is counted, first on the line ('step', 'Batch', a file name).
    total: how many there will be; None when unknown (no ETA then).
    unit: the unit of the rate (and of the count when `count_unit` is set).
    every_s: the least time between two lines (seconds); a line is also
      written when `done` reaches `total` and when forced.
    per_count: units per counted item (e.g. the batch size when counting
      steps but measuring images/s, or 1e-6 to count bytes as MB).
    count_format: how `done` and `total` are written (e.g. '{:.1f}' for MB).
    count_unit: written after the count ('MB'); empty for none.
    start: the count work starts from (a resumed run's step).
    clock: seconds, monotonic (a parameter for tests).
  """

  def __init__(self, what: str, total: Optional[float] = None, unit: str = 'items',
               every_s: float = 10.0, per_count: float = 1.0, count_format: str = '{:d}',
               count_unit: str = '', start: float = 0,
               clock: Callable[[], float] = time.monotonic):
    self.what, self.total, self.unit = what, total, unit
    self.every_s, self.per_count = every_s, per_count
    self.count_format, self.count_unit = count_format, count_unit
    self.done = start
    self._clock = clock
    self._last_time, self._last_done = clock(), start

  def update(self, n: float = 1, details: str = '', force: bool = False) -> bool:
    """Counts `n` more; logs a line when one is due. Returns whether it logged."""
    return self.report(self.done + n, details, force)

  def report(self, done: float, details: str = '', force: bool = False) -> bool:
    """Sets the count to `done`; logs a line when one is due. Returns whether it logged."""
    self.done = done
    now = self._clock()
    finished = self.total is not None and done >= self.total
    if not (force or finished or now - self._last_time >= self.every_s):
      return False
    logging.info('%s', self.line(now, details))
    self._last_time, self._last_done = now, done
    return True

  def line(self, now: float, details: str = '') -> str:
    """The progress line at time `now` (the rate since the last line)."""
    rate = (self.done - self._last_done) * self.per_count / max(now - self._last_time, 1e-9)
    count = self.count_format.format(self.done)
    if self.total is not None:
      count += '/' + self.count_format.format(self.total)
    if self.count_unit:
      count += ' ' + self.count_unit
    parts = [details] if details else []
    parts.append(f'{rate:.1f} {self.unit}/s')
    if self.total is not None and rate > 0:
      left = max(self.total - self.done, 0) * self.per_count / rate
      parts.append(f'ETA {format_seconds(left)}')
    return f'{self.what} {count}: ' + ', '.join(parts)


def format_seconds(seconds: float) -> str:
  """`h:mm:ss` of a duration in seconds (3725.2 -> '1:02:05')."""
  seconds = int(round(seconds))
  return f'{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}'


__all__ = ['Progress', 'format_seconds']
