"""Test setup: the checkout is imported as `slimvision` (and slim-style as `nets`, ...)."""

import checkout  # pylint: disable=unused-import  (the checkout as slimvision)

# Two logical CPU devices for the whole session, so the multi-replica code paths
# (MirroredStrategy over 2 replicas) can be tested on any machine. This must run
# before TensorFlow initialises its devices.
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position

_cpus = tf.config.list_physical_devices('CPU')
try:
  tf.config.set_logical_device_configuration(
      _cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)
except RuntimeError:  # Devices already initialised (e.g. a plugin imported TF first).
  pass


import os  # pylint: disable=g-import-not-at-top,wrong-import-position

import keras  # pylint: disable=g-import-not-at-top,wrong-import-position
import pytest  # pylint: disable=g-import-not-at-top,wrong-import-position

import memory_testlib  # pylint: disable=g-import-not-at-top,wrong-import-position


# SLIMVISION_TEST_MEMORY=FILE: each test process appends, after each test, its
# resident memory and its peak so far (MiB) to FILE, to find the tests that set
# the suite's peak.
_MEMORY_LOG = os.environ.get('SLIMVISION_TEST_MEMORY')


@pytest.fixture(autouse=True)
def _collect_garbage(request):
  """Frees the networks a test built: Keras models hold reference cycles, which
  Python's collector otherwise reaches too rarely for a suite that builds
  hundreds of full-size nets in one process; the freed heap goes back to the
  system."""
  yield
  memory_testlib.release_free_memory()
  if _MEMORY_LOG:
    with open(_MEMORY_LOG, 'a') as f:
      f.write('%d %d %d %s\n' % (os.getpid(), *memory_testlib.resident_mib(),
                                 request.node.nodeid))


@pytest.fixture(autouse=True, scope='module')
def _fresh_keras_session():
  """Keras' global state (name counters, cached graphs) reset between modules."""
  yield
  keras.backend.clear_session(free_memory=True)
  memory_testlib.release_free_memory()
