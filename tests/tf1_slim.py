"""Imports `tf_slim` (test-only reference) so it runs on TensorFlow 2.16+.

TensorFlow's TF1 layer shims lazily import `tf_keras.legacy_tf_layers.*`,
which current tf-keras releases ship as `tf_keras.src.legacy_tf_layers.*`;
alias them before tf_slim builds a batch-norm layer.
"""

import importlib
import sys

import pytest


def import_tf_slim():
  tf_slim = pytest.importorskip('tf_slim')
  pytest.importorskip('tf_keras')
  legacy = importlib.import_module('tf_keras.src.legacy_tf_layers')
  sys.modules.setdefault('tf_keras.legacy_tf_layers', legacy)
  for module in ('base', 'convolutional', 'core', 'normalization', 'pooling'):
    sys.modules.setdefault(f'tf_keras.legacy_tf_layers.{module}',
                           importlib.import_module(f'tf_keras.src.legacy_tf_layers.{module}'))
  return tf_slim
