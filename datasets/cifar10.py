"""CIFAR-10 as written by download_and_convert_cifar10 (slim's cifar10.py).

10 classes; train 50,000 / test 10,000 32x32 RGB PNGs in `cifar10_<split>.tfrecord`.
"""

from . import dataset_utils

_FILE_PATTERN = 'cifar10_%s.tfrecord'
SPLITS_TO_SIZES = {'train': 50000, 'test': 10000}
NUM_CLASSES = 10
CLASS_NAMES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse',
               'ship', 'truck')

INFO = dataset_utils.DatasetInfo(
    name='cifar10', file_pattern=_FILE_PATTERN, splits_to_sizes=SPLITS_TO_SIZES,
    num_classes=NUM_CLASSES, channels=3,
    convert_command='slimvision-convert --dataset_name=cifar10 --dataset_dir={dataset_dir}',
    items_to_descriptions={'image': 'A [32 x 32 x 3] color image.',
                           'label': 'A single integer between 0 and 9'},
    keys_to_features=dataset_utils.base_keys_to_features(),
    default_labels_to_names=lambda: dict(enumerate(CLASS_NAMES)))


def get_split(split_name, dataset_dir, file_pattern=None, num_samples=None, **kwargs):
  """The CIFAR-10 `split_name` split in `dataset_dir`; see `dataset_factory.get_dataset`."""
  return dataset_utils.DatasetSplit(INFO, split_name, dataset_dir, file_pattern=file_pattern,
                                    num_samples=num_samples, **kwargs)
