"""The training loop behind train_image_classifier.py, in named parts.

    from slimvision.core import config, train
    result = train.train(config.TrainConfig(train_dir=..., dataset_name='digits', ...))

`train` runs five parts, and this module reads in their order:

  data   `training_data`: the dataset split, built once per run (its size,
         its classes and the input function of per-replica batches).
  state  `build_state`: the network (`build_network`), the optimizer, the
         moving averages, the input iterator and the checkpoint, initialised
         from train_dir, --checkpoint_path or scratch (`_initialise`).
  loss   `slim_loss`: slim's loss of one replica's batch, a pure function of
         the net and the batch: softmax cross-entropy with label smoothing,
         auxiliary logits at weight 0.4 and the layers' L2 penalties.
  step   `make_train_step`: the replica step (forward, loss, gradients,
         update) and around it the mean of the batch-norm statistics over
         replicas and the moving averages; up to --steps_per_loop steps per
         call of one `tf.function`.
  loop   `TrainLoop`: the host side; logging (`TrainLoop.log`), TensorBoard
         summaries (`write_summaries`), checkpoints (`TrainLoop.save`),
         SIGTERM and non-finite losses.

Where to change what: a new loss, `slim_loss`; a new optimizer or learning-
rate schedule, `core/optimizers.py` (`make_optimizer`,
`learning_rate_schedule`; the names in `config.OPTIMIZERS`); a new step,
`make_train_step`; a new logging target, `TrainLoop.log` (text) or
`write_summaries` (TensorBoard).

Everything a run needs to continue lives in one `tf.train.Checkpoint` managed by
a `tf.train.CheckpointManager` in `train_dir`:
  step       the global step (int64);
  optimizer  the optimizer and its slots;
  model      `checkpoints.trackable_variables(net, ema)`: the model variables
             keyed by slim name (and their moving averages as
             `<name>/ExponentialMovingAverage`), so evaluation, export and
             fine-tuning read it with `checkpoints.restore_checkpoint`;
  data       the input iterator (the data position), unless
             `checkpoint_input_pipeline=False`.
"""

import contextlib
import dataclasses
import errno
import math
import os
import signal
import threading
import time
from typing import Callable, Dict, List, Optional, Tuple

from absl import logging
import keras
import numpy as np
import tensorflow as tf

from . import files
from . import optimizers
from . import progress
from . import summaries
from . import strategy as strategy_lib
from . import train_dir_lock
from .config import TrainConfig
from ..datasets import dataset_utils
from ..nets import checkpoints, layers, losses, nets_factory

CONFIG_FILE = 'config.json'

InputFn = Callable[[tf.distribute.InputContext], tf.data.Dataset]

# What `slim_loss` and the step report (float32 scalars, summed over replicas).
METRICS = ('loss', 'cross_entropy', 'aux_loss', 'regularization', 'correct', 'finite_inputs')


class DiskFullError(OSError):
  """A checkpoint could not be written for lack of space; the partial one was removed."""


class NonFiniteLossError(FloatingPointError):
  """Raised when the training loss becomes NaN or infinite."""


@dataclasses.dataclass
class TrainResult:
  """What a finished (or stopped) run reports.

  Attributes:
    global_step: the step reached.
    loss: the total loss of the last step.
    checkpoint: the last checkpoint written (None if none was).
    stopped_by: 'max_number_of_steps' or 'signal'.
    losses: the total loss of every step this call ran.
    network: the trained `NetworkFn`.
    strategy: the strategy it ran under.
    initialised_from: 'train_dir', 'checkpoint_path' or 'scratch'.
  """
  global_step: int
  loss: float
  checkpoint: Optional[str]
  stopped_by: str
  losses: List[float]
  network: nets_factory.NetworkFn
  strategy: tf.distribute.Strategy
  initialised_from: str


def train(config: TrainConfig, input_fn: Optional[InputFn] = None,
          num_samples: Optional[int] = None, num_classes: Optional[int] = None,
          strategy: Optional[tf.distribute.Strategy] = None) -> TrainResult:
  """Trains `config.model_name` as configured; resumable at any checkpoint.

  Args:
    config: the run's configuration.
    input_fn: optional `fn(input_context) -> tf.data.Dataset` of per-replica
      batches `(images float32 [B, H, W, C], labels int64 [B])`, repeated;
      by default the dataset named in `config` through `core.input_pipeline`.
    num_samples: examples per epoch (for the learning-rate schedule); required
      with `input_fn`.
    num_classes: classes of the dataset (before `labels_offset`); required with
      `input_fn`.
    strategy: a `tf.distribute.Strategy`; by default `strategy.make_strategy`
      from TF_CONFIG / GPUs / `config.num_clones`.

  Returns:
    A TrainResult.

  Raises:
    NonFiniteLossError: when the loss becomes NaN or infinite (the checkpoints
      written before are kept).
    DiskFullError: when a checkpoint cannot be written for lack of space.
    train_dir_lock.TrainDirInUseError: another trainer holds `train_dir`.
    ValueError: for an inconsistent configuration or unreadable training data.
  """
  strategy = strategy or strategy_lib.make_strategy(config.num_clones, config.clone_on_cpu)
  logging.info('%d replica(s) in sync; global batch %d = %d per replica x %d.',
               strategy.num_replicas_in_sync, config.batch_size * strategy.num_replicas_in_sync,
               config.batch_size, strategy.num_replicas_in_sync)
  previous_policy = keras.mixed_precision.global_policy()
  if config.mixed_precision:
    keras.mixed_precision.set_global_policy(f'mixed_{config.mixed_precision}')
  chief = strategy_lib.is_chief(strategy)
  lock = train_dir_lock.TrainDirLock(config.train_dir) if chief else contextlib.nullcontext()
  try:
    with lock:
      data = training_data(config, input_fn, num_samples, num_classes)
      state = build_state(config, data, strategy)
      loop = TrainLoop(config, state, data, make_train_step(config, state))
      loop.run(config.max_number_of_steps)
      return loop.finish()
  finally:
    keras.mixed_precision.set_global_policy(previous_policy)


# ----------------------------------------------------------------------------
# Data: the dataset split, built once per run.
# ----------------------------------------------------------------------------

@dataclasses.dataclass
class TrainingData:
  """The input of a run.

  Attributes:
    input_fn: `fn(input_context) -> tf.data.Dataset` of per-replica batches
      `(images float32 [B, H, W, C], labels int64 [B])`, repeated.
    num_samples: examples per epoch.
    num_classes: classes of the dataset, before `labels_offset`.
    image_size: the side of the square training images, in pixels.
    source: what the log calls it ('flowers/train', or 'the given input').
    skipped: int64 variable counting the records skipped with
      --skip_undecodable (None without).
  """
  input_fn: InputFn
  num_samples: int
  num_classes: int
  image_size: int
  source: str = 'the given input'
  skipped: Optional[tf.Variable] = None


def training_data(config: TrainConfig, input_fn: Optional[InputFn] = None,
                  num_samples: Optional[int] = None,
                  num_classes: Optional[int] = None) -> TrainingData:
  """The run's input: the dataset named in `config`, or the given `input_fn`
  (which then needs `num_samples` and `num_classes`)."""
  image_size = (config.train_image_size
                or nets_factory.get_spec(config.model_name).default_image_size)
  if input_fn is None:
    return _dataset_input(config, image_size)
  if num_samples is None or num_classes is None:
    raise ValueError('train() with an input_fn needs num_samples and num_classes. '
                     f'Received: num_samples={num_samples}, num_classes={num_classes}')
  return TrainingData(input_fn, num_samples, num_classes, image_size)


def _dataset_input(config: TrainConfig, image_size: int) -> TrainingData:
  """The split named in `config`, its record count checked, through `core.input_pipeline`."""
  from ..datasets import dataset_factory  # pylint: disable=g-import-not-at-top
  from . import input_pipeline  # pylint: disable=g-import-not-at-top
  dataset = dataset_factory.get_dataset(config.dataset_name, config.dataset_split_name,
                                        config.dataset_dir)
  count = dataset.check_records()
  note = count.note(f'Split {config.dataset_split_name!r} of {config.dataset_name} in '
                    f'{config.dataset_dir}')
  if note:
    logging.warning('%s The learning-rate schedule counts epochs of the published size.', note)

  skipped = None
  if config.skip_undecodable:
    with tf.init_scope(), tf.device('/cpu:0'):
      skipped = tf.Variable(0, dtype=tf.int64, trainable=False, name='skipped_records')

  def input_fn(input_context):
    return input_pipeline.train_input(
        split=dataset, preprocessing_name=config.preprocessing_name, model_name=config.model_name,
        image_size=image_size, batch_size=config.batch_size,
        labels_offset=config.labels_offset, input_context=input_context,
        shuffle_buffer=config.shuffle_buffer, seed=config.seed,
        use_grayscale=config.use_grayscale, skip_undecodable=config.skip_undecodable,
        skipped=skipped)

  return TrainingData(input_fn, dataset.num_samples, dataset.num_classes, image_size,
                      f'{config.dataset_name}/{config.dataset_split_name}', skipped)


def _make_iterator(input_fn: InputFn, strategy) -> tf.data.Iterator:
  """The iterator over this worker's input pipeline (file-sharded across workers)."""
  workers = max(strategy_lib.num_workers_from_env(), 1)
  worker = 0
  resolver = getattr(strategy, 'cluster_resolver', None)
  if workers > 1 and resolver is not None:
    cluster = resolver.cluster_spec().as_dict()
    order = [(t, i) for t in ('chief', 'worker') for i in range(len(cluster.get(t, ())))]
    worker = order.index((resolver.task_type, resolver.task_id))
  context = tf.distribute.InputContext(num_input_pipelines=workers, input_pipeline_id=worker,
                                       num_replicas_in_sync=strategy.num_replicas_in_sync)
  options = tf.data.Options()
  # Checkpoints save the pipeline's position; ops with state outside it (the
  # random generators of augmentations, a decode fallback) do not stop that.
  options.experimental_external_state_policy = (
      tf.data.experimental.ExternalStatePolicy.IGNORE)
  with tf.device('/cpu:0'):
    dataset = input_fn(context).with_options(options)
    return iter(dataset.prefetch(tf.data.AUTOTUNE))


# ----------------------------------------------------------------------------
# State: network, optimizer, averages, iterator and checkpoint, initialised.
# ----------------------------------------------------------------------------

@dataclasses.dataclass
class TrainState:
  """What a run trains and checkpoints (the checkpoint's keys: see the module
  docstring).

  Attributes:
    strategy: the strategy the variables live on.
    chief: whether this worker writes train_dir's checkpoints and config.
    global_batch: examples per step over all replicas.
    net: the `NetworkFn` (built with `is_training=True`).
    step: the global step, int64.
    optimizer: the Keras optimizer (a LossScaleOptimizer under float16).
    schedule: the learning rate as a function of the step.
    trainable: the variables the optimizer updates.
    averaged: {slim name: tf.Variable} of the model variables.
    ema: {slim name: its moving average}, or None without
      --moving_average_decay.
    iterator: the input iterator (its position is checkpointed).
    checkpoint, manager: the `tf.train.Checkpoint` and its manager.
    initialised_from: 'train_dir', 'checkpoint_path' or 'scratch'.
  """
  strategy: tf.distribute.Strategy
  chief: bool
  global_batch: int
  net: nets_factory.NetworkFn
  step: tf.Variable
  optimizer: keras.optimizers.Optimizer
  schedule: Callable
  trainable: List[tf.Variable]
  averaged: Dict[str, tf.Variable]
  ema: Optional[Dict[str, tf.Variable]]
  iterator: tf.data.Iterator
  checkpoint: tf.train.Checkpoint
  manager: tf.train.CheckpointManager
  initialised_from: str


def build_state(config: TrainConfig, data: TrainingData,
                strategy: tf.distribute.Strategy) -> TrainState:
  """Builds the state on `strategy` and initialises it: from the newest
  checkpoint in train_dir (resume: weights, step, optimizer, averages and data
  position), else from --checkpoint_path minus --checkpoint_exclude_scopes
  (weights only), else from the initializers. The chief then writes
  train_dir/config.json."""
  chief = strategy_lib.is_chief(strategy)
  global_batch = config.batch_size * strategy.num_replicas_in_sync
  with strategy.scope():
    step = tf.Variable(0, dtype=tf.int64, trainable=False, name='global_step')
    net = build_network(config, data.num_classes - config.labels_offset, data.image_size, step)
    _freeze_outside(net, config.trainable_scope_list)
    trainable = list(net.model.trainable_variables)
    schedule = optimizers.learning_rate_schedule(config, data.num_samples / global_batch)
    optimizer = optimizers.make_optimizer(config, schedule)
    if config.mixed_precision == 'float16':
      optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    optimizer.build(trainable)
    averaged = _tf_variables(net)
    ema = _moving_averages(averaged) if config.moving_average_decay else None
  # One host pipeline per worker (a trackable iterator, so that checkpoints keep
  # the data position); each local replica takes the next batch from it.
  iterator = _make_iterator(data.input_fn, strategy)
  checkpoint = tf.train.Checkpoint(
      step=step, optimizer=optimizer,
      **{checkpoints.MODEL_KEY: checkpoints.trackable_variables(net, ema=ema)},
      **({'data': iterator} if config.checkpoint_input_pipeline else {}))
  manager = tf.train.CheckpointManager(
      checkpoint, config.train_dir if chief else _worker_dir(config.train_dir, strategy),
      max_to_keep=config.max_checkpoints_to_keep if chief else 1, checkpoint_name='model.ckpt')
  initialised_from = _initialise(config, net, checkpoint, ema, averaged)
  if chief:
    _write_config(config, image_size=data.image_size, num_classes=data.num_classes,
                  num_samples=data.num_samples, replicas=strategy.num_replicas_in_sync,
                  global_batch=global_batch, strategy=strategy,
                  initialised_from=initialised_from)
  return TrainState(strategy, chief, global_batch, net, step, optimizer, schedule, trainable,
                    averaged, ema, iterator, checkpoint, manager, initialised_from)


def build_network(config: TrainConfig, num_classes: int, image_size: int,
                  step: tf.Variable) -> nets_factory.NetworkFn:
  """The network to train (`is_training=True`: auxiliary heads built).

  Builders that take `current_step` (NASNet, PNASNet) get the global step, so
  that their drop path ramps up over `total_training_steps` as in slim.
  With `use_grayscale` the net is built for one-channel images.
  """
  spec = nets_factory.get_spec(config.model_name)
  return nets_factory.get_network_fn(
      config.model_name, num_classes=num_classes, weight_decay=config.weight_decay,
      is_training=True, image_size=image_size,
      input_channels=1 if config.use_grayscale else None,
      current_step=step if spec.takes_current_step else None)


def _tf_variables(net) -> Dict[str, tf.Variable]:
  """{slim name: the tf.Variable behind each Keras weight} (what the averages track)."""
  return {name: getattr(v, 'value', v) for name, v in checkpoints.slim_variables(net).items()}


def _moving_averages(averaged: Dict[str, tf.Variable]) -> Dict[str, tf.Variable]:
  """A shadow variable per model variable, starting at its value (slim's
  ExponentialMovingAverage)."""
  return {name: tf.Variable(v.read_value(), trainable=False,
                            name=layers.layer_name(name) + '.ExponentialMovingAverage')
          for name, v in averaged.items()}


def _freeze_outside(net, scopes) -> None:
  """slim's --trainable_scopes: layers with no variable under a scope stop training.

  A frozen `BatchNorm` runs in inference mode: it normalises with its moving
  statistics and leaves them unchanged.
  """
  if not scopes:
    return
  checkpoints.check_scopes(scopes, checkpoints.slim_variable_names(net), '--trainable_scopes',
                           f'in the model {net.name}')
  names_by_id = {id(v): n for n, v in checkpoints.slim_variables(net).items()}
  frozen = 0
  for layer in net.model.layers:
    layer_vars = [names_by_id.get(id(w), '') for w in layer.weights]
    if layer_vars and not any(n.startswith(s) for n in layer_vars for s in scopes):
      layer.trainable = False
      frozen += 1
  logging.info('trainable_scopes %s: %d trainable variables, %d layers frozen.',
               ','.join(scopes), len(net.model.trainable_variables), frozen)


def _initialise(config: TrainConfig, net, checkpoint, ema, averaged) -> str:
  """Applies the initialisation order (see `train`); returns where from."""
  latest = tf.train.latest_checkpoint(config.train_dir)
  if latest:
    logging.info('Initialising from train_dir: resuming %s.', latest)
    problem = checkpoints.mismatch(net, latest)
    if problem:
      raise ValueError(_another_run(config, net, latest, problem))
    if config.checkpoint_input_pipeline:
      _check_same_input(config, net.image_size, latest)
    _warn_other_dataset(config)
    try:  # The model's variables fit (checked above); the rest of the state may not.
      status = checkpoint.restore(latest)
      status.assert_existing_objects_matched()
    except (AssertionError, ValueError):
      raise ValueError(_another_state(config, latest)) from None
    if not config.checkpoint_input_pipeline:
      status.expect_partial()  # The saved input position, if any, is not wanted.
    return 'train_dir'
  if config.checkpoint_path:
    given = config.checkpoint_exclude_scopes is not None
    logging.info('Initialising from checkpoint_path %s (excluding scopes: %s).',
                 config.checkpoint_path, ', '.join(config.exclude_scopes) if given else
                 "the net's classifier heads where they do not fit")
    checkpoints.restore_for_fine_tuning(
        net, config.checkpoint_path, exclude_scopes=config.exclude_scopes if given else None,
        ignore_missing_vars=config.ignore_missing_vars, command=checkpoints.TRAIN)
    for name, shadow in (ema or {}).items():
      shadow.assign(averaged[name].read_value())
    return 'checkpoint_path'
  logging.info('Initialising from scratch (no checkpoint in %s, no --checkpoint_path).',
               config.train_dir)
  return 'scratch'


def _previous_config(train_dir: str) -> Optional[dict]:
  """The config.json of the run in `train_dir`, if readable."""
  return files.read_json(os.path.join(train_dir, CONFIG_FILE), warn=False)


def _changed_flags(previous: dict, now: dict) -> List[str]:
  """`--flag=<previous> (now <now>)` for each key of `now` the earlier run set otherwise."""
  return [f'{previous[k]} classes (now {v})' if k == 'num_classes' else
          f'--{k}={previous[k]} (now {v})'
          for k, v in now.items() if previous.get(k) is not None and previous[k] != v]


def _check_same_input(config: TrainConfig, image_size: int, latest: str) -> None:
  """The checkpoint holds the input pipeline's position, batches of one shape:
  resuming it needs the same image size and batch size."""
  previous = _previous_config(config.train_dir) or {}
  differ = _changed_flags(previous, {'train_image_size': image_size,
                                     'batch_size': config.batch_size})
  if differ:
    raise ValueError(
        f'--train_dir={config.train_dir} holds a run whose checkpoint '
        f'{os.path.basename(latest)} saved the input position for other batches: that run '
        f"used {', '.join(differ)}. Pass the same flags to resume it, add "
        '--nocheckpoint_input_pipeline to resume its weights with the new batches, or pass '
        'another --train_dir.')


def _another_run(config: TrainConfig, net, latest: str, problem: str) -> str:
  """Why the run in train_dir cannot be resumed by this one, and what to do."""
  message = (f'--train_dir={config.train_dir} holds a run of another shape: its checkpoint '
             f'{os.path.basename(latest)} does not fit {config.model_name} with '
             f'{net.num_classes} classes ({problem}).')
  previous = _previous_config(config.train_dir)
  if previous:
    ours = config.to_dict()
    theirs = {**previous, 'num_classes': previous.get('run', {}).get('num_classes')}
    differ = _changed_flags(theirs, {
        **{k: ours[k] for k in ('model_name', 'dataset_name', 'labels_offset',
                                'use_grayscale')},
        'num_classes': net.num_classes, 'train_image_size': net.image_size})
    if differ:
      message += ' That run was started with ' + ', '.join(differ) + '.'
  return (message + ' Pass another --train_dir to start a new run (or remove this one), or '
          "the earlier run's flags to resume it; --checkpoint_path fine-tunes from a "
          'checkpoint in a new --train_dir.')


def _another_state(config: TrainConfig, latest: str) -> str:
  """Why the training state in train_dir (optimizer slots, averages) does not fit."""
  previous = _previous_config(config.train_dir) or {}
  ours = config.to_dict()
  differ = _changed_flags(previous, {k: ours[k] for k in (
      'optimizer', 'moving_average_decay', 'mixed_precision')})
  if ours['moving_average_decay'] and not previous.get('moving_average_decay'):
    differ.append(f"--moving_average_decay={ours['moving_average_decay']} (the run had none)")
  why = (' That run was started with ' + ', '.join(differ) + '.') if differ else ''
  return (f'--train_dir={config.train_dir} holds a run whose training state does not fit '
          f'these flags: {os.path.basename(latest)} has no values for part of it (the '
          f'optimizer\'s slots or the moving averages).{why} Resume with the flags of that '
          'run, or start a new run in another --train_dir with '
          f'--checkpoint_path={latest} to fine-tune from its weights with the new settings.')


def _warn_other_dataset(config: TrainConfig) -> None:
  """A resumed run that trained on another dataset goes on, with a warning."""
  previous = _previous_config(config.train_dir) or {}
  if previous.get('dataset_name') not in (None, config.dataset_name):
    logging.warning('Resuming a run that trained on %s with --dataset_name=%s (its '
                    'config.json is rewritten). Pass another --train_dir to keep them apart.',
                    previous['dataset_name'], config.dataset_name)


def _worker_dir(train_dir: str, strategy) -> str:
  """Where a non-chief worker writes its (required but unused) checkpoints."""
  resolver = strategy.cluster_resolver
  return os.path.join(train_dir, f'{resolver.task_type}_{resolver.task_id}')


def _write_config(config: TrainConfig, **run) -> None:
  """train_dir/config.json: the resolved configuration and the facts of the run."""
  resolved = config.replace(
      train_image_size=run['image_size'],
      preprocessing_name=config.preprocessing_name or
      nets_factory.get_spec(config.model_name).preprocessing)
  facts = {'num_replicas': run['replicas'], 'global_batch_size': run['global_batch'],
           'num_classes': run['num_classes'], 'num_samples': run['num_samples'],
           'strategy': type(run['strategy']).__name__,
           'initialised_from': run['initialised_from'],
           'tensorflow': tf.__version__, 'keras': keras.__version__}
  tf.io.gfile.makedirs(config.train_dir)
  try:
    files.write_json(os.path.join(config.train_dir, CONFIG_FILE),
                        {**resolved.to_dict(), 'run': facts}, indent=2, sort_keys=True)
  except (OSError, tf.errors.OpError) as e:
    if not _is_disk_full(e):
      raise
    raise DiskFullError(f'No space left on the device of {config.train_dir}: could not write '
                        f'{CONFIG_FILE}, so nothing was trained and the checkpoints there are '
                        'as they were. Free space, or pass --train_dir on another disk, and run '
                        'the same command again.') from None


def load_config(train_dir: str) -> TrainConfig:
  """The TrainConfig a run wrote to `train_dir/config.json`."""
  path = os.path.join(train_dir, CONFIG_FILE)
  values = files.read_json(path)
  if not isinstance(values, dict):
    raise ValueError(f'{path} is missing or not a readable run configuration.')
  values.pop('run', None)
  return TrainConfig.from_dict(values)


# ----------------------------------------------------------------------------
# Loss: slim's, a pure function of the net and one replica's batch.
# ----------------------------------------------------------------------------

def slim_loss(net: nets_factory.NetworkFn, images, labels, label_smoothing: float = 0.0,
              global_batch: Optional[int] = None, replicas: int = 1,
              is_training: bool = True) -> Dict[str, tf.Tensor]:
  """slim's training loss of one replica's batch.

  Softmax cross-entropy with label smoothing on the logits
  (`nets.losses.softmax_cross_entropy`), plus each auxiliary head the net
  built at `net.spec.aux_loss_weight` (0.4), plus the L2 penalties its layers
  carry. Sums over the batch are divided by the global batch and the
  regularisation by the number of replicas, so that the sum over replicas is
  the loss of the global batch.

  Args:
    net: the NetworkFn being trained.
    images: float32 [B, H, W, C].
    labels: int [B] in [0, num_classes).
    label_smoothing: slim's label smoothing.
    global_batch: examples in the step over all replicas (default: B).
    replicas: replicas in sync.
    is_training: run the net in training mode (batch statistics, dropout);
      False computes the same loss with the moving statistics.

  Returns:
    {'loss' (the total), 'cross_entropy', 'aux_loss', 'regularization',
    'correct' (top-1 hits in the batch)}: float32 scalars.
  """
  global_batch = global_batch or tf.shape(labels)[0]
  global_batch = tf.cast(global_batch, tf.float32)
  logits, end_points = net(images, is_training=is_training)
  logits = tf.cast(logits, tf.float32)
  xent = tf.reduce_sum(losses.softmax_cross_entropy(labels, logits, label_smoothing))
  xent /= global_batch
  aux = tf.constant(0.0)
  for aux_logits in net.aux_logits(end_points):
    aux += net.spec.aux_loss_weight * tf.reduce_sum(
        losses.softmax_cross_entropy(labels, aux_logits, label_smoothing)) / global_batch
  # The regularisation is added once per replica: scale it so that the sum
  # over replicas counts it once.
  reg = tf.constant(0.0)
  if net.model.losses:
    reg = tf.add_n([tf.cast(l, tf.float32) for l in net.model.losses]) / replicas
  correct = tf.reduce_sum(tf.cast(
      tf.equal(tf.argmax(logits, -1, output_type=tf.int64), tf.cast(labels, tf.int64)),
      tf.float32))
  return {'loss': xent + aux + reg, 'cross_entropy': xent, 'aux_loss': aux,
          'regularization': reg, 'correct': correct}


# ----------------------------------------------------------------------------
# Step: the replica step, and around it what keeps replicas and averages in step.
# ----------------------------------------------------------------------------

StepOutput = Tuple[Dict[str, tf.Tensor], tf.Tensor, tf.Tensor]


def make_train_step(config: TrainConfig, state: TrainState) -> Callable[[int], StepOutput]:
  """`train_steps(n)`: runs up to `n` training steps in one `tf.function` call.

  Each step takes a batch per replica from `state.iterator`, runs
  `replica_step` on every replica, replaces each replica's moving batch-norm
  statistics by their mean over replicas, adds 1 to `state.step` and updates
  the moving averages. The steps stop early after a step whose loss is not
  finite. With `config.steps_per_loop == 1` the function holds exactly one
  step (no loop in the graph).

  Returns:
    `train_steps(n) -> (metrics, images, losses)`: the last step's `METRICS`
    (float32 scalars summed over replicas), up to `num_summary_images` of its
    input images (replica 0's, [k, H, W, C]) and the total loss of each step
    run, float32 [steps run].
  """
  strategy = state.strategy
  replica_step = _replica_step(config, state)
  statistics = _replica_statistics(state)

  def one_step(iterator):
    images, labels = strategy.experimental_distribute_values_from_function(
        lambda _: tuple(next(iterator)))
    metrics, shown, local_statistics = strategy.run(replica_step, args=(images, labels))
    metrics = {k: strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None)
               for k, v in metrics.items()}
    if statistics:
      means = strategy.reduce(tf.distribute.ReduceOp.MEAN, local_statistics, axis=None)
      means = tf.split(means, [int(np.prod(v.shape)) for v in statistics])
      for var, mean in zip(statistics, means):
        var.assign(tf.reshape(mean, var.shape))
    state.step.assign_add(1)
    if state.ema is not None:
      _update_moving_averages(state, config.moving_average_decay)
    return metrics, strategy.experimental_local_results(shown)[0]

  @tf.function
  def train_steps(iterator, n):
    if config.steps_per_loop == 1:
      metrics, shown = one_step(iterator)
      return metrics, shown, tf.reshape(metrics['loss'], [1])
    images_spec = iterator.element_spec[0]
    initial = ({k: tf.constant(0.0) for k in METRICS},
               tf.zeros([0, *images_spec.shape[1:]], images_spec.dtype))

    def body(i, last, step_losses):
      last = one_step(iterator)
      return i + 1, last, step_losses.write(i, last[0]['loss'])

    _, (metrics, shown), step_losses = tf.while_loop(
        lambda i, last, _: tf.logical_and(i < n, tf.math.is_finite(last[0]['loss'])),
        body, (tf.constant(0), initial, tf.TensorArray(tf.float32, size=0, dynamic_size=True)),
        shape_invariants=(tf.TensorShape([]),
                          ({k: tf.TensorShape([]) for k in METRICS},
                           tf.TensorShape([None, *images_spec.shape[1:]])),
                          tf.TensorShape(None)))
    return metrics, shown, step_losses.stack()

  return lambda n: train_steps(state.iterator, tf.constant(n, tf.int32))


def _replica_step(config: TrainConfig, state: TrainState) -> Callable:
  """`replica_step(images, labels) -> (metrics, shown images, local statistics)`:
  forward, slim's loss, gradients and the optimizer's update on one replica."""
  replicas = state.strategy.num_replicas_in_sync
  loss_scaling = config.mixed_precision == 'float16'
  optimizer, trainable = state.optimizer, state.trainable
  statistics = _replica_statistics(state)

  def forward_backward(images, labels):
    with tf.GradientTape() as tape:
      terms = slim_loss(state.net, images, labels, config.label_smoothing, state.global_batch,
                        replicas)
      scaled = optimizer.scale_loss(terms['loss']) if loss_scaling else terms['loss']
    return tape.gradient(scaled, trainable), terms

  if config.jit_compile:
    forward_backward = tf.function(forward_backward, jit_compile=True)

  def replica_step(images, labels):
    grads, metrics = forward_backward(images, labels)
    # 1 per replica whose input batch is finite: tells a data fault from diverged weights.
    metrics = {**metrics, 'finite_inputs': tf.cast(
        tf.reduce_all(tf.math.is_finite(images)), tf.float32)}
    optimizer.apply(grads, trainable)
    # One flat vector, so that the mean over replicas is a single reduction.
    local_statistics = (tf.concat([tf.reshape(v, [-1]) for v in statistics], 0)
                        if statistics else tf.zeros([0]))
    return metrics, images[:config.num_summary_images], local_statistics

  return replica_step


def _replica_statistics(state: TrainState) -> List[tf.Variable]:
  """The moving batch-norm statistics, when there are several replicas.

  Each replica normalises with its own batch statistics (as slim's clones did)
  and updates its own copy of the moving statistics; after each step the
  copies are replaced by their mean so that they stay identical everywhere.
  """
  if state.strategy.num_replicas_in_sync == 1:
    return []
  return [v for n, v in state.averaged.items() if n.endswith(('/moving_mean', '/moving_variance'))]


def _update_moving_averages(state: TrainState, decay: float) -> None:
  """slim's ExponentialMovingAverage with num_updates: the decay is
  min(decay, (1 + step) / (10 + step))."""
  step = state.step
  decay = tf.minimum(decay, tf.cast(1 + step, tf.float32) / tf.cast(10 + step, tf.float32))
  for name, shadow in state.ema.items():
    shadow.assign_sub((shadow - state.averaged[name]) * (1.0 - decay))


# ----------------------------------------------------------------------------
# Loop: the host side of the run.
# ----------------------------------------------------------------------------

class TrainLoop:
  """Calls the step function in loops and does, between them, what needs the
  host: progress in the log, TensorBoard summaries, checkpoints, SIGTERM and
  non-finite losses.

  A loop of steps ends at each --log_every_n_steps step, so the log shows the
  same steps for every --steps_per_loop; time-based summaries and checkpoints
  are written at the end of the loop in which they fall due. The first step
  runs alone, and its summaries are written.

  Args:
    config: the run's configuration.
    state: the `TrainState` (built and initialised).
    data: the run's `TrainingData`.
    train_steps: `make_train_step(config, state)`.
  """

  def __init__(self, config: TrainConfig, state: TrainState, data: TrainingData,
               train_steps: Callable[[int], StepOutput]):
    self.config, self.state, self.data, self.train_steps = config, state, data, train_steps
    self.start_step = int(state.step.numpy())
    self.losses: List[float] = []
    self.stopped_by = 'max_number_of_steps'
    self.last_saved = (state.manager.latest_checkpoint
                       if state.initialised_from == 'train_dir' else None)
    self.saved_step = self.start_step if self.last_saved else None
    self._writer = (tf.summary.create_file_writer(config.train_dir) if state.chief
                    else tf.summary.create_noop_writer())
    self._stop = _StopRequest()
    self._last_save_time = self._last_summary_time = time.time()
    self._progress = progress.Progress('step', unit='images', per_count=state.global_batch,
                                       start=self.start_step)
    self._seconds_per_step = None  # Of the last loop: where time-based work falls due.
    # Checkpoints are written only from finite state (weights, statistics, averages).
    watched = [v for v in list(state.averaged.values()) + list((state.ema or {}).values())
               if v.dtype.is_floating]
    self._state_is_finite = tf.function(lambda: tf.reduce_all(
        tf.stack([tf.reduce_all(tf.math.is_finite(v)) for v in watched])))

  def run(self, max_steps: Optional[int]) -> None:
    """Trains until `state.step` reaches `max_steps` (None: until SIGTERM)."""
    current = int(self.state.step.numpy())
    self._progress.total = max_steps
    logging.info('Training %s from step %d%s on %s (%d examples, %.1f steps per epoch).',
                 self.config.model_name, current, f' to {max_steps}' if max_steps else '',
                 self.data.source, self.data.num_samples,
                 self.data.num_samples / self.state.global_batch)
    with self._stop.installed(), self._writer.as_default():
      while max_steps is None or current < max_steps:
        start = time.time()
        metrics, shown, step_losses = self._run_steps(current,
                                                      self.loop_length(current, max_steps))
        current, previous = int(self.state.step.numpy()), current
        self._seconds_per_step = (time.time() - start) / max(current - previous, 1)
        self.losses.extend(float(l) for l in step_losses.numpy())
        if not math.isfinite(self.losses[-1]):
          raise self._non_finite_error(metrics, current)
        if self._between_loops(current, max_steps, metrics, shown):
          self.stopped_by = 'signal'
          break

  def finish(self) -> TrainResult:
    """Writes the final checkpoint (unless this step's is written) and reports."""
    current = int(self.state.step.numpy())
    if self.saved_step != current:
      self.save(current)
    self._writer.flush()
    return TrainResult(global_step=current, loss=self.losses[-1] if self.losses else math.nan,
                       checkpoint=self.last_saved, stopped_by=self.stopped_by,
                       losses=self.losses, network=self.state.net, strategy=self.state.strategy,
                       initialised_from=self.state.initialised_from)

  def loop_length(self, current: int, max_steps: Optional[int]) -> int:
    """Steps in the next loop: up to --steps_per_loop, ending at the next logged
    step, at `max_steps` and (with one worker) at the step by which a summary or
    checkpoint falls due at the pace of the last loop; the first step alone."""
    if current == self.start_step or not self._seconds_per_step:
      return 1
    every = self.config.log_every_n_steps
    n = min(self.config.steps_per_loop, every - current % every)
    if max_steps:
      n = min(n, max_steps - current)
    if strategy_lib.num_workers_from_env() > 1:
      return n  # Every worker must run the same loops; they save at logged steps (`_agree`).
    now = time.time()
    for due in (self._last_summary_time + self.config.save_summaries_secs,
                self._last_save_time + self.config.save_interval_secs):
      n = min(n, max(1, math.ceil((due - now) / self._seconds_per_step)))
    return n

  def _run_steps(self, current: int, n: int) -> StepOutput:
    """`n` steps after step `current`; a failed read of the data is a ValueError
    naming the step (or the loop's steps) and the fix."""
    try:
      return self.train_steps(n)
    except (tf.errors.InvalidArgumentError, tf.errors.DataLossError, UnicodeDecodeError) as e:
      message = _data_error_message(self.config, e)
      if message is None:
        raise
      where = (f'step {current + 1}' if n == 1 else
               f'one of steps {current + 1}-{current + n} (run in one loop)')
      raise ValueError(f'Reading the training data failed at {where}: {message}') from None

  def _between_loops(self, current, max_steps, metrics, shown) -> bool:
    """Logs, writes summaries and checkpoints when due; True when SIGTERM asks to stop."""
    now = time.time()
    if current % self.config.log_every_n_steps == 0 or current == max_steps:
      self.log(current)
    if (now - self._last_summary_time >= self.config.save_summaries_secs
        or current == self.start_step + 1):
      write_summaries(metrics, shown, float(self.state.schedule(current - 1)),
                      self.state.global_batch, current)
      self._last_summary_time = now
    want_save = now - self._last_save_time >= self.config.save_interval_secs
    want_save, stop = _agree(self.state.strategy, current, self.config.log_every_n_steps,
                             want_save, self._stop.requested)
    if stop:
      logging.warning('Stop requested (SIGTERM) at step %d: writing a final checkpoint.',
                      current)
      return True
    if want_save:
      self.save(current)
      self._last_save_time = now
    return False

  def log(self, current: int) -> None:
    """One progress line: step, loss, learning rate, images/s and the ETA."""
    self._progress.report(current, force=True, details=(
        f'loss {self.losses[-1]:.4f}, lr {float(self.state.schedule(current - 1)):.6g}'))

  def save(self, current: int) -> str:
    """Writes the checkpoint of step `current`, if the state is finite.

    Raises:
      NonFiniteLossError: the weights or averages are not finite.
      DiskFullError: no space was left; the partial files were removed.
    """
    manager = self.state.manager
    if not bool(self._state_is_finite()):
      raise NonFiniteLossError(
          f'The weights are not finite after step {current}: no checkpoint written. The last '
          f'good checkpoint, {self.last_saved or "none written"}, is left in place. '
          + _after_divergence(manager))
    try:
      path = manager.save(checkpoint_number=current)
    except (tf.errors.OpError, OSError) as e:
      if not _is_disk_full(e):
        raise
      raise DiskFullError(_disk_full_message(self.config.train_dir, current)) from None
    logging.info('Saved %s.', path)
    if self.data.skipped is not None and self.state.chief:
      _record_skipped(self.config.train_dir, int(self.data.skipped.numpy()))
    self.last_saved, self.saved_step = path, current
    return path

  def _non_finite_error(self, metrics, current: int) -> NonFiniteLossError:
    """The error for a non-finite loss at step `current`, telling a data fault
    from diverged weights; removes the newest checkpoint when its weights
    gave the loss on finite input."""
    bad_input = float(metrics['finite_inputs']) < self.state.strategy.num_replicas_in_sync
    removed = ''
    if (not bad_input and self.last_saved and self.saved_step == current - 1
        and self.saved_step != self.start_step):
      # The weights of that checkpoint gave this loss on finite input: it is not
      # a good checkpoint to resume from.
      removed = (f' The input batch was finite, so the weights of {self.last_saved} (step '
                 f'{self.saved_step}) gave this loss: that checkpoint was removed.')
      self.last_saved = _remove_newest_checkpoint(self.state.manager)
    elif bad_input:
      removed = ' The input batch holds NaN or infinite values: check the input data.'
    return NonFiniteLossError(
        f'Loss is {self.losses[-1]} at step {current} (cross-entropy '
        f"{float(metrics['cross_entropy'])}, regularization "
        f"{float(metrics['regularization'])}).{removed} The last good checkpoint, "
        f'{self.last_saved or "none written"}, is left in place. '
        + _after_divergence(self.state.manager))


def _data_error_message(config: TrainConfig, error: Exception) -> Optional[str]:
  """What a failed read of the training data was, with its fix; None for other errors."""
  if dataset_utils.is_unparsable_error(error) and config.dataset_name:
    return dataset_utils.unparsable_message(config.dataset_name, config.dataset_split_name,
                                            config.dataset_dir, 'train_image_classifier.py')
  message = getattr(error, 'message', '')
  if not any(w in message for w in ('Undecodable image', ' record ', 'TFRecord')):
    return None
  advice = (' (--skip_undecodable with train_image_classifier.py).'
            if 'Undecodable image' in message else '')
  return dataset_utils.clean_tf_message(message) + advice


def _record_skipped(train_dir: str, count: int) -> None:
  """Keeps the records skipped so far (--skip_undecodable) in config.json's `run`."""
  path = os.path.join(train_dir, CONFIG_FILE)
  values = files.read_json(path)
  if isinstance(values, dict) and values.get('run', {}).get('skipped_records') != count:
    values.setdefault('run', {})['skipped_records'] = count
    files.write_json(path, values, indent=2, sort_keys=True)
  if count:
    logging.warning('%d undecodable or unparsable records skipped so far (each is logged '
                    'above with its file and index).', count)


def _is_disk_full(error: Exception) -> bool:
  text = getattr(error, 'message', '') or str(error)
  return getattr(error, 'errno', None) == errno.ENOSPC or 'No space left on device' in text


def _disk_full_message(train_dir: str, step: int) -> str:
  """Says the disk is full, removes the partial checkpoint and names what is kept."""
  removed = train_dir_lock.remove_partial_checkpoints(train_dir)
  newest = tf.train.latest_checkpoint(train_dir)
  for path in tf.io.gfile.glob(os.path.join(train_dir, f'*-{step}.*')):
    if not (newest and path.startswith(newest + '.')):
      tf.io.gfile.remove(path)  # Files of this step that the checkpoint state does not name.
      removed.append(path)
  return (f'No space left on the device of {train_dir} while writing the checkpoint of step '
          f'{step}. Its partial files were removed ({len(removed)}); the previous checkpoints '
          f'are kept (newest: {newest or "none"}). Free space, or pass --train_dir on another '
          'disk, and run the same command again: it resumes from the newest checkpoint.')


def _after_divergence(manager: tf.train.CheckpointManager) -> str:
  """What to do after a run diverged, naming the checkpoints kept."""
  kept = list(manager.checkpoints)
  advice = ('Lower --learning_rate, check the input data, or resume from the checkpoint with '
            'other settings.')
  if len(kept) > 1:
    advice += (f" Its weights may already be diverging (finite but large); the checkpoints "
               f"kept are {', '.join(os.path.basename(p) for p in kept)}: to go on from an "
               f'earlier one, pass --checkpoint_path={kept[0]} (or another) with a new '
               '--train_dir.')
  return advice


def _remove_newest_checkpoint(manager: tf.train.CheckpointManager) -> Optional[str]:
  """Deletes the manager's newest checkpoint and points the directory's state at
  the one before it; returns that one (None if none is left)."""
  *kept, newest = manager.checkpoints
  for path in tf.io.gfile.glob(newest + '.*'):
    tf.io.gfile.remove(path)
  if kept:
    tf.compat.v1.train.update_checkpoint_state(manager.directory, kept[-1],
                                               all_model_checkpoint_paths=kept)
  else:
    tf.io.gfile.remove(os.path.join(manager.directory, 'checkpoint'))
  return kept[-1] if kept else None


def write_summaries(metrics: Dict[str, tf.Tensor], images: tf.Tensor, learning_rate: float,
                    global_batch: int, step: int) -> None:
  """TensorBoard at `step`: the losses, the learning rate, the train accuracy and
  the first `images` ([k, H, W, C] in [-1, 1]) of the batch."""
  scalars = {f'losses/{k}': metrics[k]
             for k in ('loss', 'cross_entropy', 'aux_loss', 'regularization')}
  scalars['learning_rate'] = learning_rate
  scalars['train_accuracy'] = metrics['correct'] / global_batch
  for tag, value in scalars.items():
    summaries.scalar(tag, value, step)
  if images.shape[0]:
    pixels = tf.cast(tf.clip_by_value((tf.cast(images, tf.float32) + 1.0) * 127.5, 0.0, 255.0),
                     tf.uint8)
    summaries.images('input_images', pixels, step)


def _agree(strategy, step: int, every: int, want_save: bool, stop: bool):
  """Makes every worker take the same save / stop decision.

  With several workers, checkpoints are written by all of them together, so the
  decision is shared (a sum over workers), every `every` steps only.
  """
  if strategy_lib.num_workers_from_env() <= 1:
    return want_save, stop
  if step % every:
    return False, False
  flags = tf.constant([float(want_save), float(stop)])
  agreed = strategy.reduce(tf.distribute.ReduceOp.SUM,
                           strategy.run(lambda: tf.identity(flags)), axis=None)
  return bool(agreed[0] > 0), bool(agreed[1] > 0)


class _StopRequest:
  """Turns SIGTERM into a request to checkpoint and stop at the end of the step."""

  def __init__(self):
    self.requested = False

  def _handler(self, signum, frame):  # pylint: disable=unused-argument
    self.requested = True

  @contextlib.contextmanager
  def installed(self):
    """Handles SIGTERM inside the block (main thread only), then restores the old handler."""
    previous = None
    if threading.current_thread() is threading.main_thread():
      previous = signal.signal(signal.SIGTERM, self._handler)
    try:
      yield self
    finally:
      if previous is not None:
        signal.signal(signal.SIGTERM, previous)
