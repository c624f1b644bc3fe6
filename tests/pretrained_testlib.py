"""A mirror of slim's releases on 127.0.0.1 and synthetic release archives, for tests."""

import functools
import http.server
import os
import tarfile
import threading

import numpy as np
import pytest
import tensorflow as tf

from slimvision.nets import checkpoints, nets_factory, pretrained


class RangeHandler(http.server.SimpleHTTPRequestHandler):
  """Serves files, honouring `Range: bytes=N-` (206) as release servers do."""
  requests = []

  def log_message(self, *args):
    pass

  def do_GET(self):
    RangeHandler.requests.append((self.path, self.headers.get('Range')))
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
      ('127.0.0.1', 0), functools.partial(RangeHandler, directory=str(served)))
  thread = threading.Thread(target=httpd.serve_forever, daemon=True)
  thread.start()
  monkeypatch.setenv(pretrained.MIRROR_ENV, f'http://127.0.0.1:{httpd.server_address[1]}/')
  monkeypatch.setenv(pretrained.HOME_ENV, str(tmp_path / 'cache'))
  RangeHandler.requests = []
  yield served
  httpd.shutdown()
  httpd.server_close()


def release(served, name, v1=False, averages=True, checkpoint_name=None, seed=0):
  """Writes net `name`'s release archive into `served` as slim's are laid out: the
  checkpoint (TF1 V1 single file or V2 prefix, named `checkpoint_name`, default
  `<archive stem>.ckpt`) beside a frozen graph, a TFLite file and notes.

  Returns:
    ({slim name: value} of the weights, {`<name>/ExponentialMovingAverage`:
    value} of their moving averages (empty without `averages`), the archive path).
  """
  fn = nets_factory.get_network_fn(name)
  rng = np.random.default_rng(seed)
  values = {n: v.numpy() + (rng.normal(0, 0.01, v.shape).astype(v.dtype)
                            if seed and not n.endswith('moving_variance') else 0)
            for n, v in checkpoints.slim_variables(fn).items()}
  shadow = {}
  if averages:
    shadow = {f'{n}/ExponentialMovingAverage': v + rng.normal(0, 0.01, v.shape).astype(v.dtype)
              for n, v in values.items()
              if not n.endswith(('moving_mean', 'moving_variance'))}
  archive = served / os.path.basename(fn.spec.checkpoint_url)
  stem = pretrained.archive_stem(archive.name)
  staging = served / 'staging' / stem
  staging.mkdir(parents=True)
  with tf.Graph().as_default():
    variables = [tf.compat.v1.Variable(v, name=n) for n, v in {**values, **shadow}.items()]
    saver = tf.compat.v1.train.Saver(variables, write_version=(
        tf.compat.v1.train.SaverDef.V1 if v1 else tf.compat.v1.train.SaverDef.V2))
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      saver.save(session, str(staging / (checkpoint_name or f'{stem}.ckpt')),
                 write_meta_graph=False)
  # What else the releases hold: a frozen graph, a TFLite model, notes.
  for extra in (f'{stem}_frozen.pb', f'{stem}.tflite', f'{stem}_info.txt'):
    (staging / extra).write_bytes(b'not a checkpoint')
  with tarfile.open(archive, 'w:gz', compresslevel=1) as tar:
    for f in sorted(os.listdir(staging)):
      tar.add(staging / f, arcname=f'./{f}')
  return values, shadow, archive
