"""`digits`: the 1,797 8x8 handwritten digits scikit-learn ships, as MNIST-like TFRecords.

The 8x8 images (values 0..16) are stored in the package (`data/digits.npz`), so
`slimvision-convert --dataset_name=digits` needs no download and no
scikit-learn. The converter scales them by 255/16 (to uint8), resizes them bilinearly to
20x20 (Pillow's BILINEAR arithmetic, in numpy) and centres them in 28x28, as
MNIST digits are framed; it writes 28x28x1 PNGs in `digits_<split>.tfrecord`
with MNIST's feature keys, and a `labels.txt`.

The train / test split is fixed: per class, the indices of that class are
permuted with `numpy.random.RandomState(0)` (classes 0..9 in turn, one
generator) and the first `n_class // 6` go to test; each split keeps the
original order. That gives train 1,501 / test 296.
"""

from . import dataset_utils

_FILE_PATTERN = 'digits_%s.tfrecord'
SPLITS_TO_SIZES = {'train': 1501, 'test': 296}
NUM_CLASSES = 10
CLASS_NAMES = ('zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine')

INFO = dataset_utils.DatasetInfo(
    name='digits', file_pattern=_FILE_PATTERN, splits_to_sizes=SPLITS_TO_SIZES,
    num_classes=NUM_CLASSES, channels=1, image_size=28, class_names=CLASS_NAMES)
get_split = INFO.get_split
