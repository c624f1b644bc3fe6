"""The TensorFlow flowers dataset as written by download_and_convert_flowers (slim's flowers.py).

5 classes (daisy, dandelion, roses, sunflowers, tulips); train 3,320 /
validation 350 in `flowers_<split>_<shard>-of-00005.tfrecord`.
"""

from . import dataset_utils

_FILE_PATTERN = 'flowers_%s_*.tfrecord'
SPLITS_TO_SIZES = {'train': 3320, 'validation': 350}
NUM_CLASSES = 5
CLASS_NAMES = ('daisy', 'dandelion', 'roses', 'sunflowers', 'tulips')

INFO = dataset_utils.DatasetInfo(
    name='flowers', file_pattern=_FILE_PATTERN, splits_to_sizes=SPLITS_TO_SIZES,
    num_classes=NUM_CLASSES, channels=3,
    convert_command='slimvision-convert --dataset_name=flowers --dataset_dir={dataset_dir}',
    items_to_descriptions={'image': 'A color image of varying size.',
                           'label': 'A single integer between 0 and 4'},
    keys_to_features=dataset_utils.base_keys_to_features(),
    default_labels_to_names=lambda: dict(enumerate(CLASS_NAMES)))


def get_split(split_name, dataset_dir, file_pattern=None, num_samples=None, **kwargs):
  """The flowers `split_name` split in `dataset_dir`; see `dataset_factory.get_dataset`."""
  return dataset_utils.DatasetSplit(INFO, split_name, dataset_dir, file_pattern=file_pattern,
                                    num_samples=num_samples, **kwargs)
