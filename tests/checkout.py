"""Imports the checkout as `slimvision` (and the tests' helpers by name).

For the test session (conftest.py) and the helper processes the tests start
(`python tests/train_driver.py ...`), whose own folder is first on sys.path.
"""

import os
import sys

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
for _path in (ROOT, TESTS):
  if _path not in sys.path:
    sys.path.insert(0, _path)
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import _bootstrap  # pylint: disable=g-import-not-at-top,wrong-import-position

_bootstrap.as_package()
