"""slim's preprocessing_factory: a net (or preprocessing) name -> its preprocessing function.

    fn = preprocessing_factory.get_preprocessing('inception_v3', is_training=False)
    image = fn(image_uint8, 299, 299)            # float32 [299, 299, 3] in [-1, 1]

A preprocessing is named by its family ('inception', 'vgg', 'cifarnet',
'lenet') or by a registered network, whose `NetworkSpec.preprocessing` (the
preprocessing its released checkpoint was trained with) is the one place that
maps nets to preprocessing.

Channels: the returned function takes 1- or 3-channel images and returns
`output_channels` of them. A grey image given to a 3-channel net is replicated
to RGB first (the inception and vgg paths need colour: hue / saturation
distortion, per-channel means); a colour image given to a 1-channel net (LeNet,
or slim's --use_grayscale) is converted at the end, as slim did.
"""

import difflib
from typing import Callable, List, Optional

from absl import logging
import tensorflow as tf

from . import cifarnet_preprocessing
from . import inception_preprocessing
from . import lenet_preprocessing
from . import vgg_preprocessing

PREPROCESSING_MODULES = {
    'cifarnet': cifarnet_preprocessing,
    'inception': inception_preprocessing,
    'lenet': lenet_preprocessing,
    'vgg': vgg_preprocessing,
}
# Families whose operations need three channels (colour distortion, RGB means).
_NEEDS_RGB = frozenset({'inception', 'vgg'})


def list_preprocessing_names() -> List[str]:
  """The preprocessing families; any registered network name is accepted too."""
  return sorted(PREPROCESSING_MODULES)


def preprocessing_name_for(name: str) -> str:
  """'inception', 'vgg', 'cifarnet' or 'lenet' for a preprocessing or network name.

  Raises:
    ValueError: naming close matches, for an unknown name.
  """
  if name in PREPROCESSING_MODULES:
    return name
  from ..nets import nets_factory  # pylint: disable=g-import-not-at-top
  if name in nets_factory.list_networks():
    return nets_factory.get_spec(name).preprocessing
  known = list_preprocessing_names() + nets_factory.list_networks()
  close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.5)
  hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ''
  raise ValueError(f'Unknown preprocessing name {name!r}.{hint} Known: '
                   f"{', '.join(list_preprocessing_names())}, or a network name "
                   '(its registered preprocessing).')


@tf.autograph.experimental.do_not_convert  # One call site for the log, traced or not.
def adapt_channels(image: tf.Tensor, family: str, output_channels: int) -> tf.Tensor:
  """Replicates a grey image to RGB where the family or the net needs colour.

  Raises:
    ValueError: for images that are neither 1- nor 3-channel, or an output
      channel count other than 1 or 3.
  """
  channels = image.shape[-1]
  if output_channels not in (1, 3) or channels not in (1, 3):
    raise ValueError(f'Preprocessing {family!r} takes 1- or 3-channel images and makes 1- or '
                     f'3-channel ones. Received: a {channels}-channel image for a '
                     f'{output_channels}-channel net. Convert the dataset to grey or RGB '
                     'images, or build the net for its channels.')
  if channels == 1 and output_channels == 3:
    logging.log_first_n(logging.INFO, 'One-channel images are replicated to RGB for a '
                        '3-channel net.', 1)
    image = tf.image.grayscale_to_rgb(image)
  elif channels == 1 and family in _NEEDS_RGB:
    # The colour operations need three channels; the result is made grey again.
    image = tf.image.grayscale_to_rgb(image)
  return image


def get_preprocessing(name: str, is_training: bool = False, use_grayscale: bool = False,
                      output_channels: Optional[int] = None) -> Callable:
  """slim's `get_preprocessing`.

  Args:
    name: a network name ('inception_v3', 'resnet_v1_50', ...) or a
      preprocessing name ('inception', 'vgg', 'cifarnet', 'lenet').
    is_training: the random train path, or the deterministic eval path.
    use_grayscale: return one-channel images (slim's flag); same as
      `output_channels=1`.
    output_channels: channels of the returned images (the net's input
      channels), 1 or 3. None keeps the input's channels (1 with use_grayscale).

  Returns:
    `fn(image_uint8 [H, W, 1 or 3], output_height, output_width, **kwargs) ->
    float32 [output_height, output_width, channels]`; kwargs go to the module's
    `preprocess_image` (e.g. inception's `bbox`, `fast_mode`, `crop_image`).

  Raises:
    ValueError: for an unknown name.
  """
  family = preprocessing_name_for(name)
  module = PREPROCESSING_MODULES[family]
  wanted = 1 if use_grayscale else output_channels

  def preprocessing_fn(image, output_height, output_width, **kwargs):
    image = tf.convert_to_tensor(image)
    channels = image.shape[-1]
    target = channels if wanted is None else wanted
    if channels is not None and target is not None:
      image = adapt_channels(image, family, target)
    grey = target == 1 and image.shape[-1] != 1
    return module.preprocess_image(image, output_height, output_width,
                                   is_training=is_training, use_grayscale=grey, **kwargs)

  preprocessing_fn.preprocessing_name = family
  return preprocessing_fn
