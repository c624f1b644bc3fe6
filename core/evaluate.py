"""Evaluation: exact top-1 / top-5 of a checkpoint on a dataset split.

The engine behind `eval_image_classifier.py` (slim's script of the same name):

    config = evaluate.EvalConfig(checkpoint_path='/tmp/inception_v3.ckpt',
                                 eval_dir='/tmp/eval', dataset_name='imagenet',
                                 dataset_split_name='validation',
                                 dataset_dir='/data/imagenet', model_name='inception_v3')
    result = evaluate.run(config)        # one checkpoint, or a watched train_dir

Every example of the split counts exactly once, whatever the batch size and
the number of replicas: each batch is padded to the global batch size with a
validity mask, every replica sums its correct predictions over the valid
examples only, and the sums are added across replicas. `<eval_dir>/results.json`
holds `{"checkpoint", "global_step", "num_examples", "accuracy", "recall_5"}`
(accuracy = top-1, recall_5 = top-5), TensorBoard gets `eval/Accuracy` and
`eval/Recall_5` at the checkpoint's global step.

Continuous mode (`eval_interval_secs` set) watches a training directory like
`tf.train.checkpoints_iterator`: it evaluates each new checkpoint once, reads
only checkpoints that `tf.train.CheckpointManager` has recorded (their files are
complete by then), and stops after the checkpoint of the last training step or
when no new checkpoint came for `eval_timeout_secs`.
"""

import dataclasses
import math
import os
import re
import time
from typing import Any, Callable, Dict, Iterator, List, Optional

from absl import logging
import tensorflow as tf

from .config import EvalConfig
from . import files
from . import progress
from . import strategy as strategy_lib
from . import summaries
from ..datasets import dataset_utils
from ..nets import checkpoints
from ..nets import nets_factory

RESULTS_FILE = 'results.json'
TRAIN_CONFIG_FILE = 'config.json'
_STEP_KEYS = ('step/.ATTRIBUTES/VARIABLE_VALUE', 'global_step')
_PREFIX_STEP = re.compile(r'-(\d+)$')
_POLL_SECS = 2.0


@dataclasses.dataclass(frozen=True)
class EvalResult:
  """One evaluation of one checkpoint."""
  checkpoint: str
  global_step: int
  num_examples: int
  correct_top1: int
  correct_top5: int
  seconds: float = 0.0
  published_size: Optional[int] = None
  skipped: int = 0

  @property
  def accuracy(self) -> float:
    return self.correct_top1 / self.num_examples if self.num_examples else 0.0

  @property
  def recall_5(self) -> float:
    return self.correct_top5 / self.num_examples if self.num_examples else 0.0

  def to_json(self) -> Dict[str, Any]:
    """The results.json record (DESIGN §4), plus `published_size` and `note` when
    the examples evaluated are not the split's published size."""
    record = {'checkpoint': self.checkpoint, 'global_step': int(self.global_step),
              'num_examples': int(self.num_examples), 'accuracy': float(self.accuracy),
              'recall_5': float(self.recall_5)}
    if self.size_note:  # Only when the examples are not the split's published size.
      record['published_size'] = int(self.published_size)
      record['note'] = self.size_note
    if self.skipped:  # Only with --skip_undecodable, when it skipped some.
      record['skipped_records'] = int(self.skipped)
    return record

  @property
  def size_note(self) -> Optional[str]:
    """A sentence when the examples evaluated are not the split's published size."""
    if self.published_size is None or self.num_examples == self.published_size:
      return None
    return (f'{self.num_examples} examples evaluated; the published size of the split is '
            f'{self.published_size}: a subset or another copy of the dataset.')


# ----------------------------------------------------------------------------
# Checkpoints and devices
# ----------------------------------------------------------------------------

def global_step_of(prefix: str) -> int:
  """The training step a checkpoint was written at.

  Our training checkpoints hold it under the object key `step`, slim's under
  `global_step`; otherwise the `-NNN` suffix of the prefix is used, else 0.
  """
  try:
    reader = tf.train.load_checkpoint(prefix)
    for key in _STEP_KEYS:
      if reader.has_tensor(key):
        return int(reader.get_tensor(key))
  except (tf.errors.OpError, ValueError) as e:
    logging.warning('Could not read the step of %s: %s', prefix, e)
  match = _PREFIX_STEP.search(prefix)
  return int(match.group(1)) if match else 0


# ----------------------------------------------------------------------------
# The evaluator
# ----------------------------------------------------------------------------

class Evaluator:
  """Builds the network once and evaluates checkpoints on one dataset.

  Args:
    config: an EvalConfig.
    dataset: optional `tf.data.Dataset` of (images float32 NHWC, labels int)
      in dataset label space minus `labels_offset` (already preprocessed,
      batched or not); by default the split named in `config` is read with
      `core.input_pipeline.eval_input`. It is iterated afresh for every
      checkpoint.
    strategy: defaults to `strategy.make_strategy(num_clones, multi_worker=False)`.
  """

  def __init__(self, config: EvalConfig, dataset: Optional[tf.data.Dataset] = None,
               strategy: Optional[tf.distribute.Strategy] = None):
    self.config = config
    self.spec = nets_factory.get_spec(config.model_name)
    self.image_size = int(config.eval_image_size or self.spec.default_image_size)
    self.strategy = strategy or strategy_lib.make_strategy(config.num_clones,
                                                           multi_worker=False)
    self.num_replicas = self.strategy.num_replicas_in_sync
    # Every replica gets the same number of examples, padding included.
    self.padded_batch = (math.ceil(config.batch_size / self.num_replicas)
                         * self.num_replicas)
    self.num_samples = None  # The records of the split, when it is a dataset's.
    self.published_size = None
    self._skipped = None  # Counts the records skipped with skip_undecodable.
    if dataset is None:
      dataset, num_classes = self._split_dataset()
    else:
      num_classes = self.spec.num_classes
    if config.num_classes is not None:
      num_classes = int(config.num_classes)
    if num_classes < 1:
      raise ValueError(f'The network needs at least one class; the dataset has '
                       f'{num_classes + config.labels_offset} and labels_offset is '
                       f'{config.labels_offset}. Check --labels_offset.')
    self.num_classes = num_classes
    self.dataset = self._padded(dataset)
    with self.strategy.scope():
      self.network_fn = nets_factory.get_network_fn(
          config.model_name, num_classes=num_classes, is_training=False,
          image_size=self.image_size,
          input_channels=1 if config.use_grayscale else None,
          **self.spec.inference_kwargs(config.network_kwargs))
    self._step = self._make_step()
    self._writer = None

  # -- input --------------------------------------------------------------

  def _split_dataset(self):
    """The configured split through the evaluation input pipeline."""
    cfg = self.config
    if not cfg.dataset_dir:
      raise ValueError(f'No dataset_dir given for dataset {cfg.dataset_name!r}. Pass '
                       '--dataset_dir, the directory holding its TFRecord files.')
    if not tf.io.gfile.isdir(cfg.dataset_dir):
      raise ValueError(f'dataset_dir {cfg.dataset_dir!r} does not exist or is not a '
                       f'directory. Pass --dataset_dir, the directory holding the '
                       f'{cfg.dataset_name} TFRecord files (make them with '
                       f'download_and_convert_data.py --dataset_name={cfg.dataset_name} '
                       '--dataset_dir=DIR).')
    from . import input_pipeline  # pylint: disable=g-import-not-at-top
    from ..datasets import dataset_factory  # pylint: disable=g-import-not-at-top
    try:
      info = dataset_factory.get_dataset(cfg.dataset_name, cfg.dataset_split_name,
                                         cfg.dataset_dir)
      count = info.check_records()
      self.num_samples, self.published_size = count.records, count.published
      if cfg.skip_undecodable:
        with tf.init_scope(), tf.device('/cpu:0'):
          self._skipped = tf.Variable(0, dtype=tf.int64, trainable=False, name='skipped')
      dataset = input_pipeline.eval_input(  # Unbatched: _padded batches it, once.
          split=info, preprocessing_name=cfg.preprocessing_name or self.spec.preprocessing,
          model_name=cfg.model_name, image_size=self.image_size,
          batch_size=None, labels_offset=cfg.labels_offset,
          skip_undecodable=cfg.skip_undecodable, use_grayscale=cfg.use_grayscale,
          skipped=self._skipped)
    except FileNotFoundError as e:  # No files for the split: one message, no traceback.
      raise ValueError(str(e)) from None
    return dataset, int(info.num_classes) - int(cfg.labels_offset)

  def _padded(self, dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Batches of exactly `padded_batch` (images, labels, valid) triples."""
    spec = dataset.element_spec
    if not isinstance(spec, (tuple, list)) or len(spec) != 2:
      raise ValueError('The evaluation dataset must yield (images, labels) pairs. '
                       f'Received element_spec={spec}')
    rank = spec[0].shape.rank
    if rank == 4:  # Batched: re-batch to the configured size.
      dataset = dataset.unbatch()
    elif rank != 3:
      raise ValueError('Evaluation images must be HWC (or batched NHWC) tensors. '
                       f'Received: {spec[0]}')
    batch, size = self.config.batch_size, self.padded_batch

    def pad(images, labels):
      n = tf.shape(labels)[0]
      extra = size - n
      valid = tf.concat([tf.ones([n], tf.bool), tf.zeros([extra], tf.bool)], 0)
      images = tf.pad(tf.cast(images, tf.float32), [[0, extra], [0, 0], [0, 0], [0, 0]])
      labels = tf.pad(tf.cast(tf.reshape(labels, [-1]), tf.int64), [[0, extra]])
      images = tf.ensure_shape(images, [size] + spec[0].shape.as_list()[-3:])
      return images, tf.ensure_shape(labels, [size]), tf.ensure_shape(valid, [size])

    dataset = dataset.batch(batch).map(pad)
    if self.config.max_num_batches:
      dataset = dataset.take(int(self.config.max_num_batches))
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.OFF)
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)

  # -- the step -----------------------------------------------------------

  def _make_step(self) -> Callable:
    k = min(5, self.num_classes)
    net = self.network_fn

    def replica_fn(images, labels, valid):
      logits, _ = net(images, is_training=False)
      logits = tf.reshape(tf.cast(logits, tf.float32), [tf.shape(images)[0], -1])
      top1 = tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int64), labels)
      # in_top_k is false for labels outside [0, num_classes) (e.g. background
      # with labels_offset=1), as slim's streaming recall was.
      top5 = tf.math.in_top_k(targets=tf.cast(labels, tf.int32), predictions=logits, k=k)
      count = lambda x: tf.reduce_sum(tf.cast(tf.logical_and(x, valid), tf.int64))
      return tf.stack([count(valid), count(top1), count(top5)])

    @tf.function
    def step(inputs):
      per_replica = self.strategy.run(replica_fn, args=inputs)
      return self.strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    return step

  # -- evaluation ---------------------------------------------------------

  def restore(self, checkpoint_path: str) -> str:
    """Loads a checkpoint (EMA weights with moving_average_decay); returns its prefix."""
    report = checkpoints.restore_for_inference(
        self.network_fn, checkpoint_path,
        use_moving_averages=self.config.moving_average_decay is not None,
        command=checkpoints.EVAL)
    if self.config.moving_average_decay is not None and not report.from_moving_averages:
      logging.warning('moving_average_decay is set but %s holds no moving averages; '
                      'evaluated the raw weights.', report.checkpoint)
    return report.checkpoint

  def evaluate(self, checkpoint_path: str) -> EvalResult:
    """Restores `checkpoint_path` and evaluates it over the whole split.

    Writes results.json and the summaries into eval_dir and prints a summary.

    Raises:
      ValueError: if the checkpoint does not fit the network or the split
        holds no examples.
    """
    prefix = self.restore(checkpoint_path)
    step = global_step_of(prefix)
    total_batches = None
    if self.num_samples is not None:
      total_batches = math.ceil(self.num_samples / self.config.batch_size)
      if self.config.max_num_batches:
        total_batches = min(total_batches, int(self.config.max_num_batches))
    logging.info('Evaluating %s (step %d) on %d replica(s), batch %d%s.', prefix, step,
                 self.num_replicas, self.config.batch_size,
                 f', about {total_batches} batches' if total_batches else '')
    counts = [0, 0, 0]
    if self._skipped is not None:
      self._skipped.assign(0)
    start = time.time()
    batches = progress.Progress('Batch', total_batches, unit='images', every_s=30,
                                per_count=self.config.batch_size)
    iterator = iter(self.strategy.experimental_distribute_dataset(self.dataset))
    while True:
      try:
        inputs = next(iterator)
      except StopIteration:
        break
      except (tf.errors.OpError, UnicodeDecodeError) as e:  # A corrupt record, ...
        message = self._read_error_message(counts[0], e)
        if message is None:
          raise
        raise ValueError(message) from None
      counts = [a + int(b) for a, b in zip(counts, self._step(inputs).numpy())]
      batches.update(details=f'{counts[0]} images')
    num_examples, top1, top5 = counts
    if num_examples == 0:
      raise ValueError(self._empty_message())
    result = EvalResult(prefix, step, num_examples, top1, top5, time.time() - start,
                        None if self.config.max_num_batches else self.published_size,
                        int(self._skipped.numpy()) if self._skipped is not None else 0)
    if result.size_note:
      logging.warning('%s', result.size_note)
    self._write(result)
    return result

  def _read_error_message(self, done: int, error: Exception) -> Optional[str]:
    """The one-paragraph answer to a failed read; None for an error of another kind."""
    cfg = self.config
    what = (f'split {cfg.dataset_split_name!r} of dataset {cfg.dataset_name!r} in '
            f'{cfg.dataset_dir!r}' if self.num_samples is not None else 'the evaluation dataset')
    if dataset_utils.is_unparsable_error(error) and self.num_samples is not None:
      found = dataset_utils.unparsable_message(cfg.dataset_name, cfg.dataset_split_name,
                                               cfg.dataset_dir, 'eval_image_classifier.py')
      return found and f'Reading {what} failed after {done} examples: {found}'
    if not isinstance(error, tf.errors.OpError):
      return None
    message = dataset_utils.clean_tf_message(error.message)
    if 'skip_undecodable' in message:
      advice = '(--skip_undecodable with eval_image_classifier.py).'
    else:
      advice = ('Re-create the damaged file (download_and_convert_data.py) or remove it from '
                'the split.')
    return f'Reading {what} failed after {done} examples: {message} {advice}'

  def _empty_message(self) -> str:
    cfg = self.config
    if self.num_samples is None:
      return ('The evaluation dataset yielded no examples. Pass a dataset with at least '
              'one (image, label) pair.')
    return (f"Split {cfg.dataset_split_name!r} of dataset {cfg.dataset_name!r} in "
            f'{cfg.dataset_dir!r} yielded no examples (expected {self.num_samples}). Check '
            '--dataset_dir and --dataset_split_name, and that its TFRecord files are not '
            'empty (re-run download_and_convert_data.py).')

  def _write(self, result: EvalResult) -> None:
    eval_dir = self.config.eval_dir
    tf.io.gfile.makedirs(eval_dir)
    files.write_json(os.path.join(eval_dir, RESULTS_FILE), result.to_json(), indent=2)
    if self._writer is None:
      self._writer = tf.summary.create_file_writer(eval_dir)
    with self._writer.as_default():
      summaries.scalar('eval/Accuracy', result.accuracy, result.global_step)
      summaries.scalar('eval/Recall_5', result.recall_5, result.global_step)
      summaries.scalar('eval/num_examples', result.num_examples, result.global_step)
    self._writer.flush()
    print(format_result(result, self.config if self.num_samples is not None else None),
          flush=True)


def format_result(result: EvalResult, config: Optional[EvalConfig] = None) -> str:
  """The human-readable summary printed after an evaluation."""
  where = ''
  if config is not None:
    where = f" on {config.dataset_name}/{config.dataset_split_name}"
  rate = result.num_examples / result.seconds if result.seconds else 0.0
  return '\n'.join([
      f'Evaluated {result.checkpoint} (global step {result.global_step}){where}:',
      f'  examples:  {result.num_examples}  ({result.seconds:.1f} s, {rate:.1f} images/s)',
      f'  eval/Accuracy  (top-1): {100 * result.accuracy:.2f}%  '
      f'({result.correct_top1}/{result.num_examples})',
      f'  eval/Recall_5  (top-5): {100 * result.recall_5:.2f}%  '
      f'({result.correct_top5}/{result.num_examples})',
  ] + ([f'  note: {result.size_note}'] if result.size_note else [])
    + ([f'  skipped: {result.skipped} undecodable or unparsable records (--skip_undecodable)']
       if result.skipped else []))


# ----------------------------------------------------------------------------
# Continuous evaluation
# ----------------------------------------------------------------------------

def _max_steps_from(train_dir: str) -> Optional[int]:
  """`max_number_of_steps` from train_dir/config.json (at any nesting level)."""
  data = files.read_json(os.path.join(train_dir, TRAIN_CONFIG_FILE))

  def find(node):
    if isinstance(node, dict):
      if node.get('max_number_of_steps') is not None:
        return int(node['max_number_of_steps'])
      for value in node.values():
        found = find(value)
        if found is not None:
          return found
    return None
  return find(data)


def new_checkpoints(train_dir: str, interval_secs: float = 0.0,
                    timeout_secs: Optional[float] = None) -> Iterator[str]:
  """Yields each newly recorded checkpoint of `train_dir`: `tf.train.checkpoints_iterator`.

  Only the checkpoint that the directory's `checkpoint` state file names is
  yielded (`tf.train.CheckpointManager` records one after its files are
  complete, so a half-written one is never read); when several appeared since
  the last look, the newest. TensorFlow's iterator looks once a second and
  waits `interval_secs` after each yield; it stops when nothing new came for
  `timeout_secs` (never, if None), to within that second.
  """
  waited_since = [time.time()]

  def timed_out() -> bool:
    if time.time() - waited_since[0] < timeout_secs:
      return False
    logging.info('No new checkpoint in %s for %.0f s; stopping.', train_dir, timeout_secs)
    return True

  # A wait of _POLL_SECS looks twice, a second apart, before asking timed_out.
  iterator = tf.train.checkpoints_iterator(
      train_dir, min_interval_secs=interval_secs,
      timeout=None if timeout_secs is None else _POLL_SECS,
      timeout_fn=None if timeout_secs is None else timed_out)
  for prefix in iterator:
    yield prefix
    waited_since[0] = time.time()


def evaluate_continuously(config: EvalConfig, dataset: Optional[tf.data.Dataset] = None,
                          evaluator: Optional[Evaluator] = None) -> List[EvalResult]:
  """Evaluates each new checkpoint of the directory `config.checkpoint_path`.

  Returns:
    The results, in order.

  Raises:
    ValueError: if checkpoint_path is not a directory, a checkpoint does not
      fit the network, or no checkpoint came before the timeout.
  """
  train_dir = config.checkpoint_path
  if not tf.io.gfile.isdir(train_dir):
    raise ValueError(f'Continuous evaluation watches a training directory, but '
                     f'checkpoint_path {train_dir!r} is not a directory. Pass the train_dir, '
                     'or leave --eval_interval_secs unset to evaluate one checkpoint.')
  evaluator = evaluator or Evaluator(config, dataset)
  max_steps = config.max_number_of_steps
  if max_steps is None:
    max_steps = _max_steps_from(train_dir)
  logging.info('Watching %s every %s s (timeout %s s, last step %s).', train_dir,
               config.eval_interval_secs, config.eval_timeout_secs, max_steps)
  results = []
  for prefix in new_checkpoints(train_dir, config.eval_interval_secs,
                                config.eval_timeout_secs):
    try:
      result = evaluator.evaluate(prefix)
    except (tf.errors.NotFoundError, ValueError) as e:
      if tf.io.gfile.exists(prefix + '.index'):
        raise
      # Deleted by the trainer's max_to_keep while we looked: not an error.
      logging.warning('Checkpoint %s disappeared before it was read (%s); waiting for the '
                      'next one.', prefix, e)
      continue
    results.append(result)
    if max_steps is None and config.max_number_of_steps is None:
      # The trainer may have started after us: its config.json appears later.
      max_steps = _max_steps_from(train_dir)
      if max_steps is not None:
        logging.info('%s/%s says the run ends at step %d.', train_dir, TRAIN_CONFIG_FILE,
                     max_steps)
    if max_steps is not None and result.global_step >= max_steps:
      logging.info('Evaluated the last training step (%d); stopping.', result.global_step)
      break
  if not results:
    raise ValueError(f'No checkpoint appeared in {train_dir} within --eval_timeout_secs='
                     f'{config.eval_timeout_secs:g}: nothing was evaluated. Check that it is '
                     "the trainer's --train_dir, or wait longer (a larger --eval_timeout_secs, "
                     'or none to wait for ever).')
  return results


def run(config: EvalConfig, dataset: Optional[tf.data.Dataset] = None):
  """Evaluates once (returns an EvalResult) or continuously (a list of them)."""
  if config.continuous:
    return evaluate_continuously(config, dataset)
  return Evaluator(config, dataset).evaluate(config.checkpoint_path)


__all__ = ['EvalConfig', 'EvalResult', 'Evaluator', 'evaluate_continuously',
           'format_result', 'global_step_of',
           'new_checkpoints', 'run']
