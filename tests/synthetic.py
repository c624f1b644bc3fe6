"""Synthetic slim checkpoints and images: the recipe the reference logits were made with.

For a variable `name` of `shape` in net `net` and weight seed `seed`, the value
is drawn from `numpy.random.default_rng(crc32(name))` (seed 0) or
`default_rng([seed, crc32(name)])` (seed > 0): zero-mean-per-output He-scaled
normals for weights (times a per-net gain), small normals for biases, beta and
moving means, `1 + 0.1 N` for gamma and U(0.5, 1.5) for moving variances.
Images are smooth gradients plus low-frequency sinusoids in [-1, 1].
"""

import math
import os
import re
import zlib
from typing import Iterable, Sequence, Tuple

import numpy as np

_WEIGHTS = ('weights', 'pointwise_weights', 'kernel')

# Per-net gains (all weights / depthwise weights / last conv of resnet bottlenecks).
_GAINS = {
    'inception_v4': {'gain': 1.6},
    'resnet_v1_152': {'residual_gain': 0.5},
    'mobilenet_v1': {'gain': 2.0, 'dw_gain': 1.0},
    'mobilenet_v1_050': {'gain': 2.0, 'dw_gain': 1.0},
    'mobilenet_v2': {'gain': 1.2},
    'nasnet_large': {'gain': 1.2, 'dw_gain': 1.0},
    'nasnet_cifar': {'gain': 1.2, 'dw_gain': 1.0},
    'pnasnet_mobile': {'gain': 1.2, 'dw_gain': 1.0},
    'pnasnet_large': {'gain': 1.3, 'dw_gain': 1.0},
    'mobilenet_v3_small_minimalistic': {'gain': 1.2},
    'mobilenet_edgetpu_075': {'gain': 1.2},
}


def _gain(name: str, net: str) -> float:
  cfg = _GAINS.get(net, {})
  if net.startswith(('resnet_v1', 'resnet_v2')) and re.search(
      r'/bottleneck_v[12]/conv3/weights$', name):
    return cfg.get('residual_gain', 0.25)
  return cfg.get('gain', math.sqrt(2.0))


def synth_value(name: str, shape: Sequence[int], net: str, seed: int = 0) -> np.ndarray:
  shape = tuple(int(d) for d in shape)
  crc = zlib.crc32(name.encode('utf-8'))
  rng = np.random.default_rng(crc if seed == 0 else [int(seed), crc])
  last = name.split('/')[-1]
  if last == 'depthwise_weights':
    fan_in = int(np.prod(shape[:2]))
    gain = _GAINS.get(net, {}).get('dw_gain', _gain(name, net))
    value = rng.standard_normal(shape) * math.sqrt(1.0 / fan_in) * gain
  elif last in _WEIGHTS:
    fan_in = int(np.prod(shape[:-1])) if len(shape) >= 2 else 1
    z = rng.standard_normal(shape)
    if len(shape) >= 2 and fan_in > 1:
      z = z.reshape(fan_in, shape[-1])
      z = (z - z.mean(axis=0, keepdims=True)) * math.sqrt(fan_in / (fan_in - 1.0))
      z = z.reshape(shape)
    value = z * math.sqrt(1.0 / max(fan_in, 1)) * _gain(name, net)
  elif last in ('biases', 'bias'):
    value = 0.01 * rng.standard_normal(shape)
  elif last == 'beta':
    value = 0.1 * rng.standard_normal(shape)
  elif last == 'gamma':
    value = 1.0 + 0.1 * rng.standard_normal(shape)
  elif last == 'moving_mean':
    value = 0.1 * rng.standard_normal(shape)
  elif last == 'moving_variance':
    value = rng.uniform(0.5, 1.5, size=shape)
  else:
    value = 0.01 * rng.standard_normal(shape)
  return np.asarray(value, dtype=np.float32)


def write_checkpoint(variables: Iterable[Tuple[str, Sequence[int]]], prefix: str, net: str,
                     seed: int = 0) -> str:
  """Writes a TF1 name-based checkpoint holding `synth_value` for each variable."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  variables = sorted((str(n), list(s)) for n, s in variables)
  names = [n for n, _ in variables]
  values = [synth_value(n, s, net, seed) for n, s in variables]
  os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
  tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[''] * len(names),
                    tensors=values)
  return prefix


def package_networks() -> list:
  """The nets the package registers, sorted: `list_networks()` without those a
  test registered (the tiny nets of train_testlib), which have no reference data."""
  from slimvision.nets import nets_factory  # pylint: disable=g-import-not-at-top
  return [n for n in nets_factory.list_networks()
          if nets_factory.get_spec(n).builder.__module__.startswith('slimvision.nets.')]


def synth_images(n: int, size: int, channels: int = 3, seed: int = 0) -> np.ndarray:
  """Smooth deterministic float32 images [n, size, size, channels] in [-1, 1]."""
  rng = np.random.default_rng(seed)
  yy, xx = np.meshgrid(np.linspace(0.0, 1.0, size), np.linspace(0.0, 1.0, size),
                       indexing='ij')
  out = np.zeros((n, size, size, channels), dtype=np.float64)
  for i in range(n):
    # Consecutive images differ in colour, contrast and spatial frequency.
    sign = np.where((np.arange(channels) + i) % 2 == 0, 1.0, -1.0)
    offset = sign * rng.uniform(0.2, 0.5, size=channels)
    contrast = rng.uniform(0.2, 0.3) if i % 2 == 0 else rng.uniform(0.5, 0.6)
    fscale = rng.uniform(0.5, 0.8) if i % 2 == 0 else rng.uniform(1.5, 2.0)
    for c in range(channels):
      gx, gy = rng.uniform(-1.0, 1.0, size=2)
      img = gx * (xx - 0.5) + gy * (yy - 0.5)
      for _ in range(4):
        fx, fy = rng.uniform(0.5, 2.0, size=2) * fscale * rng.choice([-1.0, 1.0], size=2)
        phase = rng.uniform(0.0, 2.0 * math.pi)
        amp = rng.uniform(0.3, 1.0)
        img = img + amp * np.sin(2.0 * math.pi * (fx * xx + fy * yy) + phase)
      lo, hi = img.min(), img.max()
      img = (img - lo) / max(hi - lo, 1e-12) * 2.0 - 1.0
      out[i, :, :, c] = np.clip(offset[c] + contrast * img, -1.0, 1.0)
  return out.astype(np.float32)


def tolerance(reference) -> float:
  """max(1e-4, 20 x the float noise measured on slim itself), relative to max|logit|."""
  noise = max(float(reference.get('noise', 0.0)), float(reference.get('noise_kernel', 0.0)))
  return max(1e-4, 20.0 * noise)
