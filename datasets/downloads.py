"""Fetching and unpacking a dataset's archive for a converter, with progress.

Downloads resume a partial file and are checked (`core.download.fetch_url`); a
damaged archive is removed with what its extraction left, and named.
"""

import contextlib
import gzip
import os
import shutil
import tarfile
import zlib
from typing import Optional, Sequence

from ..core.progress import Progress


def download(url: str, dest_dir: str, filename: Optional[str] = None) -> str:
  """Downloads `url` (http(s) or file://) into `dest_dir`, logging progress and
  resuming a partial download (`core.download.fetch_url`).

  An existing file of the same name is kept (slim's converters behave the same,
  so a partial run can be resumed with the archive already in place).

  Returns:
    The path of the downloaded file.

  Raises:
    core.download.DownloadError (an OSError): naming the URL and what to do.
  """
  from ..core import download as download_lib  # pylint: disable=g-import-not-at-top
  return download_lib.fetch_url(url, dest_dir, filename)


@contextlib.contextmanager
def archive_errors(path: str, dataset_dir: Optional[str] = None):
  """Turns the errors of reading a damaged or wrong archive into one `ValueError`
  that names it and the fix. The archive is removed (a rerun downloads it anew
  rather than finding it there), and with `dataset_dir` so is what the failed
  extraction added there."""
  before = set(os.listdir(dataset_dir)) if dataset_dir else set()
  try:
    yield
  except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as e:
    if dataset_dir:
      remove_paths([os.path.join(dataset_dir, name) for name in
                    set(os.listdir(dataset_dir)) - before - {os.path.basename(path)}])
    if os.path.exists(path) and (not dataset_dir or
                                 os.path.dirname(os.path.abspath(path)) ==
                                 os.path.abspath(dataset_dir)):
      remove_paths([path])  # Our download: a rerun fetches it anew.
    if isinstance(e, tarfile.FilterError):
      raise ValueError(f'{path} holds a member that would be written outside the dataset '
                       f'directory or is not a plain file ({e}): refused, and the archive and '
                       'what it extracted were removed. It is not the archive the converter '
                       "expects: pass --data_url to the dataset's own file.") from None
    raise ValueError(f'{path} is not a complete, readable archive ({e}); it was removed. Run '
                     'the command again to download it anew, or pass --data_url to the right '
                     'file.') from None


def download_and_uncompress_tarball(tarball_url: str, dataset_dir: str) -> str:
  """Downloads a .tar(.gz) into `dataset_dir` and extracts it there; returns its path.

  Raises:
    ValueError: the archive is damaged or not a tar (nothing is left extracted).
  """
  path = download(tarball_url, dataset_dir)
  with archive_errors(path, dataset_dir), tarfile.open(path, 'r:*') as tar:
    tar.extractall(dataset_dir, filter='data')
  return path


def remove_paths(paths: Sequence[str]) -> None:
  """Deletes temporary files and folders made during a conversion."""
  for path in paths:
    if os.path.isdir(path):
      shutil.rmtree(path)
    elif os.path.exists(path):
      os.remove(path)


__all__ = ['Progress', 'download', 'archive_errors', 'download_and_uncompress_tarball',
           'remove_paths']
