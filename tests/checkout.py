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
# TensorFlow's oneDNN build keeps its large tensors in a pool that never shrinks
# (a BFC allocator): a test process that built a full-size net would keep that
# net's memory for the rest of the run, and grow with each larger net. With the
# system allocator (oneDNN's kernels unchanged) freed tensors go back to malloc,
# and conftest.py returns them to the system after each test. Read once, when
# TensorFlow first allocates; the processes the tests start inherit it.
os.environ.setdefault('TF_ONEDNN_USE_SYSTEM_ALLOCATOR', '1')

import _bootstrap  # pylint: disable=g-import-not-at-top,wrong-import-position

_bootstrap.as_package()
