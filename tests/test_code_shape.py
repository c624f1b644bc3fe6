"""The shape of the engine's code: every function short enough to read whole."""

import ast
import glob
import os

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
