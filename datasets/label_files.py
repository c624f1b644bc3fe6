"""A dataset directory's labels.txt: slim's `<label>:<class name>` lines."""

import os
from typing import Dict, Mapping

import tensorflow as tf

LABELS_FILENAME = 'labels.txt'


def write_label_file(labels_to_class_names: Mapping[int, str], dataset_dir: str,
                     filename: str = LABELS_FILENAME) -> None:
  """Writes `<label>:<class name>` lines, sorted by label, as slim did."""
  with tf.io.gfile.GFile(os.path.join(dataset_dir, filename), 'w') as f:
    for label in sorted(labels_to_class_names):
      f.write(f'{label}:{labels_to_class_names[label]}\n')


def has_labels(dataset_dir: str, filename: str = LABELS_FILENAME) -> bool:
  return tf.io.gfile.exists(os.path.join(dataset_dir, filename))


def read_label_file(dataset_dir: str, filename: str = LABELS_FILENAME) -> Dict[int, str]:
  """Reads a labels file written by `write_label_file` into {label: name}."""
  path = os.path.join(dataset_dir, filename)
  with tf.io.gfile.GFile(path, 'r') as f:
    lines = [line for line in f.read().split('\n') if line]
  labels_to_names = {}
  for number, line in enumerate(lines, 1):
    label, sep, name = line.partition(':')
    if not sep or not label.strip().isdigit():
      raise ValueError(f"{path}:{number}: expected '<integer label>:<class name>'. "
                       f'Received: {line!r}')
    labels_to_names[int(label)] = name
  return labels_to_names


__all__ = ['LABELS_FILENAME', 'write_label_file', 'has_labels', 'read_label_file']
