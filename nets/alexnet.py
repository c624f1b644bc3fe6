"""AlexNet v2: the single-column AlexNet of Krizhevsky, "One weird trick for
parallelizing convolutional neural networks", https://arxiv.org/abs/1404.5997,
without local response normalisation.

Mirrors slim's `nets/alexnet.py`: same builder arguments and defaults, same
end_points (keyed by scope path, `alexnet_v2/conv1`, ..., `alexnet_v2/fc8`) and
the same checkpoint variable names. The fully-connected layers are
convolutions (`fc6` 5 x 5, `fc7` and `fc8` 1 x 1), so the net also runs fully
convolutionally on larger inputs. 1000 classes (no background class); slim's
preprocessing_factory has no entry for it and this project uses VGG
preprocessing. No released checkpoint.
"""

from typing import Optional, Tuple

import keras

from . import initializers
from .layers import ConvHParams, max_pool2d
from .nets_factory import register_network
from .vgg import conv2d_with_bias, fully_convolutional_head

# slim's alexnet_v2_arg_scope: relu, no batch norm, biases start at 0.1, 'SAME'
# convolutions and 'VALID' max pools.
ALEXNET_V2_HPARAMS = ConvHParams(weight_decay=0.0005, use_batch_norm=False,
                                 activation='relu')

# (end point, output channels, kernel, stride, padding) of the convolutions,
# each of conv1, conv2 and conv5 followed by a 3 x 3 / 2 max pool.
_CONVS = (
    ('conv1', 64, 11, 4, 'VALID'),
    ('conv2', 192, 5, 1, 'SAME'),
    ('conv3', 384, 3, 1, 'SAME'),
    ('conv4', 384, 3, 1, 'SAME'),
    ('conv5', 256, 3, 1, 'SAME'),
)
_POOLED = {'conv1': 'pool1', 'conv2': 'pool2', 'conv5': 'pool5'}


@register_network('alexnet_v2', default_image_size=224, hparams=ALEXNET_V2_HPARAMS,
                  num_classes=1000, preprocessing='vgg', predictions=None,
                  classifier_scopes=('*/fc8',), aux_scopes=())
def alexnet_v2(inputs, num_classes: int = 1000, is_training: Optional[bool] = True,
               dropout_keep_prob: float = 0.5, spatial_squeeze: bool = True,
               scope: str = 'alexnet_v2', global_pool: bool = False,
               hparams: Optional[ConvHParams] = None) -> Tuple:
  """AlexNet v2, as slim's `alexnet_v2`.

  Args:
    inputs: NHWC Keras tensor, 224 x 224 by default.
    num_classes: logits width; 0 or None returns fc7's output (after
      global_pool, if set).
    is_training: dropout mode; None defers it to the `training` argument of
      the Keras model call.
    dropout_keep_prob: keep probability of dropout6 and dropout7.
    spatial_squeeze: logits [B, C] rather than [B, H, W, C].
    scope: root scope of every variable.
    global_pool: average fc7 over height and width, for any input size.
    hparams: slim's arg_scope values (`ALEXNET_V2_HPARAMS` by default).

  Returns:
    (logits, end_points).
  """
  hp = (hparams or ALEXNET_V2_HPARAMS).replace(is_training=is_training)
  end_points = {}
  net = inputs
  # 224 x 224 x 3 -> 54 x 54 x 64 -> 26 -> 26 x 26 x 192 -> 12 -> 12 x 12 x 256 -> 5
  for name, depth, kernel, stride, padding in _CONVS:
    net = end_points[f'{scope}/{name}'] = conv2d_with_bias(
        net, depth, kernel, f'{scope}/{name}', hp, stride=stride, padding=padding,
        bias_initializer=keras.initializers.Constant(0.1))
    if name in _POOLED:
      pool = f'{scope}/{_POOLED[name]}'
      net = end_points[pool] = max_pool2d(net, 3, pool, stride=2, padding='VALID')
  # 5 x 5 x 256 -> 1 x 1 x 4096 -> 1 x 1 x 4096 -> num_classes
  return fully_convolutional_head(
      net, end_points, scope, hp, num_classes=num_classes, fc6_depth=4096,
      fc6_kernel=(5, 5), fc7_depth=4096, dropout_keep_prob=dropout_keep_prob,
      spatial_squeeze=spatial_squeeze, global_pool=global_pool,
      kernel_initializer=initializers.TruncatedNormal(stddev=0.005),
      bias_initializer=keras.initializers.Constant(0.1))


alexnet_v2.default_image_size = 224


def alexnet_v2_arg_scope(weight_decay: float = 0.0005) -> ConvHParams:
  """slim's `alexnet_v2_arg_scope`, as the hyper-parameters it set."""
  return ALEXNET_V2_HPARAMS.replace(weight_decay=weight_decay)
