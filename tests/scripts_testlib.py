"""The flags each command-line script defines, as its --help lists them."""

import functools
import json
import subprocess
import sys

from checkout import ROOT

_DUMP = """
import importlib, json, sys
sys.path.insert(0, {root!r}); import _bootstrap; _bootstrap.as_package()
from absl import flags
module = importlib.import_module('slimvision.{script}')
print(json.dumps({{f.name: [f.default, f.help, getattr(f.parser, 'enum_values', None)]
                  for f in flags.FLAGS.get_flags_for_module(module.__name__)}}))
print('tensorflow' in sys.modules)
"""


@functools.lru_cache(maxsize=None)
def script_flags(script: str):
  """({flag: [default, help, enum values or None]}, whether importing the script
  imported TensorFlow) for `script` ('train_image_classifier', ...), read from a
  fresh process that imports it (each script defines its flags on import)."""
  out = subprocess.run([sys.executable, '-c', _DUMP.format(root=ROOT, script=script)],
                       capture_output=True, text=True, check=True).stdout.splitlines()
  return json.loads(out[0]), out[1] == 'True'
