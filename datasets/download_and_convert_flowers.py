"""Downloads the flowers photos and writes slim's flowers TFRecords.

Output in dataset_dir: `flowers_{train,validation}_0000N-of-00005.tfrecord`
(the JPEG bytes of each photo, unchanged) and `labels.txt`. The photos are
listed in sorted order before slim's seeded shuffle (slim used `os.listdir`
order, which depends on the filesystem), so the split is reproducible.
"""

import math
import os
import random
from typing import List, Tuple

from absl import logging
import tensorflow as tf

from . import dataset_utils
from . import shards

DATA_URL = 'http://download.tensorflow.org/example_images/flower_photos.tgz'
NUM_VALIDATION = 350
RANDOM_SEED = 0
NUM_SHARDS = 5


def _get_filenames_and_classes(dataset_dir: str) -> Tuple[List[str], List[str]]:
  root = os.path.join(dataset_dir, 'flower_photos')
  class_names = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
  photos = [os.path.join(root, c, f) for c in class_names
            for f in sorted(os.listdir(os.path.join(root, c)))]
  return photos, class_names


def get_dataset_filename(dataset_dir: str, split_name: str, shard_id: int,
                         num_shards: int = NUM_SHARDS) -> str:
  return os.path.join(dataset_dir, f'flowers_{split_name}_{shard_id:05d}-of-{num_shards:05d}.tfrecord')


def _convert_dataset(split_name, filenames, class_names_to_ids, dataset_dir, num_shards):
  per_shard = int(math.ceil(len(filenames) / float(num_shards)))
  progress = dataset_utils.Progress(f'flowers {split_name}', len(filenames))
  for shard_id in range(num_shards):
    path = get_dataset_filename(dataset_dir, split_name, shard_id, num_shards)
    with shards.shard_writer(path) as writer:
      for filename in filenames[shard_id * per_shard:(shard_id + 1) * per_shard]:
        with open(filename, 'rb') as f:
          data = f.read()
        try:
          height, width, _ = tf.image.extract_jpeg_shape(data).numpy().tolist()
        except tf.errors.InvalidArgumentError as e:
          raise ValueError(f'{filename} is not a readable JPEG; remove or replace it.') from e
        class_id = class_names_to_ids[os.path.basename(os.path.dirname(filename))]
        example = dataset_utils.image_to_tfexample(data, b'jpg', height, width, class_id)
        writer.write(example.SerializeToString())
        progress.update()
  shards.write_manifest(dataset_dir, 'flowers', split_name, [
      get_dataset_filename(dataset_dir, split_name, i, num_shards) for i in range(num_shards)])


def _dataset_exists(dataset_dir, num_shards):
  return all(tf.io.gfile.exists(get_dataset_filename(dataset_dir, s, i, num_shards))
             for s in ('train', 'validation') for i in range(num_shards))


def run(dataset_dir: str, data_url: str = DATA_URL, num_validation: int = NUM_VALIDATION,
        num_shards: int = NUM_SHARDS, random_seed: int = RANDOM_SEED) -> None:
  """Downloads, converts and cleans up; does nothing if the files exist.

  Args:
    dataset_dir: output directory (created if needed).
    data_url: where flower_photos.tgz is (http(s):// or file://).
    num_validation: photos for the validation split (slim: 350).
    num_shards: files per split (slim: 5).
    random_seed: seed of the shuffle that makes the split (slim: 0).
  """
  tf.io.gfile.makedirs(dataset_dir)
  if _dataset_exists(dataset_dir, num_shards):
    logging.info('Flowers TFRecords already exist in %s; not converting again.', dataset_dir)
    return
  tarball = dataset_utils.download_and_uncompress_tarball(data_url, dataset_dir)
  if not os.path.isdir(os.path.join(dataset_dir, 'flower_photos')):
    dataset_utils.remove_paths([tarball])
    raise ValueError(f'{tarball} holds no flower_photos/ folder: it is not flower_photos.tgz, '
                     'and was removed. Run the command again to download it anew, or pass '
                     '--data_url to the right file.')
  photos, class_names = _get_filenames_and_classes(dataset_dir)
  if len(photos) <= num_validation:
    raise ValueError(f'{len(photos)} photos found, but num_validation={num_validation} must '
                     'leave some for training.')
  class_names_to_ids = {name: i for i, name in enumerate(class_names)}
  random.seed(random_seed)
  random.shuffle(photos)
  _convert_dataset('train', photos[num_validation:], class_names_to_ids, dataset_dir, num_shards)
  _convert_dataset('validation', photos[:num_validation], class_names_to_ids, dataset_dir,
                   num_shards)
  dataset_utils.write_label_file(dict(enumerate(class_names)), dataset_dir)
  dataset_utils.remove_paths([tarball, os.path.join(dataset_dir, 'flower_photos')])
  logging.info('Finished converting the Flowers dataset: %d train, %d validation.',
               len(photos) - num_validation, num_validation)
