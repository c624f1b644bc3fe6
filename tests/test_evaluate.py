"""core.evaluate: exact top-1 / top-5 counts, results.json, continuous mode, errors."""

import dataclasses
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import tensorflow as tf

from slimvision.core import evaluate
from slimvision.nets import checkpoints, nets_factory

import synthetic

# LeNet: fast to build and run, same code paths (Inception V3 below where it matters).
MODEL = 'lenet'
SIZE = 28
CHANNELS = 1
NUM_CLASSES = 10
NET_KW = {}
NUM_IMAGES = 13  # Divides none of the batch sizes below.
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'nets')


def _small_net():
  return nets_factory.get_network_fn(MODEL, num_classes=NUM_CLASSES, image_size=SIZE,
                                     **NET_KW)


def _save(fn, train_dir, step, max_to_keep=5):
  """A training-style checkpoint (object key `step`, model under `model`)."""
  ckpt = tf.train.Checkpoint(step=tf.Variable(step, dtype=tf.int64),
                             model=checkpoints.trackable_variables(fn))
  manager = tf.train.CheckpointManager(ckpt, train_dir, max_to_keep=max_to_keep)
  return manager.save(checkpoint_number=step)


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
  """A checkpoint, 13 images and labels hand-placed at known ranks of the logits.

  Image i gets the class the net ranks first (i % 3 == 0: top-1 and top-5
  correct), third (i % 3 == 1: top-5 only) or last (i % 3 == 2: neither),
  so top-1 is right for 5 of 13 images and top-5 for 9 of 13.
  """
  train_dir = str(tmp_path_factory.mktemp('train'))
  fn = _small_net()
  prefix = _save(fn, train_dir, 7)
  images = np.random.default_rng(0).uniform(-1, 1, (NUM_IMAGES, SIZE, SIZE, CHANNELS))
  images = images.astype(np.float32)
  logits = fn(images)[0].numpy()
  ranked = np.argsort(-logits, axis=1)
  labels = np.array([ranked[i, (0, 2, NUM_CLASSES - 1)[i % 3]] for i in range(NUM_IMAGES)],
                    dtype=np.int64)
  return {'train_dir': train_dir, 'prefix': prefix, 'images': images, 'labels': labels,
          'logits': logits}


def _config(tmp_path, checkpoint_path, **kwargs):
  kwargs.setdefault('batch_size', 4)
  return evaluate.EvalConfig(checkpoint_path=checkpoint_path,
                             eval_dir=str(tmp_path / 'eval'), model_name=MODEL,
                             eval_image_size=SIZE, num_classes=NUM_CLASSES,
                             network_kwargs=NET_KW, **kwargs)


def _dataset(tiny, n=NUM_IMAGES, labels=None):
  labels = tiny['labels'] if labels is None else labels
  return tf.data.Dataset.from_tensor_slices((tiny['images'][:n], labels[:n]))


def _expected(labels, logits):
  ranked = np.argsort(-logits, axis=1)
  top1 = int(np.sum(ranked[:, 0] == labels))
  top5 = int(np.sum([label in ranked[i, :5] for i, label in enumerate(labels)]))
  return top1, top5


@pytest.mark.parametrize('batch_size,num_clones', [
    (4, 1), (13, 1), (32, 1),   # 13 = 3 x 4 + 1; one exact batch; one short batch.
    (4, 2), (5, 2), (1, 2),     # 5 pads to 6 and the last batch leaves one replica empty.
])
def test_exact_counts(tiny, tmp_path, batch_size, num_clones):
  config = _config(tmp_path, tiny['train_dir'], batch_size=batch_size, num_clones=num_clones)
  evaluator = evaluate.Evaluator(config, _dataset(tiny))
  assert evaluator.num_replicas == num_clones
  result = evaluator.evaluate(config.checkpoint_path)
  assert (result.num_examples, result.correct_top1, result.correct_top5) == (13, 5, 9)
  assert result.accuracy == pytest.approx(5 / 13)
  assert result.recall_5 == pytest.approx(9 / 13)
  assert result.checkpoint == tiny['prefix']
  assert result.global_step == 7


def test_results_json_and_summaries(tiny, tmp_path, capsys):
  config = _config(tmp_path, tiny['prefix'], batch_size=6)
  result = evaluate.run(config, _dataset(tiny, n=11))
  with open(tmp_path / 'eval' / 'results.json') as f:
    record = json.load(f)
  top1, top5 = _expected(tiny['labels'][:11], tiny['logits'][:11])
  assert record == {'checkpoint': tiny['prefix'], 'global_step': 7, 'num_examples': 11,
                    'accuracy': top1 / 11, 'recall_5': top5 / 11}
  assert result.to_json() == record
  events = [f for f in os.listdir(tmp_path / 'eval') if f.startswith('events.out.tfevents')]
  assert events
  tags = set()
  for event in tf.compat.v1.train.summary_iterator(str(tmp_path / 'eval' / events[0])):
    for value in event.summary.value:
      tags.add(value.tag)
      if value.tag == 'eval/Accuracy':
        assert event.step == 7
        assert tf.make_ndarray(value.tensor) == pytest.approx(top1 / 11)
  assert {'eval/Accuracy', 'eval/Recall_5'} <= tags
  out = capsys.readouterr().out
  assert 'eval/Accuracy' in out and f'({top1}/11)' in out


def test_max_num_batches(tiny, tmp_path):
  config = _config(tmp_path, tiny['prefix'], batch_size=3, max_num_batches=2, num_clones=2)
  result = evaluate.run(config, _dataset(tiny))
  assert result.num_examples == 6
  top1, top5 = _expected(tiny['labels'][:6], tiny['logits'][:6])
  assert (result.correct_top1, result.correct_top5) == (top1, top5)


def test_labels_outside_the_logits_count_as_wrong(tiny, tmp_path):
  # With labels_offset=1 ImageNet's background (0) becomes -1: counted, never right.
  labels = tiny['labels'].copy()
  labels[0] = -1  # Was a top-1 hit.
  result = evaluate.run(_config(tmp_path, tiny['prefix']), _dataset(tiny, labels=labels))
  assert (result.num_examples, result.correct_top1, result.correct_top5) == (13, 4, 8)


def test_batched_input_is_rebatched(tiny, tmp_path):
  dataset = _dataset(tiny).batch(5)  # The pipeline's batches need not match batch_size.
  result = evaluate.run(_config(tmp_path, tiny['prefix'], batch_size=4), dataset)
  assert (result.num_examples, result.correct_top1, result.correct_top5) == (13, 5, 9)


def test_global_step_sources(tmp_path):
  fn = _small_net()
  slim_prefix = checkpoints.save_slim_checkpoint(fn, str(tmp_path / 'slim' / 'model.ckpt'),
                                                 global_step=123)
  assert evaluate.global_step_of(slim_prefix) == 123
  bare = checkpoints.save_slim_checkpoint(fn, str(tmp_path / 'bare' / 'model.ckpt-456'))
  assert evaluate.global_step_of(bare) == 456
  assert evaluate.global_step_of(_save(fn, str(tmp_path / 'ours'), 789)) == 789


def test_moving_averages_are_restored(tiny, tmp_path):
  fn = _small_net()
  checkpoints.restore_checkpoint(fn, tiny['prefix'])
  # A checkpoint whose raw weights are garbage and whose averages are the real ones.
  variables = checkpoints.slim_variables(fn)
  ema = {name: tf.Variable(np.asarray(v)) for name, v in variables.items()}
  for v in variables.values():
    v.assign(np.full(v.shape, 0.5, dtype=np.float32))
  prefix = _save_with_ema(fn, ema, str(tmp_path / 'train'), 3)
  raw = evaluate.run(_config(tmp_path, prefix), _dataset(tiny))
  averaged = evaluate.run(_config(tmp_path, prefix, moving_average_decay=0.9999),
                          _dataset(tiny))
  assert (averaged.correct_top1, averaged.correct_top5) == (5, 9)
  assert (raw.correct_top1, raw.correct_top5) != (5, 9)


def _save_with_ema(fn, ema, train_dir, step):
  ckpt = tf.train.Checkpoint(step=tf.Variable(step, dtype=tf.int64),
                             model=checkpoints.trackable_variables(fn, ema=ema))
  return tf.train.CheckpointManager(ckpt, train_dir, max_to_keep=2).save(
      checkpoint_number=step)


def test_synthetic_slim_inception_v3_end_to_end(tmp_path):
  """slim's variable names and values: our eval agrees with slim's own logits."""
  with open(os.path.join(DATA, 'inception_v3.json')) as f:
    info = json.load(f)
  reference = np.load(os.path.join(DATA, 'inception_v3.seed0.npz'))
  prefix = synthetic.write_checkpoint(info['variables'], str(tmp_path / 'inception_v3.ckpt'),
                                      'inception_v3')
  images = synthetic.synth_images(2, int(reference['image_size']),
                                  seed=int(reference['images_seed']))
  ranked = np.argsort(-reference['logits'], axis=1)
  # Image 0 labelled with slim's top class, image 1 with its third: 1/2 and 2/2.
  labels = np.array([ranked[0, 0], ranked[1, 2]], dtype=np.int64)
  config = evaluate.EvalConfig(checkpoint_path=prefix, eval_dir=str(tmp_path / 'eval'),
                               model_name='inception_v3', batch_size=2)
  result = evaluate.run(config, tf.data.Dataset.from_tensor_slices((images, labels)))
  assert (result.num_examples, result.correct_top1, result.correct_top5) == (2, 1, 2)
  assert result.global_step == 0


# ----------------------------------------------------------------------------
# Continuous mode
# ----------------------------------------------------------------------------

@pytest.mark.parametrize('config_written', ['before', 'after the evaluation started'])
def test_continuous_picks_up_new_checkpoints_and_stops_at_last_step(tiny, tmp_path,
                                                                    config_written):
  fn = _small_net()
  checkpoints.restore_checkpoint(fn, tiny['prefix'])
  train_dir = str(tmp_path / 'train')
  os.makedirs(train_dir)

  def write_config():
    with open(os.path.join(train_dir, 'config.json'), 'w') as f:
      json.dump({'train': {'max_number_of_steps': 20}}, f)

  if config_written == 'before':
    write_config()
  _save(fn, train_dir, 10)
  # A timeout far beyond the waits below: stopping must come from the last step.
  config = _config(tmp_path, train_dir, eval_interval_secs=0.2, eval_timeout_secs=600)
  evaluator = evaluate.Evaluator(config, _dataset(tiny))
  results = []
  done = threading.Event()

  def watch():
    results.extend(evaluate.evaluate_continuously(config, evaluator=evaluator))
    done.set()

  thread = threading.Thread(target=watch, daemon=True)
  thread.start()
  deadline = time.time() + 60
  while not os.path.exists(tmp_path / 'eval' / 'results.json') and time.time() < deadline:
    time.sleep(0.1)
  if config_written != 'before':
    write_config()  # The trainer started after the evaluator.
  _save(fn, train_dir, 20)  # Written after the evaluation loop started.
  assert done.wait(60), 'continuous evaluation did not stop after the last step'
  assert [r.global_step for r in results] == [10, 20]
  with open(tmp_path / 'eval' / 'results.json') as f:
    assert json.load(f)['global_step'] == 20


def test_unrecorded_checkpoint_is_never_read_and_timeout_stops(tmp_path):
  fn = _small_net()
  train_dir = str(tmp_path / 'train')
  first = _save(fn, train_dir, 1)
  # Files of a checkpoint the manager has not recorded yet (as while being written).
  tf.train.Checkpoint(model=checkpoints.trackable_variables(fn)).write(
      os.path.join(train_dir, 'ckpt-2'))
  start = time.time()
  seen = list(evaluate.new_checkpoints(train_dir, interval_secs=0.1, timeout_secs=1.0))
  assert seen == [first]
  assert 0.9 < time.time() - start < 10


# ----------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------

def test_checkpoint_that_does_not_fit(tiny, tmp_path):
  config = dataclasses.replace(_config(tmp_path, tiny['prefix']), num_classes=7)
  with pytest.raises(ValueError, match=r'does not fit model.*\n(.|\n)*LeNet/fc4'):
    evaluate.run(config, _dataset(tiny, labels=tiny['labels'] % 7))


def test_empty_dataset(tiny, tmp_path):
  with pytest.raises(ValueError, match='yielded no examples'):
    evaluate.run(_config(tmp_path, tiny['prefix']), _dataset(tiny, n=0))


def test_missing_dataset_dir(tiny, tmp_path):
  config = _config(tmp_path, tiny['prefix'], dataset_name='flowers',
                   dataset_dir=str(tmp_path / 'nowhere'), dataset_split_name='validation')
  with pytest.raises(ValueError, match=r"dataset_dir '.*nowhere' does not exist"):
    evaluate.run(config)


def test_missing_checkpoint(tmp_path):
  config = _config(tmp_path, str(tmp_path / 'model.ckpt-5'))
  with pytest.raises(ValueError, match=r'model.ckpt-5.* not found'):
    evaluate.Evaluator(config, tf.data.Dataset.from_tensor_slices(
        (np.zeros((1, SIZE, SIZE, CHANNELS), np.float32), np.zeros([1], np.int64)))).evaluate(
            config.checkpoint_path)


def test_continuous_needs_a_directory(tiny, tmp_path):
  config = _config(tmp_path, tiny['prefix'], eval_interval_secs=1)
  with pytest.raises(ValueError, match='not a directory'):
    evaluate.run(config, _dataset(tiny))


def test_config_validation(tmp_path):
  with pytest.raises(ValueError, match='batch_size must be >= 1'):
    evaluate.EvalConfig(checkpoint_path='x', eval_dir='y', batch_size=0)



# ----------------------------------------------------------------------------
# Through the real input pipeline and the script
# ----------------------------------------------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASETS = os.path.join(ROOT, 'tests', 'data', 'datasets')


def _run_script(*flags, timeout=240):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
  return subprocess.run([sys.executable, 'eval_image_classifier.py', *flags], cwd=ROOT,
                        env=env, capture_output=True, text=True, timeout=timeout)


def _pipeline_counts(fn, dataset_name, split, dataset_dir, labels_offset=0, image_size=None):
  """Counts computed here, image by image, through the same input pipeline."""
  from slimvision.core import input_pipeline  # pylint: disable=g-import-not-at-top
  ds = input_pipeline.eval_input(dataset_name, dataset_dir, split_name=split,
                                 model_name=fn.name, image_size=image_size or fn.image_size,
                                 batch_size=1, labels_offset=labels_offset)
  n = top1 = top5 = 0
  for image, label in ds:
    ranked = np.argsort(-fn(image)[0].numpy()[0])
    n += 1
    top1 += int(ranked[0] == label[0])
    top5 += int(label[0] in ranked[:5])
  return n, top1, top5


@pytest.mark.slow
def test_script_lenet_mnist_two_replicas_labels_offset(tmp_path):
  """10-label data on an 11-class net (labels_offset=-1), 2 replicas, batch 3."""
  fn = nets_factory.get_network_fn('lenet', num_classes=11)
  checkpoints.save_slim_checkpoint(fn, str(tmp_path / 'train' / 'model.ckpt-42'))
  mnist = os.path.join(DATASETS, 'mnist_mini')
  proc = _run_script(f'--checkpoint_path={tmp_path / "train"}', f'--eval_dir={tmp_path / "ev"}',
                     '--dataset_name=mnist', '--dataset_split_name=test',
                     f'--dataset_dir={mnist}', '--model_name=lenet', '--batch_size=3',
                     '--num_clones=2', '--labels_offset=-1')
  assert proc.returncode == 0, proc.stderr
  with open(tmp_path / 'ev' / 'results.json') as f:
    record = json.load(f)
  n, top1, top5 = _pipeline_counts(fn, 'mnist', 'test', mnist, labels_offset=-1)
  assert n == 10
  assert record == {'checkpoint': str(tmp_path / 'train' / 'model.ckpt-42'), 'global_step': 42,
                    'num_examples': 10, 'accuracy': top1 / 10, 'recall_5': top5 / 10,
                    # mnist_mini holds 10 of the 10000 test images: stated, not hidden.
                    'published_size': 10000,
                    'note': '10 examples evaluated; the published size of the split is '
                            '10000: a subset or another copy of the dataset.'}
  assert 'eval/Accuracy' in proc.stdout


def test_synthetic_inception_v3_on_imagenet_mini(tmp_path):
  """slim's variables, real ImageNet records (PNG, CMYK, grayscale), 107 x 107."""
  with open(os.path.join(DATA, 'inception_v3.json')) as f:
    info = json.load(f)
  prefix = synthetic.write_checkpoint(info['variables'], str(tmp_path / 'inception_v3.ckpt'),
                                      'inception_v3')
  imagenet = os.path.join(DATASETS, 'imagenet_mini')
  config = evaluate.EvalConfig(checkpoint_path=prefix, eval_dir=str(tmp_path / 'ev'),
                               dataset_name='imagenet', dataset_split_name='validation',
                               dataset_dir=imagenet, model_name='inception_v3',
                               eval_image_size=107, batch_size=5)
  evaluator = evaluate.Evaluator(config)
  result = evaluator.evaluate(prefix)
  expected = _pipeline_counts(evaluator.network_fn, 'imagenet', 'validation', imagenet)
  assert (result.num_examples, result.correct_top1, result.correct_top5) == expected
  assert result.num_examples == 12


def _write_mnist_records(directory, images):
  from slimvision.datasets import dataset_utils  # pylint: disable=g-import-not-at-top
  os.makedirs(directory, exist_ok=True)
  with tf.io.TFRecordWriter(os.path.join(directory, 'mnist_test.tfrecord')) as writer:
    for i, data in enumerate(images):
      writer.write(dataset_utils.image_to_tfexample(data, b'png', 28, 28, i % 10)
                   .SerializeToString())


@pytest.mark.parametrize('case', ['missing_dir', 'empty_split', 'unreadable_image',
                                  'checkpoint_mismatch'])
def test_script_errors_are_one_clear_message(tmp_path, case):
  fn = nets_factory.get_network_fn('lenet', num_classes=10)
  prefix = checkpoints.save_slim_checkpoint(fn, str(tmp_path / 'model.ckpt'))
  data_dir = str(tmp_path / 'mnist')
  model = 'lenet'
  if case == 'empty_split':
    _write_mnist_records(data_dir, [])
  elif case == 'unreadable_image':
    good = tf.io.encode_png(np.zeros((28, 28, 1), np.uint8)).numpy()
    _write_mnist_records(data_dir, [good, b'not an image', good])
  elif case == 'checkpoint_mismatch':
    data_dir = os.path.join(DATASETS, 'mnist_mini')
    model = 'cifarnet'
  proc = _run_script(f'--checkpoint_path={prefix}', f'--eval_dir={tmp_path / "ev"}',
                     '--dataset_name=mnist', '--dataset_split_name=test',
                     f'--dataset_dir={data_dir}', f'--model_name={model}', '--batch_size=2')
  # A directory that does not exist is a usage error (2), found before any work.
  assert proc.returncode == (2 if case == 'missing_dir' else 1), proc.stderr
  assert 'Traceback' not in proc.stderr
  error = proc.stderr[proc.stderr.index('eval_image_classifier.py: error:'):]
  expected = {
      'missing_dir': [data_dir, 'does not exist', '--dataset_dir'],
      'empty_split': ['holds no records', 'mnist_test.tfrecord', data_dir],
      'unreadable_image': ['mnist_test.tfrecord record 1', '--skip_undecodable'],
      'checkpoint_mismatch': ['does not fit model', 'cifarnet', '--model_name=lenet'],
  }[case]
  for text in expected:
    assert text in error, error
  assert not os.path.exists(tmp_path / 'ev' / 'results.json')


def test_continuous_evaluation_of_a_directory_that_stays_empty_fails_naming_it(tiny, tmp_path):
  train_dir = tmp_path / 'train'
  train_dir.mkdir()
  config = _config(tmp_path, str(train_dir), eval_interval_secs=0.1, eval_timeout_secs=0.5)
  with pytest.raises(ValueError, match=r'No checkpoint appeared in .*train within '
                                       r'--eval_timeout_secs=0.5: nothing was evaluated'):
    evaluate.evaluate_continuously(config, _dataset(tiny))
