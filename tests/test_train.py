"""core.train: slim's loss, replicas, resume, moving averages, stops, summaries, config.json."""

import glob
import json
import logging as std_logging
import os
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from slimvision.core import config as config_lib
from slimvision.core import strategy as strategy_lib
from slimvision.core import train
from slimvision.core import train_dir_lock
from slimvision.nets import checkpoints, nets_factory
import train_testlib
from train_testlib import NUM_CLASSES


def _config(tmp_path, **changes):
  values = dict(train_dir=str(tmp_path / 'train'), model_name='tiny_bn_net', batch_size=8,
                optimizer='momentum', learning_rate=0.05, learning_rate_decay_type='fixed',
                weight_decay=0.0, max_number_of_steps=4, log_every_n_steps=2,
                save_interval_secs=600, save_summaries_secs=600)
  values.update(changes)
  return config_lib.TrainConfig(**values)


def _run(config, strategy=None, n=64, **input_kwargs):
  return train.train(config, input_fn=train_testlib.input_fn_for(config.batch_size, n=n,
                                                                 **input_kwargs),
                     num_samples=n, num_classes=NUM_CLASSES, strategy=strategy)


def _weights(fn):
  return {k: np.array(v) for k, v in checkpoints.slim_variables(fn).items()}


def _two_replicas():
  return strategy_lib.make_strategy(num_clones=2)


def test_loss_is_slims_cross_entropy_aux_and_l2(tmp_path):
  # learning_rate 0: the weights stay at their initial values, so the reported
  # loss of step 1 can be recomputed from the model afterwards.
  config = _config(tmp_path, model_name='tiny_aux_net', learning_rate=0.0, weight_decay=0.01,
                   label_smoothing=0.1, max_number_of_steps=1, optimizer='sgd')
  result = _run(config)
  images, labels = train_testlib.examples(8)
  end_points = result.network.model(images, training=True)
  smooth = np.eye(NUM_CLASSES)[labels] * 0.9 + 0.1 / NUM_CLASSES

  def xent(logits):
    logp = tf.nn.log_softmax(logits).numpy()
    return float(-(smooth * logp).sum(-1).mean())

  l2 = sum(0.01 / 2 * float(np.sum(np.square(v)))
           for k, v in _weights(result.network).items() if k.endswith('/weights'))
  expected = xent(end_points['Logits']) + 0.4 * xent(end_points['AuxLogits']) + l2
  assert result.losses[0] == pytest.approx(expected, rel=1e-5)


def test_two_replicas_average_the_gradient_over_the_global_batch(tmp_path):
  config = _config(tmp_path, model_name='tiny_aux_net', optimizer='sgd', learning_rate=0.5,
                   max_number_of_steps=1, weight_decay=0.01)
  # The same initial weights on one device and on two replicas.
  init = nets_factory.get_network_fn('tiny_aux_net', num_classes=NUM_CLASSES)
  prefix = checkpoints.save_slim_checkpoint(init, str(tmp_path / 'init' / 'model.ckpt'))
  one = _run(config.replace(train_dir=str(tmp_path / 'one'), batch_size=16,
                            checkpoint_path=prefix))
  two = _run(config.replace(train_dir=str(tmp_path / 'two'), batch_size=8,
                            checkpoint_path=prefix), strategy=_two_replicas())
  assert two.strategy.num_replicas_in_sync == 2
  # The global batch is the same 16 examples, split in two: same loss, same update.
  assert two.losses[0] == pytest.approx(one.losses[0], rel=1e-5)
  w1, w2 = _weights(one.network), _weights(two.network)
  for name in w1:
    np.testing.assert_allclose(w2[name], w1[name], rtol=1e-5, atol=1e-6, err_msg=name)
  assert any(not np.allclose(w1[n], np.array(v)) for n, v in
             checkpoints.slim_variables(init).items())


def test_two_replicas_stay_in_sync_batch_norm_statistics_included(tmp_path):
  result = _run(_config(tmp_path, max_number_of_steps=5, moving_average_decay=0.9),
                strategy=_two_replicas())
  for name, var in checkpoints.slim_variables(result.network).items():
    copies = [np.array(c) for c in var.value.values]
    assert len(copies) == 2
    np.testing.assert_array_equal(copies[0], copies[1], err_msg=name)


def test_resume_continues_step_optimizer_state_and_data_position(tmp_path):
  init = nets_factory.get_network_fn('tiny_bn_net', num_classes=NUM_CLASSES)
  prefix = checkpoints.save_slim_checkpoint(init, str(tmp_path / 'init' / 'model.ckpt'))
  # checkpoint_path gives both runs the same start; train_dir takes precedence on resume.
  base = _config(tmp_path, max_number_of_steps=6, moving_average_decay=0.99,
                 checkpoint_path=prefix)
  straight = _run(base.replace(train_dir=str(tmp_path / 'straight')), shuffle=True)
  first = _run(base.replace(train_dir=str(tmp_path / 'split'), max_number_of_steps=3),
               shuffle=True)
  assert first.global_step == 3 and first.initialised_from == 'checkpoint_path'
  resumed = _run(base.replace(train_dir=str(tmp_path / 'split')), shuffle=True)
  assert resumed.initialised_from == 'train_dir'
  assert resumed.global_step == 6 and len(resumed.losses) == 3
  # Same data in the same order, same momentum: the same weights as one straight run.
  np.testing.assert_allclose(resumed.losses, straight.losses[3:], rtol=1e-5)
  ws, wr = _weights(straight.network), _weights(resumed.network)
  for name in ws:
    np.testing.assert_allclose(wr[name], ws[name], rtol=1e-5, atol=1e-6, err_msg=name)


def test_training_checkpoints_restore_by_slim_name_with_moving_averages(tmp_path):
  config = _config(tmp_path, moving_average_decay=0.5, max_number_of_steps=5)
  result = _run(config)
  assert os.path.basename(result.checkpoint) == 'model.ckpt-5'
  fn = nets_factory.get_network_fn('tiny_bn_net', num_classes=NUM_CLASSES)
  report = checkpoints.restore_checkpoint(fn, config.train_dir)
  assert len(report.restored) == len(checkpoints.slim_variables(fn))
  trained = _weights(result.network)
  for name, value in _weights(fn).items():
    np.testing.assert_array_equal(value, trained[name])
  report = checkpoints.restore_checkpoint(fn, config.train_dir, use_moving_averages=True)
  assert report.from_moving_averages == len(trained)
  averaged = _weights(fn)
  assert not np.allclose(averaged['Tiny/Logits/weights'], trained['Tiny/Logits/weights'])


@pytest.mark.parametrize('replicas', [1, 2])
def test_steps_per_loop_runs_the_same_steps_as_one_step_per_call(tmp_path, replicas):
  # Several steps per tf.function call (a loop in the graph) train exactly as
  # one step per call: same losses, weights, statistics, moving averages, step.
  init = nets_factory.get_network_fn('tiny_bn_net', num_classes=NUM_CLASSES)
  prefix = checkpoints.save_slim_checkpoint(init, str(tmp_path / 'init' / 'model.ckpt'))
  runs = {}
  for steps_per_loop in (1, 4, 10):
    config = _config(tmp_path / str(steps_per_loop), steps_per_loop=steps_per_loop,
                     max_number_of_steps=11, log_every_n_steps=5, moving_average_decay=0.9,
                     checkpoint_path=prefix)
    strategy = _two_replicas() if replicas == 2 else None
    runs[steps_per_loop] = (_run(config, strategy=strategy), config)
  one, _ = runs[1]
  assert len(one.losses) == 11
  for steps_per_loop in (4, 10):
    result, config = runs[steps_per_loop]
    assert result.global_step == 11 and len(result.losses) == 11
    np.testing.assert_allclose(result.losses, one.losses, rtol=1e-6)
    weights, expected = _weights(result.network), _weights(one.network)
    for name in expected:
      np.testing.assert_allclose(weights[name], expected[name], rtol=1e-5, atol=1e-7,
                                 err_msg=name)
    averages, expected = _averages(config.train_dir), _averages(runs[1][1].train_dir)
    for name in expected:
      np.testing.assert_allclose(averages[name], expected[name], rtol=1e-5, atol=1e-7,
                                 err_msg=name)


def _averages(train_dir):
  """The moving averages in train_dir's newest checkpoint, by slim name."""
  fn = nets_factory.get_network_fn('tiny_bn_net', num_classes=NUM_CLASSES)
  report = checkpoints.restore_checkpoint(fn, train_dir, use_moving_averages=True)
  assert report.from_moving_averages
  return _weights(fn)


def test_a_loop_of_steps_ends_at_log_points_max_steps_and_due_checkpoints(tmp_path):
  loop = train.TrainLoop.__new__(train.TrainLoop)
  loop.config = _config(tmp_path, steps_per_loop=100, log_every_n_steps=10,
                        save_interval_secs=60, save_summaries_secs=600)
  loop.start_step, loop._seconds_per_step = 0, None  # pylint: disable=protected-access
  now = train.time.time()
  loop._last_save_time = loop._last_summary_time = now  # pylint: disable=protected-access
  assert loop.loop_length(0, 100) == 1  # The first step alone.
  loop._seconds_per_step = 0.01  # pylint: disable=protected-access
  assert loop.loop_length(1, 100) == 9  # To the next logged step.
  assert loop.loop_length(10, 100) == 10
  assert loop.loop_length(95, 100) == 5
  assert loop.loop_length(10, 13) == 3
  loop._seconds_per_step = 20.0  # pylint: disable=protected-access
  assert loop.loop_length(10, 100) == 3  # The checkpoint falls due in 60 s.
  loop._last_save_time = now - 61  # pylint: disable=protected-access
  assert loop.loop_length(10, 100) == 1  # Due now.


def test_non_finite_loss_inside_a_loop_stops_at_its_step(tmp_path):
  # Steps 2-6 run in one loop; it stops after step 4, the first non-finite one
  # (the step the message names is read from the global step after the loop).
  config = _config(tmp_path, max_number_of_steps=10, log_every_n_steps=6, steps_per_loop=10)
  with pytest.raises(train.NonFiniteLossError,
                     match=r'Loss is nan at step 4 .*input batch holds NaN'):
    _run(config, nan_from_batch=3)


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
  config = _config(tmp_path, max_number_of_steps=10, save_interval_secs=0)
  with pytest.raises(train.NonFiniteLossError, match=r'Loss is nan at step 4.*model\.ckpt-3'):
    _run(config, nan_from_batch=3)
  assert tf.train.latest_checkpoint(config.train_dir).endswith('model.ckpt-3')
  fn = nets_factory.get_network_fn('tiny_bn_net', num_classes=NUM_CLASSES)
  checkpoints.restore_checkpoint(fn, config.train_dir)
  assert all(np.isfinite(v).all() for v in _weights(fn).values())


def test_non_finite_weights_are_never_checkpointed(tmp_path):
  # An update that overflows the weights (learning rate 1e39 is inf in float32)
  # after steps whose losses were finite: the checkpoint of step 2 would hold
  # inf / nan, so it is not written and the run stops naming step 1's.
  config = _config(tmp_path, max_number_of_steps=10, save_interval_secs=0, optimizer='sgd')
  _run(config.replace(max_number_of_steps=1))
  with pytest.raises(train.NonFiniteLossError,
                     match=r'weights are not finite after step 2.*model\.ckpt-1'):
    _run(config.replace(learning_rate=1e39))
  assert tf.train.latest_checkpoint(config.train_dir).endswith('model.ckpt-1')
  assert not [f for f in os.listdir(config.train_dir) if f.startswith('model.ckpt-2')]


def test_non_finite_loss_on_finite_input_removes_the_checkpoint_that_gave_it(tmp_path):
  # From the 4th batch the images are finite but huge (3e38): the forward pass
  # overflows, so the loss of step 4 is not finite although its input is. The
  # weights of model.ckpt-3 gave that loss: it is removed, model.ckpt-2 is named.
  config = _config(tmp_path, max_number_of_steps=10, save_interval_secs=0)
  with pytest.raises(train.NonFiniteLossError) as error:
    _run(config, nan_from_batch=3, fill=3e38)
  message = str(error.value)
  assert 'Loss is nan at step 4' in message or 'Loss is inf at step 4' in message, message
  assert 'model.ckpt-3 (step 3) gave this loss: that checkpoint was removed' in message
  assert f'The last good checkpoint, {config.train_dir}/model.ckpt-2, is left' in message
  assert tf.train.latest_checkpoint(config.train_dir).endswith('model.ckpt-2')
  assert not glob.glob(os.path.join(config.train_dir, 'model.ckpt-3.*'))
  # Earlier checkpoints are named, to go back further than the newest.
  assert ('checkpoints kept are model.ckpt-1, model.ckpt-2' in message
          and f'--checkpoint_path={config.train_dir}/model.ckpt-1' in message), message
  # Resuming from what is left, on sane data (a new input pipeline), trains.
  assert _run(config.replace(max_number_of_steps=3,
                             checkpoint_input_pipeline=False)).global_step == 3


def test_divergence_leaves_only_finite_checkpoints(tmp_path):
  # A learning rate that throws the weights out: whichever guard stops the run
  # (a non-finite loss, or non-finite weights before a save), every checkpoint
  # left is finite and the error names the newest.
  config = _config(tmp_path, max_number_of_steps=2, save_interval_secs=0, optimizer='sgd')
  _run(config)
  with pytest.raises(train.NonFiniteLossError) as error:
    _run(config.replace(learning_rate=1e25, max_number_of_steps=10))
  latest = tf.train.latest_checkpoint(config.train_dir)
  assert f'The last good checkpoint, {latest}, is left' in str(error.value)
  for index in glob.glob(os.path.join(config.train_dir, 'model.ckpt-*.index')):
    reader = tf.train.load_checkpoint(index[:-len('.index')])
    for key, dtype in reader.get_variable_to_dtype_map().items():
      if dtype.is_floating:
        assert np.isfinite(reader.get_tensor(key)).all(), (index, key)


def test_trainable_scopes_freeze_the_other_layers_and_their_statistics(tmp_path):
  init = nets_factory.get_network_fn('tiny_bn_net', num_classes=NUM_CLASSES)
  prefix = checkpoints.save_slim_checkpoint(init, str(tmp_path / 'init' / 'model.ckpt'))
  before = _weights(init)
  result = _run(_config(tmp_path, checkpoint_path=prefix, trainable_scopes='Tiny/Logits'))
  assert result.initialised_from == 'checkpoint_path'
  after = _weights(result.network)
  for name in before:
    if name.startswith('Tiny/Logits'):
      assert not np.allclose(after[name], before[name]), name
    else:  # Conv1 weights and its BatchNorm gamma, beta and moving statistics.
      np.testing.assert_array_equal(after[name], before[name], err_msg=name)


def test_unknown_trainable_scope_is_reported(tmp_path):
  with pytest.raises(checkpoints.ScopeError,
                     match=r"--trainable_scopes names 'InceptionV3/Logits'.*tiny_bn_net.*Tiny/Conv1"):
    _run(_config(tmp_path, trainable_scopes='InceptionV3/Logits'))


@pytest.fixture
def absl_info_logging():
  # Once absl's flags have been parsed in this process (by any test), absl's
  # logger follows --verbosity (WARNING by default); this test reads INFO lines.
  from absl import logging as absl_logging  # pylint: disable=g-import-not-at-top
  old = absl_logging.get_verbosity()
  absl_logging.set_verbosity(absl_logging.INFO)
  yield
  absl_logging.set_verbosity(old)


def test_progress_line_summaries_and_config_json(tmp_path, caplog, absl_info_logging):
  del absl_info_logging
  caplog.set_level(std_logging.INFO)
  config = _config(tmp_path, max_number_of_steps=4, moving_average_decay=0.9)
  _run(config)
  lines = [r.getMessage() for r in caplog.records]
  progress = [l for l in lines if re.match(
      r'step \d+/4: loss [\d.]+, lr [\d.e-]+, [\d.]+ images/s, ETA \d+:\d\d:\d\d$', l)]
  assert len(progress) == 2, lines
  assert any('global batch 8 = 8 per replica x 1' in l for l in lines)
  assert any(l.startswith('Initialising from scratch') for l in lines)

  with open(os.path.join(config.train_dir, 'config.json')) as f:
    saved = json.load(f)
  assert saved['run']['global_batch_size'] == 8 and saved['run']['num_classes'] == NUM_CLASSES
  assert train.load_config(config.train_dir) == config.replace(train_image_size=8,
                                                               preprocessing_name='inception')

  tags = set()
  for path in glob.glob(os.path.join(config.train_dir, 'events.out.tfevents.*')):
    for event in tf.compat.v1.train.summary_iterator(path):
      tags.update(v.tag for v in event.summary.value)
  assert {'losses/loss', 'losses/cross_entropy', 'losses/regularization', 'learning_rate',
          'train_accuracy', 'input_images'} <= tags


def test_learning_rate_schedules():
  from slimvision.core import optimizers  # pylint: disable=g-import-not-at-top
  base = config_lib.TrainConfig(learning_rate=0.1, learning_rate_decay_factor=0.5,
                                num_epochs_per_decay=2.0, end_learning_rate=0.01,
                                max_number_of_steps=100)

  def lr(config, step, steps_per_epoch=10):
    return float(optimizers.learning_rate_schedule(config, steps_per_epoch)(step))

  assert lr(base, 19) == pytest.approx(0.1) and lr(base, 20) == pytest.approx(0.05)  # staircase
  fixed = base.replace(learning_rate_decay_type='fixed')
  assert lr(fixed, 1000) == pytest.approx(0.1)
  poly = base.replace(learning_rate_decay_type='polynomial')
  assert lr(poly, 10) == pytest.approx(0.055) and lr(poly, 500) == pytest.approx(0.01)
  cosine = base.replace(learning_rate_decay_type='cosine')
  assert lr(cosine, 0) == pytest.approx(0.1) and lr(cosine, 50) == pytest.approx(0.055)
  assert lr(cosine, 100) == pytest.approx(0.01)
  warm = cosine.replace(warmup_epochs=1.0)  # 10 steps
  assert lr(warm, 0) == pytest.approx(0.01) and lr(warm, 4) == pytest.approx(0.05)
  assert lr(warm, 10) == pytest.approx(0.1)


@pytest.mark.parametrize('name', config_lib.OPTIMIZERS)
def test_every_optimizer_trains(tmp_path, name):
  result = _run(_config(tmp_path, optimizer=name, max_number_of_steps=2))
  assert result.global_step == 2 and np.isfinite(result.losses).all()


def test_slim_rmsprop_starts_its_mean_square_at_one():
  from slimvision.core import optimizers  # pylint: disable=g-import-not-at-top
  var = tf.Variable([1.0])
  opt = optimizers.make_optimizer(config_lib.TrainConfig(optimizer='rmsprop'), 0.1)
  opt.apply([tf.constant([2.0])], [var])
  # TF1: ms = 0.9 * 1 + 0.1 * 4 = 1.3; mom = 0.1 * 2 / sqrt(1.3 + 1); var = 1 - mom.
  assert float(var[0]) == pytest.approx(1.0 - 0.2 / np.sqrt(2.3), rel=1e-6)


def test_config_errors_say_what_to_do():
  with pytest.raises(ValueError, match=r"Unknown optimizer 'adamax'.*'rmsprop'"):
    config_lib.TrainConfig(optimizer='adamax')
  with pytest.raises(ValueError, match='set max_number_of_steps'):
    config_lib.TrainConfig(learning_rate_decay_type='cosine')
  assert config_lib.TrainConfig(
      checkpoint_exclude_scopes='A/Logits, A/AuxLogits').exclude_scopes == ('A/Logits',
                                                                           'A/AuxLogits')


@pytest.mark.parametrize('precision', ['bfloat16', 'float16'])
def test_mixed_precision_trains_with_float32_variables(tmp_path, precision):
  result = _run(_config(tmp_path, mixed_precision=precision, max_number_of_steps=3))
  assert result.global_step == 3 and np.isfinite(result.losses).all()
  assert all(v.dtype == 'float32' for v in checkpoints.slim_variables(result.network).values())
  assert keras.mixed_precision.global_policy().name == 'float32'  # Restored afterwards.


def test_jit_compile_trains(tmp_path):
  result = _run(_config(tmp_path, jit_compile=True, max_number_of_steps=2))
  assert result.global_step == 2 and np.isfinite(result.losses).all()


def test_a_second_trainer_on_the_same_train_dir_refuses(tmp_path):
  config = _config(tmp_path)
  with train_dir_lock.TrainDirLock(config.train_dir):
    with pytest.raises(train_dir_lock.TrainDirInUseError,
                       match=rf'--train_dir={config.train_dir} is in use by another trainer '
                             rf'\(PID {os.getpid()} on host .*another --train_dir'):
      _run(config)
    assert not tf.train.latest_checkpoint(config.train_dir)
  # Released at the end of the block: the next trainer runs.
  assert _run(config).global_step == config.max_number_of_steps
  assert sorted(f for f in os.listdir(config.train_dir) if f.startswith('.lock')) == ['.lock']


def test_a_dead_trainers_lock_is_taken_over_with_a_message(tmp_path, caplog):
  config = _config(tmp_path, max_number_of_steps=1)
  os.makedirs(config.train_dir)
  # What a trainer killed with -9 leaves: the holder file; the OS dropped the lock.
  with open(os.path.join(config.train_dir, train_dir_lock.HOLDER_FILE), 'w') as f:
    f.write('{"host": "elsewhere", "pid": 4242, "started": "2026-01-01T00:00:00"}')
  with caplog.at_level('WARNING'):
    assert _run(config).global_step == 1
  assert any('did not stop cleanly' in r.getMessage() and 'PID 4242' in r.getMessage()
             for r in caplog.records)


def test_partial_checkpoint_files_of_an_interrupted_save_are_removed(tmp_path, caplog):
  config = _config(tmp_path, max_number_of_steps=1)
  partial = os.path.join(config.train_dir, 'model.ckpt-3_temp')
  os.makedirs(partial)
  with open(os.path.join(partial, 'part-00000-of-00001.data-00000-of-00001'), 'wb') as f:
    f.write(b'\0' * 4096)
  with open(os.path.join(config.train_dir, 'config.json.tmp'), 'w') as f:
    f.write('{')
  with caplog.at_level('WARNING'):
    _run(config)
  assert not [f for f in os.listdir(config.train_dir) if 'temp' in f or f.endswith('.tmp')]
  assert any('model.ckpt-3_temp' in r.getMessage() and 'interrupted checkpoint write' in
             r.getMessage() for r in caplog.records)


def _mnist_with_bad_images(directory, good_ones):
  from slimvision.datasets import dataset_utils  # pylint: disable=g-import-not-at-top
  os.makedirs(directory, exist_ok=True)
  good = tf.io.encode_png(np.zeros((28, 28, 1), np.uint8)).numpy()
  with tf.io.TFRecordWriter(os.path.join(directory, 'mnist_train.tfrecord')) as writer:
    for i in range(6):
      data = good if i in good_ones else b'not an image'
      writer.write(dataset_utils.image_to_tfexample(data, b'png', 28, 28, i % 10)
                   .SerializeToString())


@pytest.mark.parametrize('skip', [False, True])
def test_undecodable_training_image_stops_with_its_place_or_is_skipped(tmp_path, skip, capfd,
                                                                      caplog):
  # The train pipeline maps in parallel without a fixed order: without skipping,
  # every image is bad, so the first batch fails whatever the order.
  data = str(tmp_path / 'mnist')
  _mnist_with_bad_images(data, good_ones=(0, 2, 3, 4, 5) if skip else ())
  config = config_lib.TrainConfig(
      train_dir=str(tmp_path / 'train'), dataset_name='mnist', dataset_split_name='train',
      dataset_dir=data, model_name='lenet', batch_size=2, max_number_of_steps=3,
      optimizer='sgd', learning_rate_decay_type='fixed', shuffle_buffer=1, seed=0,
      skip_undecodable=skip)
  if not skip:
    with pytest.raises(ValueError, match=r'at step 1: Undecodable image in .*mnist_train'
                                         r'.tfrecord record \d.*--skip_undecodable'):
      train.train(config)
    return
  assert train.train(config).global_step == 3
  err = capfd.readouterr().err
  assert 'skipped undecodable image in' in err
  with open(os.path.join(config.train_dir, 'config.json')) as f:
    written = json.load(f)
  assert written['skip_undecodable'] is True
  # The one bad record (of 6, read at least once in 3 steps of 2) counted, as logged.
  assert written['run']['skipped_records'] >= 1
  assert (f"{written['run']['skipped_records']} undecodable or unparsable records skipped"
          in caplog.text)


def test_resuming_with_other_batches_names_the_flags_of_the_run(tmp_path):
  config = _config(tmp_path, max_number_of_steps=1)
  _run(config)
  with open(os.path.join(config.train_dir, 'config.json')) as f:
    written = f.read()
  with pytest.raises(ValueError, match=r'--batch_size=8 \(now 4\).*--nocheckpoint_input_pipeline'):
    _run(config.replace(batch_size=4, max_number_of_steps=2))
  with open(os.path.join(config.train_dir, 'config.json')) as f:
    assert f.read() == written  # The run's record is left as it was.
  # Without the input position, the weights resume with the new batches.
  resumed = _run(config.replace(batch_size=4, max_number_of_steps=2,
                                checkpoint_input_pipeline=False))
  assert resumed.initialised_from == 'train_dir' and resumed.global_step == 2


@pytest.fixture
def small_filesystem(tmp_path):
  """A 4 MB tmpfs (mounting needs root; skipped otherwise)."""
  import subprocess  # pylint: disable=g-import-not-at-top
  if os.geteuid() != 0:
    pytest.skip('mounting a small tmpfs needs root')
  mount = tmp_path / 'small'
  mount.mkdir()
  done = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', str(mount)],
                        capture_output=True, text=True)
  if done.returncode:
    pytest.skip(f'cannot mount a tmpfs here: {done.stderr.strip()}')
  yield mount
  subprocess.run(['umount', str(mount)], check=False)


def test_full_disk_keeps_the_checkpoints_removes_the_partial_one_and_resumes(small_filesystem):
  config = _config(small_filesystem, max_number_of_steps=2)
  _run(config)
  first = tf.train.latest_checkpoint(config.train_dir)
  assert first.endswith('-2')
  checkpoint_bytes = sum(os.path.getsize(p) for p in glob.glob(first + '.*'))
  filler = small_filesystem / 'filler'
  stats = os.statvfs(small_filesystem)
  with open(filler, 'wb') as f:  # Room for config.json and the log, not for a checkpoint.
    f.write(b'\0' * (stats.f_bavail * stats.f_frsize - (checkpoint_bytes - 1024)))
  with pytest.raises(train.DiskFullError, match=r'No space left .* step 4\. Its partial files '
                                                r'were removed.*previous checkpoints are kept'):
    _run(config.replace(max_number_of_steps=4))
  assert tf.train.latest_checkpoint(config.train_dir) == first
  left = os.listdir(config.train_dir)
  assert not [n for n in left if '_temp' in n or n.endswith('.tmp') or '-4.' in n], left
  os.remove(filler)  # Space freed: the same command resumes from step 2.
  assert _run(config.replace(max_number_of_steps=4)).global_step == 4


def test_resuming_with_another_optimizer_or_averages_names_the_flags(tmp_path):
  config = _config(tmp_path, max_number_of_steps=1)
  _run(config)
  with pytest.raises(ValueError, match=r'training state does not fit.*--optimizer=momentum '
                                       r'\(now adam\).*--checkpoint_path=.*model.ckpt-1'):
    _run(config.replace(optimizer='adam', max_number_of_steps=2))
  with pytest.raises(ValueError, match=r'--moving_average_decay=0.999 \(the run had none\)'):
    _run(config.replace(moving_average_decay=0.999, max_number_of_steps=2))
  assert _run(config.replace(max_number_of_steps=2)).global_step == 2  # Its own flags resume.
