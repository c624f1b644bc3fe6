r"""Training throughput of core.train with --steps_per_loop 1 and 10.

    python benchmarks/steps_per_loop.py                       # the three cases below
    python benchmarks/steps_per_loop.py --cases=lenet --rounds=3 --steps=200

Cases (the training command's code path: `training_data`, `build_state`,
`make_train_step`, `TrainLoop`; SGD, no checkpoints or summaries while timing,
default flags otherwise, e.g. --log_every_n_steps=10):
  lenet         LeNet on the embedded digits (converted here), batch 50;
  cifarnet      CifarNet on in-memory random 32x32 images, batch 32;
  inception_v3  Inception V3 on in-memory random 299x299 images, batch 8.

Every variant is built and traced first; then each round times `--steps` steps
(a tenth of them for Inception V3) of every variant in turn. The table gives
median images/s per variant and the median (and range) over rounds of the
ratio default / 1 measured in the same round.
"""

import argparse
import os
import platform
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)

import _bootstrap  # pylint: disable=wrong-import-position

_bootstrap.as_package()
import rounds  # pylint: disable=wrong-import-position  (this folder's rounds.py)

from absl import logging  # pylint: disable=wrong-import-position
import keras  # pylint: disable=wrong-import-position
import numpy as np  # pylint: disable=wrong-import-position
import tensorflow as tf  # pylint: disable=wrong-import-position

from slimvision.core import strategy as strategy_lib  # pylint: disable=wrong-import-position
from slimvision.core import train  # pylint: disable=wrong-import-position
from slimvision.core.config import TrainConfig  # pylint: disable=wrong-import-position

DEFAULT = 10  # Compared with 1 (--steps_per_loop's default).
CASES = {  # name: (model_name, batch size, image size, steps per round / --steps)
    'lenet': ('lenet', 50, 28, 1.0),
    'cifarnet': ('cifarnet', 32, 32, 1.0),
    'inception_v3': ('inception_v3', 8, 299, 0.1),
}


def _random_input(batch, size):
  """In-memory random images and labels, repeated (no decoding cost)."""
  rng = np.random.default_rng(0)
  images = rng.uniform(-1, 1, (4 * batch, size, size, 3)).astype(np.float32)
  labels = rng.integers(0, 10, 4 * batch).astype(np.int64)
  return lambda _: tf.data.Dataset.from_tensor_slices((images, labels)).batch(
      batch, drop_remainder=True).repeat()


def _loop(case, steps_per_loop, work_dir):
  model_name, batch, size, _ = CASES[case]
  config = TrainConfig(train_dir=os.path.join(work_dir, f'{case}_{steps_per_loop}'),
                       model_name=model_name, batch_size=batch, optimizer='sgd',
                       train_image_size=size,
                       learning_rate=0.01, learning_rate_decay_type='fixed',
                       steps_per_loop=steps_per_loop, dataset_name='digits',
                       save_interval_secs=10**6, save_summaries_secs=10**6,
                       dataset_dir=os.path.join(work_dir, 'digits'))
  if case == 'lenet':
    data = train.training_data(config)
  else:
    data = train.training_data(config, _random_input(batch, size), 4 * batch, 10)
  state = train.build_state(config, data, strategy_lib.make_strategy(1, False))
  loop = train.TrainLoop(config, state, data, train.make_train_step(config, state))
  loop.run(2 * config.log_every_n_steps)  # Traces the one-step and the looped function.
  return loop, batch


def _rate(loop, batch, steps):
  start_step = int(loop.state.step.numpy())
  start = time.perf_counter()
  loop.run(start_step + steps)
  return batch * steps / (time.perf_counter() - start)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--cases', default=','.join(CASES))
  parser.add_argument('--rounds', type=int, default=5)
  parser.add_argument('--steps', type=int, default=300,
                      help='Steps per variant and round (Inception V3: a tenth).')
  args = parser.parse_args()
  logging.set_verbosity(logging.WARNING)
  print(f'device: CPU ({os.cpu_count()} cores, {platform.processor() or platform.machine()}); '
        f'tensorflow {tf.__version__}, keras {keras.__version__}; --steps_per_loop 1 against '
        f'{DEFAULT}; {args.rounds} interleaved rounds')
  cases = args.cases.split(',')
  with tempfile.TemporaryDirectory() as work_dir:
    if 'lenet' in cases:
      from slimvision.datasets import download_and_convert_digits  # pylint: disable=g-import-not-at-top
      download_and_convert_digits.run(os.path.join(work_dir, 'digits'))
    loops = {(c, n): _loop(c, n, work_dir) for c in cases for n in (1, DEFAULT)}
    rates = {key: [] for key in loops}
    for _ in range(args.rounds):
      for (case, n), (loop, batch) in loops.items():
        steps = max(int(args.steps * CASES[case][3]), 10)
        rates[(case, n)].append(_rate(loop, batch, steps))
  print(f"\n{'case':14s} {'batch':>5s} {'1: img/s':>10s} {f'{DEFAULT}: img/s':>11s} "
        f"{'ratio':>7s} (per round)")
  for case in cases:
    one, default = rates[(case, 1)], rates[(case, DEFAULT)]
    print(f'{case:14s} {CASES[case][1]:5d} {rounds.median(one):10.1f} '
          f'{rounds.median(default):11.1f} {rounds.ratio(default, one):>17s}')


if __name__ == '__main__':
  main()
