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
    num_classes=NUM_CLASSES, class_names=CLASS_NAMES)
get_split = INFO.get_split
