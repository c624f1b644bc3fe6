"""OverFeat (Sermanet et al., "OverFeat: Integrated Recognition, Localization
and Detection using Convolutional Networks", https://arxiv.org/abs/1312.6229),
the fast model.

Mirrors slim's `nets/overfeat.py`: same builder arguments and defaults, same
end_points (keyed by scope path, `overfeat/conv1`, ..., `overfeat/fc8`) and the
same checkpoint variable names. The fully-connected layers are convolutions
(`fc6` 6 x 6, `fc7` and `fc8` 1 x 1), so the net also runs fully
convolutionally on larger inputs. 231 x 231 inputs, 1000 classes (no
background class); slim's preprocessing_factory has no entry for it and this
project uses VGG preprocessing. No released checkpoint.
"""

from typing import Optional, Tuple

import keras

from . import initializers
from .layers import ConvHParams, max_pool2d
from .nets_factory import register_network
from .vgg import conv2d_with_bias, fully_convolutional_head

# slim's overfeat_arg_scope: relu, no batch norm, zero biases, 'SAME'
# convolutions and 'VALID' max pools.
OVERFEAT_HPARAMS = ConvHParams(weight_decay=0.0005, use_batch_norm=False, activation='relu')

# (end point, output channels, kernel, stride, padding) of the convolutions,
# each of conv1, conv2 and conv5 followed by a 2 x 2 / 2 max pool.
_CONVS = (
    ('conv1', 64, 11, 4, 'VALID'),
    ('conv2', 256, 5, 1, 'VALID'),
    ('conv3', 512, 3, 1, 'SAME'),
    ('conv4', 1024, 3, 1, 'SAME'),
    ('conv5', 1024, 3, 1, 'SAME'),
)
_POOLED = {'conv1': 'pool1', 'conv2': 'pool2', 'conv5': 'pool5'}


@register_network('overfeat', default_image_size=231, hparams=OVERFEAT_HPARAMS,
                  num_classes=1000, preprocessing='vgg', predictions=None,
                  classifier_scopes=('*/fc8',), aux_scopes=())
def overfeat(inputs, num_classes: int = 1000, is_training: Optional[bool] = True,
             dropout_keep_prob: float = 0.5, spatial_squeeze: bool = True,
             scope: str = 'overfeat', global_pool: bool = False,
             hparams: Optional[ConvHParams] = None) -> Tuple:
  """OverFeat, as slim's `overfeat`.

  Args:
    inputs: NHWC Keras tensor, 231 x 231 by default.
    num_classes: logits width; 0 or None returns fc7's output (after
      global_pool, if set).
    is_training: dropout mode; None defers it to the `training` argument of
      the Keras model call.
    dropout_keep_prob: keep probability of dropout6 and dropout7.
    spatial_squeeze: logits [B, C] rather than [B, H, W, C].
    scope: root scope of every variable.
    global_pool: average fc7 over height and width, for any input size.
    hparams: slim's arg_scope values (`OVERFEAT_HPARAMS` by default).

  Returns:
    (logits, end_points).
  """
  hp = (hparams or OVERFEAT_HPARAMS).replace(is_training=is_training)
  end_points = {}
  net = inputs
  # 231 x 231 x 3 -> 56 x 56 x 64 -> 28 -> 24 x 24 x 256 -> 12 -> 12 x 12 x 1024 -> 6
  for name, depth, kernel, stride, padding in _CONVS:
    net = end_points[f'{scope}/{name}'] = conv2d_with_bias(
        net, depth, kernel, f'{scope}/{name}', hp, stride=stride, padding=padding)
    if name in _POOLED:
      pool = f'{scope}/{_POOLED[name]}'
      net = end_points[pool] = max_pool2d(net, 2, pool, stride=2, padding='VALID')
  # 6 x 6 x 1024 -> 1 x 1 x 3072 -> 1 x 1 x 4096 -> num_classes
  return fully_convolutional_head(
      net, end_points, scope, hp, num_classes=num_classes, fc6_depth=3072,
      fc6_kernel=(6, 6), fc7_depth=4096, dropout_keep_prob=dropout_keep_prob,
      spatial_squeeze=spatial_squeeze, global_pool=global_pool,
      kernel_initializer=initializers.TruncatedNormal(stddev=0.005),
      bias_initializer=keras.initializers.Constant(0.1))


overfeat.default_image_size = 231


def overfeat_arg_scope(weight_decay: float = 0.0005) -> ConvHParams:
  """slim's `overfeat_arg_scope`, as the hyper-parameters it set."""
  return OVERFEAT_HPARAMS.replace(weight_decay=weight_decay)
