"""VGG / ResNet v1 preprocessing (slim's vgg_preprocessing.py).

Train: aspect-preserving resize of the smaller side to a random size in
[256, 512], a random crop, a random flip, RGB mean subtraction.
Eval: resize the smaller side to 256, central crop, mean subtraction; matches
slim's outputs (TF1 bilinear sampling) to float precision.
"""

import tensorflow as tf

_R_MEAN = 123.68
_G_MEAN = 116.78
_B_MEAN = 103.94
_RESIZE_SIDE_MIN = 256
_RESIZE_SIDE_MAX = 512


def _smallest_size_at_least(height, width, smallest_side):
  """The size with the smaller side `smallest_side`, aspect ratio kept (slim's rounding)."""
  height = tf.cast(height, tf.float32)
  width = tf.cast(width, tf.float32)
  smallest_side = tf.cast(smallest_side, tf.float32)
  scale = tf.where(height > width, smallest_side / width, smallest_side / height)
  return (tf.cast(tf.math.rint(height * scale), tf.int32),
          tf.cast(tf.math.rint(width * scale), tf.int32))


def _aspect_preserving_resize(image, smallest_side):
  shape = tf.shape(image)
  new_height, new_width = _smallest_size_at_least(shape[0], shape[1], smallest_side)
  resized = tf.raw_ops.ResizeBilinear(images=tf.expand_dims(image, 0),
                                      size=tf.stack([new_height, new_width]),
                                      align_corners=False, half_pixel_centers=False)[0]
  resized.set_shape([None, None, image.shape[-1]])
  return resized


def _check_size(image, crop_height, crop_width):
  shape = tf.shape(image)
  return tf.debugging.assert_greater_equal(
      tf.stack([shape[0], shape[1]]), tf.constant([crop_height, crop_width]),
      message='Crop size greater than the image size.')


def _central_crop(image, crop_height, crop_width):
  with tf.control_dependencies([_check_size(image, crop_height, crop_width)]):
    shape = tf.shape(image)
  top = (shape[0] - crop_height) // 2
  left = (shape[1] - crop_width) // 2
  return tf.slice(image, tf.stack([top, left, 0]), tf.stack([crop_height, crop_width, -1]))


def _random_crop(image, crop_height, crop_width):
  with tf.control_dependencies([_check_size(image, crop_height, crop_width)]):
    shape = tf.shape(image)
  top = tf.random.uniform([], maxval=shape[0] - crop_height + 1, dtype=tf.int32)
  left = tf.random.uniform([], maxval=shape[1] - crop_width + 1, dtype=tf.int32)
  return tf.slice(image, tf.stack([top, left, 0]), tf.stack([crop_height, crop_width, -1]))


def _mean_image_subtraction(image, means=(_R_MEAN, _G_MEAN, _B_MEAN)):
  if image.shape.rank != 3:
    raise ValueError(f'Input must be of size [height, width, C>0]. Received: shape={image.shape}')
  channels = image.shape[-1]
  if channels != len(means):
    raise ValueError(f'len(means) must match the number of channels. '
                     f'Received: {len(means)} means for {channels} channels')
  return image - tf.constant(means, image.dtype)


def _subtract_means(image, use_grayscale):
  if use_grayscale:
    # slim subtracted 3 means from 1 channel (an error); subtract their luma instead.
    gray_mean = _R_MEAN * 0.2989 + _G_MEAN * 0.5870 + _B_MEAN * 0.1140
    return _mean_image_subtraction(tf.image.rgb_to_grayscale(image), (gray_mean,))
  return _mean_image_subtraction(image)


def preprocess_for_train(image, output_height, output_width,
                         resize_side_min=_RESIZE_SIDE_MIN, resize_side_max=_RESIZE_SIDE_MAX,
                         use_grayscale=False):
  """slim's VGG train preprocessing; returns float32 [output_height, output_width, 3]."""
  resize_side = tf.random.uniform([], minval=resize_side_min, maxval=resize_side_max + 1,
                                  dtype=tf.int32)
  image = _aspect_preserving_resize(image, resize_side)
  image = _random_crop(image, output_height, output_width)
  image.set_shape([output_height, output_width, 3])
  image = tf.cast(image, tf.float32)
  image = tf.image.random_flip_left_right(image)
  return _subtract_means(image, use_grayscale)


def preprocess_for_eval(image, output_height, output_width, resize_side=_RESIZE_SIDE_MIN,
                        use_grayscale=False):
  """slim's VGG eval preprocessing; returns float32 [output_height, output_width, 3]."""
  image = _aspect_preserving_resize(image, resize_side)
  image = _central_crop(image, output_height, output_width)
  image.set_shape([output_height, output_width, 3])
  image = tf.cast(image, tf.float32)
  return _subtract_means(image, use_grayscale)


def preprocess_image(image, output_height, output_width, is_training=False,
                     resize_side_min=_RESIZE_SIDE_MIN, resize_side_max=_RESIZE_SIDE_MAX,
                     use_grayscale=False):
  """slim's `vgg_preprocessing.preprocess_image` (uint8 [H, W, 3] -> float32)."""
  if is_training:
    return preprocess_for_train(image, output_height, output_width, resize_side_min,
                                resize_side_max, use_grayscale)
  return preprocess_for_eval(image, output_height, output_width, resize_side_min,
                             use_grayscale)
