"""Paths and helpers shared by the data tests."""

import hashlib
import json
import os

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'datasets')
RAW = os.path.join(DATA, 'raw_inputs')


def dataset_dir(name: str) -> str:
  return os.path.join(DATA, f'{name}_mini')


def expected(name: str) -> dict:
  with open(os.path.join(dataset_dir(name), 'expected.json')) as f:
    return json.load(f)


def sha256(array) -> str:
  return hashlib.sha256(array.tobytes()).hexdigest()
