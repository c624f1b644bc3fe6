"""slim's released checkpoints by network name: download, safe extraction, cache, restore.

    from slimvision.nets import nets_factory, pretrained
    fn = nets_factory.get_network_fn('inception_v3', is_training=False)
    pretrained.load_pretrained(fn)          # or get_network_fn(..., pretrained=True)
    prefix = pretrained.fetch('inception_v3')   # the checkpoint prefix in the cache

Each registered net's `checkpoint_url` is slim's release archive. The archive is
downloaded once (progress logged, a partial download resumed, its sha256
checked when given) into `$SLIMVISION_HOME/archives/` (default
`~/.cache/slimvision`), extracted with `tarfile`'s `data` filter into
`$SLIMVISION_HOME/<archive name>/`, and marked complete only once extracted,
with the size of every file it holds; later calls read the cache and do not
touch the network. A cache whose files are missing or changed is extracted
again (from the archive, kept beside it, or downloaded anew); a sha256 given
for a cached release is checked against that archive.

`$SLIMVISION_MIRROR=<base URL>` fetches every release as `<base>/<archive file
name>` instead (a mirror, an air-gapped site, or a test server).

The releases differ in layout: a TF1 single-file checkpoint
(`inception_v3.ckpt`), a V2 prefix (`mobilenet_v1_1.0_224.ckpt.index` + data),
beside frozen graphs, TFLite files and notes. `find_checkpoint` picks the
checkpoint; where it holds `<name>/ExponentialMovingAverage` values (the
releases evaluated with them), they are restored.
"""

import json
import os
import re
import shutil
import tarfile
import urllib.parse
from typing import List, Optional

from absl import logging

from . import checkpoints
from . import nets_factory
from ..core import download

HOME_ENV, MIRROR_ENV = 'SLIMVISION_HOME', 'SLIMVISION_MIRROR'
PRETRAINED = 'pretrained'  # The value of --checkpoint_path that names the net's release.
_COMPLETE = '.complete'
_NOT_CHECKPOINTS = ('.pb', '.pbtxt', '.tflite', '.txt', '.meta', '.json', '.md', '.png',
                    '.jpg')


def home() -> str:
  """The cache directory: `$SLIMVISION_HOME`, else `~/.cache/slimvision`."""
  return os.environ.get(HOME_ENV) or os.path.join(os.path.expanduser('~'), '.cache',
                                                   'slimvision')


def release_url(name: str) -> str:
  """The URL of net `name`'s release (through `$SLIMVISION_MIRROR` when set).

  Raises:
    ValueError: for an unknown net, or one slim released no checkpoint of,
      naming the nets that have one.
  """
  url = nets_factory.get_spec(name).checkpoint_url
  if not url:
    released = [n for n in nets_factory.list_networks()
                if nets_factory.get_spec(n).checkpoint_url]
    raise ValueError(f'slim released no checkpoint of {name}: train one '
                     '(train_image_classifier.py) and pass its --checkpoint_path. Nets with a '
                     f"release: {', '.join(released)}.")
  mirror = os.environ.get(MIRROR_ENV)
  if mirror:
    return mirror.rstrip('/') + '/' + os.path.basename(urllib.parse.urlparse(url).path)
  return url


def fetch(name: str, sha256: Optional[str] = None) -> str:
  """Net `name`'s released checkpoint in the cache (downloaded and extracted if
  needed); returns its prefix.

  Args:
    name: a registered net with a release.
    sha256: the archive's expected sha256 (hex); default the registry's
      `checkpoint_sha256`, where it records one.

  Raises:
    ValueError: no release, an archive that is not a readable tar, or one
      holding no checkpoint (the archive is removed).
    download.DownloadError: a failed, short or corrupt download.
  """
  url = release_url(name)
  sha256 = valid_sha256(sha256) or nets_factory.get_spec(name).checkpoint_sha256
  archive_name = os.path.basename(urllib.parse.urlparse(url).path)
  archives = os.path.join(home(), 'archives')
  target = os.path.join(home(), archive_stem(archive_name))
  problem = _cache_problem(target)
  if problem is None and sha256 and not os.path.exists(os.path.join(archives, archive_name)):
    problem = 'its archive, needed to check the sha256, is gone'
  if problem is not None:
    if os.path.exists(target):
      logging.warning('The cached %s is not intact (%s): extracting the release again.',
                      target, problem)
    _extract(download.fetch_url(url, archives, sha256=sha256), target)
  elif sha256:
    try:  # The archive the cache was extracted from, against the expected checksum.
      download.fetch_url(url, archives, sha256=sha256)
    except download.DownloadError:
      shutil.rmtree(target, ignore_errors=True)
      raise
  return find_checkpoint(target)


def valid_sha256(sha256: Optional[str], argument: str = 'sha256') -> Optional[str]:
  """`sha256` if it is None or 64 hex digits; else a ValueError naming `argument`."""
  if sha256 is not None and not re.fullmatch(r'[0-9a-fA-F]{64}', sha256):
    raise ValueError(f'{argument} must be 64 hexadecimal digits (sha256sum prints them). '
                     f'Received: {sha256!r}')
  return sha256


def _cache_problem(target: str) -> Optional[str]:
  """Why the extracted release in `target` cannot be used as it is, or None."""
  try:
    with open(os.path.join(target, _COMPLETE)) as f:
      files = json.load(f)['files']
  except FileNotFoundError:
    return 'not extracted' if not os.path.exists(target) else 'its extraction did not finish'
  except (ValueError, KeyError, TypeError):
    return None  # Marked complete before sizes were recorded.
  for relative, size in files.items():
    path = os.path.join(target, relative)
    if not os.path.isfile(path):
      return f'{relative} is missing'
    if os.path.getsize(path) != size:
      return f'{relative} has {os.path.getsize(path)} bytes, not {size}'
  return None


def archive_stem(archive_name: str) -> str:
  """The name of an archive without `.tar.gz` / `.tgz` / `.tar`: its cache directory."""
  for suffix in ('.tar.gz', '.tgz', '.tar'):
    if archive_name.endswith(suffix):
      return archive_name[:-len(suffix)]
  return archive_name


def _extract(archive: str, target: str) -> None:
  """Extracts into a fresh `target`, marked complete at the end."""
  shutil.rmtree(target, ignore_errors=True)
  partial = target + '.partial'
  shutil.rmtree(partial, ignore_errors=True)
  try:
    with tarfile.open(archive, 'r:*') as tar:
      tar.extractall(partial, filter='data')
  except (tarfile.TarError, EOFError, OSError) as e:
    shutil.rmtree(partial, ignore_errors=True)
    os.remove(archive)
    raise ValueError(f'{archive} is not a complete, readable release archive ({e}); it was '
                     'removed. Run again to download it anew.') from None
  files = {os.path.relpath(os.path.join(root, f), partial):
           os.path.getsize(os.path.join(root, f))
           for root, _, names in os.walk(partial) for f in names}
  os.replace(partial, target)
  with open(os.path.join(target, _COMPLETE), 'w') as f:
    json.dump({'archive': os.path.basename(archive), 'files': files}, f, indent=1)


def find_checkpoint(directory: str) -> str:
  """The checkpoint prefix in an extracted release (V2 `*.index` prefix or a TF1
  single-file checkpoint), preferring moving-average checkpoints (`ema/`).

  Raises:
    ValueError: when the directory holds none, listing what it holds.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  candidates: List[str] = []
  for root, _, files in sorted(os.walk(directory)):
    for f in sorted(files):
      path = os.path.join(root, f)
      if f.endswith('.index'):
        candidates.append(path[:-len('.index')])
      elif not f.startswith('.') and '.data-' not in f and not f.endswith(_NOT_CHECKPOINTS):
        try:
          tf.train.load_checkpoint(path)
          candidates.append(path)
        except (tf.errors.OpError, ValueError):
          pass
  if not candidates:
    held = sorted(os.path.relpath(os.path.join(r, f), directory)
                  for r, _, fs in os.walk(directory) for f in fs)
    raise ValueError(f'No checkpoint in {directory} (it holds: {", ".join(held[:10])}). '
                     'Delete the directory to download the release again.')
  candidates.sort(key=lambda p: ('ema' not in os.path.relpath(p, directory).split(os.sep), p))
  return candidates[0]


def holds_moving_averages(prefix: str) -> bool:
  """Whether a checkpoint holds moving averages of its weights (by name alone)."""
  return any(n.endswith('/ExponentialMovingAverage')
             for n in checkpoints.checkpoint_variables(prefix))


def restore_weights(net, prefix: str, exclude_scopes=None) -> checkpoints.RestoreReport:
  """Restores a release (or any checkpoint) into `net` as pretrained weights.

  The moving averages of the weights are used where the checkpoint holds them
  (the releases evaluated with them; logged). Every weight that fits is
  restored; a classifier or auxiliary head that does not (another number of
  classes, a head one side lacks) is left at its initial value and named in
  the report's `initialised_scopes` (timm's behaviour for a new head).
  `exclude_scopes` (as `checkpoints.restore_checkpoint`'s) chooses what is not
  restored instead.

  Raises:
    ValueError: anything else does not fit, naming every mismatch.
  """
  averages = holds_moving_averages(prefix)
  if averages:
    logging.info('%s holds the moving averages of the weights; restoring them, as the '
                 'release was evaluated.', prefix)
  return checkpoints.restore_for_fine_tuning(net, prefix, exclude_scopes=exclude_scopes,
                                             use_moving_averages=averages)


def load_pretrained(net, sha256: Optional[str] = None, checkpoint_path: Optional[str] = None,
                    exclude_scopes=None) -> checkpoints.RestoreReport:
  """Restores net's release (see `fetch` and `restore_weights`); a head left at its
  initial value (`num_classes` other than the release's) is named in a warning.

  Args:
    net: a `nets_factory.NetworkFn`.
    sha256: the expected sha256 of the archive (default: the registry's, if any).
    checkpoint_path: restore this checkpoint (a prefix, file or directory)
      with the same rules instead of the release.
    exclude_scopes: scopes not to restore (comma-separated or a sequence);
      default: the heads that do not fit.

  Raises:
    ValueError: as `fetch` and `restore_weights`.
    download.DownloadError: a failed, short or corrupt download.
  """
  prefix = checkpoint_path or fetch(net.spec.name, sha256=sha256)
  report = restore_weights(net, checkpoints.resolve_checkpoint_path(prefix), exclude_scopes)
  if report.initialised_scopes:
    logging.warning('%s: %s left at their initial values (%s); train them before use.',
                    net.spec.name, ', '.join(report.initialised_scopes), report.reason)
  return report


__all__ = ['HOME_ENV', 'MIRROR_ENV', 'PRETRAINED', 'fetch', 'find_checkpoint',
           'archive_stem', 'holds_moving_averages', 'valid_sha256', 'home', 'load_pretrained', 'restore_weights',
           'release_url']
