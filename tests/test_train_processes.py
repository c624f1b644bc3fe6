"""Training in separate processes: the script's flags, SIGTERM, a kill and resume, two workers."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DRIVER = os.path.join(ROOT, 'tests', 'train_driver.py')

# slim's train_image_classifier.py flags and defaults.
SLIM_DEFAULTS = {
    'train_dir': '/tmp/tfmodel/', 'num_clones': 1, 'clone_on_cpu': False,
    'log_every_n_steps': 10, 'save_summaries_secs': 600, 'save_interval_secs': 600,
    'weight_decay': 0.00004, 'optimizer': 'rmsprop', 'adadelta_rho': 0.95,
    'adagrad_initial_accumulator_value': 0.1, 'adam_beta1': 0.9, 'adam_beta2': 0.999,
    'opt_epsilon': 1.0, 'ftrl_learning_rate_power': -0.5, 'ftrl_initial_accumulator_value': 0.1,
    'ftrl_l1': 0.0, 'ftrl_l2': 0.0, 'momentum': 0.9, 'rmsprop_momentum': 0.9,
    'rmsprop_decay': 0.9, 'learning_rate_decay_type': 'exponential', 'learning_rate': 0.01,
    'end_learning_rate': 0.0001, 'label_smoothing': 0.0, 'learning_rate_decay_factor': 0.94,
    'num_epochs_per_decay': 2.0, 'moving_average_decay': None, 'dataset_name': 'imagenet',
    'dataset_split_name': 'train', 'dataset_dir': None, 'labels_offset': 0,
    'model_name': 'inception_v3', 'preprocessing_name': None, 'batch_size': 32,
    'train_image_size': None, 'max_number_of_steps': None, 'use_grayscale': False,
    'checkpoint_path': None, 'checkpoint_exclude_scopes': None, 'trainable_scopes': None,
    'ignore_missing_vars': False,
}


def _env(**extra):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', **extra)
  env.pop('TF_CONFIG', None)
  env.update(extra)
  return env


def _driver(config, log_path, env=None):
  return subprocess.Popen([sys.executable, DRIVER, json.dumps(config)], cwd=ROOT,
                          stdout=open(log_path, 'w'), stderr=subprocess.STDOUT,
                          env=env or _env())


def _wait_for(log_path, pattern, proc, timeout=120):
  deadline = time.time() + timeout
  while time.time() < deadline:
    with open(log_path) as f:
      match = re.search(pattern, f.read())
    if match:
      return match
    if proc.poll() is not None:
      break
    time.sleep(0.2)
  with open(log_path) as f:
    raise AssertionError(f'{pattern!r} not seen (rc={proc.poll()}):\n{f.read()[-3000:]}')


def _result(log_path):
  with open(log_path) as f:
    lines = [l for l in f.read().splitlines() if l.startswith('{"global_step"')]
  return json.loads(lines[-1])


def _tiny_config(train_dir, **changes):
  return {'train_dir': str(train_dir), 'model_name': 'tiny_bn_net', 'batch_size': 4,
          'optimizer': 'momentum', 'learning_rate': 0.05, 'learning_rate_decay_type': 'fixed',
          'weight_decay': 0.0, 'log_every_n_steps': 1, **changes}


def test_script_flags_are_slims_and_become_the_config():
  code = ('import _bootstrap; _bootstrap.as_package(); import json; '
          'from slimvision import train_image_classifier as t; '
          "t.FLAGS(['x', '--optimizer=adamw', '--learning_rate_decay_type=cosine', "
          "'--max_number_of_steps=10', '--warmup_epochs=0.5', '--mixed_precision=bfloat16', "
          "'--jit_compile']); print(json.dumps(t.config_from_flags().to_dict())); "
          "t.FLAGS.unparse_flags(); t.FLAGS(['x']); print(json.dumps(t.config_from_flags().to_dict()))")
  out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=_env(), check=True,
                       capture_output=True, text=True).stdout.splitlines()
  modern, defaults = json.loads(out[-2]), json.loads(out[-1])
  for name, value in SLIM_DEFAULTS.items():
    assert defaults[name] == value, name
  assert modern['optimizer'] == 'adamw' and modern['learning_rate_decay_type'] == 'cosine'
  assert modern['warmup_epochs'] == 0.5 and modern['mixed_precision'] == 'bfloat16'
  assert modern['jit_compile'] is True


def test_sigterm_writes_a_final_checkpoint_and_exits_cleanly(tmp_path):
  log = str(tmp_path / 'log')
  proc = _driver(_tiny_config(tmp_path / 'train'), log)  # No max_number_of_steps.
  _wait_for(log, r'step 5: loss', proc)
  proc.send_signal(signal.SIGTERM)
  assert proc.wait(timeout=60) == 0
  result = _result(log)
  assert result['stopped_by'] == 'signal' and result['global_step'] >= 5
  assert tf.train.latest_checkpoint(str(tmp_path / 'train')).endswith(
      f"model.ckpt-{result['global_step']}")


@pytest.mark.slow
def test_killed_run_resumes_from_its_last_checkpoint(tmp_path):
  config = _tiny_config(tmp_path / 'train', max_number_of_steps=40, save_interval_secs=0)
  log = str(tmp_path / 'log1')
  proc = _driver(config, log)
  _wait_for(log, r'Saved \S+model\.ckpt-6', proc)
  proc.kill()
  proc.wait(timeout=30)
  killed_at = int(re.findall(r'model\.ckpt-(\d+)', tf.train.latest_checkpoint(
      str(tmp_path / 'train')))[0])
  assert 6 <= killed_at < 40
  log = str(tmp_path / 'log2')
  proc = _driver(config, log)
  assert proc.wait(timeout=120) == 0
  with open(log) as f:
    text = f.read()
  assert re.search(rf'Initialising from train_dir: resuming \S+model\.ckpt-{killed_at}', text)
  assert f'Training tiny_bn_net from step {killed_at} to 40' in text
  assert _result(log)['global_step'] == 40


def _free_ports(n):
  socks = [socket.socket() for _ in range(n)]
  for s in socks:
    s.bind(('127.0.0.1', 0))
  ports = [s.getsockname()[1] for s in socks]
  for s in socks:
    s.close()
  return ports


@pytest.mark.slow
def test_two_workers_finish_with_the_same_weights(tmp_path):
  ports = _free_ports(2)
  cluster = {'worker': [f'127.0.0.1:{p}' for p in ports]}
  config = _tiny_config(tmp_path / 'train', max_number_of_steps=6, log_every_n_steps=2,
                        moving_average_decay=0.9)
  procs, logs = [], []
  for index in range(2):
    tf_config = json.dumps({'cluster': cluster, 'task': {'type': 'worker', 'index': index}})
    logs.append(str(tmp_path / f'log{index}'))
    procs.append(_driver(config, logs[-1], env=_env(TF_CONFIG=tf_config)))
  for proc, log in zip(procs, logs):
    try:
      rc = proc.wait(timeout=240)
    except subprocess.TimeoutExpired:
      for p in procs:
        p.kill()
      raise
    with open(log) as f:
      assert rc == 0, f.read()[-3000:]
  with open(logs[0]) as f:
    assert 'global batch 8 = 4 per replica x 2' in f.read()
  chief = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(tmp_path / 'train')))
  other = tf.train.load_checkpoint(
      tf.train.latest_checkpoint(str(tmp_path / 'train' / 'worker_1')))
  names = [n for n in chief.get_variable_to_shape_map() if n.startswith('model/')]
  assert len(names) > 4
  for name in names:
    np.testing.assert_array_equal(chief.get_tensor(name), other.get_tensor(name), err_msg=name)
  assert _result(logs[0])['global_step'] == _result(logs[1])['global_step'] == 6
