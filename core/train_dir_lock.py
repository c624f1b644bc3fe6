"""One trainer per `train_dir`: an OS file lock, with who holds it for the message.

The lock is `filelock`'s (`fcntl.flock` on POSIX, `msvcrt.locking` on
Windows): the operating system drops it when the holding process ends, however
it ends (kill -9 included), so a dead trainer never blocks the next one. Beside
it, `train_dir/.lock.json` names the holder (host, PID, start time) for the
error a second trainer gets, and tells a trainer that takes over a directory
whose last holder did not stop cleanly.

While it holds the directory, a trainer removes what an interrupted
checkpoint write left behind (`model.ckpt-N_temp/`): no other process can be
writing it.

Only the chief of a run locks (multi-worker runs write from the chief alone);
directories on remote filesystems (`gs://...`) are not locked.
"""

import datetime
import glob
import os
import shutil
import socket
from typing import List, Optional

from absl import logging
import filelock

from . import files

LOCK_FILE = '.lock'
HOLDER_FILE = '.lock.json'


class TrainDirInUseError(BlockingIOError):
  """Another trainer holds the train_dir."""

  def __str__(self):
    return self.args[0] if self.args else super().__str__()


def _read_holder(path: str) -> Optional[dict]:
  return files.read_json(path, warn=False)


def _describe(holder: Optional[dict]) -> str:
  if not holder:
    return 'another process'
  return (f"PID {holder.get('pid')} on host {holder.get('host')}, started "
          f"{holder.get('started')}")


def remove_partial_checkpoints(train_dir: str) -> List[str]:
  """Deletes what an interrupted checkpoint write left (`model.ckpt-N_temp/`,
  `*.tmp`); call it only while holding the directory. Returns what was removed."""
  removed = []
  for path in sorted(glob.glob(os.path.join(glob.escape(train_dir), '*_temp')) +
                     glob.glob(os.path.join(glob.escape(train_dir), '*_temp_*')) +
                     glob.glob(os.path.join(glob.escape(train_dir), '*.tmp'))):
    size = sum(os.path.getsize(os.path.join(root, f))
               for root, _, files in os.walk(path) for f in files) if os.path.isdir(path) \
        else os.path.getsize(path)
    if os.path.isdir(path):
      shutil.rmtree(path, ignore_errors=True)
    else:
      os.remove(path)
    removed.append(path)
    logging.warning('Removed %s (%.1f MB), left by an interrupted checkpoint write.', path,
                    size / 2**20)
  return removed


class TrainDirLock:
  """Holds `train_dir` for one trainer inside a `with` block.

  Raises (on entry):
    TrainDirInUseError: another live process holds it; the message names it
      and what to do.
  """

  def __init__(self, train_dir: str):
    self.train_dir = train_dir
    self._lock = None

  def __enter__(self) -> 'TrainDirLock':
    if '://' in self.train_dir:
      return self
    os.makedirs(self.train_dir, exist_ok=True)
    holder_path = os.path.join(self.train_dir, HOLDER_FILE)
    lock = filelock.FileLock(os.path.join(self.train_dir, LOCK_FILE))
    try:
      lock.acquire(timeout=0)
    except filelock.Timeout:
      raise TrainDirInUseError(
          f'--train_dir={self.train_dir} is in use by another trainer '
          f'({_describe(_read_holder(holder_path))}): two trainers writing one directory '
          'corrupt its checkpoints. Wait for it to finish or stop it, or pass another '
          '--train_dir.') from None
    previous = _read_holder(holder_path)
    if previous:
      logging.warning('Taking over %s from a trainer that did not stop cleanly (%s).',
                      self.train_dir, _describe(previous))
    remove_partial_checkpoints(self.train_dir)
    files.write_json(holder_path, {
        'host': socket.gethostname(), 'pid': os.getpid(),
        'started': datetime.datetime.now().astimezone().isoformat(timespec='seconds')})
    self._lock = lock
    return self

  def __exit__(self, *exc_info) -> None:
    if self._lock is None:
      return
    try:
      os.remove(os.path.join(self.train_dir, HOLDER_FILE))
    except OSError:
      pass
    self._lock.release()
    self._lock = None
