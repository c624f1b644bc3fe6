"""The suite's own footprint stays bounded: disk, memory, time and a run that never hangs.

The registry-wide tests write full-size checkpoints and SavedModels (VGG-16's
checkpoint alone is over 500 MB); kept for every passing test, a run fills tens of
GB of the temporary disk and the last tests fail with "No space left on device".

A test process that built a full-size net gives its memory back once the net
is freed (tests/checkout.py, tests/conftest.py), so that a process's memory is
that of its largest test, not the sum of all it ran.

A test that hangs, or a test process that dies (killed for memory, a crash in
native code), must end the run with the test's name instead of a silent wait:
pytest-timeout (pytest.ini) stops a test that runs past its limit by ending its
process, and pytest-xdist reports a process that died with the test it ran and
ends the run (--max-worker-restart=0).
"""

import os
import subprocess
import sys
import time

import pytest

import memory_testlib
import numpy as np
from checkout import ROOT
from slimvision.nets import nets_factory


def test_a_passing_tests_tmp_path_is_removed_when_it_ends(request):
  assert request.config.getini('tmp_path_retention_policy') == 'failed'


def test_a_freed_full_size_net_gives_its_memory_back():
  memory_testlib.release_free_memory()
  before, _ = memory_testlib.resident_mib()
  fn = nets_factory.get_network_fn('vgg_a', is_training=False)  # 133 M weights: 507 MiB.
  fn(np.zeros((1, 224, 224, 3), np.float32))
  held, _ = memory_testlib.resident_mib()
  del fn
  memory_testlib.release_free_memory()
  after, _ = memory_testlib.resident_mib()
  assert held - before > 500, (before, held)
  assert after - before < 0.2 * (held - before), (before, held, after)


def test_every_test_has_a_time_limit_that_ends_its_process(request):
  assert 0 < float(request.config.getini('timeout')) <= 600
  assert request.config.getini('timeout_method') == 'thread'
  assert request.config.getoption('maxworkerrestart') in (0, '0')


_FAULTS = {
    'hangs': 'import time\ndef test_fault():\n  time.sleep(3600)\n',
    'dies': 'import os, signal\ndef test_fault():\n  os.kill(os.getpid(), signal.SIGKILL)\n',
}


@pytest.mark.parametrize('fault', sorted(_FAULTS))
def test_a_test_that_hangs_or_dies_ends_the_run_with_its_name(fault, tmp_path):
  # The project's pytest.ini, two processes as the README's command runs them,
  # and a time limit of 5 s instead of the suite's.
  (tmp_path / f'test_{fault}.py').write_text(_FAULTS[fault])
  for i in range(3):
    (tmp_path / f'test_passes_{i}.py').write_text('def test_passes():\n  pass\n')
  start = time.monotonic()
  proc = subprocess.run(
      [sys.executable, '-m', 'pytest', '-c', os.path.join(ROOT, 'pytest.ini'),
       '--rootdir', str(tmp_path), '-p', 'no:cacheprovider', '-n', '2', '--dist', 'loadfile',
       '-o', 'timeout=5', str(tmp_path)],
      cwd=tmp_path, capture_output=True, text=True, timeout=300)
  elapsed = time.monotonic() - start
  out = proc.stdout + proc.stderr
  assert proc.returncode == 1, out[-3000:]
  assert elapsed < 120, (elapsed, out[-3000:])
  assert f"crashed while running 'test_{fault}.py::test_fault'" in out, out[-3000:]
