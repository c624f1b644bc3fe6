"""CifarNet preprocessing (slim's cifarnet_preprocessing.py).

Train: pad by 4, random crop, random flip, random brightness (63) and contrast
(0.2..1.8), per-image standardisation. Eval: crop or pad to the output size,
per-image standardisation.
"""

import tensorflow as tf

from . import lenet_preprocessing

_PADDING = 4


def preprocess_for_train(image, output_height, output_width, padding=_PADDING,
                         add_image_summaries=False, use_grayscale=False):
  """slim's CifarNet train preprocessing; returns float32 [H, W, C]."""
  del add_image_summaries
  image = tf.cast(image, tf.float32)
  if use_grayscale:
    image = tf.image.rgb_to_grayscale(image)
  if padding > 0:
    image = tf.pad(image, [[padding, padding], [padding, padding], [0, 0]])
  channels = image.shape[-1] if image.shape[-1] is not None else 3
  image = tf.image.random_crop(image, [output_height, output_width, channels])
  image = tf.image.random_flip_left_right(image)
  image = tf.image.random_brightness(image, max_delta=63)
  image = tf.image.random_contrast(image, lower=0.2, upper=1.8)
  return tf.image.per_image_standardization(image)


def preprocess_for_eval(image, output_height, output_width, add_image_summaries=False,
                        use_grayscale=False):
  """slim's CifarNet eval preprocessing; returns float32 [H, W, C]."""
  del add_image_summaries
  image = lenet_preprocessing.cropped_or_padded(image, output_height, output_width,
                                                use_grayscale)
  return tf.image.per_image_standardization(image)


def preprocess_image(image, output_height, output_width, is_training=False,
                     add_image_summaries=False, use_grayscale=False):
  """slim's `cifarnet_preprocessing.preprocess_image`."""
  if is_training:
    return preprocess_for_train(image, output_height, output_width,
                                add_image_summaries=add_image_summaries,
                                use_grayscale=use_grayscale)
  return preprocess_for_eval(image, output_height, output_width,
                             add_image_summaries=add_image_summaries,
                             use_grayscale=use_grayscale)
