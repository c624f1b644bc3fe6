"""Fine-tuning Inception V3 from a (synthetic) slim checkpoint, as slim's README does it."""

import json
import os

import numpy as np

from slimvision.core import config as config_lib
from slimvision.core import train
from slimvision.nets import checkpoints
import synthetic
import train_testlib

DATA = os.path.join(os.path.dirname(__file__), 'data', 'nets')
SIZE = 107  # Small and fast on CPU; 75 is too small for the auxiliary head (5 x 5 pool).


def test_fine_tune_inception_v3_with_excluded_and_trainable_scopes(tmp_path):
  with open(os.path.join(DATA, 'inception_v3.json')) as f:
    variables = json.load(f)['variables']
  prefix = synthetic.write_checkpoint(variables, str(tmp_path / 'slim' / 'inception_v3.ckpt'),
                                      'inception_v3')
  released = {name: synthetic.synth_value(name, shape, 'inception_v3')
              for name, shape in variables}
  config = config_lib.TrainConfig(
      train_dir=str(tmp_path / 'train'), model_name='inception_v3', train_image_size=SIZE,
      batch_size=2, max_number_of_steps=2, optimizer='rmsprop', learning_rate=0.01,
      checkpoint_path=prefix,
      checkpoint_exclude_scopes='InceptionV3/Logits,InceptionV3/AuxLogits',
      trainable_scopes='InceptionV3/Logits,InceptionV3/AuxLogits', log_every_n_steps=1)
  result = train.train(config, input_fn=train_testlib.input_fn_for(2, n=8, size=SIZE),
                       num_samples=8, num_classes=5)
  assert result.initialised_from == 'checkpoint_path' and result.global_step == 2
  assert np.isfinite(result.losses).all()
  trained = {k: np.array(v) for k, v in checkpoints.slim_variables(result.network).items()}
  assert trained['InceptionV3/Logits/Conv2d_1c_1x1/weights'].shape == (1, 1, 2048, 5)
  head = ('InceptionV3/Logits', 'InceptionV3/AuxLogits')
  fresh = [n for n in trained if n.startswith(head)]
  kept = [n for n in trained if not n.startswith(head)]
  assert len(kept) + len(fresh) == len(variables)
  for name in kept:  # Restored, outside the trainable scopes: unchanged, BN statistics too.
    np.testing.assert_array_equal(trained[name], released[name], err_msg=name)
  for name in fresh:  # Excluded: fresh initial values, then trained.
    # (At this size the auxiliary head's last conv is 1x1: slim names it Conv2d_2a_1x1.)
    if name in released and trained[name].shape == released[name].shape:
      assert not np.allclose(trained[name], released[name]), name
  # The run's checkpoint restores by slim name, as evaluation and export read it.
  report = checkpoints.restore_checkpoint(result.network, config.train_dir)
  assert len(report.restored) == len(trained)
