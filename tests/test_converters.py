"""Converters: run on local copies of the real archive formats, never the internet."""

import functools
import glob
import hashlib
import http.server
import os
import subprocess
import sys
import tarfile
import threading

import numpy as np
import pytest
import tensorflow as tf

import datasets_testlib as lib
from slimvision.datasets import build_imagenet_data
from slimvision.datasets import dataset_factory
from slimvision.datasets import dataset_utils
from slimvision.datasets import digits
from slimvision.datasets import download_and_convert_cifar10
from slimvision.datasets import download_and_convert_digits
from slimvision.datasets import download_and_convert_flowers
from slimvision.datasets import download_and_convert_mnist

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def server():
  """An HTTP server on 127.0.0.1 serving tests/data/datasets/raw_inputs."""
  handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=lib.RAW)
  handler.log_message = lambda *args: None
  httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
  thread = threading.Thread(target=httpd.serve_forever, daemon=True)
  thread.start()
  yield f'http://127.0.0.1:{httpd.server_address[1]}'
  httpd.shutdown()
  httpd.server_close()


def _examples(path):
  out = []
  for record in tf.data.TFRecordDataset(path):
    ex = tf.train.Example.FromString(record.numpy())
    out.append(ex.features.feature)
  return out


def _decoded(name, split, dataset_dir):
  ds = dataset_factory.get_dataset(name, split, str(dataset_dir), num_samples='count')
  return ds, list(ds.make_tf_dataset().as_numpy_iterator())


def _assert_manifest_counts(directory, name, splits):
  """The converter's manifest lists every shard of each split with the records it holds."""
  from slimvision.datasets import shards  # pylint: disable=g-import-not-at-top
  manifest = shards.read_manifest(str(directory))
  assert manifest['dataset'] == name
  for split in splits:
    files = dataset_factory.get_dataset(name, split, str(directory)).list_files()
    entry = manifest['splits'][split]
    assert sorted(entry['shards']) == [os.path.basename(f) for f in files]
    for f in files:
      read = sum(1 for _ in tf.data.TFRecordDataset(f))
      assert entry['shards'][os.path.basename(f)]['records'] == read, f
    assert entry['records'] == sum(s['records'] for s in entry['shards'].values())


def test_real_download_urls():
  assert download_and_convert_flowers.DATA_URL == (
      'http://download.tensorflow.org/example_images/flower_photos.tgz')
  assert download_and_convert_cifar10.DATA_URL == (
      'https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz')
  assert download_and_convert_mnist.DATA_URL.endswith('/mnist/')


def test_flowers_from_file_url(tmp_path):
  out = tmp_path / 'flowers'
  url = 'file://' + os.path.join(lib.RAW, 'flower_photos.tgz')
  download_and_convert_flowers.run(str(out), data_url=url, num_validation=10)
  assert sorted(os.listdir(out)) == sorted(
      [f'flowers_{s}_{i:05d}-of-00005.tfrecord' for s in ('train', 'validation') for i in range(5)]
      + ['labels.txt', 'manifest.json'])  # the archive and the photos are cleaned up
  _assert_manifest_counts(out, 'flowers', ('train', 'validation'))
  exp = lib.expected('flowers')
  assert (out / 'labels.txt').read_text() == exp['labels_txt']
  got = []
  for split, size in (('train', 30), ('validation', 10)):
    ds, examples = _decoded('flowers', split, out)
    assert ds.num_samples == size
    got += [(int(x['label']), lib.sha256(x['image'])) for x in examples]
  # Our split is made from sorted file names (slim's from os.listdir order), so
  # compare the whole set of examples, not the split.
  assert sorted(got) == sorted((r['label'], r['pixels_sha256']) for r in exp['records'])
  encoded = {hashlib.sha256(f['image/encoded'].bytes_list.value[0]).hexdigest()
             for p in out.glob('*.tfrecord') for f in _examples(str(p))}
  assert encoded == {r['encoded_sha256'] for r in exp['records']}  # JPEG bytes unchanged
  # A second run finds the files and does nothing.
  download_and_convert_flowers.run(str(out), data_url='file:///nonexistent.tgz')


class _Payload:
  """A pickle that would run code when loaded: it writes the file `mark`."""

  def __init__(self, mark):
    self.mark = mark

  def __reduce__(self):
    return (eval, (f"open({self.mark!r}, 'w').write('ran') and "
                   "{b'data': [], b'labels': []}",))


@pytest.mark.parametrize('protocol', [2, 4, 5])
def test_cifar10_archive_content_is_never_run(tmp_path, protocol):
  import io  # pylint: disable=g-import-not-at-top
  import pickle  # pylint: disable=g-import-not-at-top
  mark = tmp_path / 'outside' / 'ran.txt'
  mark.parent.mkdir()
  archive = tmp_path / 'cifar-10-python.tar.gz'
  good = {b'data': np.zeros((2, 3072), np.uint8), b'labels': [0, 1], b'filenames': [b'a', b'b']}
  with tarfile.open(archive, 'w:gz') as tar:
    for member in ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4',
                   'data_batch_5', 'test_batch']:
      # The last member too: the train split written before it is then removed.
      bad = 'test_batch' if protocol == 5 else 'data_batch_3'
      payload = _Payload(str(mark)) if member == bad else good
      data = pickle.dumps(payload, protocol=protocol)
      info = tarfile.TarInfo(f'cifar-10-batches-py/{member}')
      info.size = len(data)
      tar.addfile(info, io.BytesIO(data))
  out = tmp_path / 'cifar10'
  with pytest.raises(ValueError, match=r'(data_batch_3|test_batch) is not a CIFAR-10 batch '
                                       r'\(refused to load (__builtin__|builtins).eval\)'):
    download_and_convert_cifar10.run(str(out), data_url=archive.as_uri())
  assert not mark.exists()
  assert not [f for f in os.listdir(out) if f.endswith('.tfrecord')]
  # The arrays of a real batch, pickled by this numpy with this protocol, load.
  loaded = download_and_convert_cifar10.load_batch(io.BytesIO(pickle.dumps(good, protocol)), 'b')
  np.testing.assert_array_equal(loaded[b'data'], good[b'data'])


def _assert_as_slim_wrote(out, name):
  """The converted `name` in `out` holds slim's labels.txt and, per split, the labels,
  pixels and decoded shapes of the records slim's converter wrote. Returns the
  expected test records."""
  _assert_manifest_counts(out, name, ('train', 'test'))
  exp = lib.expected(name)
  assert (out / 'labels.txt').read_text() == exp['labels_txt']
  for split in ('train', 'test'):
    _, examples = _decoded(name, split, out)
    want = [r for r in exp['records'] if r['split'] == split]
    assert [(int(x['label']), lib.sha256(x['image']), x['image'].shape) for x in examples] == [
        (r['label'], r['pixels_sha256'], tuple(r['decoded_shape'])) for r in want]
  return want


def test_cifar10_over_http(tmp_path, server):
  out = tmp_path / 'cifar10'
  download_and_convert_cifar10.run(str(out), data_url=f'{server}/cifar-10-python.tar.gz')
  assert sorted(os.listdir(out)) == ['cifar10_test.tfrecord', 'cifar10_train.tfrecord',
                                     'labels.txt', 'manifest.json']
  want = _assert_as_slim_wrote(out, 'cifar10')
  features = _examples(str(out / 'cifar10_test.tfrecord'))[0]
  assert sorted(features.keys()) == want[0]['feature_keys']


def test_mnist_over_http(tmp_path, server):
  out = tmp_path / 'mnist'
  download_and_convert_mnist.run(str(out), data_url=f'{server}/mnist/')
  assert sorted(os.listdir(out)) == ['labels.txt', 'manifest.json', 'mnist_test.tfrecord',
                                     'mnist_train.tfrecord']
  _assert_as_slim_wrote(out, 'mnist')


def test_download_failure_says_what_to_do(tmp_path, server):
  with pytest.raises(IOError, match='Download it by hand into'):
    download_and_convert_cifar10.run(str(tmp_path), data_url=f'{server}/missing.tar.gz')
  assert not list(tmp_path.glob('*.part'))


def test_digits_split_and_recipe(tmp_path):
  images, labels = download_and_convert_digits.load_raw()
  assert images.shape == (1797, 8, 8) and images.max() == 16
  split = download_and_convert_digits.split_indices(labels)
  assert len(split['train']) == digits.SPLITS_TO_SIZES['train'] == 1501
  assert len(split['test']) == digits.SPLITS_TO_SIZES['test'] == 296
  assert not set(split['train']) & set(split['test'])
  counts = np.bincount(labels[split['test']], minlength=10)
  assert counts.min() >= 28 and counts.max() <= 30  # per-class split
  # The reference MNIST files were made from digits 0..19 with the same recipe.
  _, mnist = _decoded('mnist', 'train', lib.dataset_dir('mnist'))
  framed = download_and_convert_digits.to_mnist_format(images[:20])
  np.testing.assert_array_equal(np.stack([x['image'][..., 0] for x in mnist]), framed)

  download_and_convert_digits.run(str(tmp_path))
  for name, index in split.items():
    ds, examples = _decoded('digits', name, tmp_path)
    assert ds.num_samples == len(index) == dataset_factory.get_dataset(
        'digits', name, str(tmp_path)).num_samples
    assert [int(x['label']) for x in examples] == labels[index].tolist()
    assert examples[0]['image'].shape == (28, 28, 1)
  assert dataset_utils.read_label_file(str(tmp_path))[6] == 'six'


@pytest.mark.slow
def test_convert_script_cli(tmp_path):
  env = dict(os.environ, PYTHONPATH='', TF_CPP_MIN_LOG_LEVEL='3')
  script = os.path.join(ROOT, 'download_and_convert_data.py')
  done = subprocess.run([sys.executable, script, '--dataset_name=digits',
                         f'--dataset_dir={tmp_path}'], env=env, capture_output=True,
                        text=True, timeout=120)
  assert done.returncode == 0, done.stderr[-2000:]
  assert sorted(os.listdir(tmp_path)) == ['digits_test.tfrecord', 'digits_train.tfrecord',
                                          'labels.txt', 'manifest.json']
  _assert_manifest_counts(tmp_path, 'digits', ('train', 'test'))
  assert 'digits train 1501/1501: ' in done.stderr
  bad = subprocess.run([sys.executable, script, '--dataset_name=imagenet',
                        f'--dataset_dir={tmp_path}'], env=env, capture_output=True, text=True,
                       timeout=120)
  assert bad.returncode != 0 and 'build_imagenet_data' in bad.stderr


# ---------------------------------------------------------------------------
# ImageNet
# ---------------------------------------------------------------------------
@pytest.fixture(scope='module')
def imagenet_raw(tmp_path_factory):
  root = tmp_path_factory.mktemp('imagenet_raw')
  with tarfile.open(os.path.join(lib.RAW, 'imagenet_raw_trimmed.tar.gz')) as tar:
    tar.extractall(root, filter='data')
  return root


def test_find_image_files_order(tmp_path):
  """Synsets in label order, names sorted, then slim's permutation (checked on slim's records)."""
  exp = lib.expected('imagenet')['records']
  synset_file = os.path.join(ROOT, 'datasets', 'data', 'imagenet_lsvrc_2015_synsets.txt')
  for split in ('train', 'validation'):
    want = [r for r in exp if r['split'] == split]
    order = build_imagenet_data.slim_shuffle_order(len(want))
    # slim listed folders in filesystem order; undo its permutation to get that
    # listing, and check the permutation maps it back to slim's record order.
    listing = [None] * len(want)
    for position, index in enumerate(order):
      listing[index] = want[position]
    assert [listing[i]['filename'] for i in order] == [r['filename'] for r in want]
    assert [r['label'] for r in listing] == sorted(r['label'] for r in want)
    for r in want:
      (tmp_path / split / r['synset']).mkdir(parents=True, exist_ok=True)
      (tmp_path / split / r['synset'] / r['filename']).touch()
    files, synsets, labels = build_imagenet_data.find_image_files(str(tmp_path / split),
                                                                  synset_file)
    ours = sorted(want, key=lambda r: (r['label'], r['filename']))
    assert [os.path.basename(f) for f in files] == [ours[i]['filename'] for i in order]
    assert labels == [ours[i]['label'] for i in order]
    assert synsets == [ours[i]['synset'] for i in order]


def test_special_case_detection(imagenet_raw):
  train = imagenet_raw / 'train'
  assert build_imagenet_data.is_png((train / 'n02105855' / 'n02105855_2933.JPEG').read_bytes())
  cmyk = (train / 'n01739381' / 'n01739381_1309.JPEG').read_bytes()
  assert build_imagenet_data.jpeg_num_components(cmyk) == 4
  gray = (train / 'n01443537' / 'n01443537_185.JPEG').read_bytes()
  assert build_imagenet_data.jpeg_num_components(gray) == 1
  rgb = (train / 'n01440764' / 'n01440764_134.JPEG').read_bytes()
  assert build_imagenet_data.jpeg_num_components(rgb) == 3


def test_build_imagenet_data_matches_slim(imagenet_raw, tmp_path):
  out = tmp_path / 'records'
  written = build_imagenet_data.run(
      str(imagenet_raw / 'train'), str(imagenet_raw / 'validation'), str(out),
      train_shards=2, validation_shards=2, num_threads=2,
      labels_file=str(imagenet_raw / 'imagenet_lsvrc_2015_synsets.txt'),
      imagenet_metadata_file=str(imagenet_raw / 'imagenet_metadata.txt'),
      bounding_box_file=str(imagenet_raw / 'imagenet_2012_bounding_boxes.csv'))
  assert written == {'train': 8, 'validation': 3}
  assert sorted(os.listdir(out)) == ['manifest.json', 'train-00000-of-00002',
                                     'train-00001-of-00002', 'validation-00000-of-00002',
                                     'validation-00001-of-00002']
  _assert_manifest_counts(out, 'imagenet', ('train', 'validation'))
  expected = {r['filename']: r for r in lib.expected('imagenet')['records']}
  seen = 0
  for path in sorted(out.glob('*-of-*')):
    for f in _examples(str(path)):
      name = f['image/filename'].bytes_list.value[0].decode()
      r = expected[name]
      assert sorted(f.keys()) == r['feature_keys']
      assert f['image/class/label'].int64_list.value[0] == r['label']
      assert f['image/class/synset'].bytes_list.value[0].decode() == r['synset']
      assert f['image/class/text'].bytes_list.value[0].decode() == r['human']
      assert f['image/colorspace'].bytes_list.value[0] == b'RGB'
      assert f['image/format'].bytes_list.value[0] == b'JPEG'
      assert (f['image/height'].int64_list.value[0],
              f['image/width'].int64_list.value[0]) == (r['height'], r['width'])
      boxes = np.stack([f[f'image/object/bbox/{k}'].float_list.value
                        for k in ('xmin', 'ymin', 'xmax', 'ymax')], axis=1)
      np.testing.assert_allclose(boxes.reshape(-1, 4), np.reshape(r['bboxes'], (-1, 4)))
      assert list(f['image/object/bbox/label'].int64_list.value) == r['bbox_label_feature']
      encoded = f['image/encoded'].bytes_list.value[0]
      pixels = tf.io.decode_jpeg(encoded, channels=3).numpy()
      if r['encoded_is_raw_file_bytes']:
        assert hashlib.sha256(encoded).hexdigest() == r['encoded_sha256']
        assert lib.sha256(pixels) == r['pixels_sha256']
      else:
        # PNG / CMYK: re-encoded at quality 100 by the same TensorFlow JPEG
        # encoder slim used, so the bytes match here; another libjpeg build
        # could differ by a little, hence the pixel check comes first.
        source = imagenet_raw / 'train' / r['synset'] / name
        raw = tf.io.decode_image(source.read_bytes(), channels=3).numpy()
        assert np.abs(raw.astype(int) - pixels.astype(int)).mean() < 3.0
        assert lib.sha256(pixels) == r['pixels_sha256']
      seen += 1
  assert seen == 11
  # Our records read back through the dataset like slim's.
  ds = dataset_factory.get_dataset('imagenet', 'train', str(out), num_samples='count')
  assert ds.num_samples == 8
  boxed = [x for x in ds.make_tf_dataset().as_numpy_iterator() if len(x['object/bbox'])]
  assert len(boxed) == 4  # the trimmed input keeps 4 of the 5 boxed images


def test_build_imagenet_data_reports_bad_images(tmp_path):
  synsets = tmp_path / 'synsets.txt'
  synsets.write_text('n01440764\n')
  (tmp_path / 'train' / 'n01440764').mkdir(parents=True)
  (tmp_path / 'train' / 'n01440764' / 'broken.JPEG').write_bytes(b'\xff\xd8 not really')
  with pytest.raises(ValueError, match='broken.JPEG'):
    build_imagenet_data.run(str(tmp_path / 'train'), None, str(tmp_path / 'out'),
                            train_shards=1, num_threads=1, labels_file=str(synsets))
  with pytest.raises(FileNotFoundError, match='does not exist'):
    build_imagenet_data.run(str(tmp_path / 'nothing'), None, str(tmp_path / 'out'),
                            train_shards=1, num_threads=1, labels_file=str(synsets))
  (tmp_path / 'other').mkdir()
  (tmp_path / 'other' / 'photo.png').write_bytes(b'')
  with pytest.raises(FileNotFoundError, match=r'holds 1 entries \(photo.png\).*n01440764'):
    build_imagenet_data.run(str(tmp_path / 'other'), None, str(tmp_path / 'out'),
                            train_shards=1, num_threads=1, labels_file=str(synsets))


def _records(directory, split):
  out = {}
  for path in sorted(glob.glob(os.path.join(directory, f'{split}-*'))):
    for record in tf.data.TFRecordDataset(path):
      feature = tf.train.Example.FromString(record.numpy()).features.feature
      name = feature['image/filename'].bytes_list.value[0].decode()
      out[name] = (feature['image/class/synset'].bytes_list.value[0].decode(),
                   feature['image/class/label'].int64_list.value[0],
                   feature['image/encoded'].bytes_list.value[0])
  return out


def test_build_imagenet_data_takes_the_layouts_imagenet_is_distributed_in(tmp_path):
  from slimvision.datasets import imagenet  # pylint: disable=g-import-not-at-top
  synsets = imagenet.synsets()
  val_synsets = open(imagenet.VALIDATION_LABELS_FILE).read().split()
  jpeg = lambda i: tf.io.encode_jpeg(np.full((8, 10, 3), 20 * i, np.uint8)).numpy()
  # Validation as distributed: one flat folder; and the same images sorted into synset folders.
  for i in range(1, 7):
    name = f'ILSVRC2012_val_{i:08d}.JPEG'
    (tmp_path / 'val_flat').mkdir(exist_ok=True)
    (tmp_path / 'val_flat' / name).write_bytes(jpeg(i))
    (tmp_path / 'val_sorted' / val_synsets[i - 1]).mkdir(parents=True, exist_ok=True)
    (tmp_path / 'val_sorted' / val_synsets[i - 1] / name).write_bytes(jpeg(i))
  # Train as distributed: one uncompressed tar per synset; and the same as folders.
  (tmp_path / 'train_tars').mkdir()
  for k, synset in enumerate(synsets[:3]):
    folder = tmp_path / 'train_folders' / synset
    folder.mkdir(parents=True)
    for j in range(2):
      (folder / f'{synset}_{j}.JPEG').write_bytes(jpeg(k * 2 + j))
    with tarfile.open(tmp_path / 'train_tars' / f'{synset}.tar', 'w') as tar:
      for j in range(2):
        tar.add(folder / f'{synset}_{j}.JPEG', arcname=f'{synset}_{j}.JPEG')
  runs = {}
  for layout, train_dir, val_dir in (('distributed', 'train_tars', 'val_flat'),
                                     ('folders', 'train_folders', 'val_sorted')):
    out = tmp_path / f'out_{layout}'
    written = build_imagenet_data.run(str(tmp_path / train_dir), str(tmp_path / val_dir),
                                      str(out), train_shards=2, validation_shards=2,
                                      num_threads=1)
    assert written == {'validation': 6, 'train': 6}
    runs[layout] = (_records(out, 'validation'), _records(out, 'train'),
                    sorted(os.listdir(out)))
  validation, train, files = runs['distributed']
  assert {n: v[0] for n, v in validation.items()} == {
      f'ILSVRC2012_val_{i:08d}.JPEG': val_synsets[i - 1] for i in range(1, 7)}
  assert all(label == synsets.index(synset) + 1 for synset, label, _ in validation.values())
  assert {n: v[0] for n, v in train.items()} == {
      f'{s}_{j}.JPEG': s for s in synsets[:3] for j in range(2)}
  # The same images in either layout give the same records in the same shards.
  assert runs['distributed'] == runs['folders']
  # A flat file numbered beyond the 50,000 labels is named.
  (tmp_path / 'val_flat' / 'ILSVRC2012_val_00050001.JPEG').write_bytes(jpeg(1))
  with pytest.raises(ValueError, match='ILSVRC2012_val_00050001.JPEG.*50000 lines'):
    build_imagenet_data.find_image_files(str(tmp_path / 'val_flat'), imagenet.SYNSETS_FILE)


def _tar_with(path, members, mode='w:gz'):
  """A tar of (name, bytes) files and (name, '->', target) symbolic links."""
  import io  # pylint: disable=g-import-not-at-top
  with tarfile.open(path, mode) as tar:
    for member in members:
      info = tarfile.TarInfo(member[0])
      if len(member) == 3:
        info.type, info.linkname = tarfile.SYMTYPE, member[2]
        tar.addfile(info)
      else:
        info.size = len(member[1])
        tar.addfile(info, io.BytesIO(member[1]))


_JPEG = tf.io.encode_jpeg(np.full((8, 8, 3), 90, np.uint8)).numpy()
_ESCAPES = {
    'parent': [('flower_photos/daisy/a.jpg', _JPEG), ('flower_photos/../../escaped.txt', b'x')],
    'absolute': [('flower_photos/daisy/a.jpg', _JPEG), ('/tmp/escaped_abs.txt', b'x')],
    'symlink': [('flower_photos/daisy/a.jpg', _JPEG), ('flower_photos/link', '->', '../..'),
                ('flower_photos/link/escaped.txt', b'x')],
}


@pytest.mark.parametrize('kind', sorted(_ESCAPES))
def test_flowers_archive_cannot_write_outside_dataset_dir(tmp_path, kind):
  archive = tmp_path / 'flower_photos.tgz'
  _tar_with(archive, _ESCAPES[kind])
  out = tmp_path / 'a' / 'flowers'
  out.parent.mkdir()
  before = set(glob.glob(str(tmp_path / '**'), recursive=True))
  # An absolute name is extracted below dataset_dir (its leading '/' dropped); the
  # others are refused by name.
  refused = (r'flower_photos.tgz holds a member that would be written outside the dataset '
             r'directory' if kind != 'absolute' else 'photos found')
  with pytest.raises(ValueError, match=refused):
    download_and_convert_flowers.run(str(out), data_url=archive.as_uri())
  after = set(glob.glob(str(tmp_path / '**'), recursive=True))
  if kind != 'absolute':  # A rerun downloads anew rather than finding the bad archive.
    assert not (out / 'flower_photos.tgz').exists()
  assert all(p == str(out) or p.startswith(str(out) + os.sep) for p in after - before), (
      after - before)
  assert not os.path.exists('/tmp/escaped_abs.txt')


def test_cifar10_and_imagenet_archives_are_read_in_place(tmp_path):
  # Neither converter extracts: members named to escape are never written anywhere.
  import pickle  # pylint: disable=g-import-not-at-top
  good = pickle.dumps({b'data': np.zeros((1, 3072), np.uint8), b'labels': [3]})
  members = [(f'cifar-10-batches-py/{m}', good) for m in
             ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5',
              'test_batch']]
  members += [('../escaped.txt', b'x'), ('cifar-10-batches-py/link', '->', '/etc/passwd')]
  _tar_with(tmp_path / 'cifar-10-python.tar.gz', members)
  out = tmp_path / 'c' / 'cifar10'
  download_and_convert_cifar10.run(str(out), data_url=(tmp_path / 'cifar-10-python.tar.gz').as_uri())
  assert sorted(os.listdir(out)) == ['cifar10_test.tfrecord', 'cifar10_train.tfrecord',
                                     'labels.txt', 'manifest.json']
  assert not (tmp_path / 'c' / 'escaped.txt').exists() and not (tmp_path / 'escaped.txt').exists()
  from slimvision.datasets import imagenet  # pylint: disable=g-import-not-at-top
  synset = imagenet.synsets()[0]
  train = tmp_path / 'train'
  train.mkdir()
  _tar_with(train / f'{synset}.tar', [(f'{synset}_1.JPEG', _JPEG),
                                      (f'../../{synset}_2.JPEG', _JPEG),
                                      (f'{synset}_3.JPEG', '->', '/etc/passwd')], mode='w')
  written = build_imagenet_data.run(str(train), None, str(tmp_path / 'records'),
                                    train_shards=1, num_threads=1)
  assert written == {'train': 2}  # The two regular members; the link is not an image.
  assert sorted(os.listdir(tmp_path)) == sorted(['c', 'cifar-10-python.tar.gz', 'train',
                                                 'records'])
