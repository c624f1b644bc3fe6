"""slim's dataset_factory: a dataset name and split -> a `DatasetSplit`.

    from slimvision.datasets import dataset_factory
    ds = dataset_factory.get_dataset('flowers', 'train', '/data/flowers')
    ds.num_samples, ds.num_classes, ds.labels_to_names
    for example in ds.make_tf_dataset():        # {'image': uint8 HxWxC, 'label': int64, ...}
      ...

`num_samples` is, by default, slim's published size of the split (ImageNet
train 1,281,167, ...), as slim reported it. A directory holding a subset (a
few shards, a test fixture) has other counts: pass `num_samples='count'` to
count the records on disk (reads every file once) or an int you know. Reading
(`make_tf_dataset`, the input pipelines) never uses `num_samples`: every record
of every matching file is read, so a wrong count cannot drop or repeat data;
evaluation should count the examples it sees.
"""

import difflib
from typing import Dict, List, Optional, Union

from . import cifar10
from . import dataset_utils
from . import digits
from . import flowers
from . import imagenet
from . import mnist

DATASETS_MAP = {
    'cifar10': cifar10,
    'digits': digits,
    'flowers': flowers,
    'imagenet': imagenet,
    'mnist': mnist,
}


def list_datasets() -> List[str]:
  return sorted(DATASETS_MAP)


def get_dataset_module(name: str):
  """The module of dataset `name`; unknown names suggest the closest ones."""
  if name not in DATASETS_MAP:
    close = difflib.get_close_matches(str(name), list(DATASETS_MAP), n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ''
    raise ValueError(f'Unknown dataset_name {name!r}.{hint} Known: {", ".join(list_datasets())}.')
  return DATASETS_MAP[name]


def get_dataset(name: str, split_name: str, dataset_dir: str,
                file_pattern: Optional[str] = None,
                num_samples: Union[None, int, str] = None,
                labels_to_names: Optional[Dict[int, str]] = None) -> dataset_utils.DatasetSplit:
  """One split of a dataset, as slim's `dataset_factory.get_dataset`.

  Args:
    name: 'imagenet', 'flowers', 'cifar10', 'mnist' or 'digits'.
    split_name: 'train', 'validation' (imagenet, flowers) or 'test'
      (cifar10, mnist, digits).
    dataset_dir: the directory with the TFRecords. Files are looked up when
      reading (or counting), so the metadata is available without them.
    file_pattern: glob within dataset_dir overriding slim's; `%s` becomes the
      split name.
    num_samples: None: slim's published split size; 'count': the records
      actually in the files; an int: that number.
    labels_to_names: overrides the names (default: `labels.txt` in
      dataset_dir if present, else the built-in class names).

  Returns:
    A `dataset_utils.DatasetSplit`.

  Raises:
    ValueError: for an unknown name or split.
    FileNotFoundError: with num_samples='count' when there are no files.
  """
  module = get_dataset_module(name)
  return module.get_split(split_name, dataset_dir, file_pattern=file_pattern,
                          num_samples=num_samples, labels_to_names=labels_to_names)
