"""The nets' initializers (nets/initializers.py): NumPy's draws give Keras'
distributions, and elsewhere than JAX the values are Keras' own."""

import keras
import numpy as np
import pytest

from slimvision.nets import initializers


@pytest.fixture
def on_host(monkeypatch):
  """The JAX path (draws with NumPy) in this TensorFlow process."""
  monkeypatch.setattr(initializers, '_draws_on_host', lambda seed: isinstance(seed, int))


def _fan_in(shape):
  return initializers.fans(shape)[0]


def _fan_out(shape):
  return initializers.fans(shape)[1]


def _fan_avg(shape):
  return sum(initializers.fans(shape)) / 2


# (ours, Keras', the bound on |value| for a shape, None for an untruncated
# normal): the initializers the nets use. A truncated normal stays within two
# standard deviations of the untruncated distribution it is drawn from.
CASES = [
    (lambda: initializers.TruncatedNormal(stddev=0.09, seed=1),
     lambda: keras.initializers.TruncatedNormal(stddev=0.09, seed=1), lambda shape: 2 * 0.09),
    (lambda: initializers.he_normal(seed=2), lambda: keras.initializers.HeNormal(seed=2),
     lambda shape: 2 * np.sqrt(2 / _fan_in(shape)) / 0.87962566103423978),
    (lambda: initializers.glorot_uniform(seed=3),
     lambda: keras.initializers.GlorotUniform(seed=3),
     lambda shape: np.sqrt(3 / _fan_avg(shape))),
    (lambda: initializers.VarianceScaling(2.0, mode='fan_out', distribution='truncated_normal',
                                          seed=4),
     lambda: keras.initializers.VarianceScaling(2.0, mode='fan_out',
                                                distribution='truncated_normal', seed=4),
     lambda shape: 2 * np.sqrt(2 / _fan_out(shape)) / 0.87962566103423978),
    (lambda: initializers.VarianceScaling(1.5, distribution='untruncated_normal', seed=5),
     lambda: keras.initializers.VarianceScaling(1.5, distribution='untruncated_normal',
                                                seed=5), None),
]


@pytest.mark.parametrize('shape', [(3, 3, 64, 96), (1024, 300)])
@pytest.mark.parametrize('ours, theirs, bound', CASES)
def test_numpy_draws_have_keras_distribution(on_host, ours, theirs, bound, shape):
  got = np.asarray(ours()(shape, dtype='float32'))
  want = np.asarray(theirs()(shape, dtype='float32'))
  assert got.shape == want.shape and got.dtype == np.float32
  assert not np.array_equal(got, want)  # NumPy's generator, not Keras'.
  assert abs(got.std() / want.std() - 1) < 0.03
  assert abs(got.mean()) < 0.05 * want.std()
  if bound is not None:  # Keras' own draws keep the same bound.
    assert np.abs(want).max() <= bound(shape) * (1 + 1e-6)
    assert np.abs(got).max() <= bound(shape) * (1 + 1e-6)
    assert np.abs(got).max() > 0.9 * bound(shape)
  # A seeded initializer gives the same values on each call, as Keras' do.
  np.testing.assert_array_equal(np.asarray(ours()(shape)), got)
  other_seed = type(ours()).from_config({**ours().get_config(), 'seed': 99})
  assert not np.array_equal(np.asarray(other_seed(shape)), got)


@pytest.mark.parametrize('ours, theirs, bound', CASES)
def test_values_are_keras_own_off_jax(ours, theirs, bound):
  np.testing.assert_array_equal(np.asarray(ours()((5, 7, 3, 11))),
                                np.asarray(theirs()((5, 7, 3, 11))))


def test_fans_are_keras_fans():
  assert initializers.fans((3, 3, 64, 96)) == (576, 864)
  assert initializers.fans((1024, 300)) == (1024, 300)
  assert initializers.fans((10,)) == (10, 10)
  assert initializers.fans(()) == (1, 1)


def test_initializers_survive_a_keras_round_trip():
  layer = keras.layers.Dense(4, kernel_initializer=initializers.he_normal(seed=7))
  config = keras.saving.serialize_keras_object(layer)
  restored = keras.saving.deserialize_keras_object(config)
  assert isinstance(restored.kernel_initializer, initializers.VarianceScaling)
  assert restored.kernel_initializer.get_config() == layer.kernel_initializer.get_config()
