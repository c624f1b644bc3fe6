"""Released checkpoints by name, served from 127.0.0.1 as slim's archives are laid out."""

import hashlib
import os

import numpy as np
import pytest
import tensorflow as tf

from pretrained_testlib import RangeHandler, release, server  # pylint: disable=unused-import
from slimvision.core import download
from slimvision.nets import checkpoints, nets_factory, pretrained

NET = 'mobilenet_v1_025'


def test_pretrained_by_name_downloads_once_and_restores_the_moving_averages(server):
  values, averages, _ = release(server, NET)
  fn = nets_factory.get_network_fn(NET, pretrained=True)
  for name, var in checkpoints.slim_variables(fn).items():
    want = averages.get(f'{name}/ExponentialMovingAverage', values[name])
    np.testing.assert_array_equal(var.numpy(), want, err_msg=name)
  assert [p for p, _ in RangeHandler.requests] == [f'/{os.path.basename(fn.spec.checkpoint_url)}']
  # Cached: no request the second time.
  prefix = pretrained.fetch(NET)
  assert len(RangeHandler.requests) == 1 and prefix.endswith('mobilenet_v1_0.25_224.ckpt')


def test_tf1_single_file_release_is_found_beside_graphs_and_tflite(server):
  values, averages, _ = release(server, NET, v1=True)
  prefix = pretrained.fetch(NET)
  assert os.path.isfile(prefix) and not os.path.exists(prefix + '.index')
  fn = nets_factory.get_network_fn(NET)
  report = pretrained.load_pretrained(fn)
  assert report.from_moving_averages == len(averages)


def test_a_partial_download_is_resumed_and_a_corrupt_one_never_cached(server, tmp_path):
  _, _, archive = release(server, NET)
  data = archive.read_bytes()
  cache = tmp_path / 'cache' / 'archives'
  cache.mkdir(parents=True)
  (cache / (archive.name + '.part')).write_bytes(data[:len(data) // 3])
  good = hashlib.sha256(data).hexdigest()
  prefix = pretrained.fetch(NET, sha256=good)
  assert RangeHandler.requests[-1][1] == f'bytes={len(data) // 3}-'
  assert (cache / archive.name).read_bytes() == data and tf.train.load_checkpoint(prefix)
  # Another expected checksum: the download is refused by name and not kept.
  os.remove(cache / archive.name)
  for path in tmp_path.glob('cache/mobilenet*'):
    import shutil  # pylint: disable=g-import-not-at-top
    shutil.rmtree(path)
  with pytest.raises(download.DownloadError, match=r'has sha256 .*not the expected 0{64}.*removed'):
    pretrained.fetch(NET, sha256='0' * 64)
  assert not os.listdir(cache) and not list(tmp_path.glob('cache/mobilenet*'))


def test_list_networks_with_a_release():
  released = nets_factory.list_networks(pretrained=True)
  assert {'inception_v3', 'inception_resnet_v2', NET} <= set(released)
  assert 'lenet' not in released and 'cifarnet' not in released
  assert all(nets_factory.get_spec(n).checkpoint_url for n in released)


def test_a_net_without_a_release_says_what_to_do(server):
  with pytest.raises(ValueError, match=r'slim released no checkpoint of lenet: train one.*'
                                       r'Nets with a release: .*inception_v3'):
    nets_factory.get_network_fn('lenet', pretrained=True)


def _script(script, *args):
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  return subprocess.run([sys.executable, os.path.join(root, script), *args], cwd=root,
                        capture_output=True, text=True, timeout=600, env=dict(os.environ))


@pytest.mark.slow
def test_commands_take_the_release_by_name(server, tmp_path):
  values, averages, _ = release(server, NET)
  photo = tmp_path / 'photo.jpg'
  photo.write_bytes(tf.io.encode_jpeg(np.full((40, 50, 3), 120, np.uint8)).numpy())
  # A download that is not the archive named by --checkpoint_sha256 is refused and not kept.
  proc = _script('classify_image.py', f'--model_name={NET}', '--checkpoint_sha256=' + 'ab' * 32,
                 str(photo))
  assert proc.returncode == 1 and 'not the expected ' + 'ab' * 32 in proc.stderr, proc.stderr
  assert 'Traceback' not in proc.stderr and not os.listdir(tmp_path / 'cache' / 'archives')
  RangeHandler.requests = []
  # classify_image.py with no checkpoint flag: the release of --model_name.
  proc = _script('classify_image.py', f'--model_name={NET}', str(photo))
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert proc.stdout.count('\n  ') == 5 and 'with the moving averages' in proc.stderr
  # export --checkpoint_path=pretrained writes the averages (as the release was evaluated).
  proc = _script('export_inference_graph.py', f'--model_name={NET}', '--checkpoint_path=pretrained',
                 f'--export_dir={tmp_path / "sm"}')
  assert proc.returncode == 0, proc.stderr[-3000:]
  reader = tf.train.load_checkpoint(str(tmp_path / 'sm' / 'variables' / 'variables'))
  keys = [k for k in reader.get_variable_to_shape_map()
          if 'Conv2d_0' in k and 'weights' in k and 'BatchNorm' not in k]
  assert len(keys) == 1, keys
  np.testing.assert_array_equal(reader.get_tensor(keys[0]),
                                averages['MobilenetV1/Conv2d_0/weights/ExponentialMovingAverage'])
  assert len(RangeHandler.requests) == 1  # Downloaded once for both commands.


def test_the_listing_shows_every_net_with_its_facts(capsys):
  from slimvision.nets import __main__ as listing  # pylint: disable=g-import-not-at-top
  assert listing.main([]) == 0
  lines = capsys.readouterr().out.splitlines()
  assert len(lines) == 1 + len(nets_factory.list_networks())
  v3 = next(l for l in lines if l.startswith('inception_v3 '))
  assert v3.split() == ['inception_v3', '299', '3', 'inception', '1001', '78.0', '93.9', 'yes']
  assert next(l for l in lines if l.startswith('lenet ')).split()[-1] == 'no'
  assert listing.main(['--parameters', 'lenet']) == 0
  assert capsys.readouterr().out.splitlines()[1].split()[-1] == f'{nets_factory.get_network_fn("lenet").model.count_params():,}'
  with pytest.raises(SystemExit):
    listing.main(['resnet50'])


def test_a_truncated_archive_is_refused_by_name_and_nothing_is_cached(server, tmp_path):
  _, _, archive = release(server, NET)
  whole = archive.read_bytes()
  archive.write_bytes(whole[:len(whole) // 2])  # The mirror itself serves half the file.
  with pytest.raises(ValueError, match=r'mobilenet_v1_0.25_224.tgz is not a complete, '
                                       r'readable release archive.*removed.*Run again'):
    pretrained.fetch(NET)
  cache = tmp_path / 'cache'
  assert not os.listdir(cache / 'archives')
  assert sorted(os.listdir(cache)) == ['archives']
  archive.write_bytes(whole)
  assert tf.train.load_checkpoint(pretrained.fetch(NET))


@pytest.mark.slow
def test_classify_by_name_equals_the_checkpoint_by_hand_and_needs_no_network_later(
    server, tmp_path, monkeypatch):
  release(server, NET, v1=True, averages=False, seed=2)
  photo = tmp_path / 'photo.jpg'
  pixels = np.random.default_rng(0).integers(0, 255, (60, 80, 3), dtype=np.uint8)
  photo.write_bytes(tf.io.encode_jpeg(pixels).numpy())
  by_name = _script('classify_image.py', f'--model_name={NET}', str(photo))
  assert by_name.returncode == 0, by_name.stderr[-3000:]
  # The mirror gone: the cache serves.
  monkeypatch.setenv(pretrained.MIRROR_ENV, 'http://127.0.0.1:9/')
  offline = _script('classify_image.py', f'--model_name={NET}', str(photo))
  assert offline.returncode == 0, offline.stderr[-3000:]
  by_hand = _script('classify_image.py', f'--model_name={NET}',
                    f'--checkpoint_path={pretrained.fetch(NET)}', str(photo))
  assert by_hand.returncode == 0, by_hand.stderr[-3000:]
  assert by_name.stdout.count('\n  ') == 5
  assert by_name.stdout == offline.stdout == by_hand.stdout
  assert len(RangeHandler.requests) == 1


def test_a_cached_release_is_checked_against_a_given_sha256_and_repaired_when_damaged(
    server, tmp_path, caplog):
  _, _, archive = release(server, NET)
  good = hashlib.sha256(archive.read_bytes()).hexdigest()
  prefix = pretrained.fetch(NET)
  assert pretrained.fetch(NET, sha256=good.upper()) == prefix
  # Another expected checksum for the cached release: refused, and the cache emptied.
  with pytest.raises(download.DownloadError, match=r'has sha256 .*not the expected 1{64}'):
    pretrained.fetch(NET, sha256='1' * 64)
  assert sorted(os.listdir(tmp_path / 'cache')) == ['archives']
  assert not os.listdir(tmp_path / 'cache' / 'archives')
  with pytest.raises(ValueError, match=r"sha256 must be 64 hexadecimal digits.*'abc'"):
    pretrained.fetch(NET, sha256='abc')
  # A file of the extracted release deleted: extracted again from the kept archive.
  prefix = pretrained.fetch(NET)
  requests = len(RangeHandler.requests)
  data = [p for p in os.listdir(os.path.dirname(prefix)) if '.data-' in p]
  os.remove(os.path.join(os.path.dirname(prefix), data[0]))
  with caplog.at_level('WARNING'):
    assert pretrained.fetch(NET) == prefix
  assert f'{data[0]} is missing' in caplog.text and 'extracting the release again' in caplog.text
  assert tf.train.load_checkpoint(prefix) and len(RangeHandler.requests) == requests
