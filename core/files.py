"""Files a run writes: atomically, on any `tf.io.gfile` filesystem (local, gs://, ...).

`atomic_path` is the one atomic writer: the JSON files (config.json,
results.json, manifest.json, the lock's holder) and the converters' TFRecord
shards appear under their name only once complete. `read_json` reads JSON
tolerantly.
"""

import contextlib
import json
from typing import Any, Iterator, Optional

from absl import logging
import tensorflow as tf


def read_json(path: str, warn: bool = True) -> Optional[Any]:
  """The JSON value in `path`; None when it is missing or unreadable (logged if `warn`)."""
  try:
    with tf.io.gfile.GFile(path) as f:
      return json.load(f)
  except tf.errors.NotFoundError:
    return None
  except (ValueError, tf.errors.OpError) as e:
    if warn:
      logging.warning('Could not read %s: %s', path, e)
    return None


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
  """The path to write instead of `path`; it becomes `path` only if the block ends well.

  Readers see the old file or the new one, never half of one: the block writes
  `path.tmp`, which is renamed to `path` when it exits normally; on an exception
  the temporary file is removed and the error (e.g. `OSError` ENOSPC)
  propagates.

      with files.atomic_path(path) as tmp, tf.io.TFRecordWriter(tmp) as writer:
        ...
  """
  tmp = path + '.tmp'
  try:
    yield tmp
    tf.io.gfile.rename(tmp, path, overwrite=True)
  except BaseException:
    if tf.io.gfile.exists(tmp):
      tf.io.gfile.remove(tmp)
    raise


def write_json(path: str, value: Any, **dump_kwargs) -> None:
  """Writes `value` to `path` atomically (`atomic_path`)."""
  with atomic_path(path) as tmp:
    with tf.io.gfile.GFile(tmp, 'w') as f:
      json.dump(value, f, **dump_kwargs)
      f.write('\n')


__all__ = ['atomic_path', 'read_json', 'write_json']
