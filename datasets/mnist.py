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
    num_classes=NUM_CLASSES, channels=1, image_size=28, class_names=CLASS_NAMES)
get_split = INFO.get_split
