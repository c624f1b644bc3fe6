"""NASNet / PNASNet pieces the fidelity test (inference only) does not reach:
drop path, the training-only auxiliary head, end points and argument checks."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from slimvision.nets import checkpoints, layers, nasnet, nasnet_utils, nets_factory, pnasnet


def _tiny_cifar_config(**changes):
  # Reductions at cells 1 and 2, so the auxiliary head sits on cell 1.
  return nasnet.cifar_config().replace(num_cells=3, num_conv_filters=8, **changes)


def _drop_path_layers(model):
  return [l for l in model.layers if isinstance(l, nasnet_utils.DropPath)]


def test_drop_path_is_identity_at_inference_and_drops_whole_examples_in_training():
  layer = nasnet_utils.DropPath(0.6, seed=1)
  x = np.ones((4000, 2, 3, 5), np.float32)
  np.testing.assert_array_equal(layer(x, training=False), x)
  y = np.asarray(layer(x, training=True))
  per_example = y.reshape(len(y), -1)
  # One draw per example: every value of an example is 0 or 1 / keep_prob.
  assert set(np.unique(per_example.min(1))) <= {0.0, np.float32(1 / 0.6)}
  np.testing.assert_array_equal(per_example.min(1), per_example.max(1))
  kept = float((per_example[:, 0] > 0).mean())
  assert abs(kept - 0.6) < 0.03
  assert abs(float(y.mean()) - 1.0) < 0.05  # the 1 / keep_prob scaling keeps the mean


def test_drop_path_ramps_over_the_training_steps():
  step = tf.Variable(0.0)
  layer = nasnet_utils.DropPath(0.5, total_training_steps=100, current_step=step, seed=0)
  x = np.ones((2000, 1, 1, 1), np.float32)
  assert float(layer.scheduled_keep_prob()) == 1.0
  np.testing.assert_array_equal(layer(x, training=True), x)  # nothing dropped at step 0
  step.assign(50.0)
  assert float(layer.scheduled_keep_prob()) == pytest.approx(0.75)
  step.assign(1000.0)
  assert float(layer.scheduled_keep_prob()) == pytest.approx(0.5)
  kept = float((np.asarray(layer(x, training=True)) > 0).mean())
  assert abs(kept - 0.5) < 0.04
  assert layer.weights == []  # the step source is not a weight of the layer
  # Without a step source the ramp counts as finished.
  assert nasnet_utils.DropPath(0.5, total_training_steps=100).scheduled_keep_prob() == 0.5


def test_drop_path_keep_prob_scales_with_cell_depth_and_is_off_when_not_training():
  config = _tiny_cifar_config()
  inputs = keras.Input((32, 32, 3))
  logits, _ = nasnet.build_nasnet_cifar(inputs, 10, is_training=None, config=config)
  model = keras.Model(inputs, logits)
  total_num_cells = config.num_cells + 2
  keep = {}
  for layer in _drop_path_layers(model):
    keep.setdefault(layers.scope_name(layer.name).split('/')[0], set()).add(layer.keep_prob)
  # Cells are numbered cell_0 (0), reduction_cell_0 (1), cell_1 (2), ... on CIFAR.
  for scope, cell_num in (('cell_0', 0), ('reduction_cell_0', 1), ('cell_1', 2),
                          ('cell_2', 4)):
    expected = 1 - (cell_num + 1) / total_num_cells * (1 - config.drop_path_keep_prob)
    assert len(keep[scope]) == 1 and keep[scope].pop() == pytest.approx(expected), scope
  # The deferred-mode model drops paths only when called in training.
  images = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
  np.testing.assert_array_equal(model(images, training=False), model(images, training=False))
  inputs = keras.Input((32, 32, 3))
  logits, _ = nasnet.build_nasnet_cifar(inputs, 10, is_training=False, config=config)
  assert not _drop_path_layers(keras.Model(inputs, logits))
  # No drop path in the mobile configurations (keep probability 1).
  inputs = keras.Input((96, 96, 3))
  logits, _ = pnasnet.build_pnasnet_mobile(
      inputs, 5, is_training=True, config=pnasnet.mobile_imagenet_config().replace(
          num_cells=3, num_conv_filters=8))
  assert not _drop_path_layers(keras.Model(inputs, logits))


def test_aux_head_is_built_for_training_only():
  config = _tiny_cifar_config()
  for is_training, create_aux_logits, expected in ((True, None, True), (False, None, False),
                                                   (None, None, False), (None, True, True),
                                                   (True, False, False)):
    _, end_points = nasnet.build_nasnet_cifar(keras.Input((32, 32, 3)), 10,
                                              is_training=is_training, config=config,
                                              create_aux_logits=create_aux_logits)
    assert ('AuxLogits' in end_points) == expected, (is_training, create_aux_logits)
  _, end_points = nasnet.build_nasnet_cifar(keras.Input((32, 32, 3)), 10, is_training=True,
                                            config=config.replace(use_aux_head=0))
  assert 'AuxLogits' not in end_points


def test_registry_builds_the_aux_head_when_training():
  train = nets_factory.get_network_fn('nasnet_cifar', is_training=True)
  names = checkpoints.slim_variable_names(train)
  assert 'aux_11/aux_logits/FC/weights' in names
  assert names['aux_11/aux_logits/Conv/weights'] == (4, 4, 128, 768)
  images = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
  logits, end_points = train(images)
  assert logits.shape == (2, 10) and end_points['AuxLogits'].shape == (2, 10)
  infer = nets_factory.get_network_fn('nasnet_cifar', is_training=False)
  assert not [n for n in checkpoints.slim_variable_names(infer) if n.startswith('aux_')]


def test_gradients_reach_every_trainable_weight_in_training():
  inputs = keras.Input((32, 32, 3))
  logits, end_points = nasnet.build_nasnet_cifar(inputs, 10, is_training=None,
                                                 config=_tiny_cifar_config(),
                                                 create_aux_logits=True)
  model = keras.Model(inputs, [logits, end_points['AuxLogits']])
  images = np.random.default_rng(1).uniform(-1, 1, (4, 32, 32, 3)).astype(np.float32)
  with tf.GradientTape() as tape:
    main, aux = model(images, training=True)
    loss = tf.reduce_sum(main ** 2) + 0.4 * tf.reduce_sum(aux ** 2)
  grads = tape.gradient(loss, model.trainable_weights)
  missing = [w.path for w, g in zip(model.trainable_weights, grads) if g is None]
  assert missing == []
  assert all(np.isfinite(g.numpy()).all() for g in grads)


@pytest.mark.parametrize('builder,config,size', [
    (nasnet.build_nasnet_mobile,
     nasnet.mobile_imagenet_config().replace(num_cells=3, num_conv_filters=8), 64),
    (pnasnet.build_pnasnet_mobile,
     pnasnet.mobile_imagenet_config().replace(num_cells=3, num_conv_filters=8), 64)])
def test_final_endpoint_and_bad_arguments(builder, config, size):
  net, end_points = builder(keras.Input((size, size, 3)), 5, is_training=False, config=config,
                            final_endpoint='Cell_1')
  assert list(end_points)[-1] == 'Cell_1' and net is end_points['Cell_1']
  with pytest.raises(ValueError, match='Unknown final_endpoint'):
    builder(keras.Input((size, size, 3)), 5, final_endpoint='Cell_9', config=config)
  with pytest.raises(ValueError, match="Only data_format='NHWC'"):
    builder(keras.Input((size, size, 3)), 5, config=config.replace(data_format='NCHW'))


def test_features_only_and_bounded_activation():
  inputs = keras.Input((32, 32, 3))
  features, end_points = nasnet.build_nasnet_cifar(inputs, 0, is_training=False,
                                                   config=_tiny_cifar_config())
  assert 'Logits' not in end_points and features is end_points['global_pool']
  inputs = keras.Input((32, 32, 3))
  logits, _ = nasnet.build_nasnet_cifar(
      inputs, 10, is_training=False, config=_tiny_cifar_config(use_bounded_activation=True))
  model = keras.Model(inputs, logits)
  assert any(isinstance(l, nasnet_utils.ClipByValue) for l in model.layers)
  out = model(np.random.default_rng(2).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32))
  assert np.isfinite(np.asarray(out)).all()


def test_training_passes_its_global_step_to_drop_path():
  from slimvision.core import config as config_lib  # pylint: disable=g-import-not-at-top
  from slimvision.core import train  # pylint: disable=g-import-not-at-top
  step = tf.Variable(0, dtype=tf.int64)
  net = train.build_network(config_lib.TrainConfig(model_name='nasnet_cifar'), 10, 32, step)
  drop = _drop_path_layers(net.model)
  assert drop and all(l.total_training_steps > 0 for l in drop)
  assert {float(l.scheduled_keep_prob()) for l in drop} == {1.0}  # step 0: nothing dropped
  step.assign(10**9)
  assert [float(l.scheduled_keep_prob()) for l in drop] == pytest.approx(
      [l.keep_prob for l in drop])
  assert 'AuxLogits' in net.model.output
