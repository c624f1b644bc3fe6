"""Choosing the `tf.distribute` strategy (DESIGN §4).

* `TF_CONFIG` naming several workers: `MultiWorkerMirroredStrategy`
  (synchronous data parallelism over machines, each with its local GPUs);
* else several GPUs, or `num_clones > 1`: `MirroredStrategy` over the first
  `num_clones` GPUs (all visible GPUs when `num_clones` is 1); on a machine
  without GPUs, `num_clones=N` runs N replicas on N logical CPU devices, so the
  multi-replica path can be tried anywhere;
* else the default strategy (one device).
"""

import json
import os
from typing import Optional

from absl import logging
import tensorflow as tf


def cluster_spec_from_env() -> Optional[dict]:
  """The `cluster` of `TF_CONFIG`, or None when TF_CONFIG is unset or empty."""
  raw = os.environ.get('TF_CONFIG')
  if not raw:
    return None
  try:
    config = json.loads(raw)
  except json.JSONDecodeError as e:
    raise ValueError(f'TF_CONFIG is not valid JSON ({e}). Received: TF_CONFIG={raw!r}') from None
  return config.get('cluster') or None


def num_workers_from_env() -> int:
  cluster = cluster_spec_from_env() or {}
  return len(cluster.get('worker', ())) + len(cluster.get('chief', ()))


def task_from_env() -> tuple:
  """(task type, task index) from TF_CONFIG; ('worker', 0) when unset."""
  raw = os.environ.get('TF_CONFIG')
  task = (json.loads(raw).get('task') or {}) if raw else {}
  return task.get('type', 'worker'), int(task.get('index', 0))


def is_chief(strategy: tf.distribute.Strategy) -> bool:
  """Whether this process writes the checkpoints and summaries of the run."""
  resolver = getattr(strategy, 'cluster_resolver', None)
  if resolver is None or not resolver.cluster_spec().as_dict():
    return True
  task_type, task_id = resolver.task_type, resolver.task_id
  if task_type == 'chief':
    return True
  has_chief = 'chief' in resolver.cluster_spec().as_dict()
  return task_type == 'worker' and task_id == 0 and not has_chief


def _ensure_logical_cpus(n: int) -> None:
  """Splits the CPU into n logical devices (must happen before TF initialises devices)."""
  cpus = tf.config.list_physical_devices('CPU')
  try:
    tf.config.set_logical_device_configuration(
        cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(n)])
  except RuntimeError:
    have = len(tf.config.list_logical_devices('CPU'))
    if have < n:
      raise ValueError(
          f'num_clones={n} needs {n} logical CPU devices, but TensorFlow already initialised '
          f'its devices with {have}. Choose the strategy (make_strategy) before running any '
          'TensorFlow op.') from None


def reserve_devices(num_clones: int = 1, clone_on_cpu: bool = False,
                    multi_worker: bool = True) -> None:
  """Splits the CPU into the logical devices `make_strategy` will need.

  TensorFlow fixes its devices at the first op; a command calls this before
  anything runs (its up-front checks build nets), then `make_strategy` later.
  """
  if num_clones <= 1 or (multi_worker and num_workers_from_env() > 1):
    return
  if clone_on_cpu or not tf.config.list_physical_devices('GPU'):
    _ensure_logical_cpus(num_clones)


def make_strategy(num_clones: int = 1, clone_on_cpu: bool = False,
                  multi_worker: bool = True) -> tf.distribute.Strategy:
  """The strategy for this process; see the module docstring for the rules.

  Args:
    num_clones: replicas on this machine (slim's --num_clones); 1 means all
      visible GPUs, or the default strategy without GPUs.
    clone_on_cpu: place the replicas on CPU devices even when GPUs exist.
    multi_worker: honour a TF_CONFIG naming several workers. Evaluation passes
      False: each evaluator counts the whole split on its own machine.

  Returns:
    A `tf.distribute.Strategy`.
  """
  if num_clones < 1:
    raise ValueError(f'num_clones must be >= 1. Received: num_clones={num_clones}')
  workers = num_workers_from_env() if multi_worker else 1
  if workers > 1:
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    logging.info('MultiWorkerMirroredStrategy: %d workers, %d replicas in sync.', workers,
                 strategy.num_replicas_in_sync)
    return strategy
  gpus = [] if clone_on_cpu else tf.config.list_physical_devices('GPU')
  if gpus:
    if num_clones > len(gpus):
      raise ValueError(f'num_clones={num_clones} but only {len(gpus)} GPU(s) are visible. '
                       'Lower --num_clones or pass --clone_on_cpu.')
    n = len(gpus) if num_clones == 1 else num_clones
    if n > 1:
      devices = [f'/gpu:{i}' for i in range(n)]
      logging.info('MirroredStrategy over %s.', ', '.join(devices))
      return tf.distribute.MirroredStrategy(devices)
    logging.info('Default strategy on /gpu:0.')
    return tf.distribute.OneDeviceStrategy('/gpu:0')
  if num_clones > 1:
    _ensure_logical_cpus(num_clones)
    devices = [d.name for d in tf.config.list_logical_devices('CPU')[:num_clones]]
    logging.warning(
        'num_clones=%d but no GPU is visible: running %d replicas on logical devices of the '
        'one CPU (%d cores), which share its cores (%s). This tries the multi-replica path; '
        'it is not faster than num_clones=1.', num_clones, num_clones, os.cpu_count() or 1,
        ', '.join(devices))
    # Logical CPU devices share the host's memory: reducing on one of them is
    # simple and avoids collective-op state shared between strategies.
    return tf.distribute.MirroredStrategy(
        devices, cross_device_ops=tf.distribute.ReductionToOneDevice())
  logging.info('Default strategy (one device).')
  return tf.distribute.get_strategy()
