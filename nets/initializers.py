"""The nets' random weight initializers: Keras', with JAX's draws made on the host.

Keras' initializers draw with the backend's random ops. JAX compiles a random
op for each new shape (an XLA compilation, tens of milliseconds each), so
building a deep net, whose kernels come in a hundred shapes or more, spends
nearly all its time compiling random number generators: Inception V1 built
in 15.9 s with Keras' draws and in 0.8 s with NumPy's (`benchmarks/jax_build.py`,
2 cores). Under JAX these initializers draw the same distributions with
NumPy instead; on the other backends they are Keras' own, value for value.

The values differ from Keras' JAX draws (another generator), which no
checkpoint or test relies on: each initializer is still deterministic for its
seed (`keras.utils.set_random_seed` fixes the default seeds), and a seeded
initializer gives the same values on each call, as Keras' do.
"""

import math
from typing import Optional, Sequence

import keras
import numpy as np

# Keras' truncation: normal draws re-drawn until within two standard deviations,
# and the stddev of the truncated distribution that gives a target variance.
_TRUNCATION = 2.0
_TRUNCATED_STDDEV = 0.87962566103423978


def _draws_on_host(seed) -> bool:
  """Whether to draw with NumPy: under JAX, for an integer seed (a
  SeedGenerator's state lives on the backend and is left to Keras)."""
  return keras.backend.backend() == 'jax' and isinstance(seed, int)


def _truncated_standard_normal(rng: np.random.Generator, shape: Sequence[int]) -> np.ndarray:
  values = rng.standard_normal(tuple(shape))
  outside = np.abs(values) > _TRUNCATION
  while outside.any():
    values[outside] = rng.standard_normal(int(outside.sum()))
    outside = np.abs(values) > _TRUNCATION
  return values


def _as_tensor(values: np.ndarray, dtype: Optional[str]):
  dtype = keras.backend.standardize_dtype(dtype or keras.backend.floatx())
  return keras.ops.convert_to_tensor(values.astype(dtype), dtype=dtype)


def _numpy_dtype(dtype: Optional[str]) -> bool:
  """Float dtypes NumPy has (bfloat16 and the like are left to Keras)."""
  return keras.backend.standardize_dtype(dtype or keras.backend.floatx()) in (
      'float16', 'float32', 'float64')


def fans(shape: Sequence[int]):
  """(fan_in, fan_out) of a weight shape, as Keras counts them: a kernel
  `[*receptive_field, in, out]` has fan_in `in * prod(receptive_field)`."""
  shape = tuple(int(d) for d in shape)
  if not shape:
    return 1, 1
  if len(shape) == 1:
    return shape[0], shape[0]
  receptive_field = math.prod(shape[:-2])
  return shape[-2] * receptive_field, shape[-1] * receptive_field


@keras.saving.register_keras_serializable(package='slimvision')
class TruncatedNormal(keras.initializers.TruncatedNormal):
  """`keras.initializers.TruncatedNormal` (slim's `trunc_normal(stddev)`):
  normal values re-drawn until within two standard deviations of the mean."""

  def __call__(self, shape, dtype=None):
    if not (_draws_on_host(self.seed) and _numpy_dtype(dtype)):
      return super().__call__(shape, dtype=dtype)
    rng = np.random.default_rng(self.seed)
    return _as_tensor(_truncated_standard_normal(rng, shape) * self.stddev + self.mean, dtype)


@keras.saving.register_keras_serializable(package='slimvision')
class VarianceScaling(keras.initializers.VarianceScaling):
  """`keras.initializers.VarianceScaling` (slim's `variance_scaling_initializer`):
  variance `scale / n` for n the fan in, out or their mean (`fans`)."""

  def __call__(self, shape, dtype=None):
    if (not (_draws_on_host(self.seed) and _numpy_dtype(dtype))
        or self.input_axes is not None or self.output_axes is not None):
      return super().__call__(shape, dtype=dtype)
    fan_in, fan_out = fans(shape)
    n = {'fan_in': fan_in, 'fan_out': fan_out}.get(self.mode, (fan_in + fan_out) / 2.0)
    variance = self.scale / max(1.0, n)
    rng = np.random.default_rng(self.seed)
    if self.distribution == 'truncated_normal':
      values = _truncated_standard_normal(rng, shape) * (math.sqrt(variance) / _TRUNCATED_STDDEV)
    elif self.distribution == 'untruncated_normal':
      values = rng.standard_normal(tuple(shape)) * math.sqrt(variance)
    else:
      limit = math.sqrt(3.0 * variance)
      values = rng.uniform(-limit, limit, tuple(shape))
    return _as_tensor(values, dtype)


def he_normal(seed=None) -> VarianceScaling:
  """`keras.initializers.HeNormal`: truncated normal, variance 2 / fan_in."""
  return VarianceScaling(2.0, mode='fan_in', distribution='truncated_normal', seed=seed)


def glorot_uniform(seed=None) -> VarianceScaling:
  """`keras.initializers.GlorotUniform` (slim's xavier_initializer): uniform,
  variance 2 / (fan_in + fan_out)."""
  return VarianceScaling(1.0, mode='fan_avg', distribution='uniform', seed=seed)
