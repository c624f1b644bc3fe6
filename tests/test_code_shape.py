"""The shape of the engine's code: every function short enough to read whole."""

import ast
import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_LINES = 60  # Docstring included; the nets' builders (nets/) are exempt.


def _engine_files():
  patterns = ('core/*.py', 'datasets/*.py', '*.py')
  return sorted(f for p in patterns for f in glob.glob(os.path.join(ROOT, p)))


def test_the_engine_files_are_found():
  names = {os.path.relpath(f, ROOT) for f in _engine_files()}
  assert {'core/train.py', 'datasets/dataset_utils.py', 'train_image_classifier.py'} <= names


def test_no_function_in_core_datasets_or_the_scripts_is_over_60_lines():
  long = []
  for path in _engine_files():
    with open(path) as f:
      tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
      if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        lines = node.end_lineno - node.lineno + 1
        if lines > MAX_LINES:
          long.append(f'{os.path.relpath(path, ROOT)}:{node.lineno} {node.name} ({lines} lines)')
  assert not long, 'Split these functions into named parts:\n' + '\n'.join(long)


def _package_files():
  patterns = ('core/*.py', 'datasets/*.py', 'nets/*.py', 'preprocessing/*.py', '*.py')
  return sorted(f for p in patterns for f in glob.glob(os.path.join(ROOT, p)))


def _homes_of(pattern):
  """The package files whose code (not comments) matches the regex `pattern`."""
  found = set()
  for path in _package_files():
    with open(path) as f:
      code = '\n'.join(line.split('#')[0] for line in f)
    if re.search(pattern, code):
      found.add(os.path.relpath(path, ROOT))
  return found


def test_each_small_thing_has_one_home():
  # One image decoder, one atomic writer, one progress line, one checkpoint watcher.
  assert _homes_of(r'tf\.io\.decode_(image|jpeg|png)\(') == {'datasets/reading.py'}
  # (A download's resumable .part and an extracted release stay in the local cache.)
  assert _homes_of(r"\+ '\.tmp'|os\.replace\(|\.rename\(") == {
      'core/files.py', 'core/download.py', 'nets/pretrained.py'}
  assert _homes_of(r'ETA ') == {'core/progress.py'}
  assert _homes_of(r'checkpoints_iterator') == {'core/evaluate.py'}
