"""A checkpoint that does not fit is answered with its cause, in the flags of the command."""

import os

import numpy as np
import pytest

import scripts_testlib
from slimvision.nets import checkpoints, nets_factory


@pytest.fixture(scope='module')
def resnet_1000(tmp_path_factory):
  """A checkpoint of slim's resnet_v1_50 (1000 classes, no background)."""
  fn = nets_factory.get_network_fn('resnet_v1_50', image_size=32)
  return checkpoints.save_slim_checkpoint(
      fn, str(tmp_path_factory.mktemp('ckpt') / 'resnet_v1_50.ckpt'))


@pytest.mark.parametrize('suffix', ['.index', '.data-00000-of-00001'])
def test_a_checkpoint_file_names_its_prefix(tmp_path, suffix):
  fn = nets_factory.get_network_fn('lenet')
  prefix = checkpoints.save_slim_checkpoint(fn, str(tmp_path / 'model.ckpt-7'))
  assert checkpoints.resolve_checkpoint_path(prefix + suffix) == prefix
  other = nets_factory.get_network_fn('lenet')
  report = checkpoints.restore_checkpoint(other, prefix + suffix)
  assert report.checkpoint == prefix and not report.skipped_missing
  for name, var in checkpoints.slim_variables(other).items():
    np.testing.assert_array_equal(var.numpy(), checkpoints.slim_variables(fn)[name].numpy())


@pytest.mark.parametrize('command', [checkpoints.EVAL, checkpoints.EXPORT, checkpoints.CLASSIFY])
def test_1000_class_checkpoint_on_1001_labels_advises_labels_offset(resnet_1000, command):
  fn = nets_factory.get_network_fn('resnet_v1_50', num_classes=1001, image_size=32)
  with pytest.raises(ValueError) as error:
    checkpoints.restore_for_inference(fn, resnet_1000, command=command)
  message = str(error.value)
  assert '--labels_offset=1' in message and '1000 classes' in message
  assert 'exclude' not in message


def test_library_advice_names_the_argument(resnet_1000):
  fn = nets_factory.get_network_fn('resnet_v1_50', num_classes=1001, image_size=32)
  with pytest.raises(ValueError, match=r'num_classes=1000 \(labels_offset=1\)'):
    checkpoints.restore_checkpoint(fn, resnet_1000)


def test_another_class_count_advises_the_dataset_or_num_classes(tmp_path):
  lenet = nets_factory.get_network_fn('lenet')
  prefix = checkpoints.save_slim_checkpoint(lenet, str(tmp_path / 'lenet.ckpt'))
  wide = nets_factory.get_network_fn('lenet', num_classes=1001)
  with pytest.raises(ValueError) as error:
    checkpoints.restore_for_inference(wide, prefix, command=checkpoints.EXPORT)
  message = str(error.value)
  assert '10 classes' in message and '--num_classes=10' in message
  assert '--dataset_name' in message and 'exclude' not in message


def test_fine_tuning_leaves_only_non_fitting_heads_at_their_initialisers(tmp_path):
  source = nets_factory.get_network_fn('mobilenet_v1_025', image_size=32)
  prefix = checkpoints.save_slim_checkpoint(source, str(tmp_path / 'm.ckpt'))
  target = nets_factory.get_network_fn('mobilenet_v1_025', num_classes=5, image_size=32)
  report = checkpoints.restore_for_fine_tuning(target, prefix, command=checkpoints.TRAIN)
  assert report.excluded and all(n.startswith('MobilenetV1/Logits/') for n in report.excluded)
  assert len(report.restored) + len(report.excluded) == len(checkpoints.slim_variables(target))
  # Anything else that does not fit is an error with the train command's flags.
  grey = nets_factory.get_network_fn('mobilenet_v1_025', num_classes=5, image_size=32,
                                     input_channels=1)
  with pytest.raises(ValueError) as error:
    checkpoints.restore_for_fine_tuning(grey, prefix, command=checkpoints.TRAIN)
  advice = str(error.value).split('--checkpoint_exclude_scopes=')[-1].rstrip('.').split(',')
  assert set(advice) == {'MobilenetV1/Conv2d_0', 'MobilenetV1/Logits'}
  assert '3-channel' in str(error.value) and 'exclude_scopes=\'' not in str(error.value)


def test_grey_checkpoint_for_classification_names_use_grayscale_only(tmp_path):
  grey = nets_factory.get_network_fn('mobilenet_v1_025', image_size=32, input_channels=1)
  prefix = checkpoints.save_slim_checkpoint(grey, str(tmp_path / 'grey.ckpt'))
  rgb = nets_factory.get_network_fn('mobilenet_v1_025', image_size=32)
  with pytest.raises(ValueError) as error:
    checkpoints.restore_for_inference(rgb, prefix, command=checkpoints.CLASSIFY)
  message = str(error.value)
  assert '--use_grayscale on' in message and 'exclude' not in message


_SCRIPTS = {checkpoints.TRAIN: 'train_image_classifier.py',
            checkpoints.EVAL: 'eval_image_classifier.py',
            checkpoints.EXPORT: 'export_inference_graph.py',
            checkpoints.CLASSIFY: 'classify_image.py'}


def _script_flags(command):
  """The flags a script defines (as --help lists them)."""
  return set(scripts_testlib.script_flags(_SCRIPTS[command][:-len('.py')])[0])


@pytest.fixture(scope='module')
def mismatches(tmp_path_factory):
  """(checkpoint, model) pairs that do not fit, one per kind of cause."""
  tmp = tmp_path_factory.mktemp('mismatch')

  def saved(name, **kwargs):
    fn = nets_factory.get_network_fn(name, image_size=32, **kwargs)
    tag = '_'.join([name] + [f'{k}{v}' for k, v in sorted(kwargs.items())])
    return checkpoints.save_slim_checkpoint(fn, str(tmp / f'{tag}.ckpt'))

  def model(name, **kwargs):
    return nets_factory.get_network_fn(name, image_size=32, **kwargs)

  return {
      'background_class': (saved('mobilenet_v1_025', num_classes=1000),
                           model('mobilenet_v1_025', num_classes=1001)),
      'other_classes': (saved('mobilenet_v1_025', num_classes=10),
                        model('mobilenet_v1_025', num_classes=1001)),
      'grey_input': (saved('mobilenet_v1_025', input_channels=1),
                     model('mobilenet_v1_025')),
      'other_width': (saved('mobilenet_v1_050'), model('mobilenet_v1_025')),
      'other_net': (saved('lenet'), model('cifarnet')),
  }


@pytest.mark.parametrize('command', sorted(_SCRIPTS))
@pytest.mark.parametrize('kind', ['background_class', 'other_classes', 'grey_input',
                                  'other_width', 'other_net'])
def test_advice_names_only_flags_the_command_has(mismatches, command, kind):
  prefix, fn = mismatches[kind]
  with pytest.raises(ValueError) as error:
    if command == checkpoints.TRAIN:
      checkpoints.restore_checkpoint(fn, prefix, command=command)
    else:
      checkpoints.restore_for_inference(fn, prefix, command=command)
  message = str(error.value)
  import re  # pylint: disable=g-import-not-at-top
  named = set(re.findall(r'--(\w+)', message))
  assert named, message
  assert named <= _script_flags(command), (named - _script_flags(command), message)
  expected = {'background_class': 'labels_offset', 'grey_input': 'use_grayscale',
              'other_width': 'model_name', 'other_net': 'model_name'}
  if kind in expected:
    assert expected[kind] in named, message
  if kind in ('other_width', 'other_net'):
    # The net the checkpoint fits is named; excluding scopes would restore nothing.
    fits = {'other_width': 'mobilenet_v1_050', 'other_net': 'lenet'}[kind]
    assert f'--model_name={fits}' in message and 'exclude' not in message, message


def test_library_advice_names_arguments_not_flags(mismatches):
  prefix, fn = mismatches['other_width']
  with pytest.raises(ValueError, match="model_name='mobilenet_v1_050'"):
    checkpoints.restore_checkpoint(fn, prefix)
  assert checkpoints.networks_fitting(prefix) == ['mobilenet_v1_050']


def test_tf1_single_file_v1_checkpoint_loads(tmp_path):
  # slim's 2016 releases (inception_v3.ckpt, vgg_16.ckpt) are TF1 V1 checkpoints:
  # one file, no .index.
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  source = nets_factory.get_network_fn('lenet')
  values = {n: v.numpy() for n, v in checkpoints.slim_variables(source).items()}
  path = str(tmp_path / 'lenet.ckpt')
  with tf.Graph().as_default():
    variables = [tf.compat.v1.Variable(v, name=n) for n, v in values.items()]
    saver = tf.compat.v1.train.Saver(variables,
                                     write_version=tf.compat.v1.train.SaverDef.V1)
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      saver.save(session, path, write_meta_graph=False)
  assert os.path.isfile(path) and not os.path.exists(path + '.index')
  assert checkpoints.resolve_checkpoint_path(path) == path
  target = nets_factory.get_network_fn('lenet')
  report = checkpoints.restore_for_inference(target, path, command=checkpoints.EVAL)
  assert len(report.restored) == len(values)
  for name, var in checkpoints.slim_variables(target).items():
    np.testing.assert_array_equal(var.numpy(), values[name])
