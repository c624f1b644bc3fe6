"""MNIST as written by download_and_convert_mnist (slim's mnist.py).

10 classes; train 60,000 / test 10,000 28x28 grayscale PNGs in
`mnist_<split>.tfrecord`; 'image' is uint8 [28, 28, 1].
"""

from . import dataset_utils

_FILE_PATTERN = 'mnist_%s.tfrecord'
SPLITS_TO_SIZES = {'train': 60000, 'test': 10000}
NUM_CLASSES = 10
# slim's labels.txt for MNIST spells 6 as 'size'; the converter keeps it.
CLASS_NAMES = ('zero', 'one', 'two', 'three', 'four', 'five', 'size', 'seven', 'eight',
               'nine')

INFO = dataset_utils.DatasetInfo(
    name='mnist', file_pattern=_FILE_PATTERN, splits_to_sizes=SPLITS_TO_SIZES,
    num_classes=NUM_CLASSES, channels=1,
    convert_command='slimvision-convert --dataset_name=mnist --dataset_dir={dataset_dir}',
    items_to_descriptions={'image': 'A [28 x 28 x 1] grayscale image.',
                           'label': 'A single integer between 0 and 9'},
    keys_to_features={**dataset_utils.base_keys_to_features()},
    default_labels_to_names=lambda: dict(enumerate(CLASS_NAMES)))


def get_split(split_name, dataset_dir, file_pattern=None, num_samples=None, **kwargs):
  """The MNIST `split_name` split in `dataset_dir`; see `dataset_factory.get_dataset`."""
  return dataset_utils.DatasetSplit(INFO, split_name, dataset_dir, file_pattern=file_pattern,
                                    num_samples=num_samples, **kwargs)
