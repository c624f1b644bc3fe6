"""The README's quick start: LeNet trained on the embedded digits and evaluated.

The training and evaluation commands are read from README.md's quick-start
block and run as a user runs them (the conversion, the same in every run, is
done in this process: its command line is tested by test_converters.py).
"""

import json
import os
import re
import shlex
import subprocess
import sys

import pytest

from checkout import ROOT
from slimvision.datasets import download_and_convert_digits

QUICK_START = '## Train on the embedded dataset'


def readme_commands():
  """The quick start's commands, each a list of arguments, in order."""
  with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
    readme = f.read()
  section = readme[readme.index(QUICK_START):]
  block = re.search(r'```bash\n(.*?)```', section, re.S).group(1)
  return [shlex.split(c) for c in block.replace('\\\n', ' ').split('&&')]


def _run(args, data_dir, tmp_path):
  args = [a.replace('/tmp/digits', str(data_dir)) for a in args]
  assert args[0] == 'python'
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
  env.pop('TF_CONFIG', None)
  proc = subprocess.run([sys.executable] + args[1:], cwd=ROOT, env=env, capture_output=True,
                        text=True, timeout=600)
  assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
  return proc.stdout + proc.stderr


def test_the_quick_start_converts_trains_and_evaluates():
  commands = readme_commands()
  scripts = [c[2] if c[:2] == ['python', '-m'] else c[1] for c in commands]
  assert scripts == ['pip', 'download_and_convert_data.py', 'train_image_classifier.py',
                     'eval_image_classifier.py']
  assert '--dataset_name=digits' in commands[1] and '--dataset_dir=/tmp/digits' in commands[1]


@pytest.mark.slow
def test_lenet_on_digits_reaches_97_percent_with_the_readme_recipe(tmp_path):
  _, _, train_command, eval_command = readme_commands()
  data = tmp_path / 'digits'
  download_and_convert_digits.run(str(data))
  log = _run(train_command, data, tmp_path)
  steps = int(next(a for a in train_command if a.startswith('--max_number_of_steps='))
              .split('=')[1])
  assert f'step {steps}/{steps}: loss' in log
  _run(eval_command, data, tmp_path)
  with open(data / 'eval' / 'results.json') as f:
    results = json.load(f)
  assert results['global_step'] == steps and results['num_examples'] == 296
  assert results['accuracy'] >= 0.97, results
