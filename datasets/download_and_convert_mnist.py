"""Downloads MNIST's four idx files and writes slim's mnist TFRecords.

Output: `mnist_train.tfrecord`, `mnist_test.tfrecord` (28x28x1 PNGs) and
`labels.txt`. The number of images is read from the idx headers.
"""

import gzip
import os

from absl import logging
import numpy as np
import tensorflow as tf

from . import dataset_utils
from . import mnist
from . import shards

DATA_URL = 'https://storage.googleapis.com/cvdf-datasets/mnist/'
TRAIN_DATA_FILENAME = 'train-images-idx3-ubyte.gz'
TRAIN_LABELS_FILENAME = 'train-labels-idx1-ubyte.gz'
TEST_DATA_FILENAME = 't10k-images-idx3-ubyte.gz'
TEST_LABELS_FILENAME = 't10k-labels-idx1-ubyte.gz'
_IMAGE_MAGIC, _LABEL_MAGIC = 2051, 2049


def _read_idx(path: str, magic: int) -> np.ndarray:
  with gzip.open(path, 'rb') as f:
    data = f.read()
  got = int.from_bytes(data[:4], 'big')
  if got != magic:
    raise ValueError(f'{path}: idx magic {got}, expected {magic}. Is it the right MNIST file?')
  ndim = data[3]
  dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
  body = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
  if body.size != int(np.prod(dims)):
    raise ValueError(f'{path}: header says {dims} but holds {body.size} bytes; truncated?')
  return body.reshape(dims)


def write_images(images: np.ndarray, labels: np.ndarray, path: str, what: str) -> None:
  """Writes uint8 [N, H, W] images as 1-channel PNG records."""
  if len(images) != len(labels):
    raise ValueError(f'{what}: {len(images)} images but {len(labels)} labels.')
  progress = dataset_utils.Progress(what, len(images))
  with shards.shard_writer(path) as writer:
    for image, label in zip(images, labels):
      png = tf.io.encode_png(image[:, :, None]).numpy()
      writer.write(dataset_utils.image_to_tfexample(
          png, b'png', image.shape[0], image.shape[1], int(label)).SerializeToString())
      progress.update()


def get_output_filename(dataset_dir: str, split_name: str) -> str:
  return os.path.join(dataset_dir, f'mnist_{split_name}.tfrecord')


def run(dataset_dir: str, data_url: str = DATA_URL) -> None:
  """Downloads, converts and cleans up; does nothing if the files exist."""
  tf.io.gfile.makedirs(dataset_dir)
  outputs = {s: get_output_filename(dataset_dir, s) for s in ('train', 'test')}
  if all(tf.io.gfile.exists(p) for p in outputs.values()):
    logging.info('MNIST TFRecords already exist in %s; not converting again.', dataset_dir)
    return
  base = data_url if data_url.endswith('/') else data_url + '/'
  names = [TRAIN_DATA_FILENAME, TRAIN_LABELS_FILENAME, TEST_DATA_FILENAME, TEST_LABELS_FILENAME]
  paths = [dataset_utils.download(base + n, dataset_dir) for n in names]
  for split, (images, labels) in (('train', paths[:2]), ('test', paths[2:])):
    write_images(_read_idx(images, _IMAGE_MAGIC), _read_idx(labels, _LABEL_MAGIC),
                 outputs[split], f'mnist {split}')
    shards.write_manifest(dataset_dir, 'mnist', split, [outputs[split]])
  dataset_utils.write_label_file(dict(enumerate(mnist.CLASS_NAMES)), dataset_dir)
  dataset_utils.remove_paths(paths)
  logging.info('Finished converting MNIST.')
