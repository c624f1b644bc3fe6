"""Preprocessing: eval paths match slim's outputs; train paths have slim's statistics."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

import synthetic
from slimvision.preprocessing import inception_preprocessing
from slimvision.preprocessing import preprocessing_factory

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'preprocessing')
with open(os.path.join(DATA, 'manifest.json')) as _f:
  MANIFEST = json.load(_f)
CASES = MANIFEST['cases']
REFERENCE = np.load(os.path.join(DATA, 'eval_reference.npz'))
TOL = 1e-5  # slim's outputs were bitwise identical across thread settings.


def _jpeg(name):
  with open(os.path.join(DATA, 'inputs', f'{name}.jpg'), 'rb') as f:
    return f.read()


def _image(name):
  return tf.io.decode_jpeg(_jpeg(name), channels=3)


def _check_against_reference(case, out):
  key = f"{case['case']}/{case['npz_key']}"
  stride = int(REFERENCE[key + '/stride'])
  assert list(out.shape) == case['output_shape']
  assert out.dtype == np.float32
  np.testing.assert_allclose(out[::stride, ::stride], REFERENCE[key + '/strided'], atol=TOL)
  np.testing.assert_allclose(out.astype(np.float64).mean(), REFERENCE[key + '/mean'], atol=TOL)
  np.testing.assert_allclose(out.astype(np.float64).mean(axis=(0, 1)),
                             REFERENCE[key + '/channel_mean'], atol=TOL)
  assert abs(out.min() - case['min']) < TOL and abs(out.max() - case['max']) < TOL


@pytest.mark.parametrize('case', CASES, ids=[f"{c['case']}-{c['input']}" for c in CASES])
def test_eval_matches_slim_eagerly(case):
  fn = preprocessing_factory.get_preprocessing(case['factory_name'], is_training=False)
  out = fn(_image(case['input']), case['output_height'], case['output_width'], **case['kwargs'])
  _check_against_reference(case, out.numpy())


@pytest.mark.parametrize('name', sorted({c['case'] for c in CASES}))
def test_eval_matches_slim_in_dataset_map(name):
  cases = [c for c in CASES if c['case'] == name]
  first = cases[0]
  fn = preprocessing_factory.get_preprocessing(first['factory_name'], is_training=False)
  ds = tf.data.Dataset.from_tensor_slices([_jpeg(c['input']) for c in cases])
  ds = ds.map(lambda b: fn(tf.io.decode_jpeg(b, channels=3), first['output_height'],
                           first['output_width'], **first['kwargs']),
              num_parallel_calls=tf.data.AUTOTUNE)
  for case, out in zip(cases, ds.as_numpy_iterator()):
    _check_against_reference(case, out)


@pytest.mark.parametrize('name,expected', [
    ('inception_v3', 'inception'), ('inception_resnet_v2', 'inception'),
    ('mobilenet_v2_140', 'inception'), ('mobilenet_v3_large', 'inception'),
    ('nasnet_large', 'inception'), ('pnasnet_mobile', 'inception'),
    ('resnet_v1_50', 'vgg'), ('resnet_v2_101', 'inception'), ('vgg_16', 'vgg'),
    ('cifarnet', 'cifarnet'), ('lenet', 'lenet'), ('inception', 'inception'), ('vgg', 'vgg')])
def test_factory_names(name, expected):
  assert preprocessing_factory.preprocessing_name_for(name) == expected
  assert preprocessing_factory.get_preprocessing(name).preprocessing_name == expected


def test_factory_unknown_name():
  with pytest.raises(ValueError, match="Did you mean 'inception_v3'"):
    preprocessing_factory.get_preprocessing('inceptoin_v3')


def test_nets_in_registry_have_preprocessing():
  from slimvision.nets import nets_factory  # pylint: disable=g-import-not-at-top
  for name in synthetic.package_networks():
    spec = nets_factory.get_spec(name)
    assert preprocessing_factory.preprocessing_name_for(name) == spec.preprocessing, name


def _crop_stats(bbox, draws, seed):
  """Crop fraction / aspect from the same sampler the train path uses."""
  tf.random.set_seed(seed)
  shape = tf.constant([427, 640, 3])
  areas, aspects, covered = [], [], []
  for _ in range(draws):
    begin, size = inception_preprocessing.sample_crop_window(shape, bbox)
    h, w = int(size[0]), int(size[1])
    y, x = int(begin[0]), int(begin[1])
    areas.append(h * w / (427 * 640))
    aspects.append(w / h)
    if bbox is not None:
      by0, bx0, by1, bx1 = [v * s for v, s in zip(bbox, (427, 640, 427, 640))]
      inter = max(0, min(y + h, by1) - max(y, by0)) * max(0, min(x + w, bx1) - max(x, bx0))
      covered.append(inter / ((by1 - by0) * (bx1 - bx0)))
  return np.array(areas), np.array(aspects), np.array(covered)


@pytest.mark.parametrize('case', ['with_bbox', 'without_bbox'])
def test_train_crop_statistics_like_slim(case):
  ref = json.load(open(os.path.join(DATA, 'train_stats.json')))['cases'][case]
  bbox = ref['bbox_yxyx']
  areas, aspects, covered = _crop_stats(bbox, 200, seed=3)
  want = ref['crop_area_fraction_of_image']
  # 200 draws: the mean's standard error is ~0.013; allow 4 of them.
  assert abs(areas.mean() - want['mean']) < 0.055
  assert areas.min() >= 0.05 - 1e-3 and areas.max() <= 1.0
  assert abs(np.median(areas) - want['quantiles']['50']) < 0.08
  assert aspects.min() >= 0.74 and aspects.max() <= 1.34
  if bbox is not None:
    assert covered.min() >= 0.1 - 0.02
    assert abs(covered.mean() - ref['bbox_fraction_covered_by_crop']['mean']) < 0.08


def _train_outputs(fn, draws):
  return np.stack([fn().numpy() for _ in range(draws)])


@pytest.mark.parametrize('fused', [False, True])
def test_inception_train_path(fused):
  tf.random.set_seed(7)
  jpeg = _jpeg('rocket_427x640')
  bbox = tf.constant([[0.3, 0.1, 0.8, 0.45]])
  if fused:
    fn = lambda: inception_preprocessing.preprocess_for_train_from_jpeg(jpeg, 299, 299, bbox)
  else:
    prep = preprocessing_factory.get_preprocessing('inception_v3', is_training=True)
    image = _image('rocket_427x640')
    fn = lambda: prep(image, 299, 299, bbox=bbox)
  outs = _train_outputs(fn, 24)
  assert outs.shape == (24, 299, 299, 3) and outs.dtype == np.float32
  assert outs.min() >= -1.0 and outs.max() <= 1.0
  # Random crops differ from draw to draw; the mean brightness is slim's (-0.41 +- 0.17).
  assert len({float(o.mean()) for o in outs}) == 24
  assert abs(outs.mean(axis=(1, 2, 3)).mean() - (-0.41)) < 0.15


def test_closed_form_saturation_equals_tensorflow_kernel():
  rng = np.random.default_rng(0)
  # After the brightness step pixels lie in about [-0.13, 1.13]; include greys,
  # black, all-negative pixels and single saturated channels.
  x = rng.uniform(-0.15, 1.15, (48, 40, 3)).astype(np.float32)
  x[:4] = rng.uniform(-0.2, 0.0, (4, 40, 3))
  x[4:8] = x[4:8, :, :1]
  x[8, :8] = 0.0
  x[9, :8] = [1.0, 0.0, 0.0]
  for factor in (0.5, 0.77, 1.0, 1.31, 1.5):
    want = tf.image.adjust_saturation(x, factor).numpy()
    got = inception_preprocessing.adjust_saturation(tf.constant(x), factor).numpy()
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-6, err_msg=f'factor {factor}')


def _slim_fast_colour(image_uint8, size, flip, delta, factor, grayscale=False):
  """slim's fast-mode steps after the crop, op by op (TensorFlow's own kernels)."""
  x = tf.image.convert_image_dtype(image_uint8, tf.float32)
  x = tf.image.resize(x, size)
  if flip:
    x = tf.image.flip_left_right(x)
  x = tf.image.adjust_saturation(tf.image.adjust_brightness(x, delta), factor)
  x = tf.clip_by_value(x, 0.0, 1.0)
  if grayscale:
    x = tf.image.rgb_to_grayscale(x)
  return ((x - 0.5) * 2.0).numpy()


@pytest.mark.parametrize('grayscale', [False, True])
def test_fused_photometric_step_equals_slim_ops(grayscale):
  crop = tf.constant(np.random.default_rng(1).integers(0, 256, (90, 130, 3)), tf.uint8)
  resized = tf.image.resize(crop, [64, 72])  # uint8 in, float [0, 255] out
  for flip, delta, factor in [(False, -0.1, 0.6), (True, 0.12, 1.45), (True, 0.0, 1.0)]:
    want = _slim_fast_colour(crop, [64, 72], flip, delta, factor, grayscale)
    got = inception_preprocessing.fast_photometric(
        resized, flip, delta, factor, input_scale=1 / 255., grayscale=grayscale).numpy()
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=3e-6)


def test_fast_mode_draws_map_to_slim_ranges():
  """Uniforms (u0, u1, u2) -> flip if u0 < 0.5, delta (2 u1 - 1) 32/255, factor 0.5 + u2."""
  crop = tf.constant(np.random.default_rng(2).integers(0, 256, (40, 50, 3)), tf.uint8)
  resized = tf.image.resize(crop, [32, 32])
  for u, flip, delta, factor in [((0.2, 0.0, 1.0), True, -32 / 255., 1.5),
                                 ((0.7, 1.0, 0.0), False, 32 / 255., 0.5),
                                 ((0.5, 0.5, 0.5), False, 0.0, 1.0)]:
    got = inception_preprocessing._random_fast_photometric(  # pylint: disable=protected-access
        resized, tf.constant(u, tf.float32), 1 / 255., False).numpy()
    np.testing.assert_allclose(got, _slim_fast_colour(crop, [32, 32], flip, delta, factor),
                               rtol=0, atol=3e-6)


def test_flip_rate_and_exact_mirror():
  tf.random.set_seed(11)
  image = tf.reshape(tf.range(2 * 5 * 3, dtype=tf.float32), [2, 5, 3])
  flips = 0
  for _ in range(200):
    out = tf.image.random_flip_left_right(image).numpy()
    if not np.array_equal(out, image.numpy()):
      np.testing.assert_array_equal(out, image.numpy()[:, ::-1])
      flips += 1
  assert 0.38 < flips / 200 < 0.62  # slim: 0.46 and 0.50


def test_train_paths_in_dataset_map():
  jpeg = _jpeg('astronaut_512x512')
  for name, size in [('inception_v3', 299), ('vgg_16', 224), ('cifarnet', 32), ('lenet', 28)]:
    fn = preprocessing_factory.get_preprocessing(name, is_training=True)
    ds = tf.data.Dataset.from_tensors(jpeg).repeat(3).map(
        lambda b, fn=fn, size=size: fn(tf.io.decode_jpeg(b, channels=3), size, size),
        num_parallel_calls=2)
    for out in ds.as_numpy_iterator():
      assert out.shape == (size, size, 3) and np.isfinite(out).all(), name
  fused = tf.data.Dataset.from_tensors(jpeg).repeat(3).map(
      lambda b: inception_preprocessing.preprocess_for_train_from_jpeg(b, 299, 299))
  assert all(o.shape == (299, 299, 3) for o in fused.as_numpy_iterator())


def test_fused_path_accepts_png_and_grayscale():
  png = tf.io.encode_png(_image('flower_tiny_32x32'))
  gray = tf.io.encode_jpeg(tf.image.rgb_to_grayscale(_image('flower_tiny_32x32')))
  for data in (png, gray):
    out = inception_preprocessing.preprocess_for_train_from_jpeg(data, 64, 64, fast_mode=False)
    assert out.shape == (64, 64, 3)


def test_vgg_train_and_grayscale():
  fn = preprocessing_factory.get_preprocessing('vgg_16', is_training=True, use_grayscale=True)
  out = fn(_image('rocket_427x640'), 224, 224)
  assert out.shape == (224, 224, 1)
  lenet = preprocessing_factory.get_preprocessing('lenet')(tf.zeros([20, 36, 1], tf.uint8), 28, 28)
  assert lenet.shape == (28, 28, 1)
