"""LeNet preprocessing (slim's lenet_preprocessing.py): crop or pad, then (x - 128) / 128.

The same for training and evaluation.
"""

import tensorflow as tf


def cropped_or_padded(image, output_height, output_width, use_grayscale=False):
  """float32 `image` (grey with `use_grayscale`) centrally cropped or zero-padded to
  the output size, as slim's LeNet and CifarNet evaluation do; [H, W, C]."""
  image = tf.cast(image, tf.float32)
  if use_grayscale:
    image = tf.image.rgb_to_grayscale(image)
  # slim passes (width, height) to crop_or_pad; its nets are square.
  return tf.image.resize_with_crop_or_pad(image, output_width, output_height)


def preprocess_image(image, output_height, output_width, is_training=False,
                     use_grayscale=False):
  """slim's `lenet_preprocessing.preprocess_image`; returns float32 [H, W, C]."""
  del is_training
  image = cropped_or_padded(image, output_height, output_width, use_grayscale)
  return (image - 128.0) / 128.0
