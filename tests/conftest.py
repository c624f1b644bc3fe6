"""Test setup: the checkout is imported as `slimvision` (and slim-style as `nets`, ...)."""

import os
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(ROOT, 'tests')
for path in (ROOT, TESTS):
  if path not in sys.path:
    sys.path.insert(0, path)

import _bootstrap  # pylint: disable=g-import-not-at-top,wrong-import-position

_bootstrap.as_package()
