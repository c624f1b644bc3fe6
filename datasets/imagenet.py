"""ILSVRC-2012 (ImageNet) as written by `build_imagenet_data.py` (slim's imagenet.py).

1001 labels: 0 is background, 1..1000 follow `data/imagenet_lsvrc_2015_synsets.txt`.
Splits: train 1,281,167 images in `train-*-of-01024`, validation 50,000 in
`validation-*-of-00128` (any shard count is read).

Items: 'image' (uint8 [H, W, 3]), 'label' (int64), 'label_text' (the synset's
human-readable names), 'object/bbox' (float32 [N, 4] as ymin, xmin, ymax, xmax,
train images only) and 'object/label' (slim read `image/object/class/label`,
which the converter never writes, so it is always empty; kept for parity).
"""

import functools
import os
from typing import Dict, List

import tensorflow as tf

from . import dataset_utils

_FILE_PATTERN = '%s-*'
SPLITS_TO_SIZES = {'train': 1281167, 'validation': 50000}
NUM_CLASSES = 1001
_DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data')
SYNSETS_FILE = os.path.join(_DATA_DIR, 'imagenet_lsvrc_2015_synsets.txt')
METADATA_FILE = os.path.join(_DATA_DIR, 'imagenet_metadata.txt')
VALIDATION_LABELS_FILE = os.path.join(_DATA_DIR, 'imagenet_2012_validation_synset_labels.txt')

_ITEMS_TO_DESCRIPTIONS = {
    'image': 'A color image of varying height and width.',
    'label': 'The label id of the image, integer between 0 and 1000',
    'label_text': 'The text of the label.',
    'object/bbox': 'A list of bounding boxes.',
    'object/label': 'A list of labels, one per each object.',
}

_CONVERT_COMMAND = (
    'python -m slimvision.datasets.build_imagenet_data --train_directory=<raw>/train '
    '--validation_directory=<raw>/validation --output_directory={dataset_dir} '
    '--imagenet_metadata_file=<imagenet_metadata.txt> --labels_file=<synsets.txt> '
    '--bounding_box_file=<imagenet_2012_bounding_boxes.csv>')


def _read_lines(path: str) -> List[str]:
  with open(path, encoding='utf-8') as f:
    return [line.strip() for line in f if line.strip()]


def synsets() -> List[str]:
  """The 1000 ILSVRC-2012 synsets in label order (label i + 1 is synsets()[i])."""
  return _read_lines(SYNSETS_FILE)


def synset_to_human() -> Dict[str, str]:
  """{synset: human-readable names} from the shipped metadata file."""
  result = {}
  for line in _read_lines(METADATA_FILE):
    synset, _, human = line.partition('\t')
    result[synset] = human
  return result


@functools.lru_cache(maxsize=1)
def _readable_names():
  names = synset_to_human()
  labels_to_names = {0: 'background'}
  for label, synset in enumerate(synsets(), 1):
    labels_to_names[label] = names[synset]
  return labels_to_names


def create_readable_names_for_imagenet_labels() -> Dict[int, str]:
  """{0: 'background', 1: 'tench, Tinca tinca', ..., 1000: ...} (1001 entries).

  Read from the files shipped in the package; no download.
  """
  return dict(_readable_names())


def _keys_to_features():
  keys = dataset_utils.base_keys_to_features()
  keys.update({
      'image/format': tf.io.FixedLenFeature((), tf.string, default_value='jpeg'),
      'image/class/text': tf.io.FixedLenFeature((), tf.string, default_value=''),
      'image/object/bbox/xmin': tf.io.VarLenFeature(tf.float32),
      'image/object/bbox/ymin': tf.io.VarLenFeature(tf.float32),
      'image/object/bbox/xmax': tf.io.VarLenFeature(tf.float32),
      'image/object/bbox/ymax': tf.io.VarLenFeature(tf.float32),
      'image/object/class/label': tf.io.VarLenFeature(tf.int64),
  })
  return keys


def _parse_items(features):
  coords = [tf.sparse.to_dense(features[f'image/object/bbox/{k}'])
            for k in ('ymin', 'xmin', 'ymax', 'xmax')]
  return {
      'label_text': features['image/class/text'],
      'object/bbox': tf.stack(coords, axis=1),
      'object/label': tf.sparse.to_dense(features['image/object/class/label']),
  }


INFO = dataset_utils.DatasetInfo(
    name='imagenet', file_pattern=_FILE_PATTERN, splits_to_sizes=SPLITS_TO_SIZES,
    num_classes=NUM_CLASSES, convert_command=_CONVERT_COMMAND,
    items_to_descriptions=_ITEMS_TO_DESCRIPTIONS, keys_to_features=_keys_to_features(),
    parse_items=_parse_items, default_labels_to_names=create_readable_names_for_imagenet_labels)
get_split = INFO.get_split
