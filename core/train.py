"""The training loop behind train_image_classifier.py.

    from slimvision.core import config, train
    result = train.train(config.TrainConfig(train_dir=..., dataset_name='digits', ...))

`train` reads top to bottom in labelled sections: devices, data, network,
optimizer, state and initialisation, the step, and the loop. The loss is
slim's: softmax cross-entropy with label smoothing, auxiliary logits at weight
0.4, and the L2 penalties the layers carry, averaged over the global batch.

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
from typing import Callable, Dict, List, Optional

from absl import logging
import keras
import numpy as np
import tensorflow as tf

from . import jsonfile
from . import optimizers
from . import summaries
from . import strategy as strategy_lib
from . import train_dir_lock
from .config import TrainConfig
from ..datasets import dataset_utils
from ..nets import checkpoints, layers, nets_factory

CONFIG_FILE = 'config.json'

InputFn = Callable[[tf.distribute.InputContext], tf.data.Dataset]


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
    train_dir_lock.TrainDirInUseError: another trainer holds `train_dir`.
    ValueError: for an inconsistent configuration.
  """
  # --------------------------------------------------------------------------
  # Devices: the strategy decides the replicas; the batch size is per replica.
  # --------------------------------------------------------------------------
  strategy = strategy or strategy_lib.make_strategy(config.num_clones, config.clone_on_cpu)
  replicas = strategy.num_replicas_in_sync
  global_batch = config.batch_size * replicas
  chief = strategy_lib.is_chief(strategy)
  logging.info('%d replica(s) in sync; global batch %d = %d per replica x %d.', replicas,
               global_batch, config.batch_size, replicas)
  previous_policy = keras.mixed_precision.global_policy()
  if config.mixed_precision:
    keras.mixed_precision.set_global_policy(f'mixed_{config.mixed_precision}')
  lock = train_dir_lock.TrainDirLock(config.train_dir) if chief else contextlib.nullcontext()
  try:
    with lock:
      return _train(config, input_fn, num_samples, num_classes, strategy, global_batch, chief)
  finally:
    keras.mixed_precision.set_global_policy(previous_policy)


def _train(config, input_fn, num_samples, num_classes, strategy, global_batch, chief):
  replicas = strategy.num_replicas_in_sync
  spec = nets_factory.get_spec(config.model_name)
  image_size = config.train_image_size or spec.default_image_size

  # --------------------------------------------------------------------------
  # Data: the dataset's size and classes; the input function itself comes later.
  # --------------------------------------------------------------------------
  source, skipped = 'the given input', None
  if input_fn is None:
    input_fn, num_samples, num_classes, skipped = _dataset_input(config, image_size)
    source = f'{config.dataset_name}/{config.dataset_split_name}'
  elif num_samples is None or num_classes is None:
    raise ValueError('train() with an input_fn needs num_samples and num_classes. '
                     f'Received: num_samples={num_samples}, num_classes={num_classes}')
  steps_per_epoch = num_samples / global_batch
  net_classes = num_classes - config.labels_offset

  # --------------------------------------------------------------------------
  # Network, frozen scopes, optimizer and moving averages, all on the strategy.
  # --------------------------------------------------------------------------
  with strategy.scope():
    step = tf.Variable(0, dtype=tf.int64, trainable=False, name='global_step')
    net = build_network(config, net_classes, image_size, step)
    model = net.model
    _freeze_outside(net, config.trainable_scope_list)
    trainable = list(model.trainable_variables)
    schedule = optimizers.learning_rate_schedule(config, steps_per_epoch)
    optimizer = optimizers.make_optimizer(config, schedule)
    if config.mixed_precision == 'float16':
      optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    optimizer.build(trainable)
    averaged = _tf_variables(net)
    ema = None
    if config.moving_average_decay:
      ema = {name: tf.Variable(v.read_value(), trainable=False,
                               name=layers.layer_name(name) + '.ExponentialMovingAverage')
             for name, v in averaged.items()}

  # --------------------------------------------------------------------------
  # Input: per-replica batches, file-sharded per worker by the input context.
  # --------------------------------------------------------------------------
  # One host pipeline per worker (a trackable iterator, so that checkpoints keep
  # the data position); each local replica takes the next batch from it.
  iterator = _make_iterator(input_fn, strategy)

  # --------------------------------------------------------------------------
  # State and initialisation. The order is:
  #   1. the newest checkpoint in train_dir (resume: weights, step, optimizer,
  #      moving averages and the data position);
  #   2. else config.checkpoint_path (slim's name-based checkpoints or ours),
  #      minus config.checkpoint_exclude_scopes (weights only);
  #   3. else from scratch (the initializers).
  # --------------------------------------------------------------------------
  state = {'step': step, 'optimizer': optimizer,
           checkpoints.MODEL_KEY: checkpoints.trackable_variables(net, ema=ema)}
  if config.checkpoint_input_pipeline:
    state['data'] = iterator
  checkpoint = tf.train.Checkpoint(**state)
  save_dir = config.train_dir if chief else _worker_dir(config.train_dir, strategy)
  manager = tf.train.CheckpointManager(
      checkpoint, save_dir, max_to_keep=config.max_checkpoints_to_keep if chief else 1,
      checkpoint_name='model.ckpt')
  initialised_from = _initialise(config, net, checkpoint, ema, averaged)
  if chief:
    _write_config(config, image_size=image_size, num_classes=num_classes,
                  num_samples=num_samples, replicas=replicas, global_batch=global_batch,
                  strategy=strategy, initialised_from=initialised_from)

  # --------------------------------------------------------------------------
  # The step: forward, slim's loss, gradients, update; then the averages.
  # --------------------------------------------------------------------------
  loss_scaling = config.mixed_precision == 'float16'
  num_images = config.num_summary_images

  def forward_backward(images, labels):
    with tf.GradientTape() as tape:
      terms = slim_loss(net, images, labels, config.label_smoothing, global_batch, replicas)
      scaled = optimizer.scale_loss(terms['loss']) if loss_scaling else terms['loss']
    grads = tape.gradient(scaled, trainable)
    return grads, terms

  if config.jit_compile:
    forward_backward = tf.function(forward_backward, jit_compile=True)

  # Each replica normalises with its own batch statistics (as slim's clones did)
  # and updates its own copy of the moving statistics; after the step the
  # copies are replaced by their mean so that they stay identical everywhere.
  statistics = ([v for n, v in averaged.items() if n.endswith(('/moving_mean', '/moving_variance'))]
                if replicas > 1 else [])

  def replica_step(images, labels):
    grads, metrics = forward_backward(images, labels)
    # 1 per replica whose input batch is finite: tells a data fault from diverged weights.
    metrics = {**metrics, 'finite_inputs': tf.cast(
        tf.reduce_all(tf.math.is_finite(images)), tf.float32)}
    optimizer.apply(grads, trainable)
    # One flat vector, so that the mean over replicas is a single reduction.
    local_statistics = (tf.concat([tf.reshape(v, [-1]) for v in statistics], 0)
                        if statistics else tf.zeros([0]))
    return metrics, images[:num_images], local_statistics

  @tf.function
  def train_step(it):
    images, labels = strategy.experimental_distribute_values_from_function(
        lambda _: tuple(next(it)))
    metrics, shown, local_statistics = strategy.run(replica_step, args=(images, labels))
    metrics = {k: strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None)
               for k, v in metrics.items()}
    if statistics:
      means = strategy.reduce(tf.distribute.ReduceOp.MEAN, local_statistics, axis=None)
      means = tf.split(means, [int(np.prod(v.shape)) for v in statistics])
      for var, mean in zip(statistics, means):
        var.assign(tf.reshape(mean, var.shape))
    step.assign_add(1)
    if ema is not None:
      decay = tf.minimum(config.moving_average_decay,
                         tf.cast(1 + step, tf.float32) / tf.cast(10 + step, tf.float32))
      for name, shadow in ema.items():
        shadow.assign_sub((shadow - averaged[name]) * (1.0 - decay))
    return metrics, shown

  # Checkpoints are written only from finite state (weights, statistics, averages).
  watched = [v for v in list(averaged.values()) + list((ema or {}).values())
             if v.dtype.is_floating]

  @tf.function
  def state_is_finite():
    return tf.reduce_all(tf.stack([tf.reduce_all(tf.math.is_finite(v)) for v in watched]))

  def save(current):
    if not bool(state_is_finite()):
      raise NonFiniteLossError(
          f'The weights are not finite after step {current}: no checkpoint written. The last '
          f'good checkpoint, {last_saved or "none written"}, is left in place. '
          + _after_divergence(manager))
    try:
      path = manager.save(checkpoint_number=current)
    except (tf.errors.OpError, OSError) as e:
      if not _is_disk_full(e):
        raise
      raise DiskFullError(_disk_full_message(config.train_dir, current)) from None
    logging.info('Saved %s.', path)
    if skipped is not None and chief:
      _record_skipped(config.train_dir, int(skipped.numpy()))
    return path

  # --------------------------------------------------------------------------
  # The loop: progress, summaries, checkpoints, SIGTERM, non-finite losses.
  # --------------------------------------------------------------------------
  writer = (tf.summary.create_file_writer(config.train_dir) if chief
            else tf.summary.create_noop_writer())
  max_steps = config.max_number_of_steps
  stop = _StopRequest()
  losses: List[float] = []
  last_saved = manager.latest_checkpoint if initialised_from == 'train_dir' else None
  saved_step = int(step.numpy()) if last_saved else None
  start_step = int(step.numpy())
  logging.info('Training %s from step %d%s on %s (%d examples, %.1f steps per epoch).',
               config.model_name, start_step, f' to {max_steps}' if max_steps else '',
               source, num_samples,
               steps_per_epoch)
  last_save_time = last_summary_time = time.time()
  log_time, log_step = time.time(), start_step
  stopped_by = 'max_number_of_steps'
  loss = float('nan')
  current = start_step
  with stop.installed(), writer.as_default():
    while max_steps is None or int(step.numpy()) < max_steps:
      try:
        metrics, shown = train_step(iterator)
      except (tf.errors.InvalidArgumentError, tf.errors.DataLossError, UnicodeDecodeError) as e:
        message = _data_error_message(config, e)
        if message is None:
          raise
        raise ValueError(f'Reading the training data failed at step {current + 1}: '
                         f'{message}') from None
      current = int(step.numpy())
      loss = float(metrics['loss'])
      losses.append(loss)
      if not math.isfinite(loss):
        bad_input = float(metrics['finite_inputs']) < replicas
        removed = ''
        if (not bad_input and last_saved and saved_step == current - 1
            and saved_step != start_step):
          # The weights of that checkpoint gave this loss on finite input: it is not
          # a good checkpoint to resume from.
          removed = (f' The input batch was finite, so the weights of {last_saved} (step '
                     f'{saved_step}) gave this loss: that checkpoint was removed.')
          last_saved = _remove_newest_checkpoint(manager)
        elif bad_input:
          removed = ' The input batch holds NaN or infinite values: check the input data.'
        raise NonFiniteLossError(
            f'Loss is {loss} at step {current} (cross-entropy '
            f"{float(metrics['cross_entropy'])}, regularization "
            f"{float(metrics['regularization'])}).{removed} The last good checkpoint, "
            f'{last_saved or "none written"}, is left in place. ' + _after_divergence(manager))
      now = time.time()
      if current % config.log_every_n_steps == 0 or current == max_steps:
        lr = float(schedule(current - 1))
        rate = (current - log_step) * global_batch / max(now - log_time, 1e-9)
        eta = ''
        if max_steps:
          eta = f', ETA {_format_seconds((max_steps - current) * global_batch / max(rate, 1e-9))}'
        logging.info('step %d%s: loss %.4f, lr %.6g, %.1f images/s%s', current,
                     f'/{max_steps}' if max_steps else '', loss, lr, rate, eta)
        log_time, log_step = now, current
      if now - last_summary_time >= config.save_summaries_secs or current == start_step + 1:
        _write_summaries(metrics, shown, float(schedule(current - 1)), global_batch,
                         strategy, current)
        last_summary_time = now
      want_save = now - last_save_time >= config.save_interval_secs
      want_save, stop_now = _agree(strategy, current, config.log_every_n_steps, want_save,
                                   stop.requested)
      if stop_now:
        stopped_by = 'signal'
        logging.warning('Stop requested (SIGTERM) at step %d: writing a final checkpoint.',
                        current)
        break
      if want_save:
        last_saved, saved_step = save(current), current
        last_save_time = now
  current = int(step.numpy())
  if saved_step != current:
    last_saved = save(current)
  writer.flush()
  return TrainResult(global_step=current, loss=loss, checkpoint=last_saved,
                     stopped_by=stopped_by, losses=losses, network=net, strategy=strategy,
                     initialised_from=initialised_from)


# ----------------------------------------------------------------------------
# Pieces of the loop
# ----------------------------------------------------------------------------

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


def slim_loss(net: nets_factory.NetworkFn, images, labels, label_smoothing: float = 0.0,
              global_batch: Optional[int] = None, replicas: int = 1,
              is_training: bool = True) -> Dict[str, tf.Tensor]:
  """slim's training loss of one replica's batch.

  Softmax cross-entropy with label smoothing on the logits, plus each
  auxiliary head the net built at `net.spec.aux_loss_weight` (0.4), plus the
  L2 penalties its layers carry. Sums over the batch are divided by the
  global batch and the regularisation by the number of replicas, so that the
  sum over replicas is the loss of the global batch.

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
  xent = tf.reduce_sum(_cross_entropy(labels, logits, label_smoothing)) / global_batch
  aux = tf.constant(0.0)
  for aux_logits in net.aux_logits(end_points):
    aux_logits = tf.cast(aux_logits, tf.float32)
    aux += net.spec.aux_loss_weight * tf.reduce_sum(
        _cross_entropy(labels, aux_logits, label_smoothing)) / global_batch
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
  values = jsonfile.read_json(path)
  if isinstance(values, dict) and values.get('run', {}).get('skipped_records') != count:
    values.setdefault('run', {})['skipped_records'] = count
    jsonfile.write_json(path, values, indent=2, sort_keys=True)
  if count:
    logging.warning('%d undecodable or unparsable records skipped so far (each is logged '
                    'above with its file and index).', count)


def _dataset_input(config: TrainConfig, image_size: int):
  """(input_fn, num_samples, num_classes, skipped) for the dataset named in `config`;
  `skipped` counts the records skipped with --skip_undecodable (else None)."""
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
        config.dataset_name, config.dataset_dir, split_name=config.dataset_split_name,
        preprocessing_name=config.preprocessing_name, model_name=config.model_name,
        image_size=image_size, batch_size=config.batch_size,
        labels_offset=config.labels_offset, input_context=input_context,
        shuffle_buffer=config.shuffle_buffer, seed=config.seed,
        use_grayscale=config.use_grayscale, skip_undecodable=config.skip_undecodable,
        skipped=skipped)

  return input_fn, dataset.num_samples, dataset.num_classes, skipped


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


def _cross_entropy(labels, logits, label_smoothing: float):
  """Per-example softmax cross-entropy with slim's label smoothing."""
  num_classes = logits.shape[-1]
  onehot = tf.one_hot(tf.cast(labels, tf.int32), num_classes, dtype=tf.float32)
  if label_smoothing:
    onehot = onehot * (1.0 - label_smoothing) + label_smoothing / num_classes
  return tf.nn.softmax_cross_entropy_with_logits(labels=onehot, logits=logits)


def _tf_variables(net) -> Dict[str, tf.Variable]:
  """{slim name: the tf.Variable behind each Keras weight} (what the averages track)."""
  return {name: getattr(v, 'value', v) for name, v in checkpoints.slim_variables(net).items()}


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
  return jsonfile.read_json(os.path.join(train_dir, CONFIG_FILE), warn=False)


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
    jsonfile.write_json(os.path.join(config.train_dir, CONFIG_FILE),
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
  values = jsonfile.read_json(path)
  if not isinstance(values, dict):
    raise ValueError(f'{path} is missing or not a readable run configuration.')
  values.pop('run', None)
  return TrainConfig.from_dict(values)


def _write_summaries(metrics, shown, lr, global_batch, strategy, step) -> None:
  """TensorBoard: losses, learning rate, train accuracy and a few input images."""
  scalars = {f'losses/{k}': metrics[k]
             for k in ('loss', 'cross_entropy', 'aux_loss', 'regularization')}
  scalars['learning_rate'] = lr
  scalars['train_accuracy'] = metrics['correct'] / global_batch
  for tag, value in scalars.items():
    summaries.scalar(tag, value, step)
  images = strategy.experimental_local_results(shown)[0]
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


def _format_seconds(seconds: float) -> str:
  seconds = int(round(seconds))
  return f'{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}'


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
