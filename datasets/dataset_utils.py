"""Shared helpers for slim's datasets, under slim's module name.

Each concern has its module; this one gathers their public names, as slim's
`datasets/dataset_utils.py` did:

* `features`: `tf.train.Example` features (`int64_feature`, `image_to_tfexample`, ...);
* `label_files`: labels.txt (`write_label_file`, `read_label_file`, ...);
* `downloads`: a converter's archive (`download_and_uncompress_tarball`, `Progress`, ...);
* `reading`: a split's `tf.data` reader (`DatasetSplit`, `read_records`,
  `decode_image`, ...).
"""

# pylint: disable=unused-import,g-multiple-import
from .downloads import (Progress, archive_errors, download, download_and_uncompress_tarball,
                        remove_paths)
from .features import bytes_feature, float_feature, image_to_tfexample, int64_feature
from .label_files import LABELS_FILENAME, has_labels, read_label_file, write_label_file
from .reading import (AUTOTUNE, UNPARSABLE, DatasetInfo, DatasetSplit, base_keys_to_features,
                      check_label, clean_tf_message, count_records, decode_image,
                      decode_images, is_unparsable_error, label_names, read_records, safely,
                      shard_files, unparsable_message)

__all__ = [
    'AUTOTUNE', 'LABELS_FILENAME', 'int64_feature', 'float_feature', 'bytes_feature',
    'image_to_tfexample', 'write_label_file', 'has_labels', 'read_label_file', 'label_names',
    'Progress', 'download', 'download_and_uncompress_tarball', 'remove_paths',
    'archive_errors', 'DatasetInfo', 'DatasetSplit', 'base_keys_to_features', 'shard_files',
    'count_records', 'read_records', 'unparsable_message', 'is_unparsable_error',
    'UNPARSABLE', 'decode_image', 'decode_images', 'safely', 'clean_tf_message',
    'check_label',
]
