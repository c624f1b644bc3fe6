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

DATA_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz'
_NUM_TRAIN_FILES = 5


def _read_batch(tar: tarfile.TarFile, member: str):
  try:
    f = tar.extractfile(f'cifar-10-batches-py/{member}')
  except KeyError as e:
    raise ValueError(f"{tar.name} has no 'cifar-10-batches-py/{member}'; is it "
                     'cifar-10-python.tar.gz?') from e
  data = pickle.load(f, encoding='bytes')
  images = np.asarray(data[b'data'], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
  return images, list(data[b'labels'])


def _write(tar, members, path, what):
  batches = [_read_batch(tar, m) for m in members]
  total = sum(len(labels) for _, labels in batches)
  progress = dataset_utils.Progress(what, total)
  with tf.io.TFRecordWriter(path) as writer:
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
  with tarfile.open(archive, 'r:gz') as tar:
    n_train = _write(tar, [f'data_batch_{i}' for i in range(1, _NUM_TRAIN_FILES + 1)],
                     train, 'cifar10 train')
    n_test = _write(tar, ['test_batch'], test, 'cifar10 test')
  dataset_utils.write_label_file(dict(enumerate(cifar10.CLASS_NAMES)), dataset_dir)
  dataset_utils.remove_paths([archive])
  logging.info('Finished converting CIFAR-10: %d train, %d test.', n_train, n_test)
