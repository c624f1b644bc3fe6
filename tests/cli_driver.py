"""Runs one command-line script on several command lines in one process, for
tests/test_cli_mistakes.py: each as the script's `__main__` would (absl flags
parsed anew, `cli.run`'s exit status), its file descriptors 1 and 2 captured.

Usage: python cli_driver.py MODULE OUT.json ARGV.json
  MODULE: the script's module below `slimvision` ('train_image_classifier',
    'datasets.build_imagenet_data', ...);
  ARGV.json: a JSON list of command lines, each a list whose first item is the
    program path (sys.argv[0]);
  OUT.json: written with a list of {"status", "stdout", "stderr"}, one per
    command line, in order.

Importing TensorFlow and the script once for all command lines is what this
saves; what a fresh process adds (TensorFlow's start-up lines hidden) is
checked by the rows of the table that run as their own process.
"""

import contextlib
import importlib
import json
import os
import sys
import tempfile
import traceback

_LOG_LEVEL_SET = 'TF_CPP_MIN_LOG_LEVEL' in os.environ
import checkout  # pylint: disable=unused-import,wrong-import-position  (the checkout as slimvision)

if not _LOG_LEVEL_SET:  # As for the script run by hand: its own default, start-up lines hidden.
  os.environ.pop('TF_CPP_MIN_LOG_LEVEL', None)

from absl import flags  # pylint: disable=wrong-import-position,g-import-not-at-top


@contextlib.contextmanager
def _captured(fd: int, stream):
  """Points file descriptor `fd` (and `stream`, which writes to it) at a
  temporary file; yields a function that returns what was written."""
  stream.flush()
  saved = os.dup(fd)
  with tempfile.TemporaryFile(mode='w+b') as f:
    os.dup2(f.fileno(), fd)
    try:
      yield lambda: (stream.flush(), f.seek(0), f.read().decode('utf-8', 'replace'))[2]
    finally:
      stream.flush()
      os.dup2(saved, fd)
      os.close(saved)


def _run_one(module, argv):
  """The exit status of the script on `argv`, as `python script argv[1:]` would give."""
  from slimvision.core import cli  # pylint: disable=g-import-not-at-top
  flags.FLAGS.unparse_flags()
  sys.argv = list(argv)
  try:
    cli.run(module.main, module.__name__)
  except SystemExit as e:
    return 0 if e.code is None else e.code if isinstance(e.code, int) else 1
  except BaseException:  # pylint: disable=broad-except  (a bug: its traceback, status 1)
    traceback.print_exc()
    return 1
  return 0


def main():
  module_name, out_path, argv_path = sys.argv[1:4]
  with open(argv_path) as f:
    command_lines = json.load(f)
  from slimvision.core import cli  # pylint: disable=g-import-not-at-top
  # As every script does first when run (some import TensorFlow when imported).
  cli.import_tensorflow()
  module = importlib.import_module(f'slimvision.{module_name}')
  define_flags = getattr(module, '_define_flags', None)
  if define_flags is not None:  # Scripts that define their flags when run.
    define_flags()
  results = []
  for argv in command_lines:
    with _captured(1, sys.stdout) as stdout, _captured(2, sys.stderr) as stderr:
      status = _run_one(module, argv)
      results.append({'status': status, 'stdout': stdout(), 'stderr': stderr()})
  with open(out_path, 'w') as f:
    json.dump(results, f)


if __name__ == '__main__':
  main()
