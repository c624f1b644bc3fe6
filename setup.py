"""Installs the checkout root as the `slimvision` package."""

import os

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
SUBPACKAGES = ('nets', 'datasets', 'preprocessing', 'core')
# Files in the root that are not part of the package.
NOT_MODULES = ('setup', 'conftest')


class BuildPy(build_py):
  """Leaves setup.py out of the installed `slimvision` package."""

  def find_package_modules(self, package, package_dir):
    modules = super().find_package_modules(package, package_dir)
    if package == 'slimvision':
      modules = [m for m in modules if m[1] not in NOT_MODULES]
    return modules


def _version():
  with open(os.path.join(HERE, '__init__.py')) as f:
    for line in f:
      if line.startswith('__version__'):
        return line.split('=')[1].strip().strip("'\"")
  raise RuntimeError('__version__ not found')


def _readme():
  with open(os.path.join(HERE, 'README.md'), encoding='utf-8') as f:
    return f.read()


setup(
    name='slimvision',
    version=_version(),
    description="TF-Slim's image classification model library on TensorFlow 2 / Keras 3",
    long_description=_readme(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.9',
    package_dir={'slimvision': '.',
                 **{f'slimvision.{p}': p for p in SUBPACKAGES}},
    packages=['slimvision'] + [f'slimvision.{p}' for p in SUBPACKAGES],
    package_data={'slimvision.datasets': ['data/*']},
    cmdclass={'build_py': BuildPy},
    install_requires=['tensorflow>=2.16', 'numpy', 'absl-py', 'filelock>=3.12'],
    extras_require={
        # The other Keras backends: `KERAS_BACKEND=jax` / `torch` before importing keras.
        'jax': ['jax[cpu]'],
        'torch': ['torch'],
        'test': ['pytest', 'pytest-xdist', 'pytest-timeout', 'tf-slim', 'tf-keras', 'scikit-learn', 'pillow',
                 'jax[cpu]'],
    },
    entry_points={'console_scripts': [
        'slimvision-train=slimvision.train_image_classifier:run',
        'slimvision-eval=slimvision.eval_image_classifier:run',
        'slimvision-export=slimvision.export_inference_graph:run',
        'slimvision-convert=slimvision.download_and_convert_data:run',
        'slimvision-classify=slimvision.classify_image:run',
    ]},
)
