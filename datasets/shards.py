"""Records per shard: counting them, the manifest converters write, the check readers make.

A converter writes, beside the TFRecord shards of a dataset directory, a small
`manifest.json` of each shard's record count and byte size (as tfds keeps its
shard lengths):

    {"format": "slimvision.shards/1", "dataset": "flowers",
     "splits": {"train": {"records": 3320,
                          "shards": {"flowers_train_00000-of-00005.tfrecord":
                                     {"records": 664, "bytes": 5481523}, ...}}}}

`check_split` compares the shards on disk with it before a run reads them: a
shard missing, or holding other bytes than the manifest says (cut short,
replaced), is an error naming the shard and both record counts. Directories
written by slim's own converters have no manifest; their records are counted
from the TFRecord framing (12 bytes read per record, the data skipped), so a
directory holding a subset of the split is stated, not hidden.
"""

import contextlib
import dataclasses
import os
import struct
from typing import Dict, Iterator, List, Optional, Sequence

from absl import logging
import tensorflow as tf

from ..core import files as files_lib

MANIFEST_FILENAME = 'manifest.json'
FORMAT = 'slimvision.shards/1'
# A TFRecord is: uint64 length, uint32 masked CRC of the length, the data,
# uint32 masked CRC of the data.
_HEADER_BYTES, _FOOTER_BYTES = 12, 4


class ShardError(ValueError):
  """A shard that does not hold what its dataset directory says it holds."""


def count_framed_records(path: str) -> int:
  """The number of records in a TFRecord file, from its framing alone.

  Reads each record's 12-byte header and skips its data, so counting a 150 MB
  ImageNet shard reads about 15 KB. CRCs are not checked (reading does that).

  Raises:
    ShardError: naming the file, when its last record is cut short.
  """
  size = tf.io.gfile.stat(path).length
  count = offset = 0
  local = '://' not in path  # Python's own file objects read headers far faster.
  with (open(path, 'rb') if local else tf.io.gfile.GFile(path, 'rb')) as f:
    while offset < size:
      header = f.read(_HEADER_BYTES) if offset + _HEADER_BYTES <= size else b''
      if len(header) < _HEADER_BYTES:
        raise ShardError(f'TFRecord file {path} is cut short: {size - offset} stray bytes '
                         f'after record {count - 1} (0-based). Regenerate it with the '
                         'converter or remove it.')
      (length,) = struct.unpack('<Q', header[:8])
      offset += _HEADER_BYTES + length + _FOOTER_BYTES
      if offset > size:
        raise ShardError(f'TFRecord file {path} is cut short: record {count} (0-based) needs '
                         f'{offset - size} bytes more than the file holds. Regenerate it '
                         'with the converter or remove it.')
      f.seek(offset)
      count += 1
  return count


@contextlib.contextmanager
def shard_writer(path: str) -> Iterator[tf.io.TFRecordWriter]:
  """A `TFRecordWriter` whose file appears at `path` only once it is complete.

  It writes `path.tmp` and renames it on success; on an exception the partial
  file is removed, so a crashed conversion never leaves a shard that looks
  finished.
  """
  with files_lib.atomic_path(path) as tmp, tf.io.TFRecordWriter(tmp) as writer:
    yield writer


def read_manifest(dataset_dir: str) -> Optional[dict]:
  """The manifest of `dataset_dir`, or None when it has none (or an unreadable one, logged)."""
  path = os.path.join(dataset_dir, MANIFEST_FILENAME)
  manifest = files_lib.read_json(path)
  if manifest is None:
    return None
  if not isinstance(manifest, dict) or manifest.get('format') != FORMAT:
    logging.warning('Ignoring %s: not a %s manifest.', path, FORMAT)
    return None
  return manifest


def write_manifest(dataset_dir: str, dataset_name: str, split_name: str,
                   files: Sequence[str]) -> dict:
  """Records the shards of one split in `dataset_dir`'s manifest (other splits kept).

  Args:
    dataset_dir: the directory of the shards.
    dataset_name: the dataset ('flowers', ...).
    split_name: the split the files hold.
    files: the split's complete shards (paths in `dataset_dir`).

  Returns:
    The split's entry: {'records': total, 'shards': {basename: {records, bytes}}}.
  """
  manifest = read_manifest(dataset_dir) or {'format': FORMAT, 'dataset': dataset_name,
                                            'splits': {}}
  shards = {os.path.basename(f): {'records': count_framed_records(f),
                                  'bytes': tf.io.gfile.stat(f).length}
            for f in sorted(files)}
  entry = {'records': sum(s['records'] for s in shards.values()), 'shards': shards}
  manifest['dataset'] = dataset_name
  manifest['splits'][split_name] = entry
  files_lib.write_json(os.path.join(dataset_dir, MANIFEST_FILENAME), manifest, indent=1,
                       sort_keys=True)
  return entry


@dataclasses.dataclass(frozen=True)
class SplitCount:
  """What `check_split` found.

  Attributes:
    records: the records in the split's files.
    published: slim's published size of the split.
    from_manifest: whether the counts are the manifest's (checked against the
      files' sizes) rather than counted.
    empty: the files holding no record.
  """
  records: int
  published: int
  from_manifest: bool
  empty: List[str]

  def note(self, what: str) -> Optional[str]:
    """A sentence stating a record count other than the published size, else None."""
    if self.records == self.published:
      return None
    source = 'its shards checked against manifest.json' if self.from_manifest else 'counted'
    return (f'{what} holds {self.records} records ({source}); the published size of the '
            f'split is {self.published}: a subset or another copy of the dataset.')


def check_split(dataset_dir: str, split_name: str, files: Sequence[str],
                published: int) -> SplitCount:
  """Checks the split's files against the manifest (if any) and counts their records.

  Args:
    dataset_dir: the dataset directory.
    split_name: the split.
    files: the split's files found on disk.
    published: the split's published size.

  Returns:
    A SplitCount.

  Raises:
    ShardError: a shard the manifest lists is missing or holds other records
      than it says; a file is cut short; or the files hold no record at all.
  """
  manifest = read_manifest(dataset_dir)
  entry = (manifest or {}).get('splits', {}).get(split_name)
  counts: Dict[str, int] = {}
  if entry:
    listed = entry.get('shards', {})
    for name, shard in sorted(listed.items()):
      path = os.path.join(dataset_dir, name)
      if not tf.io.gfile.exists(path):
        raise ShardError(f'Shard {path} is missing: {MANIFEST_FILENAME} lists it with '
                         f"{shard['records']} records of split {split_name!r}. Restore it or "
                         're-run the converter.')
      if tf.io.gfile.stat(path).length != shard['bytes']:
        found = count_framed_records(path)
        if found != shard['records']:
          raise ShardError(f"Shard {path} holds {found} records; {MANIFEST_FILENAME} says "
                           f"{shard['records']} (the converter wrote that many): the file was "
                           'cut short or replaced. Re-run the converter, or restore the file.')
        logging.warning('Shard %s holds the %d records its manifest lists, but not the same '
                        'bytes: it was rewritten.', path, found)
      counts[path] = shard['records']
    extra = [f for f in files if os.path.basename(f) not in listed]
    for path in extra:
      logging.warning('%s matches split %r but is not in %s; counting its records too.',
                      path, split_name, MANIFEST_FILENAME)
      counts[path] = count_framed_records(path)
  else:
    counts = {f: count_framed_records(f) for f in files}
  total = sum(counts.values())
  empty = sorted(f for f, n in counts.items() if n == 0)
  if total == 0:
    raise ShardError(f'Split {split_name!r} in {dataset_dir} holds no records: its '
                     f"{len(counts)} file(s) ({', '.join(os.path.basename(f) for f in sorted(counts))}) "
                     'are empty. Re-run the converter for this split.')
  for path in empty:
    logging.warning('%s holds no records.', path)
  return SplitCount(total, int(published), bool(entry), empty)


__all__ = ['MANIFEST_FILENAME', 'ShardError', 'SplitCount', 'check_split', 'count_framed_records',
           'read_manifest', 'shard_writer', 'write_manifest']
