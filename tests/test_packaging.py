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


@pytest.fixture(scope='module')
def dependencies(tmp_path_factory):
  """A folder of links to this interpreter's installed packages, slimvision left out.

  A virtual environment made for a test sees the dependencies (TensorFlow, ...)
  through a .pth file naming this folder, whether the tests run in a virtual
  environment or not, but not a slimvision installed here.
  """
  import site  # pylint: disable=g-import-not-at-top
  farm = tmp_path_factory.mktemp('dependencies')
  for directory in site.getsitepackages() + [site.getusersitepackages()]:
    if not os.path.isdir(directory):
      continue
    for entry in os.listdir(directory):
      if (entry.lower().startswith(('slimvision', '__editable__'))
          or entry.endswith(('.pth', '.egg-link')) or (farm / entry).exists()):
        continue
      (farm / entry).symlink_to(os.path.join(directory, entry))
  return farm


def _venv(path, dependencies):
  """A fresh virtual environment that sees `dependencies`; returns its bin folder."""
  subprocess.run([sys.executable, '-m', 'venv', str(path)], check=True, timeout=300)
  python = path / 'bin' / 'python'
  site_dir = subprocess.run(
      [str(python), '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
      capture_output=True, text=True, check=True).stdout.strip()
  with open(os.path.join(site_dir, 'dependencies.pth'), 'w') as f:
    f.write(str(dependencies) + '\n')
  return path / 'bin', site_dir


_ENV = {**os.environ, 'PIP_DISABLE_PIP_VERSION_CHECK': '1', 'TF_CPP_MIN_LOG_LEVEL': '3'}


@pytest.mark.slow
def test_installed_package_imports_outside_the_checkout(wheel, dependencies, tmp_path):
  bin_dir, site = _venv(tmp_path / 'venv', dependencies)
  python = str(bin_dir / 'python')
  subprocess.run([python, '-m', 'pip', 'install', '-q', '--no-deps', str(wheel)], check=True,
                 timeout=300, env=_ENV)
  code = ('import slimvision.nets\n'
          'from slimvision.nets import nets_factory\n'
          "assert 'inception_resnet_v2' in nets_factory.list_networks()\n"
          'print(slimvision.nets.__file__)\n')
  out = subprocess.run([python, '-c', code], cwd=str(tmp_path), capture_output=True, text=True,
                       timeout=300, env=_ENV)
  assert out.returncode == 0, out.stderr[-3000:]
  assert str(tmp_path / 'venv') in out.stdout
  installed = set(os.listdir(site))
  assert 'slimvision' in installed
  assert not {'nets', 'datasets', 'preprocessing', 'core', 'setup.py', 'tests'} & installed
  for script in ('slimvision-train', 'slimvision-eval', 'slimvision-export',
                 'slimvision-convert', 'slimvision-classify'):
    assert (bin_dir / script).exists()


@pytest.mark.slow
def test_editable_install_imports_the_checkout_and_runs_the_commands(dependencies, tmp_path):
  # How contributors install: `pip install -e .` (PEP 660, through pyproject.toml).
  bin_dir, _ = _venv(tmp_path / 'venv', dependencies)
  python = str(bin_dir / 'python')
  done = subprocess.run([python, '-m', 'pip', 'install', '-q', '--no-deps', '-e', ROOT],
                        capture_output=True, text=True, timeout=600, env=_ENV)
  assert done.returncode == 0, done.stderr[-3000:]
  out = subprocess.run([python, '-c', 'import slimvision.nets; print(slimvision.nets.__file__)'],
                       cwd=str(tmp_path), capture_output=True, text=True, timeout=300, env=_ENV)
  assert out.returncode == 0, out.stderr[-3000:]
  assert out.stdout.strip() == os.path.join(ROOT, 'nets', '__init__.py')
  for command in ([str(bin_dir / 'slimvision-train'), '--helpshort'],
                  [python, '-m', 'slimvision.classify_image', '--helpshort'],
                  [python, '-m', 'slimvision.datasets.build_imagenet_data', '--helpshort']):
    out = subprocess.run(command, cwd=str(tmp_path), capture_output=True, text=True,
                         timeout=300, env=_ENV)
    listed = out.stdout + out.stderr
    assert 'Traceback' not in listed, (command, listed[-3000:])
    assert '--model_name' in listed or '--train_directory' in listed, (command, listed[-3000:])
