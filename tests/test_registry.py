"""Every registered net through every command: the registry-wide tests.

Parametrised over `nets_factory.list_networks()` (nets registered by other
tests excluded), so a net is covered the moment it is registered:
* every net: its spec's facts hold; it builds at a small size, every trainable
  weight gets a non-zero gradient from the training loss (auxiliary heads
  included), and its checkpoint fine-tunes through `core.train.train` (the
  code path of train_image_classifier.py) to another number of classes on a
  small dataset, with exactly the head scopes its spec declares left out;
* every family (one net per family module): evaluation, SavedModel and TFLite
  export (logits equal to the Python model's), and classification from the
  checkpoint and from the SavedModel, with the same labels.
"""

import json
import math
import os

import numpy as np
import pytest
import tensorflow as tf

import datasets_testlib
import synthetic
from slimvision.core import evaluate, export, predict, train
from slimvision.core.config import TrainConfig
from slimvision.datasets import dataset_factory
from slimvision.nets import checkpoints, nets_factory
from slimvision.preprocessing import preprocessing_factory

FLOWERS = datasets_testlib.dataset_dir('flowers')
FLOWERS_CLASSES = 5


NETS = synthetic.package_networks()


def _family_representatives():
  """One net per family module: the smallest input, then the shortest name."""
  families = {}
  for name in NETS:
    spec = nets_factory.get_spec(name)
    families.setdefault(spec.builder.__module__, []).append(name)
  return sorted(min(names, key=lambda n: (nets_factory.get_spec(n).default_image_size,
                                          len(n), n))
                for names in families.values())


def _test_size(name: str) -> int:
  """A small size the training build takes: its minimum, at least 32, at most the default."""
  spec = nets_factory.get_spec(name)
  smallest = nets_factory.minimum_image_size(name, is_training=True)
  return min(spec.default_image_size, max(32, smallest))


def _train_one_step(name, train_dir, size, learning_rate=0.01, checkpoint_path=None):
  config = TrainConfig(
      train_dir=str(train_dir), dataset_name='flowers', dataset_split_name='train',
      dataset_dir=FLOWERS, model_name=name, train_image_size=size, batch_size=2,
      max_number_of_steps=1, optimizer='sgd', learning_rate=learning_rate,
      learning_rate_decay_type='fixed', log_every_n_steps=1, checkpoint_path=checkpoint_path)
  return train.train(config)


def test_registry_covers_every_family_and_spec_facts_hold():
  assert len(NETS) >= 38
  for name in NETS:
    spec = nets_factory.get_spec(name)
    assert spec.preprocessing in preprocessing_factory.list_preprocessing_names(), name
    assert preprocessing_factory.preprocessing_name_for(name) == spec.preprocessing
    assert spec.input_channels in (1, 3), name
    assert spec.classifier_scopes, name
    assert spec.labels_offset == (1 if spec.num_classes == 1000 else 0)


@pytest.mark.slow
@pytest.mark.parametrize('name', NETS)
def test_every_net_learns_and_fine_tunes_through_the_trainer(name, tmp_path):
  size = _test_size(name)
  # The net as released (its registered number of classes), built for training.
  source = nets_factory.get_network_fn(name, is_training=True, image_size=size)
  assert source.logits_key in source.model.output
  if source.spec.predictions:
    assert source.predictions_key == source.spec.predictions

  # Every trainable weight gets a gradient from the data terms of the loss (the
  # L2 penalty alone would reach every kernel, so it is left out). A batch norm
  # offset followed only by 1x1 convolutions and batch norm has none in
  # training mode (the next batch norm subtracts the batch mean): those are
  # checked through the moving statistics.
  rng = np.random.default_rng(0)
  images = rng.uniform(-1, 1, (2, size, size, source.input_channels)).astype(np.float32)
  labels = np.array([0, 3], np.int64)
  names = {id(v): n for n, v in checkpoints.slim_variables(source).items()}
  dead = source.model.trainable_variables
  for is_training in (True, False):
    with tf.GradientTape() as tape:
      terms = train.slim_loss(source, images, labels, is_training=is_training)
      data_loss = terms['cross_entropy'] + terms['aux_loss']
    assert np.isfinite(float(terms['loss']))
    grads = tape.gradient(data_loss, dead)
    dead = [v for v, g in zip(dead, grads) if g is None or not np.any(np.asarray(g))]
    if not dead:
      break
  assert not dead, f'{name}: no gradient reaches {[names.get(id(v)) for v in dead][:10]}'
  # The auxiliary heads the spec declares are built for training and feed the loss.
  aux_scopes = source.head_scopes(classifier=False, aux=True)
  assert bool(aux_scopes) == bool(source.aux_logits_keys)
  if source.aux_logits_keys:
    assert float(train.slim_loss(source, images, labels)['aux_loss']) > 0

  # Fine-tuning its checkpoint to the 5 flowers classes through the trainer (the
  # code path of train_image_classifier.py), with no scope named: the declared
  # heads start afresh, every other weight is the checkpoint's. At learning
  # rate 0 the step leaves the weights as they were initialised.
  prefix = checkpoints.save_slim_checkpoint(source, str(tmp_path / 'released.ckpt'))
  result = _train_one_step(name, tmp_path / 'train', size, learning_rate=0.0,
                           checkpoint_path=prefix)
  assert result.global_step == 1 and math.isfinite(result.loss)
  assert result.initialised_from == 'checkpoint_path'
  assert tf.train.latest_checkpoint(str(tmp_path / 'train'))
  net = result.network
  assert net.num_classes == FLOWERS_CLASSES and net.image_size == size
  assert net(images)[0].shape == (2, FLOWERS_CLASSES)
  before, after = checkpoints.slim_variables(source), checkpoints.slim_variables(net)
  assert set(before) == set(after)
  heads = net.head_scopes()
  changed = {n for n in before if tuple(before[n].shape) != tuple(after[n].shape)}
  assert changed and {nets_factory.scope_matching(n, heads) for n in changed} == set(heads)
  for n, var in after.items():
    if not any(n.startswith(h + '/') for h in heads) and 'moving_' not in n:
      np.testing.assert_array_equal(var.numpy(), before[n].numpy(), err_msg=n)


def _jpeg(path, size=(90, 120), seed=0):
  pixels = np.random.default_rng(seed).integers(0, 256, size + (3,), dtype=np.uint8)
  tf.io.write_file(str(path), tf.io.encode_jpeg(pixels))
  return str(path)


@pytest.mark.slow
@pytest.mark.parametrize('name', _family_representatives())
def test_every_family_evaluates_exports_and_classifies(name, tmp_path):
  size = _test_size(name)
  train_dir = tmp_path / 'train'
  # A step at learning rate 0 writes a checkpoint of the initial weights: one
  # SGD step on two images at the smallest size can blow up a deep net's
  # weights (batch statistics of two values), which is not what this tests.
  _train_one_step(name, train_dir, size, learning_rate=0.0)

  # Evaluation: every validation example once.
  result = evaluate.run(evaluate.EvalConfig(
      checkpoint_path=str(train_dir), eval_dir=str(tmp_path / 'eval'), model_name=name,
      dataset_name='flowers', dataset_split_name='validation', dataset_dir=FLOWERS,
      eval_image_size=size, batch_size=3))
  n_validation = dataset_factory.get_dataset('flowers', 'validation', FLOWERS,
                                             num_samples='count').num_samples
  assert result.num_examples == n_validation
  with open(tmp_path / 'eval' / 'results.json') as f:
    assert json.load(f)['num_examples'] == n_validation

  # Export: the SavedModel and the TFLite model give the Python model's logits.
  config = export.ExportConfig(model_name=name, checkpoint_path=str(train_dir),
                               export_dir=str(tmp_path / 'saved'),
                               tflite_file=str(tmp_path / 'model.tflite'), image_size=size,
                               dataset_name='flowers')
  export.export(config)
  fn = export.build_network(config)
  images = np.random.default_rng(1).uniform(
      -1, 1, (2, size, size, fn.input_channels)).astype(np.float32)
  python_logits = fn(images)[0].numpy()
  served = tf.saved_model.load(str(tmp_path / 'saved')).signatures['serving_default'](
      images=tf.constant(images))
  scale = np.max(np.abs(python_logits)) + 1e-6
  assert np.max(np.abs(served['logits'].numpy() - python_logits)) / scale < 1e-4
  interpreter = export.tflite_interpreter(str(tmp_path / 'model.tflite'))
  output_names = {d['name'] for d in interpreter.get_output_details()}
  assert output_names == set(export.OUTPUT_KEYS)
  lite = export.run_tflite(str(tmp_path / 'model.tflite'), images)
  assert np.max(np.abs(lite['logits'] - python_logits)) / scale < 1e-3

  # Classification from the checkpoint and from the SavedModel: the same labels,
  # and the label printed is the exported model's `classes`.
  names = predict.dataset_label_names('flowers', FLOWERS)
  photo = _jpeg(tmp_path / 'photo.jpg')
  (from_checkpoint,) = predict.classify([photo], name, str(train_dir), num_classes=5,
                                        image_size=size, labels_to_names=names, top=3)
  (from_saved,) = predict.classify([photo], saved_model_dir=str(tmp_path / 'saved'),
                                   labels_to_names=names, top=3)
  assert [p.label for p in from_checkpoint] == [p.label for p in from_saved]
  assert {p.name for p in from_checkpoint} <= set(names.values())
  np.testing.assert_allclose([p.probability for p in from_checkpoint],
                             [p.probability for p in from_saved], rtol=1e-3, atol=1e-5)
  serve_bytes = tf.saved_model.load(str(tmp_path / 'saved')).signatures['serving_bytes']
  classes = serve_bytes(image_bytes=tf.stack([tf.io.read_file(photo)]))['classes'].numpy()
  assert from_saved[0].label == int(classes[0])


def _cli(script, *args):
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  p = subprocess.run([sys.executable, os.path.join(root, script), *args], capture_output=True,
                     text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  return p.returncode, p.stdout, p.stderr


@pytest.mark.slow
def test_resnet_trains_and_classifies_from_the_command_line(tmp_path):
  # Field reports: train_image_classifier.py and classify_image.py stopped with
  # KeyError: 'Logits' / 'Predictions' for the nets whose end_points slim names
  # otherwise (resnet_v1/v2, vgg, alexnet, overfeat).
  train_dir = tmp_path / 'train'
  rc, out, err = _cli('train_image_classifier.py', f'--train_dir={train_dir}',
                      '--dataset_name=flowers', '--dataset_split_name=train',
                      f'--dataset_dir={FLOWERS}', '--model_name=resnet_v1_50',
                      '--train_image_size=32', '--batch_size=2', '--max_number_of_steps=1')
  assert rc == 0, err[-2000:]
  assert tf.train.latest_checkpoint(str(train_dir))
  photo = _jpeg(tmp_path / 'photo.jpg')
  rc, out, err = _cli('classify_image.py', '--model_name=resnet_v1_50',
                      f'--checkpoint_path={train_dir}', '--image_size=32',
                      '--dataset_name=flowers', f'--dataset_dir={FLOWERS}', photo)
  assert rc == 0, err[-2000:]
  ranked = [l for l in out.splitlines() if l.strip()[:2] in ('1.', '2.', '3.', '4.', '5.')]
  flowers = set(predict.dataset_label_names('flowers', FLOWERS).values())
  assert len(ranked) == 5 and all(l.split('] ', 1)[1] in flowers for l in ranked)

  # A 1000-class ImageNet checkpoint: ImageNet's names, label = logit index + 1.
  fn = nets_factory.get_network_fn('resnet_v1_50', image_size=64)
  prefix = checkpoints.save_slim_checkpoint(fn, str(tmp_path / 'resnet_v1_50.ckpt'))
  rc, out, err = _cli('classify_image.py', '--model_name=resnet_v1_50',
                      f'--checkpoint_path={prefix}', '--image_size=64', photo)
  assert rc == 0, err[-2000:]
  first = next(l for l in out.splitlines() if l.strip().startswith('1.'))
  label = int(first.split('[', 1)[1].split(']', 1)[0])
  names = predict.imagenet_names(1001)
  assert 1 <= label <= 1000 and first.endswith(names[label])
