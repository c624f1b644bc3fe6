"""The nets on every Keras backend installed: slim's logits, and compile / fit / save.

Keras fixes its backend when it is first imported, so each backend runs in its
own process (KERAS_BACKEND). TensorFlow and JAX are installed by the test
extra; the PyTorch tests run where torch is installed and are skipped elsewhere.
"""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import backend_outputs
import synthetic
from pretrained_testlib import release, server  # pylint: disable=unused-import
from registry_testlib import training_size
from slimvision.nets import checkpoints, nets_factory, pretrained

TESTS = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(TESTS, 'data', 'nets')
BACKENDS = ('tensorflow', 'jax', 'torch')


def _installed(backend):
  return importlib.util.find_spec(backend) is not None


def _backend_param(backend):
  return pytest.param(backend, marks=pytest.mark.skipif(
      not _installed(backend), reason=f'{backend} is not installed'))


def one_net_per_family():
  """The smallest registered net of each family (builder module) with reference data."""
  smallest = {}
  for name in synthetic.package_networks():
    with open(os.path.join(DATA, f'{name}.json')) as f:
      size = json.load(f)['num_parameters']
    family = nets_factory.get_spec(name).builder.__module__
    smallest[family] = min(smallest.get(family, (size, name)), (size, name))
  return sorted(name for _, name in smallest.values())


def _env(backend):
  return {**os.environ, 'KERAS_BACKEND': backend, 'TF_CPP_MIN_LOG_LEVEL': '2'}


def test_the_subset_covers_every_family():
  nets = one_net_per_family()
  families = {nets_factory.get_spec(n).builder.__module__ for n in synthetic.package_networks()}
  assert {nets_factory.get_spec(n).builder.__module__ for n in nets} == families
  assert len(nets) == len(families)


@pytest.fixture(scope='module')
def backend_process(tmp_path_factory):
  """ask(backend, request) -> reply: one `backend_outputs.py` process per
  backend for the whole module (importing Keras on a backend takes seconds),
  started on first use and ended with the module."""
  processes = {}
  logs = tmp_path_factory.mktemp('backend_outputs')

  def ask(backend, request):
    if backend not in processes:
      log = open(logs / f'{backend}.stderr', 'w+')  # pylint: disable=consider-using-with
      processes[backend] = (subprocess.Popen(
          [sys.executable, os.path.join(TESTS, 'backend_outputs.py')], env=_env(backend),
          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True), log)
    proc, log = processes[backend]
    proc.stdin.write(json.dumps(request) + '\n')
    proc.stdin.flush()
    for line in proc.stdout:
      if line.startswith(backend_outputs.REPLY):
        return json.loads(line[len(backend_outputs.REPLY):])
    proc.wait()
    log.seek(0)
    del processes[backend]
    pytest.fail(f'The {backend} process ended (exit status {proc.returncode}):\n'
                f'{log.read()[-6000:]}')

  yield ask
  for proc, log in processes.values():
    proc.stdin.close()
    proc.wait(timeout=60)
    log.close()


@pytest.mark.slow
@pytest.mark.parametrize('name', one_net_per_family())
@pytest.mark.parametrize('backend', [_backend_param(b) for b in BACKENDS if b != 'tensorflow'])
def test_slims_names_end_points_and_logits_on_another_backend(backend, name, backend_process,
                                                              tmp_path):
  # One net of each family on the other backend, at a small input, on a
  # synthetic checkpoint: its variables (names and shapes: slim shrinks, and
  # names after their size, the kernels of some heads at small inputs),
  # end_points and logits equal TensorFlow's in this process. TensorFlow, the
  # reference backend, is checked against slim's own logits at full size by
  # test_nets_fidelity.py.
  with open(os.path.join(DATA, f'{name}.json')) as f:
    spec = json.load(f)
  with np.load(os.path.join(DATA, f'{name}.seed0.npz')) as z:
    tol = synthetic.tolerance({k: z[k] for k in ('noise', 'noise_kernel') if k in z.files})
  size = training_size(name, is_training=False)
  fn = backend_outputs.build(name, spec['num_classes'], size)
  variables = checkpoints.slim_variable_names(fn)
  args = {'name': name, 'num_classes': spec['num_classes'], 'image_size': size,
          'checkpoint': synthetic.write_checkpoint(variables.items(),
                                                   str(tmp_path / 'model.ckpt'), name),
          'batch': 2, 'images_seed': 0}
  reply = backend_process(backend, {**args, 'out': str(tmp_path / 'out.npz')})
  assert reply == {'backend': backend}, reply.get('error', reply)
  with np.load(tmp_path / 'out.npz') as z:
    got = {k: z[k] for k in z.files}
  want = backend_outputs.outputs(fn, args['checkpoint'], args['batch'], args['images_seed'])
  assert json.loads(str(got.pop('variables'))) == want.pop('variables')
  for count in ('num_parameters', 'num_trainable_parameters'):
    assert int(got.pop(count)) == want.pop(count), count
  assert sorted(got) == sorted(want)
  for key, value in got.items():
    assert value.shape == want[key].shape, key
    scale = max(np.abs(want[key]).max(), 1e-6)
    assert np.abs(value - want[key]).max() <= tol * scale, key
  np.testing.assert_array_equal(got['logits'].argmax(-1), want['logits'].argmax(-1))


@pytest.mark.slow
@pytest.mark.parametrize('backend', [_backend_param(b) for b in BACKENDS])
def test_create_model_fine_tunes_the_release_on_every_backend(backend, server, tmp_path):
  # Inception V3's release as slim published it: a TF1 V1 `inception_v3.ckpt` in
  # inception_v3_2016_08_28.tar.gz, served from 127.0.0.1.
  # At Inception V3's smallest input: the weights, the heads left new and what is
  # compared do not depend on the size, the time does.
  name, classes = 'inception_v3', 5
  size = nets_factory.minimum_image_size(name, is_training=True)
  values, _, _ = release(server, name, v1=True, averages=False,
                         checkpoint_name='inception_v3.ckpt', seed=3)
  out = tmp_path / 'out.npz'
  proc = subprocess.run(
      [sys.executable, os.path.join(TESTS, 'backend_driver.py'), json.dumps(
          {'name': name, 'num_classes': classes, 'pretrained': True, 'aux_logits': True,
           'image_size': size, 'steps': 2, 'out': str(out)})],
      env=_env(backend), capture_output=True, text=True, timeout=1200)
  assert proc.returncode == 0, proc.stderr[-6000:]
  assert json.loads(proc.stdout.splitlines()[-1]) == {'backend': backend}
  assert ('InceptionV3/AuxLogits, InceptionV3/Logits left at their initial values (1001 '
          'classes in the checkpoint, 5 in the model)') in proc.stderr
  result = np.load(out)
  # The TensorFlow path (the commands' get_network_fn and restore), given the same
  # new heads, gives the same logits at initialisation.
  fn = nets_factory.get_network_fn(name, num_classes=classes, image_size=size,
                                   create_aux_logits=True)
  assert fn.image_size == size
  pretrained.load_pretrained(fn)
  weights = checkpoints.slim_variables(fn)
  heads = [k[len('head/'):] for k in result.files if k.startswith('head/')]
  assert heads and all(h.startswith(('InceptionV3/Logits/', 'InceptionV3/AuxLogits/'))
                       for h in heads)
  for head in heads:
    weights[head].assign(result[f'head/{head}'])
  np.testing.assert_array_equal(np.asarray(weights['InceptionV3/Conv2d_1a_3x3/weights']),
                                values['InceptionV3/Conv2d_1a_3x3/weights'])
  images = synthetic.synth_images(4, fn.image_size, 3, seed=0)
  want = np.asarray(fn(images)[0], np.float64)
  got = result['logits'].astype(np.float64)
  assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max()
  # fit trained (finite losses, the logits moved); the saved model reloads.
  assert np.all(np.isfinite(result['losses']))
  assert np.abs(result['after'] - result['logits']).max() > 1e-4
  np.testing.assert_allclose(result['reloaded'], result['after'], rtol=1e-5, atol=1e-5)


_WITHOUT_TENSORFLOW = r'''
import importlib.abc, sys
class _Refuse(importlib.abc.MetaPathFinder):
  def find_spec(self, name, path, target=None):
    if name.split('.')[0] == 'tensorflow':
      raise ImportError(f'No module named {name!r}')
sys.meta_path.insert(0, _Refuse())
sys.path[:0] = [sys.argv[1]]
import _bootstrap
_bootstrap.as_package()
import numpy as np, keras, slimvision
model = slimvision.create_model('mobilenet_v2_035', num_classes=3, image_size=64)
model.compile('sgd', loss=slimvision.ClassificationLoss(0.1))
model.fit(np.zeros((2, 64, 64, 3), 'float32'), np.array([0, 2]), verbose=0)
print(keras.backend.backend(), tuple(model.predict(np.zeros((1, 64, 64, 3), 'float32'),
                                                   verbose=0).shape), 'tensorflow' in sys.modules)
'''


@pytest.mark.slow
@pytest.mark.skipif(not _installed('jax'), reason='jax is not installed')
def test_the_models_build_and_train_without_tensorflow():
  # A JAX-only environment: only reading or writing checkpoints needs TensorFlow.
  proc = subprocess.run([sys.executable, '-c', _WITHOUT_TENSORFLOW, os.path.dirname(TESTS)],
                        env=_env('jax'), capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr[-4000:]
  assert proc.stdout.split() == ['jax', '(1,', '3)', 'False']
