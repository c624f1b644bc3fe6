"""nets/checkpoints.py: slim names, restore checks and errors, slim-readable saves."""

import os

import numpy as np
import pytest
import tensorflow as tf

import synthetic
import tf1_slim
from slimvision.nets import checkpoints, nets_factory

IMAGE_SIZE = 107  # Small enough to be quick, large enough for every Inception V3 stage.


@pytest.fixture(scope='module')
def v3_1001():
  return nets_factory.get_network_fn('inception_v3', num_classes=1001, image_size=IMAGE_SIZE)


@pytest.fixture(scope='module')
def slim_ckpt(v3_1001, tmp_path_factory):
  """A synthetic slim checkpoint of Inception V3 (1001 classes), as slim writes them."""
  names = checkpoints.slim_variable_names(v3_1001)
  prefix = str(tmp_path_factory.mktemp('slim') / 'inception_v3.ckpt')
  variables = list(names.items())
  values = [synthetic.synth_value(n, s, 'inception_v3') for n, s in variables]
  tf.raw_ops.SaveV2(prefix=prefix, tensor_names=[n for n, _ in variables] + ['global_step'],
                    shape_and_slices=[''] * (len(variables) + 1),
                    tensors=values + [tf.constant(1234, tf.int64)])
  return prefix


def test_names_are_slim_scopes_plus_slim_leaf(v3_1001):
  names = checkpoints.slim_variable_names(v3_1001)
  assert names['InceptionV3/Conv2d_1a_3x3/weights'] == (3, 3, 3, 32)
  assert names['InceptionV3/Conv2d_1a_3x3/BatchNorm/moving_variance'] == (32,)
  assert names['InceptionV3/Logits/Conv2d_1c_1x1/biases'] == (1001,)
  assert not any(n.endswith(('kernel', 'bias')) for n in names)


def test_restore_sets_every_variable_and_accepts_a_directory(v3_1001, slim_ckpt):
  report = checkpoints.restore_checkpoint(v3_1001, os.path.dirname(slim_ckpt))
  assert report.checkpoint == slim_ckpt
  variables = checkpoints.slim_variables(v3_1001)
  assert sorted(report.restored) == sorted(variables)
  name = 'InceptionV3/Mixed_6b/Branch_1/Conv2d_0b_1x7/weights'
  np.testing.assert_array_equal(
      variables[name].numpy(), synthetic.synth_value(name, (1, 7, 128, 128), 'inception_v3'))


def test_other_num_classes_lists_every_problem_and_suggests_scopes(slim_ckpt):
  fn = nets_factory.get_network_fn('inception_v3', num_classes=10, image_size=IMAGE_SIZE)
  with pytest.raises(ValueError) as err:
    checkpoints.restore_checkpoint(fn, slim_ckpt)
  message = str(err.value)
  for name in ('InceptionV3/Logits/Conv2d_1c_1x1/weights',
               'InceptionV3/Logits/Conv2d_1c_1x1/biases',
               'InceptionV3/AuxLogits/Conv2d_2b_1x1/weights',
               'InceptionV3/AuxLogits/Conv2d_2b_1x1/biases'):
    assert name in message
  assert '[1, 1, 2048, 1001] vs [1, 1, 2048, 10]' in message
  assert 'InceptionV3/Logits,InceptionV3/AuxLogits' in message

  before = checkpoints.slim_variables(fn)['InceptionV3/Logits/Conv2d_1c_1x1/weights'].numpy()
  report = checkpoints.restore_checkpoint(
      fn, slim_ckpt, exclude_scopes='InceptionV3/Logits,InceptionV3/AuxLogits')
  assert len(report.excluded) == 12  # the whole AuxLogits head and the two logits variables
  after = checkpoints.slim_variables(fn)
  np.testing.assert_array_equal(after['InceptionV3/Logits/Conv2d_1c_1x1/weights'].numpy(), before)
  name = 'InceptionV3/Conv2d_1a_3x3/weights'
  np.testing.assert_array_equal(after[name].numpy(),
                                synthetic.synth_value(name, (3, 3, 3, 32), 'inception_v3'))


def test_missing_and_unknown_names(slim_ckpt, tmp_path):
  # A model without the auxiliary head: the checkpoint's AuxLogits are unknown to it.
  no_aux = nets_factory.get_network_fn('inception_v3', num_classes=1001, image_size=IMAGE_SIZE,
                                       create_aux_logits=False)
  with pytest.raises(ValueError, match=r'(?s)10 checkpoint variable\(s\) unknown.*'
                     r"exclude_scopes='InceptionV3/AuxLogits'"):
    checkpoints.restore_checkpoint(no_aux, slim_ckpt)
  checkpoints.restore_checkpoint(no_aux, slim_ckpt, exclude_scopes=['InceptionV3/AuxLogits'])
  # A scope that matches nothing on either side is a typo, not a no-op.
  with pytest.raises(checkpoints.ScopeError,
                     match=r"exclude_scopes names 'InceptionV3/auxlogits' \(did you mean "
                     r"InceptionV3/AuxLogits\?\), which matches no variable"):
    checkpoints.restore_checkpoint(no_aux, slim_ckpt, exclude_scopes='InceptionV3/auxlogits')

  # A checkpoint lacking some variables: missing, unless ignore_missing_vars.
  partial = {n: v for n, v in checkpoints.slim_variables(no_aux).items()
             if not n.startswith('InceptionV3/Mixed_7c')}
  prefix = checkpoints.save_slim_checkpoint(no_aux, str(tmp_path / 'partial.ckpt'),
                                            variables=partial)
  with pytest.raises(ValueError, match=r'model variable\(s\) missing') as err:
    checkpoints.restore_checkpoint(no_aux, prefix)
  # The first names are listed, then how many more; the advice names the scope.
  missing = len(checkpoints.slim_variables(no_aux)) - len(partial)
  assert f'{missing} model variable(s) missing' in str(err.value)
  assert f'... and {missing - 12} more' in str(err.value)
  assert '--checkpoint_exclude_scopes=InceptionV3/Mixed_7c' in str(err.value)
  assert '--ignore_missing_vars' in str(err.value)
  report = checkpoints.restore_checkpoint(no_aux, prefix, ignore_missing_vars=True)
  assert report.skipped_missing and all(n.startswith('InceptionV3/Mixed_7c')
                                        for n in report.skipped_missing)


def test_checkpoint_of_another_network_says_so(slim_ckpt):
  fn = nets_factory.get_network_fn('inception_resnet_v2', num_classes=1001, image_size=75,
                                   create_aux_logits=False)
  with pytest.raises(ValueError, match='another network'):
    checkpoints.restore_checkpoint(fn, slim_ckpt)


def test_missing_path_is_a_clear_error(v3_1001, tmp_path):
  with pytest.raises(ValueError, match='not found'):
    checkpoints.restore_checkpoint(v3_1001, str(tmp_path / 'nope.ckpt'))
  with pytest.raises(ValueError, match='No checkpoint in directory'):
    checkpoints.restore_checkpoint(v3_1001, str(tmp_path))


def test_object_based_training_checkpoint_restores_by_slim_name(v3_1001, slim_ckpt, tmp_path):
  checkpoints.restore_checkpoint(v3_1001, slim_ckpt)
  variables = checkpoints.slim_variables(v3_1001)
  ema = {n: tf.Variable(v.numpy() * 0.5) for n, v in variables.items() if v.trainable}
  ckpt = tf.train.Checkpoint(step=tf.Variable(7, dtype=tf.int64),
                             model=checkpoints.trackable_variables(v3_1001, ema=ema))
  manager = tf.train.CheckpointManager(ckpt, str(tmp_path / 'train'), max_to_keep=2)
  manager.save(checkpoint_number=7)

  fresh = nets_factory.get_network_fn('inception_v3', num_classes=1001, image_size=IMAGE_SIZE)
  checkpoints.restore_checkpoint(fresh, str(tmp_path / 'train'))
  name = 'InceptionV3/Mixed_5b/Branch_0/Conv2d_0a_1x1/weights'
  np.testing.assert_array_equal(checkpoints.slim_variables(fresh)[name].numpy(),
                                variables[name].numpy())
  report = checkpoints.restore_checkpoint(fresh, str(tmp_path / 'train'),
                                          use_moving_averages=True)
  assert report.from_moving_averages == len(ema)
  np.testing.assert_allclose(checkpoints.slim_variables(fresh)[name].numpy(),
                             variables[name].numpy() * 0.5)


@pytest.mark.parametrize('depth_multiplier,image_size,num_classes,seed', [
    (0.25, IMAGE_SIZE, 7, 3),
    pytest.param(1.0, 299, 1001, 11, marks=pytest.mark.slow),
])
def test_saved_checkpoint_is_read_by_a_tf1_slim_graph(tmp_path, depth_multiplier, image_size,
                                                      num_classes, seed):
  """tf_slim's own Inception V3, in a TF1 graph, restores what we save and agrees with us.

  The weights are the synthetic recipe with another seed than the stored reference's.
  """
  tf_slim = tf1_slim.import_tf_slim()
  from tf_slim.nets import inception_v3 as slim_inception_v3  # pylint: disable=g-import-not-at-top

  fn = nets_factory.get_network_fn('inception_v3', num_classes=num_classes,
                                   image_size=image_size, depth_multiplier=depth_multiplier)
  for name, var in checkpoints.slim_variables(fn).items():
    var.assign(synthetic.synth_value(name, var.shape, 'inception_v3', seed=seed))
  prefix = checkpoints.save_slim_checkpoint(fn, str(tmp_path / 'ours.ckpt'), global_step=5)
  images = synthetic.synth_images(2, image_size, 3, seed=seed + 1)
  ours = fn(images)[0].numpy()

  graph = tf.Graph()
  with graph.as_default():
    inputs = tf.compat.v1.placeholder(tf.float32, [None, image_size, image_size, 3])
    with tf_slim.arg_scope(slim_inception_v3.inception_v3_arg_scope()):
      logits, _ = slim_inception_v3.inception_v3(inputs, num_classes=num_classes,
                                                 is_training=False,
                                                 depth_multiplier=depth_multiplier)
    saver = tf.compat.v1.train.Saver(tf_slim.get_model_variables())
    with tf.compat.v1.Session(graph=graph) as sess:
      saver.restore(sess, prefix)
      theirs = sess.run(logits, {inputs: images})
  np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-4 * np.abs(theirs).max())
  np.testing.assert_array_equal(ours.argmax(-1), theirs.argmax(-1))
