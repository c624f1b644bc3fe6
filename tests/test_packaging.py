"""`pip install .` gives the `slimvision` package and nothing else at the top level."""

import os
import subprocess
import sys
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
  out = tmp_path_factory.mktemp('wheel')
  build = tmp_path_factory.mktemp('build')
  subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation',
                  '-q', '-w', str(out), ROOT], check=True, cwd=str(build), timeout=300,
                 env={**os.environ, 'PIP_DISABLE_PIP_VERSION_CHECK': '1'})
  (path,) = [p for p in out.iterdir() if p.suffix == '.whl']
  return path


def test_wheel_holds_only_the_slimvision_package(wheel):
  names = zipfile.ZipFile(wheel).namelist()
  top = {n.split('/')[0] for n in names if not n.split('/')[0].endswith(('.dist-info',
                                                                           '.data'))}
  assert top == {'slimvision'}
  for expected in ('slimvision/__init__.py', 'slimvision/nets/nets_factory.py',
                   'slimvision/nets/inception_resnet_v2.py', 'slimvision/core/__init__.py',
                   'slimvision/train_image_classifier.py',
                   'slimvision/datasets/data/imagenet_lsvrc_2015_synsets.txt'):
    assert expected in names
  assert not any(n.endswith(('/setup.py', '/conftest.py')) or '/tests/' in n for n in names)


@pytest.mark.slow
def test_installed_package_imports_outside_the_checkout(wheel, tmp_path):
  venv = tmp_path / 'venv'
  subprocess.run([sys.executable, '-m', 'venv', '--system-site-packages', str(venv)],
                 check=True, timeout=300)
  python = str(venv / 'bin' / 'python')
  # --ignore-installed: the venv sees the system site-packages, where slimvision may be too.
  subprocess.run([python, '-m', 'pip', 'install', '-q', '--no-deps', '--ignore-installed',
                  str(wheel)], check=True, timeout=300,
                 env={**os.environ, 'PIP_DISABLE_PIP_VERSION_CHECK': '1'})
  code = ('import slimvision.nets\n'
          'from slimvision.nets import nets_factory\n'
          "assert 'inception_resnet_v2' in nets_factory.list_networks()\n"
          'print(slimvision.nets.__file__)\n')
  out = subprocess.run([python, '-c', code], cwd=str(tmp_path), capture_output=True, text=True,
                       timeout=300, env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '3'})
  assert out.returncode == 0, out.stderr[-3000:]
  assert str(venv) in out.stdout
  site = subprocess.run([python, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
                        capture_output=True, text=True, check=True).stdout.strip()
  installed = set(os.listdir(site))
  assert 'slimvision' in installed
  assert not {'nets', 'datasets', 'preprocessing', 'core', 'setup.py', 'tests'} & installed
  for script in ('slimvision-train', 'slimvision-eval', 'slimvision-export',
                 'slimvision-convert'):
    assert (venv / 'bin' / script).exists()
