"""Paths and helpers shared by the data tests."""

import hashlib
import json
import os

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'datasets')
RAW = os.path.join(DATA, 'raw_inputs')


def dataset_dir(name: str) -> str:
  return os.path.join(DATA, f'{name}_mini')


def expected(name: str) -> dict:
  with open(os.path.join(dataset_dir(name), 'expected.json')) as f:
    return json.load(f)


def sha256(array) -> str:
  return hashlib.sha256(array.tobytes()).hexdigest()


def cifar10_test_with(directory, bad_example, indices) -> str:
  """Writes `directory`/cifar10/cifar10_test.tfrecord: the mini test split with the
  records at `indices` replaced by `bad_example` (a tf.train.Example); returns the
  dataset directory."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  out = os.path.join(directory, 'cifar10')
  os.makedirs(out)
  src = os.path.join(dataset_dir('cifar10'), 'cifar10_test.tfrecord')
  records = [r.numpy() for r in tf.data.TFRecordDataset(src)]
  with tf.io.TFRecordWriter(os.path.join(out, 'cifar10_test.tfrecord')) as w:
    for i, record in enumerate(records):
      w.write(bad_example.SerializeToString() if i in indices else record)
  return out
