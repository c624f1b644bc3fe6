"""Dataset readers: slim-written TFRecords decode to the expected examples; bad input is reported."""

import os
import re
import shutil

import numpy as np
import pytest
import tensorflow as tf

import datasets_testlib as lib
from slimvision.datasets import dataset_factory
from slimvision.datasets import dataset_utils
from slimvision.datasets import imagenet

SPLITS = {'imagenet': ('train', 'validation'), 'flowers': ('train', 'validation'),
          'cifar10': ('train', 'test'), 'mnist': ('train', 'test')}


def _read_all(ds, **kwargs):
  return list(ds.make_tf_dataset(**kwargs).as_numpy_iterator())


@pytest.mark.parametrize('name', sorted(SPLITS))
def test_slim_written_records_decode_to_expected_examples(name):
  exp = lib.expected(name)
  present = set(os.listdir(lib.dataset_dir(name)))
  for split in SPLITS[name]:
    ds = dataset_factory.get_dataset(name, split, lib.dataset_dir(name), num_samples='count')
    want = [r for r in exp['records'] if r['split'] == split and r['file'] in present]
    got = _read_all(ds)
    assert ds.num_samples == len(want) == len(got) > 0
    for example, record in zip(got, want):
      assert example['label'] == record['label']
      assert example['label'].dtype == np.int64
      assert example['image'].dtype == np.uint8
      assert list(example['image'].shape) == record['decoded_shape']
      assert lib.sha256(example['image']) == record['pixels_sha256']
      assert os.path.basename(example['record/file'].decode()) == record['file']
      assert example['record/index'] == record['index_in_file']
      if name == 'imagenet':
        assert example['label_text'].decode() == record['human']
        np.testing.assert_allclose(example['object/bbox'].reshape(-1, 4),
                                   np.reshape(record['decoded_object_bbox_yxyx'], (-1, 4)))
        assert example['object/label'].tolist() == record['decoded_object_label']


def test_imagenet_metadata():
  ds = dataset_factory.get_dataset('imagenet', 'validation', lib.dataset_dir('imagenet'))
  assert (ds.num_classes, ds.labels_offset, ds.num_samples) == (1001, 0, 50000)
  assert dataset_factory.get_dataset('imagenet', 'train', '').num_samples == 1281167
  names = imagenet.create_readable_names_for_imagenet_labels()
  assert len(names) == 1001 and names[0] == 'background'
  assert names[1] == 'tench, Tinca tinca'
  assert ds.labels_to_names == names
  assert len(imagenet.synsets()) == 1000
  with open(imagenet.VALIDATION_LABELS_FILE) as f:
    assert sum(1 for _ in f) == 50000
  # The synset -> label mapping agrees with slim's records.
  for record in lib.expected('imagenet')['records']:
    assert imagenet.synsets()[record['label'] - 1] == record['synset']


@pytest.mark.parametrize('name,split,size,classes,channels', [
    ('flowers', 'train', 3320, 5, 3), ('flowers', 'validation', 350, 5, 3),
    ('cifar10', 'train', 50000, 10, 3), ('cifar10', 'test', 10000, 10, 3),
    ('mnist', 'train', 60000, 10, 1), ('mnist', 'test', 10000, 10, 1),
    ('digits', 'train', 1501, 10, 1), ('digits', 'test', 296, 10, 1),
    ('imagenet', 'validation', 50000, 1001, 3)])
def test_published_sizes(name, split, size, classes, channels):
  ds = dataset_factory.get_dataset(name, split, '/nonexistent')
  assert (ds.num_samples, ds.num_classes, ds.channels) == (size, classes, channels)
  assert len(ds.labels_to_names) == classes


def test_labels_file_is_read():
  ds = dataset_factory.get_dataset('mnist', 'train', lib.dataset_dir('mnist'))
  assert ds.labels_to_names[6] == 'size'  # slim's typo, kept in its labels.txt
  assert dataset_utils.read_label_file(lib.dataset_dir('cifar10'))[9] == 'truck'


def test_num_samples_override_and_validation():
  d = lib.dataset_dir('cifar10')
  assert dataset_factory.get_dataset('cifar10', 'train', d, num_samples=7).num_samples == 7
  assert dataset_factory.get_dataset('cifar10', 'train', d).count_records() == 20
  with pytest.raises(ValueError, match='num_samples'):
    dataset_factory.get_dataset('cifar10', 'train', d, num_samples='all')


def test_unknown_names():
  with pytest.raises(ValueError, match="Did you mean 'imagenet'"):
    dataset_factory.get_dataset('imagenett', 'train', '')
  with pytest.raises(ValueError, match='train, validation'):
    dataset_factory.get_dataset('imagenet', 'test', '')


@pytest.mark.parametrize('make_dir', [False, True])
def test_missing_or_empty_dir_says_what_and_how(tmp_path, make_dir):
  d = tmp_path / 'flowers'
  if make_dir:
    d.mkdir()
  ds = dataset_factory.get_dataset('flowers', 'train', str(d))
  with pytest.raises(FileNotFoundError) as info:
    ds.make_tf_dataset()
  msg = str(info.value)
  assert 'flowers_train_*.tfrecord' in msg
  assert f'--dataset_name=flowers --dataset_dir={d}' in msg
  assert ('has no matching files' if make_dir else 'does not exist') in msg
  with pytest.raises(FileNotFoundError, match='imagenet'):
    dataset_factory.get_dataset('imagenet', 'validation', str(d), num_samples='count')


def _copy(tmp_path, name, files):
  d = tmp_path / name
  d.mkdir()
  for f in files:
    shutil.copy(os.path.join(lib.dataset_dir(name), f), d / f)
  return d


@pytest.mark.parametrize('cut', ['truncate', 'corrupt'])
def test_bad_record_names_file_and_index(tmp_path, cut):
  d = _copy(tmp_path, 'mnist', ['mnist_test.tfrecord'])
  path = d / 'mnist_test.tfrecord'
  data = bytearray(path.read_bytes())
  lengths = [len(r.numpy()) + 16 for r in tf.data.TFRecordDataset(str(path))]
  offset = sum(lengths[:4])  # record 4 starts here
  if cut == 'truncate':
    data = data[:offset + 20]
  else:
    data[offset + 30] ^= 0xFF
  path.write_bytes(bytes(data))
  ds = dataset_factory.get_dataset('mnist', 'test', str(d))
  with pytest.raises(tf.errors.InvalidArgumentError) as info:
    _read_all(ds)
  assert 'mnist_test.tfrecord: record 4 ' in str(info.value)
  with pytest.raises(tf.errors.InvalidArgumentError, match='record 4'):
    ds.count_records()


def test_undecodable_image_fails_by_default_and_is_counted_when_skipped(tmp_path, capfd):
  bad = dataset_utils.image_to_tfexample(b'not an image', b'png', 32, 32, 3)
  d = lib.cifar10_test_with(str(tmp_path), bad, (1, 4))
  ds = dataset_factory.get_dataset('cifar10', 'test', d)
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=r'Undecodable image in .*cifar10_test.tfrecord record 1\b'):
    _read_all(ds)
  got = _read_all(ds, skip_undecodable=True)
  assert [int(x['record/index']) for x in got] == [0, 2, 3, 5]
  err = capfd.readouterr().err
  assert re.search(r'cifar10_test.tfrecord record 4\W* - skipped so far: 2', err), err


def test_shuffled_epochs_and_sharding():
  d = lib.dataset_dir('imagenet')
  ds = dataset_factory.get_dataset('imagenet', 'train', d)
  plain = [x['label'] for x in ds.make_tf_dataset(decode=False).as_numpy_iterator()]
  twice = [x['label'] for x in
           ds.make_tf_dataset(shuffle=True, num_epochs=2, seed=1, decode=False).as_numpy_iterator()]
  assert sorted(twice) == sorted(plain * 2) and twice[:24] != plain
  ctx = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=1)
  shard = list(ds.make_tf_dataset(input_context=ctx, decode=False).as_numpy_iterator())
  assert {os.path.basename(x['record/file'].decode()) for x in shard} == {'train-00001-of-00002'}
  with pytest.raises(ValueError, match='at least one file'):
    ds.make_tf_dataset(input_context=tf.distribute.InputContext(3, 0))
