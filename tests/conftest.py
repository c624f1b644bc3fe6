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


import gc  # pylint: disable=g-import-not-at-top,wrong-import-position

import keras  # pylint: disable=g-import-not-at-top,wrong-import-position
import pytest  # pylint: disable=g-import-not-at-top,wrong-import-position


@pytest.fixture(autouse=True)
def _collect_garbage():
  """Frees the networks a test built: Keras models hold reference cycles, which
  Python's collector otherwise reaches too rarely for a suite that builds
  hundreds of full-size nets in one process."""
  yield
  gc.collect()


@pytest.fixture(autouse=True, scope='module')
def _fresh_keras_session():
  """Keras' global state (name counters, cached graphs) reset between modules."""
  yield
  keras.backend.clear_session(free_memory=True)
