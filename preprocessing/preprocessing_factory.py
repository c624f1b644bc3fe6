"""slim's preprocessing_factory: a net (or preprocessing) name -> its preprocessing function.

    fn = preprocessing_factory.get_preprocessing('inception_v3', is_training=False)
    image = fn(image_uint8, 299, 299)            # float32 [299, 299, 3] in [-1, 1]

Every slim network maps to the preprocessing its released checkpoint was
trained with: inception_*, mobilenet_*, nasnet_*, pnasnet_* -> inception;
resnet_v1_*, vgg_* -> vgg; cifarnet -> cifarnet; lenet -> lenet. resnet_v2_*
maps to inception: slim's factory table listed vgg for them, but its released
ResNet V2 checkpoints were trained (and are documented) with Inception
preprocessing at 299, which is what reproduces their accuracy.
"""

import difflib
import fnmatch
from typing import Callable, List

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

# Explicit names first (slim's table and the nets registered in slim), then
# families by pattern.
_NAMES = {
    'cifarnet': 'cifarnet', 'lenet': 'lenet', 'inception': 'inception', 'vgg': 'vgg',
    'inception_v1': 'inception', 'inception_v2': 'inception', 'inception_v3': 'inception',
    'inception_v4': 'inception', 'inception_resnet_v2': 'inception',
    'mobilenet_v1': 'inception', 'mobilenet_v1_075': 'inception',
    'mobilenet_v1_050': 'inception', 'mobilenet_v1_025': 'inception',
    'mobilenet_v2': 'inception', 'mobilenet_v2_035': 'inception', 'mobilenet_v2_140': 'inception',
    'mobilenet_v3_small': 'inception', 'mobilenet_v3_large': 'inception',
    'mobilenet_v3_small_minimalistic': 'inception', 'mobilenet_v3_large_minimalistic': 'inception',
    'mobilenet_edgetpu': 'inception', 'mobilenet_edgetpu_075': 'inception',
    'nasnet_cifar': 'cifarnet', 'nasnet_mobile': 'inception', 'nasnet_large': 'inception',
    'pnasnet_mobile': 'inception', 'pnasnet_large': 'inception',
    'resnet_v1_50': 'vgg', 'resnet_v1_101': 'vgg', 'resnet_v1_152': 'vgg', 'resnet_v1_200': 'vgg',
    'resnet_v2_50': 'inception', 'resnet_v2_101': 'inception', 'resnet_v2_152': 'inception',
    'resnet_v2_200': 'inception',
    'vgg_a': 'vgg', 'vgg_16': 'vgg', 'vgg_19': 'vgg',
    'alexnet_v2': 'vgg', 'overfeat': 'vgg',
}
_PATTERNS = (
    ('inception_*', 'inception'), ('mobilenet_*', 'inception'), ('nasnet_*', 'inception'),
    ('pnasnet_*', 'inception'), ('resnet_v2_*', 'inception'), ('resnet_v1_*', 'vgg'),
    ('vgg_*', 'vgg'),
)


def list_preprocessing_names() -> List[str]:
  return sorted(_NAMES)


def preprocessing_name_for(name: str) -> str:
  """'inception', 'vgg', 'cifarnet' or 'lenet' for a net or preprocessing name.

  Raises:
    ValueError: naming close matches, for an unknown name.
  """
  if name in _NAMES:
    return _NAMES[name]
  for pattern, family in _PATTERNS:
    if fnmatch.fnmatch(str(name), pattern):
      return family
  close = difflib.get_close_matches(str(name), list(_NAMES), n=3, cutoff=0.5)
  hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ''
  raise ValueError(f'Unknown preprocessing name {name!r}.{hint} Known: '
                   f"{', '.join(list_preprocessing_names())} (and inception_*, mobilenet_*, "
                   'nasnet_*, pnasnet_*, resnet_v1_*, resnet_v2_*, vgg_*).')


def get_preprocessing(name: str, is_training: bool = False,
                      use_grayscale: bool = False) -> Callable:
  """slim's `get_preprocessing`.

  Args:
    name: a network name ('inception_v3', 'resnet_v1_50', ...) or a
      preprocessing name ('inception', 'vgg', 'cifarnet', 'lenet').
    is_training: the random train path, or the deterministic eval path.
    use_grayscale: convert images to one channel.

  Returns:
    `fn(image_uint8, output_height, output_width, **kwargs) -> float32 image`;
    kwargs go to the module's `preprocess_image` (e.g. inception's `bbox`,
    `fast_mode`, `crop_image`).

  Raises:
    ValueError: for an unknown name.
  """
  module = PREPROCESSING_MODULES[preprocessing_name_for(name)]

  def preprocessing_fn(image, output_height, output_width, **kwargs):
    return module.preprocess_image(image, output_height, output_width,
                                   is_training=is_training, use_grayscale=use_grayscale,
                                   **kwargs)

  preprocessing_fn.preprocessing_name = preprocessing_name_for(name)
  return preprocessing_fn
