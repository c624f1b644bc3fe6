"""The shared small pieces: the progress line and the atomic writer."""

import logging as std_logging
import os

from absl import logging
import pytest
import tensorflow as tf

from slimvision.core import files
from slimvision.core import progress


class _Clock:

  def __init__(self):
    self.now = 100.0

  def __call__(self):
    return self.now


@pytest.fixture(autouse=True)
def absl_info_logging():
  # absl's logger follows --verbosity (WARNING by default); these tests read INFO lines.
  old = logging.get_verbosity()
  logging.set_verbosity(logging.INFO)
  yield
  logging.set_verbosity(old)


def _lines(caplog):
  return [r.getMessage() for r in caplog.records if r.name == 'absl']


def test_progress_logs_rate_since_the_last_line_and_the_eta(caplog):
  clock = _Clock()
  steps = progress.Progress('step', total=100, unit='images', per_count=32, every_s=10,
                            start=20, clock=clock)
  with caplog.at_level(std_logging.INFO):
    clock.now += 4
    assert not steps.update(10, details='loss 2.0000')  # Not due yet.
    clock.now += 6
    assert steps.update(10, details='loss 1.5000')      # 20 steps in 10 s.
    clock.now += 2
    assert steps.report(50, force=True)                  # 10 steps in 2 s.
    clock.now += 1
    assert steps.report(100)                             # Finished: always a line.
  assert _lines(caplog) == [
      'step 40/100: loss 1.5000, 64.0 images/s, ETA 0:00:30',
      'step 50/100: 160.0 images/s, ETA 0:00:10',
      'step 100/100: 1600.0 images/s, ETA 0:00:00']


def test_progress_without_a_total_has_no_eta_and_counts_in_its_unit(caplog):
  clock = _Clock()
  download = progress.Progress('file.tar.gz', unit='MB', every_s=0, count_format='{:.1f}',
                               count_unit='MB', clock=clock)
  with caplog.at_level(std_logging.INFO):
    clock.now += 2
    download.update(3.0)
  assert _lines(caplog) == ['file.tar.gz 3.0 MB: 1.5 MB/s']


@pytest.mark.parametrize('seconds,text', [(0, '0:00:00'), (59.6, '0:01:00'),
                                          (3725.2, '1:02:05'), (90061, '25:01:01')])
def test_format_seconds(seconds, text):
  assert progress.format_seconds(seconds) == text


def test_atomic_path_shows_the_new_file_only_when_complete(tmp_path):
  path = str(tmp_path / 'results.json')
  files.write_json(path, {'accuracy': 0.5})
  with pytest.raises(RuntimeError):
    with files.atomic_path(path) as tmp:
      with tf.io.gfile.GFile(tmp, 'w') as f:
        f.write('{"accura')
      raise RuntimeError('crash while writing')
  assert files.read_json(path) == {'accuracy': 0.5}   # The old file, whole.
  assert os.listdir(tmp_path) == ['results.json']      # No temporary left.
  files.write_json(path, {'accuracy': 0.75})
  assert files.read_json(path) == {'accuracy': 0.75}


def test_atomic_path_works_on_another_gfile_filesystem():
  path = 'ram://atomic/shard.tfrecord'
  with files.atomic_path(path) as tmp, tf.io.TFRecordWriter(tmp) as writer:
    writer.write(b'record')
  assert [r.numpy() for r in tf.data.TFRecordDataset(path)] == [b'record']
  assert not tf.io.gfile.exists(path + '.tmp')
