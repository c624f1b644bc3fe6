"""ResNet v2, the pre-activation ResNet (He et al., "Identity Mappings in Deep
Residual Networks", https://arxiv.org/abs/1603.05027).

Mirrors slim's `nets/resnet_v2.py`: bottleneck units with batch norm and relu
*before* every convolution (`preact`), bias-only convs where no batch norm
follows (conv1, projection shortcuts, conv3, logits) and a final `postnorm`;
same builder arguments and defaults, end_points (keyed by scope path, e.g.
`resnet_v2_50/block1/unit_1/bottleneck_v2`) and checkpoint variable names, so
slim's released `resnet_v2_{50,101,152}_2017_04_14.ckpt` restore as they are.
Published (slim, 1001 classes, inception preprocessing at 299 x 299):
ResNet-50 top-1 75.6, top-5 92.8; ResNet-101 77.0 / 93.7; ResNet-152 77.8 / 94.1;
ResNet-200 79.9 / 95.2 (no released checkpoint).
"""

from typing import Dict, Optional, Sequence, Tuple

import keras

from . import layers
from . import resnet_utils
from .layers import ConvHParams, conv2d, max_pool2d
from .nets_factory import register_network
from .resnet_utils import RESNET_HPARAMS, conv2d_same

_URL = 'http://download.tensorflow.org/models/resnet_v2_{}_2017_04_14.tar.gz'

# depth: (checkpoint url, top-1, top-5).
VARIANTS = {
    50: (_URL.format(50), 75.6, 92.8),
    101: (_URL.format(101), 77.0, 93.7),
    152: (_URL.format(152), 77.8, 94.1),
    200: (None, 79.9, 95.2),
}


def _batch_norm_relu(x, scope: str, hp: ConvHParams):
  """slim.batch_norm(activation_fn=relu) as its own scope (`preact`, `postnorm`)."""
  x = layers.batch_norm(x, scope, hp)
  return layers.activation(x, scope, 'relu')


def bottleneck(inputs, scope: str, hp: ConvHParams, depth: int, depth_bottleneck: int,
               stride: int, rate: int = 1, end_points: Optional[Dict] = None):
  """slim's v2 (pre-activation) `bottleneck` unit under `<scope>/bottleneck_v2`.

  Args:
    inputs: NHWC input.
    scope: the unit scope (`.../block1/unit_1`).
    hp: the family's hyper-parameters.
    depth: output channels.
    depth_bottleneck: channels of the 1x1 / 3x3 / 1x1 bottleneck.
    stride: the unit's stride (on the 3x3 conv and the shortcut).
    rate: atrous rate of the 3x3 conv.
    end_points: dict the unit's end_points are added to.

  Returns:
    The unit's output (`shortcut + residual`, no activation).
  """
  end_points = {} if end_points is None else end_points
  scope = f'{scope}/bottleneck_v2'
  preact = _batch_norm_relu(inputs, f'{scope}/preact', hp)
  if depth == inputs.shape[-1]:
    shortcut = resnet_utils.subsample(inputs, stride, f'{scope}/shortcut')
  else:
    shortcut = conv2d(preact, depth, 1, f'{scope}/shortcut', hp, stride=stride,
                      normalize=False, activation_fn=None)
    end_points[f'{scope}/shortcut'] = shortcut
  residual = conv2d(preact, depth_bottleneck, 1, f'{scope}/conv1', hp)
  end_points[f'{scope}/conv1'] = residual
  residual = conv2d_same(residual, depth_bottleneck, 3, stride, f'{scope}/conv2', hp, rate=rate)
  end_points[f'{scope}/conv2'] = residual
  residual = conv2d(residual, depth, 1, f'{scope}/conv3', hp, normalize=False,
                    activation_fn=None)
  end_points[f'{scope}/conv3'] = residual
  net = keras.layers.Add(name=layers.layer_name(f'{scope}/add'))([shortcut, residual])
  end_points[scope] = net
  return net


def resnet_v2(inputs, blocks: Sequence[resnet_utils.Block], num_classes: Optional[int] = None,
              is_training: Optional[bool] = True, global_pool: bool = True,
              output_stride: Optional[int] = None, include_root_block: bool = True,
              spatial_squeeze: bool = True, reuse=None, scope: str = 'resnet_v2',
              hparams: Optional[ConvHParams] = None) -> Tuple:
  """A pre-activation ResNet from its blocks, as slim's `resnet_v2`.

  Args:
    inputs: NHWC Keras tensor.
    blocks: the `resnet_utils.Block`s (see `resnet_utils.bottleneck_blocks`).
    num_classes: logits width; 0 or None returns the features (pooled when
      `global_pool`).
    is_training: batch norm mode; None defers it to the `training` argument of
      the Keras model call.
    global_pool: global average pooling before the logits.
    output_stride: None (nominal stride 32) or the wanted ratio of input to
      output resolution, a multiple of 4; deeper strides become atrous rates.
    include_root_block: start with conv1 (7x7, stride 2, no batch norm or
      activation: the first unit's `preact` does them) and pool1.
    spatial_squeeze: logits [B, C] rather than [B, 1, 1, C].
    reuse: accepted for slim compatibility; weights are shared by reusing the
      Keras model.
    scope: root scope of every variable.
    hparams: slim's arg_scope values (`RESNET_HPARAMS` by default).

  Returns:
    (net, end_points): the logits (or features) and slim's end_points.

  Raises:
    ValueError: for an output_stride that cannot be reached.
  """
  del reuse
  hp = (hparams or RESNET_HPARAMS).replace(is_training=is_training)
  end_points = {}
  net = inputs
  if include_root_block:
    output_stride = resnet_utils.root_output_stride(output_stride)
    # 112 x 112 x 64
    net = conv2d_same(net, 64, 7, 2, f'{scope}/conv1', hp, normalize=False,
                      activation_fn=None)
    end_points[f'{scope}/conv1'] = net
    # 56 x 56 x 64
    net = max_pool2d(net, 3, f'{scope}/pool1', stride=2, padding='SAME')
  # 56 x 56 x 256 -> 28 x 28 x 512 -> 14 x 14 x 1024 -> 7 x 7 x 2048
  net = resnet_utils.stack_blocks_dense(net, blocks, scope, hp, end_points, output_stride)
  # The units end without batch norm or activation, so the stack gets them here.
  net = _batch_norm_relu(net, f'{scope}/postnorm', hp)
  net = resnet_utils.classifier_head(net, num_classes, scope, hp, end_points, global_pool,
                                     spatial_squeeze)
  return net, end_points


resnet_v2.default_image_size = 224


def _make_builder(depth: int):
  url, top1, top5 = VARIANTS[depth]
  name = f'resnet_v2_{depth}'

  @register_network(name, default_image_size=224, hparams=RESNET_HPARAMS, num_classes=1001,
                    preprocessing='inception', checkpoint_url=url, top1=top1, top5=top5,
                    predictions='predictions', classifier_scopes=('*/logits',), aux_scopes=())
  def builder(inputs, num_classes: Optional[int] = None, is_training: Optional[bool] = True,
              global_pool: bool = True, output_stride: Optional[int] = None,
              spatial_squeeze: bool = True, reuse=None, scope: str = name,
              hparams: Optional[ConvHParams] = None) -> Tuple:
    blocks = resnet_utils.bottleneck_blocks(depth, bottleneck)
    return resnet_v2(inputs, blocks, num_classes, is_training=is_training,
                     global_pool=global_pool, output_stride=output_stride,
                     include_root_block=True, spatial_squeeze=spatial_squeeze, reuse=reuse,
                     scope=scope, hparams=hparams)

  builder.__name__ = builder.__qualname__ = name
  builder.__doc__ = f"""ResNet-{depth} v2 classifier, as slim's `{name}`.

  Args:
    inputs: NHWC Keras tensor (224 x 224 by default).
    num_classes: logits width; 0 or None returns the features.
    is_training, global_pool, output_stride, spatial_squeeze, reuse, scope,
      hparams: see `resnet_v2`.

  Returns:
    (logits, end_points).
  """
  builder.default_image_size = 224
  return builder


resnet_v2_50 = _make_builder(50)
resnet_v2_101 = _make_builder(101)
resnet_v2_152 = _make_builder(152)
resnet_v2_200 = _make_builder(200)
