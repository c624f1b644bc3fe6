"""Lets the scripts and tests in a source checkout import it as `slimvision`.

The repository root is the `slimvision` package (setup.py maps it with
`package_dir`). When a root script runs as `python train_image_classifier.py`
from a checkout that is not installed, this module registers the checkout as
the `slimvision` package so that `slimvision.core` and friends resolve to the
checkout's own files, whatever the checkout directory is called.
"""

import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))


def as_package(name: str = 'slimvision') -> None:
  """Registers the checkout root as package `name` (no-op if it already is)."""
  module = sys.modules.get(name)
  if module is not None and os.path.dirname(
      os.path.abspath(getattr(module, '__file__', '') or '')) == ROOT:
    return
  spec = importlib.util.spec_from_file_location(
      name, os.path.join(ROOT, '__init__.py'),
      submodule_search_locations=[ROOT])
  module = importlib.util.module_from_spec(spec)
  sys.modules[name] = module
  spec.loader.exec_module(module)
