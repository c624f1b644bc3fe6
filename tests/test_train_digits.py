"""The embedded default: slim's lenet recipe on the embedded digits, converted, trained, evaluated."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(args, cwd=ROOT):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
  env.pop('TF_CONFIG', None)
  proc = subprocess.run([sys.executable] + args, cwd=cwd, env=env, capture_output=True,
                        text=True, timeout=900)
  assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
  return proc.stdout + proc.stderr


@pytest.mark.slow
def test_lenet_on_digits_reaches_97_percent_within_3000_steps(tmp_path):
  data, train_dir, eval_dir = (str(tmp_path / d) for d in ('data', 'train', 'eval'))
  _run(['download_and_convert_data.py', '--dataset_name=digits', f'--dataset_dir={data}'])
  # slim's scripts/train_lenet_on_mnist.sh recipe, 3,000 steps.
  log = _run(['train_image_classifier.py', f'--train_dir={train_dir}', '--dataset_name=digits',
              '--dataset_split_name=train', f'--dataset_dir={data}', '--model_name=lenet',
              '--preprocessing_name=lenet', '--max_number_of_steps=3000', '--batch_size=50',
              '--learning_rate=0.01', '--learning_rate_decay_type=fixed', '--optimizer=sgd',
              '--weight_decay=0', '--log_every_n_steps=500', '--save_interval_secs=60',
              '--save_summaries_secs=60'])
  assert 'step 3000/3000: loss' in log
  _run(['eval_image_classifier.py', f'--checkpoint_path={train_dir}', f'--eval_dir={eval_dir}',
        '--dataset_name=digits', '--dataset_split_name=test', f'--dataset_dir={data}',
        '--model_name=lenet'])
  with open(os.path.join(eval_dir, 'results.json')) as f:
    results = json.load(f)
  assert results['global_step'] == 3000 and results['num_examples'] == 296
  assert results['accuracy'] >= 0.97, results
