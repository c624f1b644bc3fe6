"""Every registered net through the trainer: the registry-wide training tests.

Parametrised over `nets_factory.list_networks()` (nets registered by other
tests excluded), so a net is covered the moment it is registered: its spec's
facts hold; it builds at a small size, every trainable weight gets a non-zero
gradient from the training loss (auxiliary heads included), and its checkpoint
fine-tunes through `core.train.train` (the code path of
train_image_classifier.py) to another number of classes on a small dataset,
with exactly the head scopes its spec declares left out.

The trainer's step runs eagerly here (`tf.config.run_functions_eagerly`):
tracing a full-depth net's training step costs most of a minute and proves
nothing about the net that the eager step does not; the traced step (and the
evaluation, export and classification of what it wrote) runs once per family
in tests/test_registry_deploy.py.
"""

import contextlib
import math

import numpy as np
import pytest
import tensorflow as tf

from registry_testlib import FLOWERS, FLOWERS_CLASSES, NETS, training_size, train_one_step
from slimvision.core import train
from slimvision.nets import checkpoints, nets_factory
from slimvision.preprocessing import preprocessing_factory


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
  size = training_size(name)
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
  # rate 0 the step leaves the weights as they were initialised. The source net
  # is freed first (the largest nets' weights are half a GB); the checkpoint
  # holds its values.
  prefix = checkpoints.save_slim_checkpoint(source, str(tmp_path / 'released.ckpt'))
  before = checkpoints.slim_variable_names(source)
  del source, grads
  with _eagerly():
    result = train_one_step(name, tmp_path / 'train', size, learning_rate=0.0,
                            checkpoint_path=prefix)
  assert result.global_step == 1 and math.isfinite(result.loss)
  assert result.initialised_from == 'checkpoint_path'
  assert tf.train.latest_checkpoint(str(tmp_path / 'train'))
  net = result.network
  assert net.num_classes == FLOWERS_CLASSES and net.image_size == size
  assert net(images)[0].shape == (2, FLOWERS_CLASSES)
  after = checkpoints.slim_variables(net)
  assert set(before) == set(after)
  heads = net.head_scopes()
  changed = {n for n in before if tuple(before[n]) != tuple(after[n].shape)}
  assert changed and {nets_factory.scope_matching(n, heads) for n in changed} == set(heads)
  released = tf.train.load_checkpoint(prefix)
  for n, var in after.items():
    if not any(n.startswith(h + '/') for h in heads) and 'moving_' not in n:
      np.testing.assert_array_equal(var.numpy(), released.get_tensor(n), err_msg=n)


@contextlib.contextmanager
def _eagerly():
  """The trainer's tf.functions run as Python (see the module docstring)."""
  tf.config.run_functions_eagerly(True)
  try:
    yield
  finally:
    tf.config.run_functions_eagerly(False)
