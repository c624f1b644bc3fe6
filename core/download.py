"""Downloading files: progress, resuming a partial download, size and sha256 checks.

    path = download.fetch_url('https://.../inception_v3_2016_08_28.tar.gz', '/cache/archives',
                              sha256='...')

A download is written to `<file>.part` and renamed only once complete and
checked, so a file of the final name is always whole. A `.part` left by an
interrupted download is resumed with an HTTP `Range` request (servers that
ignore it send the whole file again, which is then written from the start).
"""

import hashlib
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Optional

from absl import logging

from . import progress


class DownloadError(OSError):
  """A download that failed or did not check out; nothing is left under the final name."""


def sha256_of(path: str, chunk: int = 1 << 20) -> str:
  digest = hashlib.sha256()
  with open(path, 'rb') as f:
    for block in iter(lambda: f.read(chunk), b''):
      digest.update(block)
  return digest.hexdigest()


def fetch_url(url: str, dest_dir: str, filename: Optional[str] = None,
              sha256: Optional[str] = None, log_every_s: float = 5.0) -> str:
  """Downloads `url` (http(s):// or file://) into `dest_dir`; returns the file's path.

  A complete file already there is kept (and checked against `sha256` if
  given). Progress (MB, %, MB/s) is logged every `log_every_s` seconds.

  Raises:
    DownloadError: naming the URL and the file, when the download fails, is
      shorter than the server said, or its sha256 differs (the bad file is
      removed).
  """
  filename = filename or os.path.basename(urllib.parse.urlparse(url).path)
  path = os.path.join(dest_dir, filename)
  if os.path.exists(path):
    logging.info('%s already exists; not downloading %s.', path, url)
    _check_sha256(path, sha256, url)
    return path
  os.makedirs(dest_dir, exist_ok=True)
  part = path + '.part'
  have = os.path.getsize(part) if os.path.exists(part) else 0
  request = urllib.request.Request(url, headers={'Range': f'bytes={have}-'} if have else {})
  try:
    with urllib.request.urlopen(request) as response:
      resumed = have and getattr(response, 'status', 200) == 206
      if have and not resumed:
        have = 0  # The server sent the whole file.
      length = response.headers.get('Content-Length')
      total = have + int(length) if length else None
      logging.info('%s %s to %s%s', 'Resuming' if resumed else 'Downloading', url, path,
                   f' from byte {have}' if resumed else '')
      _copy(response, part, 'ab' if resumed else 'wb', have, total, filename, log_every_s)
  except (OSError, urllib.error.URLError) as e:
    kept = os.path.exists(part) and os.path.getsize(part) > 0
    if os.path.exists(part) and not kept:
      os.remove(part)
    resume = (f' What arrived is kept in {part}: running again resumes it.' if kept else '')
    raise DownloadError(f'Could not download {url}: {e}. Download it by hand into {dest_dir} '
                        f'and run the command again.{resume}') from e
  size = os.path.getsize(part)
  if total is not None and size != total:
    raise DownloadError(f'{url} ended after {size} of {total} bytes; {part} is kept and the '
                        'next attempt resumes it.')
  _check_sha256(part, sha256, url)
  os.replace(part, path)
  logging.info('Downloaded %s (%.1f MB).', filename, size / 1e6)
  return path


def _copy(response, part: str, mode: str, done: int, total: Optional[int], filename: str,
          log_every_s: float) -> None:
  megabytes = progress.Progress(filename, None if total is None else total / 1e6, unit='MB',
                                every_s=log_every_s, count_format='{:.1f}', count_unit='MB',
                                start=done / 1e6)
  with open(part, mode) as out:
    while True:
      chunk = response.read(1 << 20)
      if not chunk:
        return
      out.write(chunk)
      megabytes.update(len(chunk) / 1e6)


def _check_sha256(path: str, sha256: Optional[str], url: str) -> None:
  if not sha256:
    return
  found = sha256_of(path)
  if found != sha256.lower():
    os.remove(path)
    raise DownloadError(f'{url} downloaded to {path} has sha256 {found}, not the expected '
                        f'{sha256.lower()}: the file is corrupt or another one; it was removed. '
                        'Run again to download it anew, or check the expected checksum.')


__all__ = ['DownloadError', 'fetch_url', 'sha256_of']
