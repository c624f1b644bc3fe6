"""LeNet and CifarNet: slim's variable names, end_points and logits on a synthetic checkpoint."""

import json
import os

import numpy as np
import pytest

from slimvision.nets import checkpoints, nets_factory
import synthetic

DATA = os.path.join(os.path.dirname(__file__), 'data', 'nets')
NETS = ('lenet', 'cifarnet')


def _reference(name):
  with open(os.path.join(DATA, f'{name}.json')) as f:
    spec = json.load(f)
  return spec, dict(np.load(os.path.join(DATA, f'{name}.seed0.npz')))


@pytest.mark.parametrize('name', NETS)
def test_variables_end_points_and_parameter_count(name):
  spec, _ = _reference(name)
  fn = nets_factory.get_network_fn(name)
  assert fn.default_image_size == spec['default_image_size']
  assert fn.num_classes == spec['num_classes']
  assert checkpoints.slim_variable_names(fn) == {n: tuple(s) for n, s in spec['variables']}
  assert fn.model.count_params() == spec['num_parameters']
  images = synthetic.synth_images(2, spec['default_image_size'], spec['input_channels'])
  _, end_points = fn(images)
  shapes = {k: list(v.shape) for k, v in end_points.items()}
  for key, shape in spec['end_points'].items():
    assert shapes[key] == shape, key


@pytest.mark.parametrize('name', NETS)
def test_logits_match_slim_on_synthetic_checkpoint(name, tmp_path):
  spec, ref = _reference(name)
  fn = nets_factory.get_network_fn(name, is_training=False)
  prefix = synthetic.write_checkpoint(spec['variables'], str(tmp_path / 'model.ckpt'), name)
  report = checkpoints.restore_checkpoint(fn, prefix)
  assert len(report.restored) == len(spec['variables'])
  images = synthetic.synth_images(2, spec['default_image_size'], spec['input_channels'],
                                  int(ref['images_seed']))
  logits, end_points = fn(images)
  tol = synthetic.tolerance(ref)
  scale = np.abs(ref['logits']).max()
  assert np.abs(np.asarray(logits) - ref['logits']).max() / scale <= tol
  np.testing.assert_array_equal(np.argmax(logits, -1), ref['top1'])
  for key in ('pool2', 'Flatten', 'Predictions'):
    want = ref[f'ep__{key}']
    got = np.asarray(end_points[key])
    assert np.abs(got - want).max() / max(np.abs(want).max(), 1e-6) <= tol, key


def test_lenet_dropout_only_in_training():
  fn = nets_factory.get_network_fn('lenet')
  images = synthetic.synth_images(2, 28, 1)
  a, _ = fn(images, is_training=False)
  b, _ = fn(images, is_training=False)
  np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  c, _ = fn(images, is_training=True)
  assert not np.allclose(np.asarray(a), np.asarray(c))


def test_cifarnet_weight_decay_on_fully_connected_only():
  fn = nets_factory.get_network_fn('cifarnet', weight_decay=0.004)
  # fc3 and fc4 carry the L2 penalty; the convolutions and the logits do not (as slim).
  assert len(fn.model.losses) == 2
