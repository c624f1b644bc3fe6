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
    num_classes=NUM_CLASSES, image_size=32, class_names=CLASS_NAMES)
get_split = INFO.get_split
