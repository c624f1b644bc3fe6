"""Every family through evaluation, export and classification: the registry-wide
deployment tests.

One net per family module (`registry_testlib.family_representatives()`, over
`nets_factory.list_networks()`): a traced training step writes a checkpoint,
evaluation reads every validation example once, the SavedModel and the TFLite
model give the Python model's logits, and classification from the checkpoint
and from the SavedModel gives the same labels. Each family's checkpoint and
export are made once (module-scoped fixtures) and shared by its three tests.
"""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from registry_testlib import FLOWERS, family_representatives, training_size, train_one_step
from slimvision.core import evaluate, export, predict
from slimvision.datasets import dataset_factory
from slimvision.nets import checkpoints, nets_factory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, 'tests', 'data', 'nets')


def _num_parameters(name):
  with open(os.path.join(DATA, f'{name}.json')) as f:
    return json.load(f)['num_parameters']


# The largest nets first: a process keeps some memory of each traced training
# step, and the conversion to TFLite holds several copies of the weights, so
# the largest conversions run while the process is smallest.
FAMILIES = sorted(family_representatives(), key=lambda n: (-_num_parameters(n), n))


def _jpeg(path, size=(90, 120), seed=0):
  pixels = np.random.default_rng(seed).integers(0, 256, size + (3,), dtype=np.uint8)
  tf.io.write_file(str(path), tf.io.encode_jpeg(pixels))
  return str(path)


@pytest.fixture(scope='module', params=FAMILIES)
def trained(request, tmp_path_factory):
  """(name, size, directory): a train_dir holding one traced step of the family's net.

  The step is at learning rate 0, so the checkpoint holds the initial weights:
  one SGD step on two images at the smallest size can blow up a deep net's
  weights (batch statistics of two values), which is not what is tested here.
  Module-scoped and parametrised, so pytest runs one family's tests together
  and frees its files before the next.
  """
  name = request.param
  tmp = tmp_path_factory.mktemp(name)
  size = training_size(name)
  train_one_step(name, tmp / 'train', size, learning_rate=0.0)
  yield name, size, tmp
  shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope='module')
def exported(trained):
  """(config, written): the family's checkpoint exported as a SavedModel and TFLite."""
  name, size, tmp = trained
  config = export.ExportConfig(model_name=name, checkpoint_path=str(tmp / 'train'),
                               export_dir=str(tmp / 'saved'),
                               tflite_file=str(tmp / 'model.tflite'), image_size=size,
                               dataset_name='flowers')
  return config, export.export(config)


@pytest.mark.slow
def test_every_family_evaluates_every_example_once(trained, tmp_path):
  name, size, tmp = trained
  result = evaluate.run(evaluate.EvalConfig(
      checkpoint_path=str(tmp / 'train'), eval_dir=str(tmp_path / 'eval'), model_name=name,
      dataset_name='flowers', dataset_split_name='validation', dataset_dir=FLOWERS,
      eval_image_size=size, batch_size=3))
  n_validation = dataset_factory.get_dataset('flowers', 'validation', FLOWERS,
                                             num_samples='count').num_samples
  assert result.num_examples == n_validation
  with open(tmp_path / 'eval' / 'results.json') as f:
    assert json.load(f)['num_examples'] == n_validation


@pytest.mark.slow
def test_every_family_exports_the_python_models_logits(exported):
  # The SavedModel and the TFLite model give the Python model's logits.
  config, written = exported
  assert written['saved_model'] == config.export_dir and written['tflite'] == config.tflite_file
  fn = export.build_network(config)
  size = config.image_size
  images = np.random.default_rng(1).uniform(
      -1, 1, (2, size, size, fn.input_channels)).astype(np.float32)
  python_logits = fn(images)[0].numpy()
  served = tf.saved_model.load(config.export_dir).signatures['serving_default'](
      images=tf.constant(images))
  scale = np.max(np.abs(python_logits)) + 1e-6
  assert np.max(np.abs(served['logits'].numpy() - python_logits)) / scale < 1e-4
  interpreter = export.tflite_interpreter(config.tflite_file)
  output_names = {d['name'] for d in interpreter.get_output_details()}
  assert output_names == set(export.OUTPUT_KEYS)
  lite = export.run_tflite(config.tflite_file, images)
  assert np.max(np.abs(lite['logits'] - python_logits)) / scale < 1e-3


@pytest.mark.slow
def test_every_family_classifies_alike_from_checkpoint_and_saved_model(exported, tmp_path):
  # The same labels, and the label printed is the exported model's `classes`.
  config, _ = exported
  names = predict.dataset_label_names('flowers', FLOWERS)
  photo = _jpeg(tmp_path / 'photo.jpg')
  (from_checkpoint,) = predict.classify([photo], config.model_name, config.checkpoint_path,
                                        num_classes=5, image_size=config.image_size,
                                        labels_to_names=names, top=3)
  (from_saved,) = predict.classify([photo], saved_model_dir=config.export_dir,
                                   labels_to_names=names, top=3)
  assert [p.label for p in from_checkpoint] == [p.label for p in from_saved]
  assert {p.name for p in from_checkpoint} <= set(names.values())
  np.testing.assert_allclose([p.probability for p in from_checkpoint],
                             [p.probability for p in from_saved], rtol=1e-3, atol=1e-5)
  serve_bytes = tf.saved_model.load(config.export_dir).signatures['serving_bytes']
  classes = serve_bytes(image_bytes=tf.stack([tf.io.read_file(photo)]))['classes'].numpy()
  assert from_saved[0].label == int(classes[0])


def _cli(script, *args):
  p = subprocess.run([sys.executable, os.path.join(ROOT, script), *args], capture_output=True,
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
