"""Channels: grey datasets with RGB nets, RGB datasets with grey nets, --use_grayscale."""

import numpy as np
import pytest
import tensorflow as tf

import datasets_testlib
from slimvision.core import evaluate, export, input_pipeline, train
from slimvision.core.config import TrainConfig
from slimvision.nets import checkpoints, nets_factory
from slimvision.preprocessing import preprocessing_factory

FLOWERS = datasets_testlib.dataset_dir('flowers')
MNIST = datasets_testlib.dataset_dir('mnist')
NET = 'mobilenet_v1_025'  # 3-channel, inception preprocessing, quick to build.


def _image(channels, size=(40, 30), seed=0):
  return tf.constant(np.random.default_rng(seed).integers(0, 256, size + (channels,)),
                     tf.uint8)


@pytest.mark.parametrize('family', preprocessing_factory.list_preprocessing_names())
@pytest.mark.parametrize('is_training', [False, True])
def test_every_preprocessing_adapts_channels_eagerly_and_in_tf_data(family, is_training):
  for given, wanted in ((1, 3), (3, 1), (1, 1), (3, 3)):
    fn = preprocessing_factory.get_preprocessing(family, is_training=is_training,
                                                 output_channels=wanted)
    assert fn(_image(given), 24, 24).shape == (24, 24, wanted), (given, wanted)
    ds = tf.data.Dataset.from_tensors(_image(given)).map(lambda x: fn(x, 24, 24))
    assert ds.element_spec.shape == (24, 24, wanted)
    assert next(iter(ds)).shape == (24, 24, wanted)


def test_grey_replicated_to_rgb_equals_rgb_grey_image():
  grey = _image(1)
  fn = preprocessing_factory.get_preprocessing('inception', output_channels=3)
  np.testing.assert_array_equal(fn(grey, 24, 24), fn(tf.image.grayscale_to_rgb(grey), 24, 24))


def test_other_channel_counts_get_one_clear_error():
  fn = preprocessing_factory.get_preprocessing('inception', output_channels=3)
  with pytest.raises(ValueError, match=r'1- or 3-channel.*Received: a 4-channel image'):
    fn(_image(4), 24, 24)


def _config(tmp_path, dataset_name, dataset_dir, **changes):
  return TrainConfig(train_dir=str(tmp_path / 'train'), dataset_name=dataset_name,
                     dataset_split_name='train', dataset_dir=dataset_dir, model_name=NET,
                     train_image_size=32, batch_size=2, max_number_of_steps=2,
                     optimizer='sgd', learning_rate_decay_type='fixed', **changes)


def test_rgb_net_trains_and_evaluates_on_a_one_channel_dataset(tmp_path):
  result = train.train(_config(tmp_path, 'mnist', MNIST))
  assert result.global_step == 2 and np.isfinite(result.loss)
  assert result.network.input_channels == 3
  images, _ = next(iter(input_pipeline.eval_input('mnist', MNIST, 'test', model_name=NET,
                                                  image_size=32, batch_size=2)))
  assert images.shape == (2, 32, 32, 3)
  out = evaluate.run(evaluate.EvalConfig(
      checkpoint_path=str(tmp_path / 'train'), eval_dir=str(tmp_path / 'eval'),
      model_name=NET, dataset_name='mnist', dataset_split_name='test', dataset_dir=MNIST,
      eval_image_size=32, batch_size=4))
  assert out.num_examples > 0


def test_use_grayscale_trains_evaluates_and_exports_a_one_channel_net(tmp_path):
  result = train.train(_config(tmp_path, 'flowers', FLOWERS, use_grayscale=True))
  net = result.network
  assert net.input_channels == 1
  first = checkpoints.slim_variable_names(net)['MobilenetV1/Conv2d_0/weights']
  assert first[2] == 1
  out = evaluate.run(evaluate.EvalConfig(
      checkpoint_path=str(tmp_path / 'train'), eval_dir=str(tmp_path / 'eval'),
      model_name=NET, dataset_name='flowers', dataset_split_name='validation',
      dataset_dir=FLOWERS, eval_image_size=32, batch_size=4, use_grayscale=True))
  assert out.num_examples > 0
  export.export(export.ExportConfig(model_name=NET, checkpoint_path=str(tmp_path / 'train'),
                                    export_dir=str(tmp_path / 'saved'), image_size=32,
                                    dataset_name='flowers', use_grayscale=True))
  serve = tf.saved_model.load(str(tmp_path / 'saved')).signatures['serving_bytes']
  jpeg = tf.io.encode_jpeg(_image(3, (50, 60)))
  assert serve(image_bytes=tf.stack([jpeg]))['probabilities'].shape == (1, 5)


def test_rgb_checkpoint_into_a_grayscale_net_names_the_layer_and_the_flag(tmp_path):
  rgb = nets_factory.get_network_fn(NET, num_classes=5, image_size=32)
  prefix = checkpoints.save_slim_checkpoint(rgb, str(tmp_path / 'rgb.ckpt'))
  grey = nets_factory.get_network_fn(NET, num_classes=5, image_size=32, input_channels=1)
  with pytest.raises(ValueError) as error:
    checkpoints.restore_checkpoint(grey, prefix)
  message = str(error.value)
  assert 'MobilenetV1/Conv2d_0/weights' in message
  assert '3-channel' in message and '1-channel' in message and 'use_grayscale' in message
