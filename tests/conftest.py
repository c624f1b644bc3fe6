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


import ctypes  # pylint: disable=g-import-not-at-top,wrong-import-position
import ctypes.util  # pylint: disable=g-import-not-at-top,wrong-import-position
import gc  # pylint: disable=g-import-not-at-top,wrong-import-position
import os  # pylint: disable=g-import-not-at-top,wrong-import-position

import keras  # pylint: disable=g-import-not-at-top,wrong-import-position
import pytest  # pylint: disable=g-import-not-at-top,wrong-import-position


def _malloc_trim():
  """glibc's malloc_trim(0), where the C library has it: returns the heap's free
  pages to the system. Without it a process that built a full-size net keeps
  its peak resident memory for the rest of the run (glibc keeps freed memory
  in its arenas), and a test process grows with every large net it meets."""
  libc = ctypes.util.find_library('c')
  trim = getattr(ctypes.CDLL(libc), 'malloc_trim', None) if libc else None
  return (lambda: trim(0)) if trim else (lambda: None)


_release_free_memory = _malloc_trim()


def _resident_mib():
  """(resident now, peak so far) of this process, in MiB."""
  with open('/proc/self/status') as f:
    fields = dict(line.split(':', 1) for line in f)
  return tuple(int(fields[k].split()[0]) // 1024 for k in ('VmRSS', 'VmHWM'))


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
  gc.collect()
  _release_free_memory()
  if _MEMORY_LOG and os.path.exists('/proc/self/status'):
    with open(_MEMORY_LOG, 'a') as f:
      f.write('%d %d %d %s\n' % (os.getpid(), *_resident_mib(), request.node.nodeid))


@pytest.fixture(autouse=True, scope='module')
def _fresh_keras_session():
  """Keras' global state (name counters, cached graphs) reset between modules."""
  yield
  keras.backend.clear_session(free_memory=True)
  _release_free_memory()
