"""Reading a dataset split: slim's `Dataset` plus a `tf.data` reader that names its faults.

`DatasetSplit` is what `dataset_factory.get_dataset` returns: slim's
`slim.dataset.Dataset` (num_samples, num_classes, labels_to_names, ...) plus a
`tf.data` reader that

* names the file and record index of a corrupt or truncated record (an
  `InvalidArgumentError` raised while iterating), instead of TensorFlow's bare
  `DataLossError: corrupted record at <offset>`;
* reports every image it cannot decode with its file and record index, and
  either fails (the default) or skips it, counting the skipped ones.

`decode_image` is the one image decoder of the package (datasets, inference,
export and the inception preprocessing of encoded bytes use it).
"""

import dataclasses
import functools
import os
import re
import sys
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from absl import logging
import tensorflow as tf

from . import shards
from .label_files import has_labels, read_label_file

AUTOTUNE = tf.data.AUTOTUNE
# A TFRecord on disk is: uint64 length, uint32 masked crc of the length, the
# data, uint32 masked crc of the data.
_RECORD_OVERHEAD_BYTES = 16


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
  """The constants of one dataset (what slim spread over a dataset module).

  A dataset module declares one and takes its `get_split`:

      INFO = DatasetInfo(name='cifar10', file_pattern='cifar10_%s.tfrecord',
                         splits_to_sizes={'train': 50000, 'test': 10000},
                         num_classes=10, image_size=32, class_names=CLASS_NAMES)
      get_split = INFO.get_split

  Attributes:
    name: dataset_factory name.
    file_pattern: `%s` is replaced by the split name; shell glob.
    splits_to_sizes: slim's split sizes.
    num_classes: number of labels including any background class.
    channels: channels of the decoded `image` (3: colour, 1: grey).
    image_size: the side of the dataset's square images; None when they vary.
    class_names: the label names in label order (used when the dataset
      directory has no labels.txt).
    labels_offset: how much to subtract from the stored labels to get labels
      in [0, num_classes - labels_offset) (slim's `--labels_offset`; 1 to
      train a 1000-way ImageNet classifier without the background class).
    convert_command: how to make the files, shown when they are missing
      (default: `slimvision-convert` with the dataset's name).
    items_to_descriptions: slim's item descriptions (default: the image's,
      from channels and image_size, and the label's).
    keys_to_features: the `tf.io.parse_single_example` spec (default:
      `base_keys_to_features()`).
    parse_items: maps the parsed features to the non-image items.
    default_labels_to_names: {label: name} when the dataset directory has no
      labels.txt (default: from class_names).
  """
  name: str
  file_pattern: str
  splits_to_sizes: Mapping[str, int]
  num_classes: int
  channels: int = 3
  image_size: Optional[int] = None
  class_names: Optional[Sequence[str]] = None
  labels_offset: int = 0
  convert_command: Optional[str] = None
  items_to_descriptions: Optional[Mapping[str, str]] = None
  keys_to_features: Optional[Mapping[str, Any]] = None
  parse_items: Optional[Callable[[Dict[str, tf.Tensor]], Dict[str, tf.Tensor]]] = None
  default_labels_to_names: Optional[Callable[[], Dict[int, str]]] = None

  def __post_init__(self):
    derived = {}
    if self.convert_command is None:
      derived['convert_command'] = (f'slimvision-convert --dataset_name={self.name} '
                                    '--dataset_dir={dataset_dir}')
    if self.items_to_descriptions is None:
      kind = 'color' if self.channels == 3 else 'grayscale'
      side, depth = self.image_size, self.channels
      derived['items_to_descriptions'] = {
          'image': (f'A [{side} x {side} x {depth}] {kind} image.' if side else
                    f'A {kind} image of varying size.'),
          'label': f'A single integer between 0 and {self.num_classes - 1}'}
    if self.keys_to_features is None:
      derived['keys_to_features'] = base_keys_to_features()
    if self.default_labels_to_names is None and self.class_names is not None:
      names = tuple(self.class_names)
      derived['default_labels_to_names'] = lambda: dict(enumerate(names))
    for name, value in derived.items():
      object.__setattr__(self, name, value)  # Frozen: set once, here.

  def get_split(self, split_name: str, dataset_dir: str, file_pattern: Optional[str] = None,
                num_samples: Union[None, int, str] = None, **kwargs) -> 'DatasetSplit':
    """The `split_name` split in `dataset_dir`; see `dataset_factory.get_dataset`."""
    return DatasetSplit(self, split_name, dataset_dir, file_pattern=file_pattern,
                        num_samples=num_samples, **kwargs)


def label_names(info: Optional[DatasetInfo],
                dataset_dir: Optional[str] = None) -> Optional[Dict[int, str]]:
  """{label: name}: `labels.txt` in `dataset_dir` when there is one, else the
  dataset's built-in names; None when neither exists."""
  if dataset_dir and has_labels(dataset_dir):
    return read_label_file(dataset_dir)
  if info is not None and info.default_labels_to_names is not None:
    return info.default_labels_to_names()
  return None


def base_keys_to_features() -> Dict[str, Any]:
  """The features every slim classification record has."""
  return {
      'image/encoded': tf.io.FixedLenFeature((), tf.string, default_value=''),
      'image/format': tf.io.FixedLenFeature((), tf.string, default_value='jpeg'),
      'image/class/label': tf.io.FixedLenFeature((), tf.int64, default_value=-1),
  }


class DatasetSplit:
  """One split of a dataset: slim's `Dataset` plus a `tf.data` reader.

  Attributes:
    name: the dataset name ('imagenet', 'flowers', ...).
    split_name: 'train', 'validation' or 'test'.
    dataset_dir: where the TFRecords are.
    file_pattern: the glob (within dataset_dir) that selects this split's files.
    num_samples: the number of examples; see `dataset_factory.get_dataset`.
    num_classes: number of labels (ImageNet: 1001 with 0 = background).
    labels_offset: see `DatasetInfo`.
    labels_to_names: {label: human-readable name}.
    items_to_descriptions: slim's item descriptions.
    channels: channels of the decoded images.
  """

  def __init__(self, info: DatasetInfo, split_name: str, dataset_dir: str,
               file_pattern: Optional[str] = None,
               num_samples: Union[None, int, str] = None,
               labels_to_names: Optional[Dict[int, str]] = None):
    if split_name not in info.splits_to_sizes:
      raise ValueError(f'Unknown split_name {split_name!r} for dataset {info.name!r}. '
                       f'Expected one of: {", ".join(sorted(info.splits_to_sizes))}.')
    self.info = info
    self.name = info.name
    self.split_name = split_name
    self.dataset_dir = dataset_dir
    pattern = file_pattern or info.file_pattern
    self.file_pattern = pattern % split_name if '%s' in pattern else pattern
    self.num_classes = info.num_classes
    self.labels_offset = info.labels_offset
    self.channels = info.channels
    self.items_to_descriptions = dict(info.items_to_descriptions)
    if labels_to_names is None:
      labels_to_names = label_names(info, dataset_dir)
    self.labels_to_names = labels_to_names
    if num_samples is None:
      self.num_samples = int(info.splits_to_sizes[split_name])
    elif num_samples == 'count':
      self.num_samples = self.count_records()
    elif isinstance(num_samples, int) and not isinstance(num_samples, bool) and num_samples >= 0:
      self.num_samples = num_samples
    else:
      raise ValueError("num_samples must be None (the published split size), a "
                       "non-negative int, or 'count' (count the records on disk). "
                       f'Received: num_samples={num_samples!r}')

  def __repr__(self):
    return (f'DatasetSplit({self.name!r}, {self.split_name!r}, dataset_dir={self.dataset_dir!r}, '
            f'num_samples={self.num_samples}, num_classes={self.num_classes})')

  # -- files -----------------------------------------------------------------
  def list_files(self) -> List[str]:
    """The split's files, sorted.

    Raises:
      FileNotFoundError: naming the directory, the expected files and the
        command that makes them, if there are none.
    """
    pattern = os.path.join(self.dataset_dir or '', self.file_pattern)
    files = sorted(tf.io.gfile.glob(pattern)) if self.dataset_dir else []
    partial = [f for f in files if f.endswith('.tmp')]
    if partial:  # A converter's unfinished shard (see `shards.shard_writer`).
      logging.warning('Ignoring %d unfinished file(s) of an interrupted conversion: %s',
                      len(partial), ', '.join(partial[:5]))
      files = [f for f in files if not f.endswith('.tmp')]
    if not files:
      state = ('does not exist' if not self.dataset_dir or not tf.io.gfile.exists(self.dataset_dir)
               else 'has no matching files')
      raise FileNotFoundError(
          f'No {self.name} {self.split_name!r} files: dataset_dir {self.dataset_dir!r} {state}. '
          f'Expected files matching {self.file_pattern!r} there. '
          f'Make them with: {self.info.convert_command.format(dataset_dir=self.dataset_dir)}')
    return files

  def count_records(self) -> int:
    """Counts the records in the split's files (reads every file once)."""
    return sum(count_records(f) for f in self.list_files())

  def check_records(self) -> shards.SplitCount:
    """The split's record count, its files checked against the directory's
    manifest when there is one (see `shards.check_split`).

    Raises:
      FileNotFoundError: no files (as `list_files`).
      shards.ShardError: a shard missing or cut short, or no records at all.
    """
    return shards.check_split(self.dataset_dir, self.split_name, self.list_files(),
                              self.info.splits_to_sizes[self.split_name])

  def find_unparsable_record(self, batch_size: int = 256) -> Optional[Tuple[str, int]]:
    """(file, record index) of the first record that is not a `tf.train.Example`
    of this dataset, or None. Reads the split; for diagnosing a failed read."""
    spec = dict(self.info.keys_to_features)
    for batch in read_records(self.list_files(), cycle_length=1).batch(batch_size):
      # A record that is not UTF-8 turns TensorFlow's error into a UnicodeDecodeError.
      try:
        tf.io.parse_example(batch['record'], spec)
        continue
      except (tf.errors.InvalidArgumentError, UnicodeDecodeError):
        pass
      for record, path, index in zip(batch['record'], batch['file'], batch['index']):
        try:
          tf.io.parse_single_example(record, spec)
        except (tf.errors.InvalidArgumentError, UnicodeDecodeError):
          return path.numpy().decode(), int(index)
    return None

  # -- decoding --------------------------------------------------------------
  def parse(self, serialized: tf.Tensor) -> Dict[str, tf.Tensor]:
    """Parses one serialized Example into slim's items, image still encoded.

    Returns:
      A dict with 'image/encoded' (string), 'image/format' (string), 'label'
      (int64) and the dataset's other items (ImageNet: 'label_text',
      'object/bbox' [N, 4] as ymin, xmin, ymax, xmax, 'object/label').
    """
    features = tf.io.parse_single_example(serialized, dict(self.info.keys_to_features))
    items = {'image/encoded': features['image/encoded'],
             'image/format': features['image/format'],
             'label': features['image/class/label']}
    if self.info.parse_items is not None:
      items.update(self.info.parse_items(features))
    return items

  def decode_image(self, encoded: tf.Tensor) -> tf.Tensor:
    """Decodes JPEG / PNG / GIF / BMP bytes to uint8 [H, W, self.channels]."""
    return decode_image(encoded, self.channels)

  def make_tf_dataset(self, shuffle: bool = False, num_epochs: Optional[int] = 1,
                      seed: Optional[int] = None, shuffle_buffer: int = 1024,
                      input_context: Optional[tf.distribute.InputContext] = None,
                      decode: bool = True, skip_undecodable: bool = False,
                      num_parallel_calls: int = AUTOTUNE,
                      transform: Optional[Callable[[Dict[str, tf.Tensor]], Any]] = None,
                      check_labels: bool = False, cache: bool = False,
                      skipped: Optional[tf.Variable] = None) -> tf.data.Dataset:
    """A dataset of decoded examples (dicts keyed with slim's item names).

    Every record of every file is read; nothing relies on `num_samples`. The
    training and evaluation pipelines (`core.input_pipeline`) are this with a
    `transform`.

    Args:
      shuffle: shuffle file order and records (with `shuffle_buffer`).
        Without it, examples come in file order, each exactly once per epoch.
      num_epochs: passes over the data; None repeats forever.
      seed: shuffle seed.
      shuffle_buffer: records held by the shuffle buffer.
      input_context: a `tf.distribute.InputContext`; files are sharded by
        `input_pipeline_id` over `num_input_pipelines`.
      decode: decode 'image' (uint8 [H, W, C]); if False the dicts keep the
        encoded bytes under 'image/encoded'.
      skip_undecodable: skip (and count, in the log) images that do not
        decode, and records that are not Examples, instead of failing.
      num_parallel_calls: parallelism of reading and decoding.
      transform: instead of `decode`, a function of each item (image still
        under 'image/encoded') returning the element, e.g. decoding fused with
        preprocessing; its undecodable images are reported in the same way.
      check_labels: fail, naming the record, on a label outside
        [0, num_classes) (`check_label`).
      cache: keep the raw records in memory after the first epoch.
      skipped: an int64 variable counting the records and images skipped.

    Returns:
      A `tf.data.Dataset` of dicts: 'image' (or 'image/encoded'), 'label'
      (int64), plus the dataset's items and 'record/file', 'record/index'; or
      of `transform`'s elements.
    """
    ds = self._records(shuffle, num_epochs, seed, shuffle_buffer, input_context, cache,
                       num_parallel_calls)
    ds = self.parse_records(ds, skip_unparsable=skip_undecodable,
                            num_parallel_calls=num_parallel_calls, deterministic=not shuffle,
                            skipped=skipped)
    if check_labels:
      ds = ds.map(functools.partial(check_label, num_classes=self.num_classes))
    if decode or transform is not None:
      ds = decode_images(ds, None if transform else self.decode_image,
                         skip_undecodable=skip_undecodable,
                         num_parallel_calls=num_parallel_calls, deterministic=not shuffle,
                         transform=transform, skipped=skipped)
    return ds

  def _records(self, shuffle, num_epochs, seed, shuffle_buffer, input_context, cache,
               num_parallel_calls) -> tf.data.Dataset:
    """This input pipeline's share of the split's raw records, shuffled and repeated."""
    files = self.list_files()
    if input_context is not None and input_context.num_input_pipelines > 1:
      files = shard_files(files, input_context.num_input_pipelines,
                          input_context.input_pipeline_id)
    ds = read_records(files, shuffle_files=shuffle, seed=seed,
                      num_parallel_reads=num_parallel_calls, deterministic=not shuffle)
    if cache:
      ds = ds.cache()
    if shuffle:
      ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    return ds.repeat(num_epochs) if num_epochs != 1 else ds

  def parse_records(self, ds: tf.data.Dataset, skip_unparsable: bool = False,
                    num_parallel_calls: int = AUTOTUNE, deterministic: bool = True,
                    skipped: Optional[tf.Variable] = None) -> tf.data.Dataset:
    """`read_records` elements -> `parse` items plus 'record/file', 'record/index'.

    A record that is not a `tf.train.Example` of this dataset fails the read
    with `InvalidArgumentError` ('Could not parse example input';
    `find_unparsable_record` names it), or, with `skip_unparsable`, is skipped
    and logged to stderr with its file and index (and counted in `skipped`, an
    int64 variable, if given).
    """
    if not skip_unparsable:
      return ds.map(self._parse_with_location, num_parallel_calls=num_parallel_calls,
                    deterministic=deterministic)
    fallback = _zeros_like_spec(ds.map(self._parse_with_location).element_spec)

    def attempt(record):
      out, ok = safely(self._parse_with_location, fallback)(record)
      return out, ok, tf.strings.join([record['file'], ' record ',
                                       tf.strings.as_string(record['index'])])

    def keep(unused_out, ok, location):
      warn = tf.cond(ok, tf.no_op, lambda: tf.print(
          'WARNING: skipped a record that is not a tf.train.Example:', location,
          output_stream=sys.stderr))
      with tf.control_dependencies([warn] + _counted(skipped, ok)):
        return tf.identity(ok)

    return (ds.map(attempt, num_parallel_calls=num_parallel_calls, deterministic=deterministic)
            .filter(keep).map(lambda out, unused_ok, unused_location: out))

  def _parse_with_location(self, record: Dict[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
    items = self.parse(record['record'])
    items['record/file'] = record['file']
    items['record/index'] = record['index']
    return items


def decode_image(encoded: tf.Tensor, channels: int = 0) -> tf.Tensor:
  """Decodes one encoded image: the package's one image decoder.

  Args:
    encoded: scalar string, JPEG / PNG / GIF (its first frame) / BMP bytes.
    channels: 1 (grey), 3 (RGB), 4 (RGBA), or 0: the image's own.

  Returns:
    uint8 [height, width, channels] (channels unknown statically when 0).

  Raises:
    InvalidArgumentError (when run): the bytes are not such an image.
  """
  image = tf.io.decode_image(encoded, channels=channels, expand_animations=False)
  image.set_shape([None, None, channels or None])
  return image


def shard_files(files: Sequence[str], num_shards: int, index: int) -> List[str]:
  """Files `index`, `index + num_shards`, ...; fails if a shard would be empty."""
  if len(files) < num_shards:
    raise ValueError(
        f'Cannot shard {len(files)} files over {num_shards} input pipelines: every '
        'worker needs at least one file. Write the dataset with more shards or use '
        f'fewer workers. Files: {", ".join(os.path.basename(f) for f in files)}')
  return list(files[index::num_shards])


def count_records(path: str) -> int:
  """Number of records in one TFRecord file (raises like `read_records`)."""
  ds = read_records([path], num_parallel_reads=1)
  return int(ds.reduce(tf.constant(0, tf.int64), lambda n, _: n + 1))


def _read_one_file(path: tf.Tensor, size: tf.Tensor) -> tf.data.Dataset:
  """Records of one file with their index; fails naming the file if any is bad.

  TFRecordDataset's own error names neither the file nor the record. Here
  read errors end the file (`ignore_errors`), and a final sentinel checks that
  the records read account for every byte of the file: if not, the record
  after the last good one is corrupt or truncated, and the error says so.
  """
  records = tf.data.TFRecordDataset(path).map(lambda r: (r, tf.constant(True)))
  records = records.ignore_errors()
  sentinel = tf.data.Dataset.from_tensors((tf.constant(b''), tf.constant(False)))

  def check(state, item):
    consumed, index = state
    record, is_record = item
    length = tf.cast(tf.strings.length(record), tf.int64) + _RECORD_OVERHEAD_BYTES

    def fail():
      msg = tf.strings.join([
          'Corrupt or truncated TFRecord file ', path, ': record ',
          tf.strings.as_string(index), ' (0-based) cannot be read (',
          tf.strings.as_string(consumed), ' of ', tf.strings.as_string(size),
          ' bytes hold the records before it). Regenerate the file with the converter '
          'or remove it.'])
      return tf.debugging.Assert(False, [msg])

    ok = tf.logical_or(is_record, tf.equal(consumed, size))
    with tf.control_dependencies([tf.cond(ok, tf.no_op, fail)]):
      new_state = (consumed + tf.where(is_record, length, 0), index + 1)
      return new_state, {'record': record, 'file': path, 'index': index,
                         'is_record': is_record}

  def is_record(x):
    return x['is_record']

  def strip(x):
    return {'record': x['record'], 'file': x['file'], 'index': x['index']}

  ds = records.concatenate(sentinel).scan(
      (tf.constant(0, tf.int64), tf.constant(0, tf.int64)), check)
  return ds.filter(is_record).map(strip)


def read_records(files: Sequence[str], shuffle_files: bool = False, seed: Optional[int] = None,
                 num_parallel_reads: int = AUTOTUNE, deterministic: bool = True,
                 cycle_length: Optional[int] = None) -> tf.data.Dataset:
  """Interleaved records of `files` as {'record', 'file', 'index'} dicts.

  With `deterministic=True` and `cycle_length=1` the records come in file
  order. A corrupt or truncated record raises `InvalidArgumentError` naming the
  file and record index.
  """
  files = list(files)
  sizes = [tf.io.gfile.stat(f).length for f in files]
  ds = tf.data.Dataset.from_tensor_slices((files, tf.constant(sizes, tf.int64)))
  if shuffle_files:
    ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
  if cycle_length is None:
    cycle_length = 1 if deterministic and not shuffle_files else min(len(files), 16)
  if cycle_length == 1:
    return ds.flat_map(_read_one_file)
  return ds.interleave(_read_one_file, cycle_length=cycle_length, block_length=1,
                       num_parallel_calls=num_parallel_reads, deterministic=deterministic)


def check_label(item: Dict[str, tf.Tensor], num_classes: int) -> Dict[str, tf.Tensor]:
  """`item` unchanged if its label is in [0, num_classes), else an
  `InvalidArgumentError` naming the record (a record without a label parses as
  -1). For `ds.map` after `DatasetSplit.parse` with locations."""
  label = tf.cast(item['label'], tf.int64)
  message = tf.strings.join([
      'Label ', tf.strings.as_string(label), ' of ', _location(item), ' is outside [0, ',
      str(num_classes), ') (-1: the record has no label). Fix or remove the record, or check '
      'that the dataset has ', str(num_classes), ' classes.'])
  check = tf.debugging.Assert(tf.logical_and(label >= 0, label < num_classes), [message])
  with tf.control_dependencies([check]):
    return {k: tf.identity(v) for k, v in item.items()}


def _location(item: Dict[str, tf.Tensor]) -> tf.Tensor:
  return tf.strings.join([item['record/file'], ' record ',
                          tf.strings.as_string(item['record/index'])])


def safely(fn: Callable[[Any], Any], fallback: Any) -> Callable[[Any], Any]:
  """Wraps `fn` so an op error gives `(fallback, False)` instead of failing.

  The call runs inside a one-element nested dataset with `ignore_errors`; it
  works inside `Dataset.map` with parallel calls. Returns `(fn(x), True)` on
  success.
  """
  def wrapped(x):
    good = tf.data.Dataset.from_tensors(x).map(lambda v: (fn(v), True)).ignore_errors()
    bad = tf.data.Dataset.from_tensors((fallback, False))
    return good.concatenate(bad).take(1).get_single_element()
  return wrapped


def _zeros_like_spec(spec):
  """A placeholder element for `spec` (unknown dimensions become 0)."""
  def make(s):
    shape = [0 if d is None else d for d in s.shape]
    if s.dtype == tf.string:
      return tf.fill(shape, '')
    return tf.zeros(shape, s.dtype)
  return tf.nest.map_structure(make, spec)


def _counted(skipped: Optional[tf.Variable], ok: tf.Tensor) -> List[Any]:
  """The op adding 1 to `skipped` when not `ok` (none without a counter)."""
  if skipped is None:
    return []
  return [skipped.assign_add(tf.where(ok, tf.constant(0, tf.int64), tf.constant(1, tf.int64)))]


def decode_images(ds: tf.data.Dataset, decode_fn: Optional[Callable[[tf.Tensor], tf.Tensor]] = None,
                  skip_undecodable: bool = False, num_parallel_calls: int = AUTOTUNE,
                  deterministic: bool = True,
                  transform: Optional[Callable[[Dict[str, tf.Tensor]], Any]] = None,
                  skipped: Optional[tf.Variable] = None) -> tf.data.Dataset:
  """Decodes each item's image, reporting the ones that do not decode.

  Args:
    ds: dicts from `DatasetSplit.parse` with 'record/file' and 'record/index'.
    decode_fn: encoded bytes -> uint8 image; the output dicts get 'image'
      instead of 'image/encoded'.
    skip_undecodable: False: the first undecodable image raises
      `InvalidArgumentError` naming its file and record index. True: it is
      skipped and logged (to stderr) with its location and a running count.
    num_parallel_calls: map parallelism.
    deterministic: keep order.
    transform: instead of `decode_fn`, a function of the whole item dict
      returning the output element (e.g. fused decode + preprocessing).
    skipped: an int64 variable counting the images skipped.

  Returns:
    The dataset of decoded items (or of `transform` outputs).
  """
  if transform is None:
    if decode_fn is None:
      raise ValueError('decode_images needs decode_fn or transform.')

    def transform(item):
      out = {k: v for k, v in item.items() if k != 'image/encoded'}
      out['image'] = decode_fn(item['image/encoded'])
      return out

  fallback_spec = ds.map(transform).element_spec

  def attempt(item):
    out, ok = safely(transform, _zeros_like_spec(fallback_spec))(item)
    return out, ok, _location(item)

  mapped = ds.map(attempt, num_parallel_calls=num_parallel_calls, deterministic=deterministic)

  def is_ok(unused_out, ok):
    return ok

  def value(out, unused_ok):
    return out

  report = _undecodable_reporter(skip_undecodable, skipped)
  counted = mapped.scan(tf.constant(0, tf.int64), report)
  return counted.filter(is_ok).map(value)


def _undecodable_reporter(skip_undecodable: bool, skipped: Optional[tf.Variable]) -> Callable:
  """The scan function of `decode_images`: counts the images that did not
  decode and, for each, logs it (skip_undecodable) or fails naming its place."""

  def report(count, element):
    out, ok, location = element
    count = count + tf.where(ok, tf.constant(0, tf.int64), tf.constant(1, tf.int64))
    if skip_undecodable:
      check = tf.cond(ok, tf.no_op, lambda: tf.print(
          'WARNING: skipped undecodable image in', location, '- skipped so far:', count,
          output_stream=sys.stderr))
      check = tf.group([check] + _counted(skipped, ok))
    else:
      check = tf.cond(ok, tf.no_op, lambda: tf.debugging.Assert(False, [tf.strings.join([
          'Undecodable image in ', location, '. Pass skip_undecodable=True to skip such '
          'images (they are counted and logged), or regenerate the file.'])]))
    with tf.control_dependencies([check]):
      return tf.identity(count), (out, tf.identity(ok))

  return report


# The words of TensorFlow's error for a record that is not an Example.
UNPARSABLE = 'Could not parse example input'


def is_unparsable_error(error: Exception) -> bool:
  """Whether a read failed on a record that is not an Example. TensorFlow's
  message quotes the record, and a record that is not UTF-8 makes the error
  itself a UnicodeDecodeError."""
  return (UNPARSABLE in (getattr(error, 'message', '') or '')
          or isinstance(error, UnicodeDecodeError))


def unparsable_message(dataset_name: str, split_name: str, dataset_dir: str,
                       command: str) -> Optional[str]:
  """Names the first record of the split that is not a `tf.train.Example`, and
  the fix; None when every record parses."""
  from . import dataset_factory  # pylint: disable=g-import-not-at-top
  split = dataset_factory.get_dataset(dataset_name, split_name, dataset_dir)
  found = split.find_unparsable_record()
  if found is None:
    return None
  return (f'record {found[1]} (0-based) of {found[0]} is not a tf.train.Example of the '
          f'{dataset_name} dataset: the file holds something else. Regenerate the file with '
          f'the converter or remove it, or pass --skip_undecodable to {command} to skip (and '
          'log) such records.')


def clean_tf_message(message: str) -> str:
  """The readable part of a TensorFlow runtime error (no function / node names)."""
  found = re.search(r'assertion failed: \[(.*?)\]\s*(\[\[|$)', message, re.S)
  if found:
    return found.group(1).strip()
  message = re.sub(r'\{\{[^}]*\}\}\s*', '', message)
  message = re.sub(r'\s*\[\[.*?\]\]', '', message, flags=re.S)
  message = re.sub(r'\s*\[Op:\w+\].*$', '', message, flags=re.S)
  return message.strip().rstrip('.') + '.'



__all__ = [
    'DatasetInfo', 'DatasetSplit', 'label_names', 'base_keys_to_features', 'decode_image',
    'shard_files', 'count_records', 'read_records', 'check_label', 'decode_images', 'safely',
    'UNPARSABLE', 'is_unparsable_error', 'unparsable_message', 'clean_tf_message',
]
