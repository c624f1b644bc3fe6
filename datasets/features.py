"""tf.train.Example features: the keys and types slim's converters wrote.

Files written with `image_to_tfexample` and by slim's converters are
interchangeable.
"""

from typing import Union

import tensorflow as tf


def int64_feature(values) -> tf.train.Feature:
  """An int64 feature from an int or a list of ints."""
  if not isinstance(values, (tuple, list)):
    values = [values]
  return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in values]))


def float_feature(values) -> tf.train.Feature:
  """A float feature from a float or a list of floats."""
  if not isinstance(values, (tuple, list)):
    values = [values]
  return tf.train.Feature(float_list=tf.train.FloatList(value=[float(v) for v in values]))


def bytes_feature(values) -> tf.train.Feature:
  """A bytes feature from bytes / str or a list of them (str is utf-8 encoded)."""
  if not isinstance(values, (tuple, list)):
    values = [values]
  values = [v.encode('utf-8') if isinstance(v, str) else bytes(v) for v in values]
  return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))


def image_to_tfexample(image_data: bytes, image_format: Union[bytes, str], height: int,
                       width: int, class_id: int) -> tf.train.Example:
  """The Example slim's flowers / cifar10 / mnist converters write."""
  return tf.train.Example(features=tf.train.Features(feature={
      'image/encoded': bytes_feature(image_data),
      'image/format': bytes_feature(image_format),
      'image/class/label': int64_feature(class_id),
      'image/height': int64_feature(height),
      'image/width': int64_feature(width),
  }))



__all__ = ['int64_feature', 'float_feature', 'bytes_feature', 'image_to_tfexample']
