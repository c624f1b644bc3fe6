"""Writes the embedded `digits` dataset (no download); see digits.py for the recipe and split."""

import os

from absl import logging
import numpy as np
import tensorflow as tf

from . import dataset_utils
from . import digits
from . import download_and_convert_mnist
from . import shards

DATA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'digits.npz')
SPLIT_SEED = 0
TEST_FRACTION_DENOMINATOR = 6  # 1/6 of each class goes to test.
_PRECISION_BITS = 22


def load_raw():
  """The 1,797 8x8 digits (uint8, values 0..16) and labels."""
  with np.load(DATA_FILE) as data:
    return data['images'], data['labels']


def split_indices(labels: np.ndarray):
  """{'train': indices, 'test': indices}, each in the original order."""
  rng = np.random.RandomState(SPLIT_SEED)
  test = []
  for c in range(digits.NUM_CLASSES):
    members = np.flatnonzero(labels == c)
    test.extend(rng.permutation(members)[:len(members) // TEST_FRACTION_DENOMINATOR])
  test = np.sort(np.array(test, np.int64))
  train = np.setdiff1d(np.arange(len(labels)), test)
  return {'train': train, 'test': test}


def _bilinear_coefficients(in_size: int, out_size: int) -> np.ndarray:
  """[out, in] fixed-point (22-bit) weights of a triangle-filter resize (Pillow's BILINEAR)."""
  scale = in_size / out_size
  support = max(scale, 1.0)
  weights = np.zeros((out_size, in_size), np.float64)
  for i in range(out_size):
    center = (i + 0.5) * scale
    lo = max(int(center - support + 0.5), 0)
    hi = min(int(center + support + 0.5), in_size)
    x = (np.arange(lo, hi) - center + 0.5) / max(scale, 1.0)
    w = np.clip(1.0 - np.abs(x), 0.0, None)
    weights[i, lo:hi] = w / w.sum()
  fixed = weights * (1 << _PRECISION_BITS)
  return np.where(fixed < 0, np.trunc(fixed - 0.5), np.trunc(fixed + 0.5)).astype(np.int64)


def _resize_axis(images: np.ndarray, coefficients: np.ndarray, axis: int) -> np.ndarray:
  acc = np.tensordot(images.astype(np.int64), coefficients, axes=([axis], [1]))
  acc = np.moveaxis(acc, -1, axis) + (1 << (_PRECISION_BITS - 1))
  return np.clip(acc >> _PRECISION_BITS, 0, 255).astype(np.uint8)


def to_mnist_format(images: np.ndarray) -> np.ndarray:
  """8x8 (0..16) -> 28x28 uint8, the way MNIST digits are framed.

  Each image is scaled by 255/16 (to uint8, truncating), resized bilinearly to
  20x20 (a triangle filter in 8-bit fixed point, width then height, the same
  arithmetic as Pillow's `Image.resize(..., BILINEAR)`) and centred in 28x28.
  """
  scaled = (images.astype(np.float32) * (255.0 / 16.0)).astype(np.uint8)
  coefficients = _bilinear_coefficients(images.shape[-1], 20)
  resized = _resize_axis(_resize_axis(scaled, coefficients, axis=2), coefficients, axis=1)
  out = np.zeros((len(images), 28, 28), np.uint8)
  out[:, 4:24, 4:24] = resized
  return out


def get_output_filename(dataset_dir: str, split_name: str) -> str:
  return os.path.join(dataset_dir, f'digits_{split_name}.tfrecord')


def run(dataset_dir: str) -> None:
  """Writes digits_train / digits_test TFRecords and labels.txt into dataset_dir."""
  tf.io.gfile.makedirs(dataset_dir)
  images, labels = load_raw()
  images = to_mnist_format(images)
  for split, index in split_indices(labels).items():
    if len(index) != digits.SPLITS_TO_SIZES[split]:
      raise RuntimeError(f'digits {split}: {len(index)} examples, expected '
                         f'{digits.SPLITS_TO_SIZES[split]}; the packaged data changed.')
    download_and_convert_mnist.write_images(images[index], labels[index],
                                            get_output_filename(dataset_dir, split),
                                            f'digits {split}')
    shards.write_manifest(dataset_dir, 'digits', split,
                          [get_output_filename(dataset_dir, split)])
  dataset_utils.write_label_file(dict(enumerate(digits.CLASS_NAMES)), dataset_dir)
  logging.info('Finished writing digits to %s.', dataset_dir)
