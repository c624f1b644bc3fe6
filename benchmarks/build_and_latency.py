"""Prints how long building a network takes and its single-image latency on this machine.

    python benchmarks/build_and_latency.py [--nets inception_resnet_v2,inception_v3] [--runs 10]

Build = `nets_factory.get_network_fn` (graph construction + weight creation).
Latency = one 299 x 299 image through a `tf.function` (traced once beforehand),
median of --runs calls; the first eager call is reported too.
"""

import argparse
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import _bootstrap  # pylint: disable=g-import-not-at-top,wrong-import-position

_bootstrap.as_package()

import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position

from slimvision.nets import nets_factory  # pylint: disable=g-import-not-at-top,wrong-import-position


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--nets', default='inception_resnet_v2,inception_v3')
  parser.add_argument('--runs', type=int, default=10)
  args = parser.parse_args()
  print(f'python {platform.python_version()}  tensorflow {tf.__version__}  '
        f'cpu cores {os.cpu_count()}  devices '
        f"{[d.device_type for d in tf.config.list_logical_devices()]}")
  print(f"{'net':<22}{'build s':>9}{'first call s':>14}{'latency ms (median)':>22}")
  for name in args.nets.split(','):
    start = time.perf_counter()
    fn = nets_factory.get_network_fn(name, num_classes=1001, is_training=False)
    build = time.perf_counter() - start
    size = fn.default_image_size
    image = np.random.default_rng(0).uniform(-1, 1, (1, size, size, 3)).astype(np.float32)
    start = time.perf_counter()
    fn(image)
    first = time.perf_counter() - start
    infer = tf.function(lambda x, fn=fn: fn(x)[0])
    infer(image).numpy()  # trace
    times = []
    for _ in range(args.runs):
      start = time.perf_counter()
      infer(image).numpy()
      times.append(time.perf_counter() - start)
    print(f'{name:<22}{build:>9.2f}{first:>14.2f}{1000 * statistics.median(times):>22.1f}')


if __name__ == '__main__':
  main()
