"""Released checkpoints by name, served from 127.0.0.1 as slim's archives are laid out."""

import functools
import hashlib
import http.server
import io
import os
import tarfile
import threading

import numpy as np
import pytest
import tensorflow as tf

from slimvision.core import download
from slimvision.nets import checkpoints, nets_factory, pretrained

NET = 'mobilenet_v1_025'


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
  """Serves files, honouring `Range: bytes=N-` (206) as release servers do."""
  requests = []

  def log_message(self, *args):
    pass

  def do_GET(self):
    _RangeHandler.requests.append((self.path, self.headers.get('Range')))
    path = self.translate_path(self.path)
    if not os.path.isfile(path):
      self.send_error(404)
      return
    with open(path, 'rb') as f:
      data = f.read()
    start = 0
    if self.headers.get('Range', '').startswith('bytes='):
      start = int(self.headers['Range'][len('bytes='):].split('-')[0])
      self.send_response(206)
    else:
      self.send_response(200)
    self.send_header('Content-Length', str(len(data) - start))
    self.end_headers()
    self.wfile.write(data[start:])


@pytest.fixture
def server(tmp_path, monkeypatch):
  """A mirror on 127.0.0.1 and an empty cache, through the environment variables."""
  served = tmp_path / 'served'
  served.mkdir()
  httpd = http.server.ThreadingHTTPServer(
      ('127.0.0.1', 0), functools.partial(_RangeHandler, directory=str(served)))
  thread = threading.Thread(target=httpd.serve_forever, daemon=True)
  thread.start()
  monkeypatch.setenv(pretrained.MIRROR_ENV, f'http://127.0.0.1:{httpd.server_address[1]}/')
  monkeypatch.setenv(pretrained.HOME_ENV, str(tmp_path / 'cache'))
  _RangeHandler.requests = []
  yield served
  httpd.shutdown()
  httpd.server_close()


def _release(served, name, v1=False):
  """Writes net `name`'s release archive as slim's are laid out; returns {name: values}
  of the weights and of their moving averages."""
  fn = nets_factory.get_network_fn(name)
  rng = np.random.default_rng(0)
  values = {n: v.numpy() for n, v in checkpoints.slim_variables(fn).items()}
  averages = {f'{n}/ExponentialMovingAverage': v + rng.normal(0, 0.01, v.shape).astype(v.dtype)
              for n, v in values.items() if not n.endswith(('moving_mean', 'moving_variance'))}
  stem = os.path.basename(fn.spec.checkpoint_url)[:-len('.tgz')]
  staging = served / 'staging' / stem
  staging.mkdir(parents=True)
  with tf.Graph().as_default():
    variables = [tf.compat.v1.Variable(v, name=n) for n, v in {**values, **averages}.items()]
    saver = tf.compat.v1.train.Saver(variables, write_version=(
        tf.compat.v1.train.SaverDef.V1 if v1 else tf.compat.v1.train.SaverDef.V2))
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      saver.save(session, str(staging / f'{stem}.ckpt'), write_meta_graph=False)
  # What else the releases hold: a frozen graph, a TFLite model, notes.
  for extra in (f'{stem}_frozen.pb', f'{stem}.tflite', f'{stem}_info.txt'):
    (staging / extra).write_bytes(b'not a checkpoint')
  archive = served / os.path.basename(fn.spec.checkpoint_url)
  with tarfile.open(archive, 'w:gz') as tar:
    for f in sorted(os.listdir(staging)):
      tar.add(staging / f, arcname=f'./{f}')
  return values, averages, archive


def test_pretrained_by_name_downloads_once_and_restores_the_moving_averages(server):
  values, averages, _ = _release(server, NET)
  fn = nets_factory.get_network_fn(NET, pretrained=True)
  for name, var in checkpoints.slim_variables(fn).items():
    want = averages.get(f'{name}/ExponentialMovingAverage', values[name])
    np.testing.assert_array_equal(var.numpy(), want, err_msg=name)
  assert [p for p, _ in _RangeHandler.requests] == [f'/{os.path.basename(fn.spec.checkpoint_url)}']
  # Cached: no request the second time.
  prefix = pretrained.fetch(NET)
  assert len(_RangeHandler.requests) == 1 and prefix.endswith('mobilenet_v1_0.25_224.ckpt')


def test_tf1_single_file_release_is_found_beside_graphs_and_tflite(server):
  values, averages, _ = _release(server, NET, v1=True)
  prefix = pretrained.fetch(NET)
  assert os.path.isfile(prefix) and not os.path.exists(prefix + '.index')
  fn = nets_factory.get_network_fn(NET)
  report = pretrained.load_pretrained(fn)
  assert report.from_moving_averages == len(averages)


def test_a_partial_download_is_resumed_and_a_corrupt_one_never_cached(server, tmp_path):
  _, _, archive = _release(server, NET)
  data = archive.read_bytes()
  cache = tmp_path / 'cache' / 'archives'
  cache.mkdir(parents=True)
  (cache / (archive.name + '.part')).write_bytes(data[:len(data) // 3])
  good = hashlib.sha256(data).hexdigest()
  prefix = pretrained.fetch(NET, sha256=good)
  assert _RangeHandler.requests[-1][1] == f'bytes={len(data) // 3}-'
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


def test_commands_take_the_release_by_name(server, tmp_path):
  values, averages, _ = _release(server, NET)
  photo = tmp_path / 'photo.jpg'
  photo.write_bytes(tf.io.encode_jpeg(np.full((40, 50, 3), 120, np.uint8)).numpy())
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
  assert len(_RangeHandler.requests) == 1  # Downloaded once for both commands.


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
