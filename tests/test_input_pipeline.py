"""Training and evaluation input pipelines."""

import os

import numpy as np
import pytest
import tensorflow as tf

import datasets_testlib as lib
from slimvision.core import input_pipeline
from slimvision.datasets import dataset_utils
from slimvision.preprocessing import preprocessing_factory

IMAGENET = lib.dataset_dir('imagenet')


def _records(split):
  return [r for r in lib.expected('imagenet')['records'] if r['split'] == split]


def test_eval_reads_every_example_once_in_order_and_keeps_last_batch():
  ds = input_pipeline.eval_input('imagenet', IMAGENET, model_name='inception_v3',
                                 image_size=299, batch_size=5)
  batches = list(ds.as_numpy_iterator())
  assert [len(y) for _, y in batches] == [5, 5, 2]
  labels = np.concatenate([y for _, y in batches])
  assert labels.dtype == np.int64
  assert labels.tolist() == [r['label'] for r in _records('validation')]
  images = np.concatenate([x for x, _ in batches])
  assert images.shape == (12, 299, 299, 3) and images.dtype == np.float32
  # The images are exactly the eval preprocessing of the decoded records.
  first = next(iter(tf.data.TFRecordDataset(os.path.join(IMAGENET, 'validation-00000-of-00002'))))
  jpeg = tf.io.parse_single_example(first, {'image/encoded': tf.io.FixedLenFeature((), tf.string)})
  want = preprocessing_factory.get_preprocessing('inception_v3')(
      tf.io.decode_jpeg(jpeg['image/encoded'], channels=3), 299, 299)
  np.testing.assert_allclose(images[0], want.numpy(), atol=1e-6)


def test_eval_labels_offset_and_vgg():
  ds = input_pipeline.eval_input('imagenet', IMAGENET, split_name='validation',
                                 preprocessing_name='vgg', image_size=224, batch_size=32,
                                 labels_offset=1)
  (x, y), = list(ds.as_numpy_iterator())
  assert x.shape == (12, 224, 224, 3)
  assert y.tolist() == [r['label'] - 1 for r in _records('validation')]


def test_train_batches_epochs_and_offset():
  ds = input_pipeline.train_input('imagenet', IMAGENET, model_name='inception_v3',
                                  image_size=96, batch_size=5, num_epochs=2, seed=3,
                                  labels_offset=1)
  batches = list(ds.as_numpy_iterator())
  assert len(batches) == 48 // 5  # drop_remainder
  for x, y in batches:
    assert x.shape == (5, 96, 96, 3) and x.dtype == np.float32
    assert y.dtype == np.int64
    assert x.min() >= -1.0 and x.max() <= 1.0
  labels = np.concatenate([y for _, y in batches])
  assert set(labels.tolist()) <= {r['label'] - 1 for r in _records('train')}


@pytest.mark.parametrize('fused', [True, False])
def test_train_covers_the_split_each_epoch(fused):
  ds = input_pipeline.train_input('imagenet', IMAGENET, model_name='inception_v3',
                                  image_size=32, batch_size=1, num_epochs=1, seed=0,
                                  fused_decode_and_crop=fused)
  labels = sorted(int(y[0]) for _, y in ds.as_numpy_iterator())
  assert labels == sorted(r['label'] for r in _records('train'))


def test_train_shards_by_file_per_input_pipeline():
  seen = []
  for pipeline_id in range(2):
    ctx = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=pipeline_id,
                                     num_replicas_in_sync=2)
    ds = input_pipeline.train_input('imagenet', IMAGENET, model_name='vgg_16', image_size=32,
                                    batch_size=1, num_epochs=1, input_context=ctx)
    seen.append(sorted(int(y[0]) for _, y in ds.as_numpy_iterator()))
  for pipeline_id, file in enumerate(['train-00000-of-00002', 'train-00001-of-00002']):
    assert seen[pipeline_id] == sorted(r['label'] for r in _records('train') if r['file'] == file)


def test_train_with_mirrored_strategy_and_cache():
  strategy = tf.distribute.MirroredStrategy(['/cpu:0', '/cpu:1'])
  global_batch = 4

  def dataset_fn(ctx):
    return input_pipeline.train_input(
        'cifar10', lib.dataset_dir('cifar10'), model_name='cifarnet', image_size=32,
        batch_size=ctx.get_per_replica_batch_size(global_batch), input_context=ctx,
        cache=True, num_epochs=2)

  dist = strategy.distribute_datasets_from_function(dataset_fn)
  count = 0
  for images, labels in dist:
    per_replica = strategy.experimental_local_results(images)
    assert [tuple(p.shape) for p in per_replica] == [(2, 32, 32, 3)] * 2
    count += sum(int(tf.shape(l)[0]) for l in strategy.experimental_local_results(labels))
  assert count == 40  # 2 epochs x 20, batches of 4


def test_grayscale_dataset_with_lenet():
  ds = input_pipeline.eval_input('mnist', lib.dataset_dir('mnist'), split_name='test',
                                 model_name='lenet', image_size=28, batch_size=4)
  shapes = [x.shape for x, _ in ds.as_numpy_iterator()]
  assert shapes == [(4, 28, 28, 1), (4, 28, 28, 1), (2, 28, 28, 1)]


def test_undecodable_images_in_pipelines(tmp_path):
  bad = dataset_utils.image_to_tfexample(b'\x89PNG broken', b'png', 32, 32, 0)
  d = lib.cifar10_test_with(str(tmp_path), bad, (3,))
  kwargs = dict(split_name='test', model_name='cifarnet', image_size=32, batch_size=2)
  with pytest.raises(tf.errors.InvalidArgumentError, match='record 3'):
    list(input_pipeline.eval_input('cifar10', str(d), **kwargs))
  ys = [y for _, y in input_pipeline.eval_input('cifar10', str(d), skip_undecodable=True,
                                                 **kwargs).as_numpy_iterator()]
  assert sum(len(y) for y in ys) == 5
  with pytest.raises(tf.errors.InvalidArgumentError, match='record 3'):
    list(input_pipeline.train_input('cifar10', str(d), num_epochs=1, **kwargs))


def test_bad_arguments_and_missing_data(tmp_path):
  with pytest.raises(ValueError, match='model_name'):
    input_pipeline.eval_input('imagenet', IMAGENET)
  with pytest.raises(ValueError, match="Did you mean 'inception_v3'"):
    input_pipeline.eval_input('imagenet', IMAGENET, model_name='incepton_v3')
  with pytest.raises(FileNotFoundError, match='slimvision-convert --dataset_name=flowers'):
    input_pipeline.train_input('flowers', str(tmp_path), model_name='inception_v3')
  with pytest.raises(ValueError, match='at least one file'):
    input_pipeline.train_input('cifar10', lib.dataset_dir('cifar10'), model_name='cifarnet',
                               input_context=tf.distribute.InputContext(2, 1))


@pytest.mark.parametrize('bad_label,shown', [(42, '42'), (None, '-1')])
@pytest.mark.parametrize('training', [False, True])
def test_a_label_outside_the_classes_is_reported_by_record(tmp_path, bad_label, shown, training):
  good = tf.io.encode_png(np.zeros((28, 28, 1), np.uint8)).numpy()
  path = tmp_path / 'mnist_train.tfrecord'
  with tf.io.TFRecordWriter(str(path)) as writer:
    for i in range(4):
      example = dataset_utils.image_to_tfexample(good, b'png', 28, 28, i)
      if i == 2:
        if bad_label is None:
          del example.features.feature['image/class/label']
        else:
          example.features.feature['image/class/label'].int64_list.value[0] = bad_label
      writer.write(example.SerializeToString())
  kwargs = dict(model_name='lenet', image_size=28, batch_size=4)
  if training:
    ds = input_pipeline.train_input('mnist', str(tmp_path), 'train', shuffle_buffer=1, **kwargs)
  else:
    ds = input_pipeline.eval_input('mnist', str(tmp_path), 'train', **kwargs)
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=rf'Label {shown} of .*mnist_train.tfrecord record 2 is outside '
                           r'\[0, 10\) \(-1: the record has no label\)'):
    for _ in ds.take(2):
      pass
