"""Converts the raw ILSVRC-2012 images to slim's ImageNet TFRecords (slim's build_imagenet_data.py).

Input layouts, found by looking (one directory may mix the first two):
    <dir>/<synset>/*.JPEG           synset folders (train, or validation sorted by synset);
    <dir>/<synset>.tar              the per-synset archives ILSVRC2012_img_train.tar holds,
                                    read in place (`tar -xf ILSVRC2012_img_train.tar -C <dir>`);
    <dir>/ILSVRC2012_val_*.JPEG     the validation set as distributed (one flat folder), with
                                    the labels of the 50,000 images from the shipped
                                    `--validation_labels_file`;
plus the synset list (`--labels_file`, label i + 1 for line i, 0 = background),
`--imagenet_metadata_file` (`synset<TAB>names`) and the bounding-box CSV
(`--bounding_box_file`, rows `file.JPEG,xmin,ymin,xmax,ymax` in [0, 1]). The
shipped copies of the first two are the defaults.

Output: `train-00000-of-01024` ... and `validation-00000-of-00128` ..., one
`tf.train.Example` per image with slim's keys: image/encoded (JPEG),
image/height, image/width, image/colorspace ('RGB'), image/channels (3),
image/class/label, image/class/synset, image/class/text, image/format
('JPEG'), image/filename and image/object/bbox/{xmin,ymin,xmax,ymax,label}.

Images are listed per synset in sorted order and shuffled with slim's
permutation (`random.seed(12345)`, Python 3). Each
thread writes `shards / threads` consecutive shards.

Special cases: JPEGs are stored byte for byte, except PNG data named .JPEG
and CMYK JPEGs, which are re-encoded as RGB JPEG (quality 100). Both are
detected from the bytes (slim matched a fixed list of ILSVRC file names; the
known names are still recognised). A file that decodes as none of these fails
the conversion with its name.
"""

import dataclasses
import os
import random
import re
import sys
import tarfile
import threading
from typing import Dict, List, Optional, Sequence, Tuple, Union

if __name__ == '__main__' and not __package__:
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  import _bootstrap  # pylint: disable=g-import-not-at-top
  _bootstrap.as_package()
  __package__ = 'slimvision.datasets'  # pylint: disable=redefined-builtin
if __name__ == '__main__':
  from slimvision.core import cli as _cli  # pylint: disable=g-import-not-at-top
  _cli.import_tensorflow(_cli.startup_logs_requested(sys.argv))

from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import logging
import numpy as np
import tensorflow as tf

from . import dataset_utils
from . import imagenet
from . import shards

# slim's lists of the ILSVRC-2012 train files that are not plain RGB JPEGs.
_PNG_FILES = frozenset(['n02105855_2933.JPEG'])
_CMYK_FILES = frozenset([
    'n01739381_1309.JPEG', 'n02077923_14822.JPEG', 'n02447366_23489.JPEG',
    'n02492035_15739.JPEG', 'n02747177_10752.JPEG', 'n03018349_4028.JPEG',
    'n03062245_4620.JPEG', 'n03347037_9675.JPEG', 'n03467068_12171.JPEG',
    'n03529860_11437.JPEG', 'n03544143_17228.JPEG', 'n03633091_5218.JPEG',
    'n03710637_5125.JPEG', 'n03961711_5286.JPEG', 'n04033995_2932.JPEG',
    'n04258138_17003.JPEG', 'n04264628_27969.JPEG', 'n04336792_7448.JPEG',
    'n04371774_5854.JPEG', 'n04596742_4225.JPEG', 'n07583066_647.JPEG',
    'n13037406_4650.JPEG'])
_SHUFFLE_SEED = 12345


def is_png(data: bytes) -> bool:
  return data[:8] == b'\x89PNG\r\n\x1a\n'


def jpeg_num_components(data: bytes) -> Optional[int]:
  """Colour components from a JPEG's SOF header (3 RGB/YCbCr, 4 CMYK), or None."""
  if data[:2] != b'\xff\xd8':
    return None
  i = 2
  while i + 4 <= len(data):
    if data[i] != 0xFF:
      i += 1
      continue
    marker = data[i + 1]
    if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
      i += 1 if marker == 0xFF else 2
      continue
    length = int.from_bytes(data[i + 2:i + 4], 'big')
    if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
      return data[i + 9] if i + 9 < len(data) else None
    if marker == 0xDA:  # start of scan before any frame header
      return None
    i += 2 + length
  return None


@dataclasses.dataclass(frozen=True)
class TarMember:
  """One image inside a per-synset archive (`n01440764.tar`), read in place."""
  tar_path: str
  name: str
  offset: int
  size: int

  def __str__(self):
    return f'{self.tar_path}[{self.name}]'


Source = Union[str, TarMember]


def read_source(source: Source) -> bytes:
  """The bytes of an image file or of an image inside a synset archive."""
  if isinstance(source, TarMember):
    with open(source.tar_path, 'rb') as f:
      f.seek(source.offset)
      return f.read(source.size)
  with open(source, 'rb') as f:
    return f.read()


def source_basename(source: Source) -> str:
  return os.path.basename(source.name if isinstance(source, TarMember) else source)


def process_image(filename: Source) -> Tuple[bytes, int, int]:
  """(JPEG bytes, height, width) of one raw image, re-encoding PNG and CMYK data."""
  data = read_source(filename)
  base = source_basename(filename)
  problem = None if is_png(data) or data[:2] == b'\xff\xd8' else 'not a JPEG or PNG file.'
  if problem is None:
    try:
      image = dataset_utils.decode_image(data, channels=3)
    except tf.errors.InvalidArgumentError as e:
      problem = dataset_utils.clean_tf_message(e.message)
  if problem is not None:
    raise ValueError(f'Cannot decode {filename} as JPEG or PNG: {problem} Remove or replace '
                     'the file and convert again.')
  # slim's lists _PNG_FILES and _CMYK_FILES; the bytes tell for any file.
  if is_png(data):
    logging.info('Converting PNG to JPEG for %s', filename)
    data = tf.io.encode_jpeg(image, format='rgb', quality=100).numpy()
  elif jpeg_num_components(data) == 4 or base in _CMYK_FILES:
    logging.info('Converting CMYK to RGB for %s', filename)
    data = tf.io.encode_jpeg(image, format='rgb', quality=100).numpy()
  height, width = int(image.shape[0]), int(image.shape[1])
  return data, height, width


def convert_to_example(filename: Source, image_buffer: bytes, label: int, synset: str,
                       human: str, bbox: Sequence[Sequence[float]], height: int,
                       width: int) -> tf.train.Example:
  """slim's ImageNet Example; `bbox` rows are [xmin, ymin, xmax, ymax]."""
  xmin, ymin, xmax, ymax = ([float(b[i]) for b in bbox] for i in range(4))
  f = dataset_utils
  return tf.train.Example(features=tf.train.Features(feature={
      'image/height': f.int64_feature(height),
      'image/width': f.int64_feature(width),
      'image/colorspace': f.bytes_feature('RGB'),
      'image/channels': f.int64_feature(3),
      'image/class/label': f.int64_feature(label),
      'image/class/synset': f.bytes_feature(synset),
      'image/class/text': f.bytes_feature(human),
      'image/object/bbox/xmin': f.float_feature(xmin),
      'image/object/bbox/xmax': f.float_feature(xmax),
      'image/object/bbox/ymin': f.float_feature(ymin),
      'image/object/bbox/ymax': f.float_feature(ymax),
      'image/object/bbox/label': f.int64_feature([label] * len(bbox)),
      'image/format': f.bytes_feature('JPEG'),
      'image/filename': f.bytes_feature(source_basename(filename)),
      'image/encoded': f.bytes_feature(image_buffer),
  }))


def slim_shuffle_order(n: int) -> List[int]:
  """slim's permutation of n files: `random.seed(12345); random.shuffle(range(n))`."""
  order = list(range(n))
  rng = random.Random(_SHUFFLE_SEED)
  rng.shuffle(order)
  return order


_SYNSET_NAME = re.compile(r'^n\d{8}$')
_VALIDATION_NAME = re.compile(r'^ILSVRC2012_val_(\d{8})\.JPEG$', re.IGNORECASE)


def _tar_members(tar_path: str) -> List[TarMember]:
  """The regular files of an uncompressed tar, with where their bytes are."""
  try:
    with tarfile.open(tar_path, 'r:') as tar:
      return [TarMember(tar_path, m.name, m.offset_data, m.size)
              for m in tar.getmembers() if m.isfile()]
  except tarfile.TarError as e:
    raise ValueError(f'{tar_path} is not a readable (uncompressed) tar archive: {e}. '
                     'Download it again, or extract it into a folder of the same name '
                     'without .tar.') from None


def _describe(data_dir: str, entries: Sequence[str]) -> str:
  """What a directory holds, for an error message."""
  if not entries:
    return f'{data_dir} is empty'
  shown = ', '.join(sorted(entries)[:5]) + (' ...' if len(entries) > 5 else '')
  return f'{data_dir} holds {len(entries)} entries ({shown})'


def find_image_files(data_dir: str, labels_file: str,
                     validation_labels_file: Optional[str] = imagenet.VALIDATION_LABELS_FILE
                     ) -> Tuple[List[Source], List[str], List[int]]:
  """(images, synsets, labels) of `data_dir`, shuffled with slim's seed.

  `data_dir` holds synset folders, per-synset `.tar` archives, or the flat
  `ILSVRC2012_val_NNNNNNNN.JPEG` files of the validation set (whose synsets
  are line N of `validation_labels_file`). Images are listed synset by synset
  in label order, each synset sorted by name, then permuted by
  `slim_shuffle_order`, so every layout of the same images gives the same
  records. (slim listed each folder in filesystem order, so its shard contents
  depended on the disk; sorting makes them reproducible. Given the same
  listing, the permutation is slim's.)

  Raises:
    FileNotFoundError: `data_dir` is missing or holds none of these layouts
      (the message says what it holds).
    ValueError: a flat validation file numbered beyond the labels file.
  """
  with open(labels_file) as f:
    challenge_synsets = [line.strip() for line in f if line.strip()]
  if not os.path.isdir(data_dir):
    hint = (' It is the outer archive: extract it first (mkdir train && tar -xf '
            f'{data_dir} -C train); the per-synset .tar files inside are read as they are.'
            if data_dir.endswith('.tar') else '')
    raise FileNotFoundError(f'Image directory {data_dir} does not exist or is not a '
                            f'directory.{hint}')
  entries = os.listdir(data_dir)
  per_synset, (folders, tars, flat) = _images_per_synset(
      data_dir, entries, set(challenge_synsets), validation_labels_file)
  images, synsets, labels = [], [], []
  for label, synset in enumerate(challenge_synsets, 1):
    found = per_synset.get(synset, [])
    images.extend(found)
    synsets.extend([synset] * len(found))
    labels.extend([label] * len(found))
  if not images:
    raise FileNotFoundError(
        f'No ImageNet images found: {_describe(data_dir, entries)}. Expected synset folders '
        f'({challenge_synsets[0]}/*.JPEG), per-synset archives ({challenge_synsets[0]}.tar, '
        'as ILSVRC2012_img_train.tar holds them) or the flat validation files '
        '(ILSVRC2012_val_00000001.JPEG ...), for the synsets of ' + labels_file + '.')
  others = [e for e in entries if e not in folders and e not in tars and e not in flat]
  logging.info('Found %d images of %d synsets in %s (%d synset folders, %d synset archives, '
               '%d flat validation files%s).', len(images), len(set(labels)), data_dir,
               len(folders), len(tars), len(flat),
               f'; ignored {len(others)} other entries, e.g. {sorted(others)[:3]}'
               if others else '')
  if len(set(labels)) < len(challenge_synsets):
    logging.warning('%d of the %d synsets of %s have no images in %s.',
                    len(challenge_synsets) - len(set(labels)), len(challenge_synsets),
                    labels_file, data_dir)
  order = slim_shuffle_order(len(images))
  return [images[i] for i in order], [synsets[i] for i in order], [labels[i] for i in order]


def _images_per_synset(data_dir: str, entries: List[str], known: set,
                       validation_labels_file: Optional[str]):
  """({synset: sorted images}, (synset folders, synset archives, flat validation
  files)) of the `entries` of `data_dir`; a synset's folder wins over its archive."""
  per_synset: Dict[str, List[Source]] = {}
  folders = [e for e in entries if e in known and os.path.isdir(os.path.join(data_dir, e))]
  for synset in folders:
    per_synset[synset] = sorted(tf.io.gfile.glob(os.path.join(data_dir, synset, '*')))
  tars = [e for e in entries if e.endswith('.tar') and e[:-4] in known and e[:-4] not in
          per_synset]
  for entry in tars:
    members = _tar_members(os.path.join(data_dir, entry))
    per_synset[entry[:-4]] = sorted(members, key=lambda m: m.name)
  flat = sorted(e for e in entries if _VALIDATION_NAME.match(e))
  if flat:
    for synset, files in _flat_validation(data_dir, flat, validation_labels_file).items():
      per_synset.setdefault(synset, []).extend(files)
  return per_synset, (folders, tars, flat)


def _flat_validation(data_dir: str, names: Sequence[str],
                     validation_labels_file: Optional[str]) -> Dict[str, List[str]]:
  """{synset: [paths]} of flat ILSVRC2012_val_NNNNNNNN.JPEG files."""
  if not validation_labels_file or not os.path.exists(validation_labels_file):
    raise FileNotFoundError(
        f'{data_dir} holds {len(names)} flat validation images (ILSVRC2012_val_*.JPEG) but '
        f'the validation labels file {validation_labels_file!r} does not exist. Pass '
        f'--validation_labels_file (one synset a line, image N on line N; the package ships '
        f'it as {imagenet.VALIDATION_LABELS_FILE}).')
  with open(validation_labels_file) as f:
    val_synsets = [line.strip() for line in f if line.strip()]
  out: Dict[str, List[str]] = {}
  for name in names:
    number = int(_VALIDATION_NAME.match(name).group(1))
    if not 1 <= number <= len(val_synsets):
      raise ValueError(f'{os.path.join(data_dir, name)}: image number {number} has no label in '
                       f'{validation_labels_file} ({len(val_synsets)} lines). Is it an '
                       'ILSVRC-2012 validation image?')
    out.setdefault(val_synsets[number - 1], []).append(os.path.join(data_dir, name))
  if len(names) < len(val_synsets):
    logging.warning('%s holds %d of the %d validation images.', data_dir, len(names),
                    len(val_synsets))
  return out


def build_synset_lookup(metadata_file: str) -> Dict[str, str]:
  lookup = {}
  with open(metadata_file, encoding='utf-8') as f:
    for line in f:
      if line.strip():
        synset, _, human = line.rstrip('\n').partition('\t')
        lookup[synset] = human
  return lookup


def build_bounding_box_lookup(bounding_box_file: Optional[str]) -> Dict[str, List[List[float]]]:
  """{image basename: [[xmin, ymin, xmax, ymax], ...]} from slim's CSV."""
  boxes = {}
  if not bounding_box_file:
    return boxes
  with open(bounding_box_file) as f:
    for number, line in enumerate(f, 1):
      if not line.strip():
        continue
      parts = line.strip().split(',')
      if len(parts) != 5:
        raise ValueError(f'{bounding_box_file}:{number}: expected '
                         f"'file.JPEG,xmin,ymin,xmax,ymax'. Received: {line.strip()!r}")
      boxes.setdefault(parts[0], []).append([float(x) for x in parts[1:]])
  logging.info('Read %d bounding boxes for %d images.', sum(map(len, boxes.values())), len(boxes))
  return boxes


def _process_shards(thread_index, ranges, name, filenames, synsets, labels, humans, bboxes,
                    num_shards, output_directory, progress, lock, errors):
  num_threads = len(ranges)
  shards_per_thread = num_shards // num_threads
  bounds = np.linspace(ranges[thread_index][0], ranges[thread_index][1],
                       shards_per_thread + 1).astype(int)
  try:
    for s in range(shards_per_thread):
      shard = thread_index * shards_per_thread + s
      path = os.path.join(output_directory, f'{name}-{shard:05d}-of-{num_shards:05d}')
      with shards.shard_writer(path) as writer:
        for i in range(bounds[s], bounds[s + 1]):
          data, height, width = process_image(filenames[i])
          example = convert_to_example(filenames[i], data, labels[i], synsets[i],
                                       humans[synsets[i]],
                                       bboxes.get(source_basename(filenames[i]), []),
                                       height, width)
          writer.write(example.SerializeToString())
          with lock:
            progress.update()
  except Exception as e:  # pylint: disable=broad-except
    errors.append(e)


def process_dataset(name: str, directory: str, num_shards: int, synset_to_human: Dict[str, str],
                    bboxes: Dict[str, List[List[float]]], output_directory: str,
                    labels_file: str, num_threads: int,
                    validation_labels_file: Optional[str] = imagenet.VALIDATION_LABELS_FILE
                    ) -> int:
  """Converts one split; returns the number of images written."""
  if num_shards % num_threads:
    raise ValueError(f'The number of threads must divide the number of shards. '
                     f'Received: {name}_shards={num_shards}, num_threads={num_threads}')
  filenames, synsets, labels = find_image_files(directory, labels_file,
                                                validation_labels_file)
  missing = sorted(set(synsets) - set(synset_to_human))
  if missing:
    raise ValueError(f'{len(missing)} synsets have no human-readable name in the metadata '
                     f'file, e.g. {missing[:3]}.')
  tf.io.gfile.makedirs(output_directory)
  spacing = np.linspace(0, len(filenames), num_threads + 1).astype(int)
  ranges = [(spacing[i], spacing[i + 1]) for i in range(num_threads)]
  progress = dataset_utils.Progress(f'imagenet {name}', len(filenames))
  lock, errors = threading.Lock(), []
  threads = [threading.Thread(target=_process_shards, args=(
      t, ranges, name, filenames, synsets, labels, synset_to_human, bboxes, num_shards,
      output_directory, progress, lock, errors)) for t in range(num_threads)]
  for t in threads:
    t.start()
  for t in threads:
    t.join()
  if errors:
    raise errors[0]
  progress.update(0, force=True)
  shards.write_manifest(output_directory, 'imagenet', name, [
      os.path.join(output_directory, f'{name}-{shard:05d}-of-{num_shards:05d}')
      for shard in range(num_shards)])
  return len(filenames)


def run(train_directory: Optional[str], validation_directory: Optional[str],
        output_directory: str, train_shards: int = 1024, validation_shards: int = 128,
        num_threads: int = 8, labels_file: str = imagenet.SYNSETS_FILE,
        imagenet_metadata_file: str = imagenet.METADATA_FILE,
        bounding_box_file: Optional[str] = None,
        validation_labels_file: str = imagenet.VALIDATION_LABELS_FILE) -> Dict[str, int]:
  """Converts the given splits; returns {split: images written}."""
  synset_to_human = build_synset_lookup(imagenet_metadata_file)
  bboxes = build_bounding_box_lookup(bounding_box_file)
  written = {}
  for split, directory, shards in (('validation', validation_directory, validation_shards),
                                   ('train', train_directory, train_shards)):
    if directory:
      written[split] = process_dataset(split, directory, shards, synset_to_human, bboxes,
                                       output_directory, labels_file, num_threads,
                                       validation_labels_file)
  return written


FLAGS = flags.FLAGS


def _define_flags():
  flags.DEFINE_string('train_directory', None,
                      'Training images: synset folders or the per-synset .tar files of '
                      'ILSVRC2012_img_train.tar (unset: no train split).')
  flags.DEFINE_string('validation_directory', None,
                      'Validation images: the flat ILSVRC2012_val_*.JPEG folder or synset '
                      'folders (unset: no validation split).')
  flags.DEFINE_string('output_directory', '/tmp/', 'Output data directory')
  flags.DEFINE_integer('train_shards', 1024, 'Number of shards in training TFRecord files.')
  flags.DEFINE_integer('validation_shards', 128,
                       'Number of shards in validation TFRecord files.')
  flags.DEFINE_integer('num_threads', 8, 'Number of threads to preprocess the images.')
  flags.DEFINE_string('labels_file', imagenet.SYNSETS_FILE, 'Labels file (one synset a line).')
  flags.DEFINE_string('imagenet_metadata_file', imagenet.METADATA_FILE,
                      'ImageNet metadata file (synset<TAB>human-readable names).')
  flags.DEFINE_string('validation_labels_file', imagenet.VALIDATION_LABELS_FILE,
                      'Synset of each flat validation image, image N on line N (shipped).')
  flags.DEFINE_string('bounding_box_file', './imagenet_2012_bounding_boxes.csv',
                      'Bounding box file (file.JPEG,xmin,ymin,xmax,ymax); missing: no boxes.')


def main(argv):
  from slimvision.core import cli  # pylint: disable=g-import-not-at-top
  cli.check_no_arguments(argv)
  cli.check(FLAGS.train_directory or FLAGS.validation_directory,
            'Nothing to convert: pass --train_directory and/or --validation_directory.')
  cli.check_positive(train_shards=FLAGS.train_shards,
                     validation_shards=FLAGS.validation_shards, num_threads=FLAGS.num_threads)
  for split in ('train', 'validation'):
    shards = getattr(FLAGS, f'{split}_shards')
    cli.check(not getattr(FLAGS, f'{split}_directory') or shards % FLAGS.num_threads == 0,
              f'--num_threads={FLAGS.num_threads} must divide --{split}_shards={shards}.')
  for flag in ('labels_file', 'imagenet_metadata_file'):
    cli.check(os.path.isfile(getattr(FLAGS, flag)),
              f'--{flag}={getattr(FLAGS, flag)}: no such file (the shipped one is the default).')
  with cli.usage_errors():
    for flag in ('train_directory', 'validation_directory'):
      cli.check_directory(flag, getattr(FLAGS, flag), required=False,
                          what='a folder of ImageNet images (see --help for the layouts)')
      if getattr(FLAGS, flag):
        find_image_files(getattr(FLAGS, flag), FLAGS.labels_file, FLAGS.validation_labels_file)
  box_file = FLAGS.bounding_box_file
  if box_file and not os.path.exists(box_file):
    logging.warning('Bounding box file %s not found; writing no boxes.', box_file)
    box_file = None
  written = run(FLAGS.train_directory, FLAGS.validation_directory, FLAGS.output_directory,
                FLAGS.train_shards, FLAGS.validation_shards, FLAGS.num_threads,
                FLAGS.labels_file, FLAGS.imagenet_metadata_file, box_file,
                FLAGS.validation_labels_file)
  logging.info('Wrote %s to %s.', written, FLAGS.output_directory)


def cli():
  """Console entry point; `python -m slimvision.datasets.build_imagenet_data`."""
  from slimvision.core import cli as cli_lib  # pylint: disable=g-import-not-at-top
  cli_lib.run(main, __name__, define_flags=_define_flags)


if __name__ == '__main__':
  cli()
