"""nets_factory registry and the layer helpers every family builds on."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from slimvision.nets import checkpoints, layers, nets_factory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_list_networks_is_sorted_and_filters():
  names = nets_factory.list_networks()
  assert names == sorted(names)
  assert {'inception_v3', 'inception_resnet_v2'} <= set(names)
  assert nets_factory.list_networks('inception_resnet*') == ['inception_resnet_v2']


def test_unknown_name_suggests_the_closest():
  with pytest.raises(ValueError, match=r"Unknown model_name 'inception_v33'\. Did you mean "
                     r"'inception_v3'.*Known: "):
    nets_factory.get_network_fn('inception_v33')


def test_registering_a_name_twice_raises():
  with pytest.raises(ValueError, match='already registered'):
    nets_factory.register_network('inception_v3', default_image_size=1,
                                  hparams=layers.ConvHParams())(lambda *a, **k: None)


def test_network_fn_contract():
  fn = nets_factory.get_network_fn('inception_v3', num_classes=5, image_size=107,
                                   depth_multiplier=0.25)
  assert fn.default_image_size == 299 and fn.image_size == 107 and fn.num_classes == 5
  assert isinstance(fn.model, keras.Model) and fn.model.built
  images = np.random.default_rng(0).uniform(-1, 1, (2, 107, 107, 3)).astype(np.float32)
  logits, end_points = fn(images)
  assert logits.shape == (2, 5)
  assert {'Mixed_7c', 'AuxLogits', 'PreLogits', 'Logits', 'Predictions'} <= set(end_points)
  np.testing.assert_allclose(np.sum(end_points['Predictions'], -1), 1.0, rtol=1e-5)
  # Same weights on every call, and no new variables.
  n_vars = len(fn.model.weights)
  again, _ = fn(images)
  np.testing.assert_array_equal(logits, again)
  assert len(fn.model.weights) == n_vars


def test_is_training_switches_batch_norm_and_dropout():
  fn = nets_factory.get_network_fn('inception_v3', num_classes=3, image_size=107,
                                   depth_multiplier=0.25, is_training=True)
  images = np.random.default_rng(1).uniform(-1, 1, (4, 107, 107, 3)).astype(np.float32)
  moving = checkpoints.slim_variables(fn)['InceptionV3/Conv2d_1a_3x3/BatchNorm/moving_mean']
  before = moving.numpy().copy()
  train_a, _ = fn(images)
  assert not np.array_equal(before, moving.numpy())  # training updates the statistics
  eval_a, _ = fn(images, is_training=False)
  eval_b, _ = fn(images, is_training=False)
  np.testing.assert_array_equal(eval_a, eval_b)
  assert not np.allclose(train_a, eval_a)


def test_weight_decay_follows_slims_convention():
  fn = nets_factory.get_network_fn('inception_v3', num_classes=3, image_size=107,
                                   depth_multiplier=0.25, weight_decay=0.01)
  fn(np.zeros((1, 107, 107, 3), np.float32))
  weights = [v for n, v in checkpoints.slim_variables(fn).items() if n.endswith('/weights')]
  expected = sum(0.01 * float(np.sum(np.square(w.numpy()))) / 2 for w in weights)
  assert float(sum(fn.model.losses)) == pytest.approx(expected, rel=1e-4)
  no_decay = nets_factory.get_network_fn('inception_v3', num_classes=3, image_size=107,
                                         depth_multiplier=0.25)
  assert not no_decay.model.losses


@pytest.mark.parametrize('name', ['inception_v3', 'inception_resnet_v2'])
def test_features_only_and_other_num_classes(name):
  fn = nets_factory.get_network_fn(name, num_classes=0, image_size=107)
  features, end_points = fn(np.zeros((1, 107, 107, 3), np.float32))
  assert 'Logits' not in end_points and 'AuxLogits' not in end_points
  assert features.shape[-1] in (2048, 1536)
  fn = nets_factory.get_network_fn(name, num_classes=17, image_size=107)
  assert fn(np.zeros((1, 107, 107, 3), np.float32))[0].shape == (1, 17)


def test_final_endpoint_and_bad_arguments():
  from slimvision.nets import inception_resnet_v2, inception_v3  # pylint: disable=g-import-not-at-top
  inputs = keras.Input((299, 299, 3))
  net, end_points = inception_v3.inception_v3_base(inputs, final_endpoint='Mixed_5b')
  assert list(end_points)[-1] == 'Mixed_5b' and tuple(net.shape) == (None, 35, 35, 256)
  with pytest.raises(ValueError, match='Unknown final_endpoint'):
    inception_v3.inception_v3_base(keras.Input((299, 299, 3)), final_endpoint='Mixed_9z')
  with pytest.raises(ValueError, match='depth_multiplier must be greater than zero'):
    inception_v3.inception_v3_base(keras.Input((299, 299, 3)), depth_multiplier=0)
  with pytest.raises(ValueError, match='output_stride must be 8 or 16'):
    inception_resnet_v2.inception_resnet_v2_base(keras.Input((299, 299, 3)), output_stride=4)
  net, _ = inception_resnet_v2.inception_resnet_v2_base(
      keras.Input((299, 299, 3)), final_endpoint='PreAuxLogits', output_stride=8)
  assert tuple(net.shape) == (None, 33, 33, 1088)
  net, _ = inception_resnet_v2.inception_resnet_v2_base(
      keras.Input((299, 299, 3)), final_endpoint='Mixed_6a', align_feature_maps=True)
  assert tuple(net.shape) == (None, 19, 19, 1088)


def test_layer_names_round_trip():
  scope = 'InceptionResnetV2/Repeat_1/block17_3/Branch_1/Conv2d_0b_1x7'
  name = layers.layer_name(scope)
  # Valid on every backend: Keras forbids '/', PyTorch's parameter names '.'.
  assert '/' not in name and '.' not in name
  assert layers.scope_name(name) == scope
  with pytest.raises(ValueError, match='must not contain'):
    layers.layer_name('a>b/c')


@pytest.mark.parametrize('scale', [False, True])
def test_fused_batch_norm_matches_keras(scale):
  rng = np.random.default_rng(0)
  x = rng.normal(size=(4, 5, 5, 6)).astype(np.float32) * 3 + 1
  ours = layers.BatchNorm(momentum=0.9, epsilon=0.001, scale=scale)
  ref = keras.layers.BatchNormalization(momentum=0.9, epsilon=0.001, scale=scale)
  ours.build(x.shape)
  ref.build(x.shape)
  values = {w.name: (rng.uniform(0.5, 1.5, w.shape) if w.name == 'moving_variance'
                     else rng.normal(size=w.shape)).astype(np.float32) for w in ref.weights}
  for layer in (ours, ref):
    for w in layer.weights:
      w.assign(values[w.name])
  np.testing.assert_allclose(ours(x, training=False), ref(x, training=False), atol=1e-5)
  np.testing.assert_allclose(ours(x, training=True), ref(x, training=True), atol=1e-4)
  # The fused kernel folds the unbiased batch variance into the moving average (as slim did).
  batch_var = x.reshape(-1, 6).var(0, ddof=1)
  expected = values['moving_variance'] * 0.9 + batch_var * 0.1
  np.testing.assert_allclose(ours.moving_variance.numpy(), expected, rtol=1e-4)
  np.testing.assert_allclose(ours.moving_mean.numpy(),
                             values['moving_mean'] * 0.9 + x.reshape(-1, 6).mean(0) * 0.1,
                             rtol=1e-4, atol=1e-6)
  # A frozen layer runs in inference mode even when training.
  ours.trainable = False
  np.testing.assert_array_equal(ours(x, training=True), ours(x, training=False))


def test_slim_style_import_from_the_checkout_root():
  code = ('from nets import nets_factory; from nets import checkpoints; '
          "print(','.join(nets_factory.list_networks('inception_*')))")
  out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True,
                       timeout=120, env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '3'})
  assert out.returncode == 0, out.stderr
  assert 'inception_resnet_v2' in out.stdout and 'inception_v3' in out.stdout
