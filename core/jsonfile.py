"""JSON files a run reads and writes (config.json, results.json, manifest.json, the lock's
holder): atomic writes and tolerant reads, on any `tf.io.gfile` filesystem (local, gs://, ...).
"""

import json
from typing import Any, Optional

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


def write_json(path: str, value: Any, **dump_kwargs) -> None:
  """Writes `value` to `path` atomically: readers see the old file or the new one.

  It writes `path.tmp` and renames it; on an error the temporary file is
  removed and the error (e.g. `OSError` ENOSPC) propagates.
  """
  tmp = path + '.tmp'
  try:
    with tf.io.gfile.GFile(tmp, 'w') as f:
      json.dump(value, f, **dump_kwargs)
      f.write('\n')
    tf.io.gfile.rename(tmp, path, overwrite=True)
  except BaseException:
    if tf.io.gfile.exists(tmp):
      tf.io.gfile.remove(tmp)
    raise


__all__ = ['read_json', 'write_json']
