"""Missing data is never silent: manifests, counts, empty shards, records that are not Examples."""

import json
import logging as std_logging
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

import datasets_testlib as lib
from slimvision.core import evaluate
from slimvision.core import train
from slimvision.core.config import TrainConfig
from slimvision.core.evaluate import EvalConfig
from slimvision.datasets import dataset_factory
from slimvision.datasets import dataset_utils
from slimvision.datasets import download_and_convert_digits
from slimvision.datasets import shards
from slimvision.nets import checkpoints, nets_factory


def _write(path, records):
  with tf.io.TFRecordWriter(str(path)) as writer:
    for record in records:
      writer.write(record)


def _example(label=1):
  png = tf.io.encode_png(np.zeros((28, 28, 1), np.uint8)).numpy()
  return dataset_utils.image_to_tfexample(png, b'png', 28, 28, label).SerializeToString()


def _train_config(tmp_path, data, **changes):
  values = dict(train_dir=str(tmp_path / 'train'), dataset_name='mnist',
                dataset_split_name='train', dataset_dir=str(data), model_name='lenet',
                batch_size=2, max_number_of_steps=2, optimizer='sgd',
                learning_rate_decay_type='fixed', shuffle_buffer=1, seed=0)
  values.update(changes)
  return TrainConfig(**values)


@pytest.fixture(scope='module')
def digits_dir(tmp_path_factory):
  directory = str(tmp_path_factory.mktemp('digits'))
  download_and_convert_digits.run(directory)
  return directory


def test_framing_count_equals_the_records_read_and_finds_a_cut(tmp_path):
  path = tmp_path / 'x.tfrecord'
  _write(path, [b'a' * n for n in (0, 1, 300, 7)])
  assert shards.count_framed_records(str(path)) == 4
  data = path.read_bytes()
  path.write_bytes(data[:-3])
  with pytest.raises(shards.ShardError, match=r'x.tfrecord is cut short: record 3'):
    shards.count_framed_records(str(path))


def test_converter_writes_a_manifest_of_every_shard(digits_dir):
  with open(os.path.join(digits_dir, shards.MANIFEST_FILENAME)) as f:
    manifest = json.load(f)
  assert manifest['dataset'] == 'digits'
  for split in ('train', 'test'):
    entry = manifest['splits'][split]
    files = dataset_factory.get_dataset('digits', split, digits_dir).list_files()
    assert sorted(entry['shards']) == [os.path.basename(f) for f in files]
    read = sum(1 for _ in tf.data.TFRecordDataset(files))
    assert entry['records'] == read == dataset_factory.get_dataset(
        'digits', split, digits_dir).num_samples


def test_a_shard_cut_on_a_record_boundary_is_named_with_both_counts(digits_dir, tmp_path):
  data = tmp_path / 'digits'
  shutil.copytree(digits_dir, data)
  path = data / 'digits_train.tfrecord'
  records = [r.numpy() for r in tf.data.TFRecordDataset(str(path))]
  _write(path, records[:len(records) // 2])  # Complete records: reading alone would not see it.
  expected = (rf'Shard .*digits_train.tfrecord holds {len(records) // 2} records; '
              rf'manifest.json says {len(records)}')
  with pytest.raises(shards.ShardError, match=expected):
    train.train(_train_config(tmp_path, data, dataset_name='digits'))
  with pytest.raises(shards.ShardError, match=expected):
    evaluate.Evaluator(EvalConfig(checkpoint_path='', dataset_name='digits', dataset_split_name='train',
                                  dataset_dir=str(data), model_name='lenet',
                                  eval_dir=str(tmp_path / 'eval')))


def test_a_shard_missing_from_the_manifest_is_named(tmp_path):
  data = tmp_path / 'imagenet'
  shutil.copytree(lib.dataset_dir('imagenet'), data)
  split = dataset_factory.get_dataset('imagenet', 'train', str(data))
  shards.write_manifest(str(data), 'imagenet', 'train', split.list_files())
  assert split.check_records().records == split.count_records()
  os.remove(data / 'train-00001-of-00002')
  with pytest.raises(shards.ShardError, match=r'Shard .*train-00001-of-00002 is missing: '
                                              r'manifest.json lists it'):
    split.check_records()


def test_without_a_manifest_another_count_is_stated_in_training_and_evaluation(
    tmp_path, caplog):
  data = lib.dataset_dir('mnist')  # slim-style: no manifest, a few records of each split.
  config = _train_config(tmp_path, data, max_number_of_steps=1)
  with caplog.at_level(std_logging.WARNING):
    train.train(config)
  published = dataset_factory.get_dataset('mnist', 'train', data).num_samples
  counted = dataset_factory.get_dataset('mnist', 'train', data).count_records()
  assert (f"holds {counted} records (counted); the published size of the split is {published}"
          in caplog.text)
  eval_dir = tmp_path / 'eval'
  evaluator = evaluate.Evaluator(EvalConfig(
      checkpoint_path='', dataset_name='mnist', dataset_split_name='train', dataset_dir=data, model_name='lenet',
      eval_dir=str(eval_dir), batch_size=4))
  result = evaluator.evaluate(config.train_dir)
  with open(eval_dir / 'results.json') as f:
    written = json.load(f)
  assert written['num_examples'] == counted and written['published_size'] == published
  assert f'the published size of the split is {published}' in written['note']
  assert 'note: ' in evaluate.format_result(result)


def test_a_split_of_empty_shards_is_an_error_naming_them(tmp_path):
  data = tmp_path / 'mnist'
  data.mkdir()
  (data / 'mnist_train.tfrecord').write_bytes(b'')
  with pytest.raises(shards.ShardError, match=r"Split 'train' .* holds no records.*"
                                              r'mnist_train.tfrecord'):
    train.train(_train_config(tmp_path, data))


def test_unfinished_converter_files_are_not_read(tmp_path):
  data = tmp_path / 'imagenet'
  data.mkdir()
  shutil.copy(os.path.join(lib.dataset_dir('imagenet'), 'train-00000-of-00002'),
              data / 'train-00000-of-00002')
  (data / 'train-00001-of-00002.tmp').write_bytes(b'partial')
  files = dataset_factory.get_dataset('imagenet', 'train', str(data)).list_files()
  assert [os.path.basename(f) for f in files] == ['train-00000-of-00002']


def test_shard_writer_leaves_nothing_when_writing_fails(tmp_path):
  path = str(tmp_path / 'flowers_train_00000-of-00001.tfrecord')
  with pytest.raises(RuntimeError):
    with shards.shard_writer(path) as writer:
      writer.write(b'record')
      raise RuntimeError('disk gone')
  assert os.listdir(tmp_path) == []


@pytest.mark.parametrize('skip', [False, True])
def test_a_record_that_is_not_an_example_is_named_or_skipped(tmp_path, skip, capfd):
  data = tmp_path / 'mnist'
  data.mkdir()
  records = [_example(i % 10) for i in range(6)]
  records[3] = b'\xff\xfenot a protocol buffer'
  _write(data / 'mnist_train.tfrecord', records)
  config = _train_config(tmp_path, data, skip_undecodable=skip, max_number_of_steps=3)
  if skip:
    assert train.train(config).global_step == 3
    assert 'skipped a record that is not a tf.train.Example' in capfd.readouterr().err
    with open(os.path.join(config.train_dir, 'config.json')) as f:
      assert json.load(f)['run']['skipped_records'] >= 1
    for clones in (1, 2):  # Evaluation counts it once per pass, on 1 or 2 replicas.
      evaluator = evaluate.Evaluator(EvalConfig(
          checkpoint_path='', dataset_name='mnist', dataset_split_name='train',
          dataset_dir=str(data), model_name='lenet', eval_dir=str(tmp_path / f'eval{clones}'),
          batch_size=2, skip_undecodable=True, num_clones=clones))
      result = evaluator.evaluate(config.train_dir)
      assert (result.num_examples, result.skipped) == (5, 1)
      with open(tmp_path / f'eval{clones}' / 'results.json') as f:
        assert json.load(f)['skipped_records'] == 1
      assert 'skipped: 1 undecodable or unparsable records' in evaluate.format_result(result)
    return
  with pytest.raises(ValueError, match=r'record 3 \(0-based\) of .*mnist_train.tfrecord is not '
                                       r'a tf.train.Example.*--skip_undecodable'):
    train.train(config)
  fn = nets_factory.get_network_fn('lenet')
  prefix = checkpoints.save_slim_checkpoint(fn, str(tmp_path / 'lenet.ckpt'))
  evaluator = evaluate.Evaluator(EvalConfig(
      checkpoint_path='', dataset_name='mnist', dataset_split_name='train', dataset_dir=str(data),
      model_name='lenet', eval_dir=str(tmp_path / 'eval'), batch_size=2))
  with pytest.raises(ValueError, match=r'record 3 \(0-based\) of .*mnist_train.tfrecord'):
    evaluator.evaluate(prefix)
