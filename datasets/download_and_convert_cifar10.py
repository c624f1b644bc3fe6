"""Downloads CIFAR-10 (python version) and writes slim's cifar10 TFRecords.

Output: `cifar10_train.tfrecord` (data_batch_1..5), `cifar10_test.tfrecord`
(test_batch), 32x32x3 PNGs, and `labels.txt`.
"""

import os
import pickle
import tarfile

from absl import logging
import numpy as np
import tensorflow as tf

from . import cifar10
from . import dataset_utils
from . import shards

DATA_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz'
_NUM_TRAIN_FILES = 5


# What CIFAR-10's pickles hold besides dicts, lists, ints and bytes: numpy arrays,
# as numpy 1 and 2 pickle them (protocols 2 to 5). Nothing else is ever loaded.
_ALLOWED_GLOBALS = frozenset([
    ('numpy', 'ndarray'), ('numpy', 'dtype'),
    ('numpy.core.multiarray', '_reconstruct'), ('numpy._core.multiarray', '_reconstruct'),
    ('numpy.core.numeric', '_frombuffer'), ('numpy._core.numeric', '_frombuffer'),
    ('_codecs', 'encode'),
])


class _ArraysOnlyUnpickler(pickle.Unpickler):
  """Unpickles the containers and numpy arrays of a CIFAR-10 batch, and refuses
  any other object (a pickle can name any callable, which loading would run)."""

  def find_class(self, module, name):
    if (module, name) in _ALLOWED_GLOBALS:
      return super().find_class(module, name)
    raise pickle.UnpicklingError(f'refused to load {module}.{name}')


def load_batch(f, member: str) -> dict:
  """A CIFAR-10 batch from its pickle, loading nothing but data.

  Raises:
    ValueError: naming `member`, if the pickle holds anything but the dicts,
      lists, bytes, numbers and numpy arrays of the format.
  """
  try:
    return _ArraysOnlyUnpickler(f, encoding='bytes').load()
  except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as e:
    raise ValueError(f'{member} is not a CIFAR-10 batch ({e}); nothing in it was run. Is the '
                     'archive the real cifar-10-python.tar.gz?') from None


def _read_batch(tar: tarfile.TarFile, member: str):
  try:
    f = tar.extractfile(f'cifar-10-batches-py/{member}')
  except KeyError as e:
    raise ValueError(f"{tar.name} has no 'cifar-10-batches-py/{member}'; is it "
                     'cifar-10-python.tar.gz?') from e
  data = load_batch(f, f'{tar.name}:cifar-10-batches-py/{member}')
  if not isinstance(data, dict) or b'data' not in data or b'labels' not in data:
    raise ValueError(f"{tar.name}:cifar-10-batches-py/{member} holds no b'data' and b'labels'; "
                     'is it cifar-10-python.tar.gz?')
  images = np.asarray(data[b'data'], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
  return images, list(data[b'labels'])


def _write(tar, members, path, what):
  batches = [_read_batch(tar, m) for m in members]
  total = sum(len(labels) for _, labels in batches)
  progress = dataset_utils.Progress(what, total)
  with shards.shard_writer(path) as writer:
    for images, labels in batches:
      for image, label in zip(images, labels):
        png = tf.io.encode_png(image).numpy()
        writer.write(dataset_utils.image_to_tfexample(png, b'png', 32, 32, label)
                     .SerializeToString())
        progress.update()
  return total


def get_output_filename(dataset_dir: str, split_name: str) -> str:
  return os.path.join(dataset_dir, f'cifar10_{split_name}.tfrecord')


def run(dataset_dir: str, data_url: str = DATA_URL) -> None:
  """Downloads, converts and cleans up; does nothing if the files exist."""
  tf.io.gfile.makedirs(dataset_dir)
  train, test = (get_output_filename(dataset_dir, s) for s in ('train', 'test'))
  if tf.io.gfile.exists(train) and tf.io.gfile.exists(test):
    logging.info('CIFAR-10 TFRecords already exist in %s; not converting again.', dataset_dir)
    return
  archive = dataset_utils.download(data_url, dataset_dir)
  try:
    with dataset_utils.archive_errors(archive), tarfile.open(archive, 'r:gz') as tar:
      n_train = _write(tar, [f'data_batch_{i}' for i in range(1, _NUM_TRAIN_FILES + 1)],
                       train, 'cifar10 train')
      n_test = _write(tar, ['test_batch'], test, 'cifar10 test')
  except BaseException:
    dataset_utils.remove_paths([p for p in (train, test) if os.path.exists(p)])  # No half dataset.
    raise
  for split, path in (('train', train), ('test', test)):
    shards.write_manifest(dataset_dir, 'cifar10', split, [path])
  dataset_utils.write_label_file(dict(enumerate(cifar10.CLASS_NAMES)), dataset_dir)
  dataset_utils.remove_paths([archive])
  logging.info('Finished converting CIFAR-10: %d train, %d test.', n_train, n_test)
