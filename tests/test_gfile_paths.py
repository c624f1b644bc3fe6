"""Every path a run writes goes through tf.io.gfile: a whole run on another filesystem.

A `file://` URL stands in for gs:// and the other remote filesystems: TensorFlow
reads and writes it as a local path, while Python's `open` and `os` take it as
a relative path (`./file:/...`), so a file written without gfile would land
elsewhere (or fail) and the next step would not find it. (TensorFlow's
in-memory `ram://` filesystem cannot stand in: it takes any prefix of a file's
name for a directory, so a checkpoint prefix reads as a directory.)
"""

import os

import numpy as np
import tensorflow as tf

from slimvision.core import config as config_lib
from slimvision.core import evaluate
from slimvision.core import export
from slimvision.core import train
import train_testlib
from train_testlib import IMAGE_SIZE, NUM_CLASSES


def test_train_evaluate_and_export_through_gfile(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  root = f'file://{tmp_path}/run'
  config = config_lib.TrainConfig(
      train_dir=f'{root}/train', model_name='tiny_bn_net', batch_size=8, optimizer='sgd',
      learning_rate=0.05, learning_rate_decay_type='fixed', max_number_of_steps=4,
      log_every_n_steps=2, moving_average_decay=0.9)
  result = train.train(config, input_fn=train_testlib.input_fn_for(8, n=32), num_samples=32,
                       num_classes=NUM_CLASSES)
  assert result.checkpoint == f'{root}/train/model.ckpt-4'
  written = tf.io.gfile.listdir(f'{root}/train')
  assert {'checkpoint', 'config.json', 'model.ckpt-4.index'} <= set(written)
  assert any(name.startswith('events.out.tfevents') for name in written)

  images, labels = train_testlib.examples(12)
  eval_config = config_lib.EvalConfig(
      checkpoint_path=f'{root}/train', eval_dir=f'{root}/eval', model_name='tiny_bn_net',
      eval_image_size=IMAGE_SIZE, num_classes=NUM_CLASSES, batch_size=5,
      moving_average_decay=0.9)
  evaluated = evaluate.run(eval_config, tf.data.Dataset.from_tensor_slices((images, labels)))
  assert evaluated.num_examples == 12 and evaluated.global_step == 4
  assert tf.io.gfile.exists(f'{root}/eval/results.json')

  written = export.export(config_lib.ExportConfig(
      model_name='tiny_bn_net', checkpoint_path=result.checkpoint, num_classes=NUM_CLASSES,
      dataset_name=None, preprocessing_name='lenet', export_dir=f'{root}/saved_model',
      tflite_file=f'{root}/model.tflite', output_file=f'{root}/graph.pb'))
  served = tf.saved_model.load(written['saved_model']).signatures['serving_default'](
      images=tf.constant(images[:2]))
  assert served['logits'].shape == (2, NUM_CLASSES)
  assert np.all(np.isfinite(served['logits'].numpy()))
  for name in ('model.tflite', 'graph.pb'):
    assert tf.io.gfile.stat(f'{root}/{name}').length > 0
  assert os.listdir(tmp_path) == ['run']  # Nothing went to ./file:/ by os or open.
