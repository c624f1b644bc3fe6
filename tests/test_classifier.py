"""The Keras-native model (`slimvision.create_model`) and slim's loss as a Keras loss."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import slimvision
import synthetic
from pretrained_testlib import release, server  # pylint: disable=unused-import
from slimvision.core import train
from slimvision.nets import checkpoints, classifier, losses, nets_factory


def test_the_package_exports_the_model_api_lazily():
  assert slimvision.create_model is classifier.create_model
  assert slimvision.ClassificationLoss is losses.ClassificationLoss
  assert slimvision.list_networks() == nets_factory.list_networks()
  with pytest.raises(AttributeError):
    slimvision.no_such_thing  # pylint: disable=pointless-statement


def test_the_compiled_loss_is_slims_training_loss_with_the_auxiliary_head():
  # The loss `fit` minimises equals the training command's `slim_loss` on the same
  # batch: cross-entropy with label smoothing, the auxiliary head at 0.4, slim's L2.
  model = slimvision.create_model('inception_v3', num_classes=7, aux_logits=True,
                                  image_size=160, weight_decay=4e-5, dropout_keep_prob=1.0)
  model.compile('sgd', loss=slimvision.ClassificationLoss(label_smoothing=0.1))
  images = synthetic.synth_images(3, 160, 3, seed=1)
  labels = np.array([0, 3, 6])
  outputs = model(images, training=True)
  assert sorted(outputs) == ['AuxLogits', 'logits'] and outputs['logits'].shape == (3, 7)
  ours = float(model.compute_loss(images, labels, outputs))
  slims = train.slim_loss(model.network, tf.constant(images), tf.constant(labels), 0.1)
  assert slims['aux_loss'] > 0 and slims['regularization'] > 0
  np.testing.assert_allclose(ours, float(slims['loss']), rtol=1e-5)
  # Inference gives the logits alone, and metrics see the logits in training.
  assert model(images).shape == (3, 7)
  model.compile('sgd', loss=slimvision.ClassificationLoss(), metrics=['sparse_categorical_accuracy'])
  assert 'sparse_categorical_accuracy' in model.compute_metrics(images, labels, outputs)


def test_label_smoothing_is_slims():
  logits = np.array([[2.0, 0.5, -1.0]], np.float32)
  want = -np.sum(np.array([0.9 + 0.1 / 3, 0.1 / 3, 0.1 / 3])
                 * (logits[0] - np.log(np.exp(logits[0]).sum())))
  loss = slimvision.ClassificationLoss(label_smoothing=0.1)
  np.testing.assert_allclose(float(loss(np.array([0]), logits)), want, rtol=1e-6)
  np.testing.assert_allclose(float(loss(np.array([[1.0, 0.0, 0.0]]), logits)), want, rtol=1e-6)
  with pytest.raises(ValueError, match=r'label_smoothing must be in \[0, 1\]'):
    slimvision.ClassificationLoss(label_smoothing=1.5)


def test_features_give_slims_end_points():
  model = slimvision.create_model('mobilenet_v1_025', num_classes=0, features=True,
                                  image_size=96)
  end_points = model(np.zeros((1, 96, 96, 3), np.float32))
  assert {'Conv2d_0', 'Conv2d_13_pointwise'} <= set(end_points)
  assert tuple(end_points['Conv2d_13_pointwise'].shape) == (1, 3, 3, 256)


def test_auxiliary_heads_of_a_net_without_them_are_refused_by_name():
  with pytest.raises(ValueError, match=r'lenet has no auxiliary heads; aux_logits=True needs '
                                       r'one of: .*inception_v3'):
    slimvision.create_model('lenet', aux_logits=True)


def test_a_saved_model_file_reloads_with_its_weights(tmp_path):
  model = slimvision.create_model('cifarnet', num_classes=4)
  images = synthetic.synth_images(2, 32, 3, seed=2)
  path = str(tmp_path / 'cifarnet.keras')
  model.save(path)
  loaded = keras.models.load_model(path)
  assert isinstance(loaded, classifier.ImageClassifier) and loaded.network.num_classes == 4
  np.testing.assert_array_equal(np.asarray(loaded(images)), np.asarray(model(images)))
  loaded.compile('sgd', loss=slimvision.ClassificationLoss(), metrics=['sparse_categorical_accuracy'])
  loss, accuracy = loaded.evaluate(images, np.array([0, 3]), verbose=0)
  assert np.isfinite(loss) and 0.0 <= accuracy <= 1.0


def test_a_new_head_on_the_release_is_left_at_its_initialiser_and_named(server, caplog):
  name = 'mobilenet_v1_025'
  values, averages, _ = release(server, name, seed=1)  # Not the initial values.
  with caplog.at_level('WARNING'):
    model = slimvision.create_model(name, num_classes=5, pretrained=True)
  assert 'MobilenetV1/Logits left at their initial values (1001 classes in the checkpoint, ' \
         '5 in the model); train them before use' in caplog.text
  for slim_name, var in checkpoints.slim_variables(model.network).items():
    if slim_name.startswith('MobilenetV1/Logits/'):
      assert not np.array_equal(np.asarray(var), values[slim_name][..., :5])
      continue
    want = averages.get(f'{slim_name}/ExponentialMovingAverage', values[slim_name])
    np.testing.assert_array_equal(np.asarray(var), want, err_msg=slim_name)
  # The release's own classes: every weight restored, nothing named.
  caplog.clear()
  with caplog.at_level('WARNING'):
    full = slimvision.create_model(name, pretrained=True)
  assert 'initial values' not in caplog.text
  np.testing.assert_array_equal(
      np.asarray(checkpoints.slim_variables(full.network)['MobilenetV1/Logits/Conv2d_1c_1x1/biases']),
      averages['MobilenetV1/Logits/Conv2d_1c_1x1/biases/ExponentialMovingAverage'])


def test_grey_input_on_a_colour_release_names_the_arguments_that_fix_it(server):
  release(server, 'mobilenet_v1_025')
  with pytest.raises(ValueError, match=r'MobilenetV1/Conv2d_0/weights takes 3-channel images in '
                                       r'the checkpoint and 1-channel images in the model: build '
                                       r'the model for 3-channel input \(input_channels=3;.*\), or '
                                       r'exclude MobilenetV1/Conv2d_0'):
    slimvision.create_model('mobilenet_v1_025', pretrained=True, input_channels=1)
  model = slimvision.create_model('mobilenet_v1_025', pretrained=True, input_channels=1,
                                  exclude_scopes='MobilenetV1/Conv2d_0')
  assert model(np.zeros((1, 224, 224, 1), np.float32)).shape == (1, 1001)
