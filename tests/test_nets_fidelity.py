"""Every net with reference data matches slim: variable names, shapes, end_points and logits.

The reference (tests/data/nets/<name>.json and <name>.seed0.npz) was produced by
running slim's own code on a synthetic checkpoint made with the recipe in
tests/synthetic.py.
"""

import functools
import glob
import json
import os

import keras
import numpy as np
import pytest

import synthetic
from slimvision.nets import checkpoints, nets_factory

DATA = os.path.join(os.path.dirname(__file__), 'data', 'nets')
NETS = sorted(os.path.basename(p)[:-len('.seed0.npz')]
              for p in glob.glob(os.path.join(DATA, '*.seed0.npz')))


def _spec(name):
  with open(os.path.join(DATA, f'{name}.json')) as f:
    return json.load(f)


def _reference(name):
  with np.load(os.path.join(DATA, f'{name}.seed0.npz'), allow_pickle=False) as z:
    return {k: z[k] for k in z.files}


@functools.lru_cache(maxsize=1)
def _built(name):
  spec = _spec(name)
  return nets_factory.get_network_fn(name, num_classes=spec['num_classes'], is_training=False)


@pytest.fixture(scope='module', params=NETS)
def name(request):
  """Each reference net; module-scoped so that pytest runs all tests of one net
  together, and each full-size net is built once and freed before the next."""
  yield request.param
  _built.cache_clear()


def test_reference_nets_are_registered():
  assert {'inception_v3', 'inception_resnet_v2'} <= set(NETS)
  assert set(NETS) <= set(nets_factory.list_networks())


def test_variable_names_and_shapes_equal_slim(name):
  spec = _spec(name)
  ours = checkpoints.slim_variable_names(_built(name))
  want = {n: tuple(s) for n, s in spec['variables']}
  assert sorted(set(want) - set(ours)) == []
  assert sorted(set(ours) - set(want)) == []
  assert {n: s for n, s in ours.items() if s != want[n]} == {}
  model = _built(name).model
  assert model.count_params() == spec['num_parameters']
  trainable = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
  assert trainable == spec['num_trainable_parameters']


def test_end_points_equal_slim(name):
  spec = _spec(name)
  fn = _built(name)
  assert fn.default_image_size == spec['default_image_size']
  shapes = {k: [spec['input_batch']] + list(v.shape[1:]) for k, v in fn.model.output.items()}
  assert shapes == spec['end_points']


def test_synthetic_checkpoint_reproduces_slim_logits(name, tmp_path):
  spec, ref = _spec(name), _reference(name)
  fn = _built(name)
  prefix = synthetic.write_checkpoint(spec['variables'], str(tmp_path / 'model.ckpt'), name)
  report = checkpoints.restore_checkpoint(fn, prefix)
  assert len(report.restored) == len(spec['variables'])
  assert report.skipped_missing == [] and report.excluded == []

  images = synthetic.synth_images(spec['input_batch'], spec['default_image_size'],
                                  spec['input_channels'], seed=int(ref.get('images_seed', 0)))
  logits, end_points = fn(images)
  logits = keras.ops.convert_to_numpy(logits).astype(np.float64)
  want = ref['logits'].astype(np.float64)
  tol = synthetic.tolerance(ref)
  scale = np.abs(want).max()
  assert np.abs(logits - want).max() / scale <= tol
  np.testing.assert_array_equal(logits.argmax(-1), want.argmax(-1))
  np.testing.assert_array_equal(logits.argmax(-1), ref['top1'])

  for end_point, kind, _ in json.loads(str(ref['stored_end_points'])):
    got = keras.ops.convert_to_numpy(end_points[end_point]).astype(np.float64)
    key = 'ep__' + end_point.replace('/', '__')  # how the reference stores scoped names
    if kind == 'full':
      full = ref[key].astype(np.float64)
      assert np.abs(got - full).max() <= tol * np.abs(full).max(), end_point
      continue
    flat = got.reshape(got.shape[0], -1)
    stats = {'mean': flat.mean(1), 'std': flat.std(1), 'absmax': np.abs(flat).max(1),
             'chanmean': got.reshape(got.shape[0], -1, got.shape[-1]).mean(1)}
    absmax = ref[f'{key}__absmax'].astype(np.float64).max()
    for stat, value in stats.items():
      expected = ref[f'{key}__{stat}'].astype(np.float64)
      assert np.abs(value - expected).max() <= tol * absmax, (end_point, stat)


def test_synthetic_images_match_the_stored_reference_inputs():
  # The recipe's images for seed 0, checked once against the arrays slim was run on
  # (only a digest of them is kept in the repository).
  images = synthetic.synth_images(2, 299, 3, seed=0)
  ref = _reference('inception_v3')
  assert images.shape == (2, 299, 299, 3)
  assert float(images.min()) >= -1.0 and float(images.max()) <= 1.0
  digest = np.float64(images.astype(np.float64).sum())
  assert abs(digest - float(ref['images_sum'])) < 1e-3
