"""Inception preprocessing (slim's inception_preprocessing.py) on TensorFlow 2.

Train: a random crop from `tf.image.sample_distorted_bounding_box` that
covers at least 10% of a given box (aspect ratio 0.75..1.33, area 5%..100% of
the image), a resize to the output size with a random method (bilinear only in
fast mode), a random left-right flip, colour distortion (brightness and
saturation in a random order in fast mode; also hue and contrast otherwise),
then scaling to [-1, 1].

Eval: central crop of 87.5% of the image, bilinear resize with slim's
(TF1, `half_pixel_centers=False`) sampling, scaling to [-1, 1]; this matches
slim's outputs to float precision.

`preprocess_for_train_from_jpeg` is the fast train path on encoded JPEG bytes:
it samples the crop window from the JPEG header's shape and decodes only that
window with `tf.image.decode_and_crop_jpeg`.

In fast mode the photometric steps after the resize (flip, brightness,
saturation, clipping, scaling to [-1, 1]) are one XLA-compiled function
(`fast_photometric`): a single pass over the pixels instead of one per op,
with the saturation change in closed form (equal to TensorFlow's HSV kernel
to float rounding). The random draws and their distributions are slim's.
"""

from typing import Callable, Optional

import tensorflow as tf

from ..datasets import reading

_MIN_OBJECT_COVERED = 0.1
_ASPECT_RATIO_RANGE = (0.75, 1.33)
_AREA_RANGE = (0.05, 1.0)
_MAX_ATTEMPTS = 100
_CENTRAL_FRACTION = 0.875


def apply_with_random_selector(x: tf.Tensor, func: Callable[[tf.Tensor, int], tf.Tensor],
                               num_cases: int) -> tf.Tensor:
  """`func(x, case)` for a case drawn uniformly from [0, num_cases)."""
  if num_cases == 1:
    return func(x, 0)
  sel = tf.random.uniform([], maxval=num_cases, dtype=tf.int32)
  return tf.switch_case(sel, [lambda case=case: func(x, case) for case in range(num_cases)])


def distort_color(image: tf.Tensor, color_ordering: int = 0, fast_mode: bool = True,
                  scope: Optional[str] = None) -> tf.Tensor:
  """slim's colour distortion of a float image in [0, 1]; output clipped to [0, 1].

  Args:
    image: float32 [H, W, 3] in [0, 1].
    color_ordering: 0..1 in fast mode, 0..3 otherwise: the order of the ops.
    fast_mode: only brightness and saturation (no hue, contrast).
    scope: unused, kept for slim's signature.

  Raises:
    ValueError: for an out-of-range color_ordering.
  """
  del scope
  brightness = lambda x: tf.image.random_brightness(x, max_delta=32. / 255.)
  saturation = lambda x: tf.image.random_saturation(x, lower=0.5, upper=1.5)
  hue = lambda x: tf.image.random_hue(x, max_delta=0.2)
  contrast = lambda x: tf.image.random_contrast(x, lower=0.5, upper=1.5)
  if fast_mode:
    orders = {0: (brightness, saturation), 1: (saturation, brightness)}
  else:
    orders = {0: (brightness, saturation, hue, contrast),
              1: (saturation, brightness, contrast, hue),
              2: (contrast, hue, brightness, saturation),
              3: (hue, saturation, contrast, brightness)}
  if color_ordering not in orders:
    raise ValueError(f'color_ordering must be in {sorted(orders)} with fast_mode={fast_mode}. '
                     f'Received: color_ordering={color_ordering}')
  for op in orders[color_ordering]:
    image = op(image)
  return tf.clip_by_value(image, 0.0, 1.0)


def _default_bbox(bbox):
  if bbox is None:
    return tf.constant([0.0, 0.0, 1.0, 1.0], tf.float32, shape=[1, 1, 4])
  bbox = tf.convert_to_tensor(bbox, tf.float32)
  return tf.reshape(bbox, [1, -1, 4])


def sample_crop_window(image_shape: tf.Tensor, bbox=None,
                       min_object_covered: float = _MIN_OBJECT_COVERED,
                       aspect_ratio_range=_ASPECT_RATIO_RANGE, area_range=_AREA_RANGE,
                       max_attempts: int = _MAX_ATTEMPTS):
  """slim's distorted crop window: (begin [3], size [3]) for `tf.slice`.

  Args:
    image_shape: int32 [3] (height, width, channels).
    bbox: None (the whole image) or boxes [N, 4] / [1, N, 4] in ymin, xmin,
      ymax, xmax fractions. An empty [N=0] box list also means the whole image.
  """
  # An empty box list means the whole image (use_image_if_no_bounding_boxes).
  bbox = _default_bbox(bbox)
  begin, size, _ = tf.image.sample_distorted_bounding_box(
      image_shape, bounding_boxes=bbox, min_object_covered=min_object_covered,
      aspect_ratio_range=aspect_ratio_range, area_range=area_range,
      max_attempts=max_attempts, use_image_if_no_bounding_boxes=True)
  return begin, size


def distorted_bounding_box_crop(image: tf.Tensor, bbox=None,
                                min_object_covered: float = _MIN_OBJECT_COVERED,
                                aspect_ratio_range=_ASPECT_RATIO_RANGE,
                                area_range=_AREA_RANGE, max_attempts: int = _MAX_ATTEMPTS,
                                scope: Optional[str] = None):
  """A random crop of `image` (decoded) as slim's; returns (crop, begin, size)."""
  del scope
  begin, size = sample_crop_window(tf.shape(image), bbox, min_object_covered,
                                   aspect_ratio_range, area_range, max_attempts)
  return tf.slice(image, begin, size), begin, size


def adjust_saturation(image: tf.Tensor, factor) -> tf.Tensor:
  """`tf.image.adjust_saturation` of a float RGB image, in closed form.

  Scaling the HSV saturation S by `factor` (clipped to [0, 1]) keeps the hue
  and the value V = max(r, g, b), and moves every channel along the line to V:
  c' = V - (V - c) * min(factor, 1 / S), with 1 / S = V / (V - min(r, g, b)).
  Pixels with V <= 0 (S = 0 in TensorFlow's kernel) become (V, V, V). Equal to
  TensorFlow's kernel to float rounding, for inputs outside [0, 1] too; made of
  element-wise ops, so XLA fuses it with its neighbours.

  Args:
    image: float [..., 3] RGB.
    factor: scalar, or broadcastable to image.shape[:-1] + (1,).
  """
  r, g, b = image[..., 0:1], image[..., 1:2], image[..., 2:3]
  v = tf.maximum(tf.maximum(r, g), b)
  m = tf.minimum(tf.minimum(r, g), b)
  ratio = tf.where(v > 0, tf.minimum(tf.cast(factor, image.dtype),
                                     tf.math.divide_no_nan(v, v - m)), 0.0)
  return v - (v - image) * ratio


def _photometric(image, flip, brightness_delta, saturation_factor, input_scale, grayscale):
  x = image * input_scale
  x = tf.where(flip, tf.reverse(x, [-2]), x)
  x = adjust_saturation(x + brightness_delta, saturation_factor)
  x = tf.clip_by_value(x, 0.0, 1.0)
  if grayscale:
    x = tf.image.rgb_to_grayscale(x)
  return (x - 0.5) * 2.0


@tf.function(jit_compile=True)
def fast_photometric(image: tf.Tensor, flip, brightness_delta, saturation_factor,
                     input_scale: float = 1.0, grayscale: bool = False) -> tf.Tensor:
  """The fast-mode steps after the resize, fused by XLA into one pass.

  `image * input_scale` (a [0, 1] image), left-right flipped if `flip`, plus
  `brightness_delta`, saturation times `saturation_factor` (slim's fast
  colour ordering 0), clipped to [0, 1], optionally grey, scaled to [-1, 1].

  Args:
    image: float32 [H, W, 3].
    flip: scalar bool.
    brightness_delta: scalar, added to every channel.
    saturation_factor: scalar.
    input_scale: 1 / 255 for an image resized from uint8 pixels.
    grayscale: one output channel.
  """
  return _photometric(image, flip, brightness_delta, saturation_factor, input_scale, grayscale)


@tf.function(jit_compile=True)
def _random_fast_photometric(image, uniforms, input_scale, grayscale):
  """`fast_photometric` with slim's draws made from three uniforms in [0, 1).

  Flip with p = 0.5, brightness delta in [-32/255, 32/255], saturation factor
  in [0.5, 1.5] (slim's `random_flip_left_right`, `random_brightness`,
  `random_saturation`).
  """
  return _photometric(image, uniforms[0] < 0.5, (uniforms[1] * 2.0 - 1.0) * (32. / 255.),
                      0.5 + uniforms[2], input_scale, grayscale)


def _finish_train(cropped: tf.Tensor, height: int, width: int, fast_mode: bool,
                  use_grayscale: bool) -> tf.Tensor:
  """Resize (random method), flip, colour-distort and scale a crop (uint8 or float [0, 1])."""
  cropped.set_shape([None, None, 3])
  if fast_mode:
    # Bilinear resizing is linear, so the uint8 crop is resized as it is and
    # its 1 / 255 folded into the fused photometric step.
    input_scale = 1.0
    if cropped.dtype == tf.uint8:
      input_scale = 1.0 / 255.0
    elif cropped.dtype != tf.float32:
      cropped = tf.image.convert_image_dtype(cropped, tf.float32)
    image = tf.image.resize(cropped, [height, width], method='bilinear')
    # Input work stays on the host (as slim placed it), so XLA compiles this
    # step for the CPU whatever accelerators the machine has.
    with tf.device('/cpu:0'):
      image = _random_fast_photometric(image, tf.random.uniform([3]), input_scale,
                                       use_grayscale)
    image.set_shape([height, width, 1 if use_grayscale else 3])
    return image
  if cropped.dtype != tf.float32:
    cropped = tf.image.convert_image_dtype(cropped, tf.float32)
  methods = ('bilinear', 'nearest', 'bicubic', 'area')
  image = apply_with_random_selector(
      cropped, lambda x, m: tf.image.resize(x, [height, width], method=methods[m]), 4)
  image = tf.image.random_flip_left_right(image)
  image = apply_with_random_selector(
      image, lambda x, ordering: distort_color(x, ordering, fast_mode=False), 4)
  if use_grayscale:
    image = tf.image.rgb_to_grayscale(image)
  image = (image - 0.5) * 2.0
  image.set_shape([height, width, 1 if use_grayscale else 3])
  return image


def preprocess_for_train(image: tf.Tensor, height: int, width: int, bbox=None,
                         fast_mode: bool = True, scope: Optional[str] = None,
                         add_image_summaries: bool = False, random_crop: bool = True,
                         use_grayscale: bool = False) -> tf.Tensor:
  """slim's train preprocessing of a decoded image.

  Args:
    image: [H, W, 3] uint8 (or float in [0, 1]).
    height, width: output size.
    bbox: boxes [N, 4] or [1, N, 4] (ymin, xmin, ymax, xmax fractions) the crop
      should cover at least 10% of; None or empty: the whole image.
    fast_mode: bilinear resize only and two colour orderings.
    scope: unused (slim's name scope).
    add_image_summaries: unused (slim wrote TF1 image summaries).
    random_crop: False skips the distorted crop (as slim's flag).
    use_grayscale: convert to one channel at the end.

  Returns:
    float32 [height, width, 3] in [-1, 1].
  """
  del scope, add_image_summaries
  if image.dtype not in (tf.float32, tf.uint8):
    image = tf.image.convert_image_dtype(image, tf.float32)
  if random_crop:
    image, _, _ = distorted_bounding_box_crop(image, bbox)
  return _finish_train(image, height, width, fast_mode, use_grayscale)


def preprocess_for_train_from_jpeg(encoded: tf.Tensor, height: int, width: int, bbox=None,
                                   fast_mode: bool = True, use_grayscale: bool = False
                                   ) -> tf.Tensor:
  """The train path on encoded bytes, decoding only the crop window of a JPEG.

  The crop window is sampled from the shape in the JPEG header, then
  `tf.image.decode_and_crop_jpeg` decodes just that window (the rest of the
  image is never turned into pixels). Bytes that are not a JPEG (PNG, ...)
  are decoded whole and cropped the same way.

  Args:
    encoded: scalar string, the encoded image.
    height, width, bbox, fast_mode, use_grayscale: as `preprocess_for_train`.

  Returns:
    float32 [height, width, 3] in [-1, 1].
  """
  def from_jpeg():
    shape = tf.image.extract_jpeg_shape(encoded)
    shape = tf.stack([shape[0], shape[1], 3])
    begin, size = sample_crop_window(shape, bbox)
    window = tf.stack([begin[0], begin[1], size[0], size[1]])
    return tf.image.decode_and_crop_jpeg(encoded, window, channels=3)

  def from_other():
    image = reading.decode_image(encoded, channels=3)
    cropped, _, _ = distorted_bounding_box_crop(image, bbox)
    return cropped

  cropped = tf.cond(tf.io.is_jpeg(encoded), from_jpeg, from_other)
  return _finish_train(cropped, height, width, fast_mode, use_grayscale)


def resize_bilinear_v1(image: tf.Tensor, height, width) -> tf.Tensor:
  """TF1 `resize_bilinear(align_corners=False)` of one [H, W, C] image (slim's sampling)."""
  resized = tf.raw_ops.ResizeBilinear(images=tf.expand_dims(image, 0), size=[height, width],
                                      align_corners=False, half_pixel_centers=False)
  return resized[0]


def preprocess_for_eval(image: tf.Tensor, height: Optional[int], width: Optional[int],
                        central_fraction: Optional[float] = _CENTRAL_FRACTION,
                        scope: Optional[str] = None, central_crop: bool = True,
                        use_grayscale: bool = False) -> tf.Tensor:
  """slim's eval preprocessing: central crop, bilinear resize, scale to [-1, 1].

  Args:
    image: [H, W, C] uint8 (or float in [0, 1]).
    height, width: output size; None keeps the cropped size.
    central_fraction: fraction of each side kept by the central crop.
    scope: unused.
    central_crop: False skips the crop (slim's `crop_image=False`).
    use_grayscale: convert to one channel.

  Returns:
    float32 [height, width, C] in [-1, 1].
  """
  del scope
  if image.dtype != tf.float32:
    image = tf.image.convert_image_dtype(image, tf.float32)
  if use_grayscale:
    image = tf.image.rgb_to_grayscale(image)
  if central_crop and central_fraction:
    image = tf.image.central_crop(image, central_fraction=central_fraction)
  if height and width:
    image = resize_bilinear_v1(image, height, width)
    image.set_shape([height, width, None])
  return (image - 0.5) * 2.0


def preprocess_image(image: tf.Tensor, height: int, width: int, is_training: bool = False,
                     bbox=None, fast_mode: bool = True, add_image_summaries: bool = False,
                     crop_image: bool = True, use_grayscale: bool = False) -> tf.Tensor:
  """slim's `inception_preprocessing.preprocess_image`.

  Args:
    image: uint8 [H, W, 3] (or float in [0, 1]).
    height, width: output size.
    is_training: train path (random crop, flip, colour) or eval path.
    bbox: train only; boxes the random crop honours (ymin, xmin, ymax, xmax).
    fast_mode: train only; see `preprocess_for_train`.
    add_image_summaries: unused.
    crop_image: train: random crop; eval: central crop.
    use_grayscale: one output channel.

  Returns:
    float32 [height, width, C] in [-1, 1].
  """
  if is_training:
    return preprocess_for_train(image, height, width, bbox, fast_mode,
                                add_image_summaries=add_image_summaries,
                                random_crop=crop_image, use_grayscale=use_grayscale)
  return preprocess_for_eval(image, height, width, central_crop=crop_image,
                             use_grayscale=use_grayscale)
