"""Classifying image files: eval preprocessing, top-5 with ImageNet names, the CLI."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import synthetic
from slimvision.core import predict
from slimvision.nets import checkpoints, nets_factory
from slimvision.preprocessing import inception_preprocessing

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHOTO = os.path.join(ROOT, 'tests', 'data', 'preprocessing', 'inputs', 'astronaut_512x512.jpg')


@pytest.fixture(scope='module')
def v3_checkpoint(tmp_path_factory):
  fn = nets_factory.get_network_fn('inception_v3', num_classes=1001)
  prefix = str(tmp_path_factory.mktemp('ckpt') / 'inception_v3.ckpt')
  return synthetic.write_checkpoint(checkpoints.slim_variable_names(fn).items(), prefix,
                                    'inception_v3')


def test_imagenet_names_for_1001_and_1000_classes():
  names = predict.imagenet_names(1001)
  assert names[0] == 'background' and names[1].startswith('tench')
  assert len(names) == 1001
  names_1000 = predict.imagenet_names(1000)
  assert names_1000[0].startswith('tench') and len(names_1000) == 1000
  assert predict.imagenet_names(10)[3] == 'class 3'


def test_classify_is_top5_of_the_net_on_eval_preprocessed_pixels(v3_checkpoint):
  (top,) = predict.classify([PHOTO], 'inception_v3', v3_checkpoint)
  assert len(top) == 5
  probs = [p.probability for p in top]
  assert probs == sorted(probs, reverse=True) and 0 < probs[0] <= 1

  fn = nets_factory.get_network_fn('inception_v3', num_classes=1001)
  checkpoints.restore_checkpoint(fn, v3_checkpoint)
  image = tf.io.decode_jpeg(tf.io.read_file(PHOTO), channels=3)
  # inception eval: central crop 0.875, bilinear resize to 299, scale to [-1, 1].
  pixels = inception_preprocessing.preprocess_image(image, 299, 299, is_training=False)
  assert float(tf.reduce_min(pixels)) >= -1.0 and float(tf.reduce_max(pixels)) <= 1.0
  _, end_points = fn(pixels[tf.newaxis])
  expected = np.argsort(-end_points['Predictions'].numpy()[0])[:5]
  assert [p.label for p in top] == list(expected)
  np.testing.assert_allclose(probs, end_points['Predictions'].numpy()[0][expected], rtol=1e-5)
  names = predict.imagenet_names(1001)
  assert [p.name for p in top] == [names[i] for i in expected]


def test_checkpoint_with_auxiliary_head_classifies(tmp_path):
  # NASNet's released checkpoints hold the training-only aux_N head, which the
  # inference model does not build.
  train_fn = nets_factory.get_network_fn('nasnet_cifar', is_training=True)
  names = checkpoints.slim_variable_names(train_fn)
  assert any(n.startswith('aux_') for n in names)
  prefix = synthetic.write_checkpoint(names.items(), str(tmp_path / 'nasnet.ckpt'),
                                      'nasnet_cifar')
  (top,) = predict.classify([PHOTO], 'nasnet_cifar', prefix, top=3)
  assert len(top) == 3 and top[0].name.startswith('class ')


def test_unreadable_and_missing_images_name_the_file(tmp_path):
  bad = tmp_path / 'notes.jpg'
  bad.write_text('not an image')
  with pytest.raises(ValueError, match='notes.jpg'):
    predict.load_image(str(bad))
  with pytest.raises(ValueError, match='not found'):
    predict.load_image(str(tmp_path / 'absent.jpg'))


@pytest.mark.slow
def test_classify_image_cli(v3_checkpoint, tmp_path):
  env = {**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '3'}
  cmd = [sys.executable, 'classify_image.py', '--model_name=inception_v3',
         f'--checkpoint_path={v3_checkpoint}', PHOTO]
  out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
  assert out.returncode == 0, out.stderr[-2000:]
  lines = out.stdout.strip().splitlines()
  assert lines[0] == PHOTO
  assert [line.split('.')[0].strip() for line in lines[1:]] == ['1', '2', '3', '4', '5']
  assert all('%' in line and '[' in line for line in lines[1:])

  bad = tmp_path / 'bad.png'
  bad.write_bytes(b'\x89PNG broken')
  out = subprocess.run(cmd[:-1] + [str(bad)], cwd=ROOT, capture_output=True, text=True,
                       timeout=300, env=env)
  assert out.returncode == 1
  assert 'bad.png' in out.stderr and 'Traceback' not in out.stderr
