"""MobileNet v1 (Howard et al., "MobileNets: Efficient Convolutional Neural
Networks for Mobile Vision Applications", https://arxiv.org/abs/1704.04861).

Mirrors slim's `nets/mobilenet_v1.py`: a 3x3 conv, then 13 depthwise-separable
layers, each a 3x3 depthwise conv (`Conv2d_<i>_depthwise`, variable
`depthwise_weights`) and a 1x1 pointwise conv (`Conv2d_<i>_pointwise`), all with
batch norm and relu6; same builder arguments and defaults, end_points and
checkpoint variable names, so slim's released `mobilenet_v1_<mult>_224.ckpt`
(mobilenet_v1_2018_08_02) restore as they are.
Published (slim, 224 x 224, 1001 classes, top-1 / top-5): 1.0 70.9 / 89.9,
0.75 68.4 / 88.2, 0.50 63.3 / 84.9, 0.25 49.8 / 74.2.
"""

import collections
import dataclasses
import functools
from typing import Callable, Optional, Tuple

from . import initializers
from . import layers
from .layers import ConvHParams, avg_pool2d, conv2d, depthwise_conv2d, fixed_padding
from .nets_factory import register_network


@dataclasses.dataclass(frozen=True)
class MobilenetV1HParams(ConvHParams):
  """slim's mobilenet_v1_arg_scope.

  Attributes:
    stddev: of the truncated-normal initializer of every conv.
    regularize_depthwise: apply the weight decay to depthwise weights too.
  """
  stddev: float = 0.09
  regularize_depthwise: bool = False


MOBILENET_V1_HPARAMS = MobilenetV1HParams(weight_decay=0.00004, batch_norm_decay=0.9997,
                                          batch_norm_epsilon=0.001, batch_norm_scale=True,
                                          activation='relu6')

# `Conv`: a full 3x3 conv; `DepthSepConv`: depthwise 3x3 + pointwise 1x1.
Conv = collections.namedtuple('Conv', ['kernel', 'stride', 'depth'])
DepthSepConv = collections.namedtuple('DepthSepConv', ['kernel', 'stride', 'depth'])

# The MobileNet body (Conv2d_0 .. Conv2d_13); strides give 112, 112, 56, 56, 28,
# 28, 14 x 5, 7, 7 at 224 x 224.
CONV_DEFS = (
    Conv(kernel=(3, 3), stride=2, depth=32),
    DepthSepConv(kernel=(3, 3), stride=1, depth=64),
    DepthSepConv(kernel=(3, 3), stride=2, depth=128),
    DepthSepConv(kernel=(3, 3), stride=1, depth=128),
    DepthSepConv(kernel=(3, 3), stride=2, depth=256),
    DepthSepConv(kernel=(3, 3), stride=1, depth=256),
    DepthSepConv(kernel=(3, 3), stride=2, depth=512),
    DepthSepConv(kernel=(3, 3), stride=1, depth=512),
    DepthSepConv(kernel=(3, 3), stride=1, depth=512),
    DepthSepConv(kernel=(3, 3), stride=1, depth=512),
    DepthSepConv(kernel=(3, 3), stride=1, depth=512),
    DepthSepConv(kernel=(3, 3), stride=1, depth=512),
    DepthSepConv(kernel=(3, 3), stride=2, depth=1024),
    DepthSepConv(kernel=(3, 3), stride=1, depth=1024),
)

_URL = 'http://download.tensorflow.org/models/mobilenet_v1_2018_08_02/mobilenet_v1_{}_224.tgz'

# name: (depth_multiplier, checkpoint url, top-1, top-5).
VARIANTS = {
    'mobilenet_v1': (1.0, _URL.format('1.0'), 70.9, 89.9),
    'mobilenet_v1_075': (0.75, _URL.format('0.75'), 68.4, 88.2),
    'mobilenet_v1_050': (0.50, _URL.format('0.5'), 63.3, 84.9),
    'mobilenet_v1_025': (0.25, _URL.format('0.25'), 49.8, 74.2),
}


def _end_point_names(conv_defs) -> Tuple[str, ...]:
  names = []
  for i, conv_def in enumerate(conv_defs):
    if isinstance(conv_def, Conv):
      names.append(f'Conv2d_{i}')
    else:
      names += [f'Conv2d_{i}_depthwise', f'Conv2d_{i}_pointwise']
  return tuple(names)


END_POINTS = _end_point_names(CONV_DEFS)


def mobilenet_v1_base(inputs, final_endpoint: str = 'Conv2d_13_pointwise', min_depth: int = 8,
                      depth_multiplier: float = 1.0, conv_defs=None,
                      output_stride: Optional[int] = None, use_explicit_padding: bool = False,
                      scope: Optional[str] = None,
                      hparams: Optional[MobilenetV1HParams] = None):
  """MobileNet v1 from the input to `final_endpoint`.

  Args:
    inputs: NHWC Keras tensor.
    final_endpoint: the end point to stop at (`Conv2d_0`, `Conv2d_<i>_depthwise`,
      `Conv2d_<i>_pointwise`).
    min_depth: minimum channels of every conv (active when depth_multiplier < 1).
    depth_multiplier: multiplier on every conv's channels.
    conv_defs: the layer table; `CONV_DEFS` by default.
    output_stride: None, 8, 16 or 32; strides past it become atrous rates.
    use_explicit_padding: pad explicitly and convolve 'VALID' ('SAME' sizes).
    scope: root scope, 'MobilenetV1' by default.
    hparams: slim's arg_scope values (`MOBILENET_V1_HPARAMS` by default).

  Returns:
    (net, end_points) with slim's end_point names.

  Raises:
    ValueError: for an unknown final_endpoint, depth_multiplier <= 0 or an
      output_stride other than 8, 16, 32.
  """
  if depth_multiplier <= 0:
    raise ValueError('depth_multiplier must be greater than zero. '
                     f'Received: depth_multiplier={depth_multiplier}')
  if output_stride is not None and output_stride not in (8, 16, 32):
    raise ValueError('output_stride must be 8, 16 or 32. '
                     f'Received: output_stride={output_stride}')
  conv_defs = CONV_DEFS if conv_defs is None else conv_defs
  names = _end_point_names(conv_defs)
  if final_endpoint not in names:
    raise ValueError(f'Unknown final_endpoint {final_endpoint!r}. Expected one of '
                     f'{list(names)}.')
  hp = hparams or MOBILENET_V1_HPARAMS
  scope = scope or 'MobilenetV1'
  depth = lambda d: max(int(d * depth_multiplier), min_depth)
  init = initializers.TruncatedNormal(stddev=getattr(hp, 'stddev', 0.09))
  padding = 'VALID' if use_explicit_padding else 'SAME'
  end_points = {}

  def done(name, net):
    end_points[name] = net
    return name == final_endpoint

  # Running product of strides, and the atrous rate once output_stride is reached.
  current_stride, rate = 1, 1
  net = inputs
  for i, conv_def in enumerate(conv_defs):
    if output_stride is not None and current_stride == output_stride:
      layer_stride, layer_rate = 1, rate
      rate *= conv_def.stride
    else:
      layer_stride, layer_rate = conv_def.stride, 1
      current_stride *= conv_def.stride

    if isinstance(conv_def, Conv):
      name = f'Conv2d_{i}'
      if use_explicit_padding:
        net = fixed_padding(net, conv_def.kernel, f'{scope}/{name}')
      # slim strides this layer by conv_def.stride whatever the output_stride
      # (which can never be reached before it).
      net = conv2d(net, depth(conv_def.depth), conv_def.kernel, f'{scope}/{name}', hp,
                   stride=conv_def.stride, padding=padding, kernel_initializer=init)
      if done(name, net): return net, end_points
    elif isinstance(conv_def, DepthSepConv):
      name = f'Conv2d_{i}_depthwise'
      if use_explicit_padding:
        net = fixed_padding(net, conv_def.kernel, f'{scope}/{name}', layer_rate)
      net = depthwise_conv2d(net, conv_def.kernel, f'{scope}/{name}', hp, stride=layer_stride,
                             rate=layer_rate, padding=padding, kernel_initializer=init,
                             regularize=getattr(hp, 'regularize_depthwise', False))
      if done(name, net): return net, end_points
      name = f'Conv2d_{i}_pointwise'
      net = conv2d(net, depth(conv_def.depth), 1, f'{scope}/{name}', hp, padding=padding,
                   kernel_initializer=init)
      if done(name, net): return net, end_points
    else:
      raise ValueError(f'Unknown layer type {type(conv_def).__name__} for layer {i}; '
                       'expected Conv or DepthSepConv.')
  raise AssertionError('unreachable')  # final_endpoint was validated above.


def mobilenet_v1(inputs, num_classes: int = 1000, dropout_keep_prob: float = 0.999,
                 is_training: Optional[bool] = True, min_depth: int = 8,
                 depth_multiplier: float = 1.0, conv_defs=None,
                 prediction_fn: Optional[Callable] = None, spatial_squeeze: bool = True,
                 reuse=None, scope: str = 'MobilenetV1', global_pool: bool = False,
                 hparams: Optional[MobilenetV1HParams] = None) -> Tuple:
  """MobileNet v1 classifier, as slim's `mobilenet_v1`.

  Args:
    inputs: NHWC Keras tensor (224 x 224 by default).
    num_classes: logits width; 0 or None returns the pooled features.
    dropout_keep_prob: keep probability before the logits.
    is_training: batch norm / dropout mode; None defers it to the `training`
      argument of the Keras model call.
    min_depth, depth_multiplier, conv_defs: see `mobilenet_v1_base`.
    prediction_fn: maps logits to predictions; softmax by default.
    spatial_squeeze: logits [B, C] rather than [B, 1, 1, C].
    reuse: accepted for slim compatibility; weights are shared by reusing the
      Keras model.
    scope: root scope of every variable.
    global_pool: global average pooling instead of a 7 x 7 average pool.
    hparams: slim's arg_scope values (`MOBILENET_V1_HPARAMS` by default).

  Returns:
    (logits, end_points).
  """
  del reuse
  if len(inputs.shape) != 4:
    raise ValueError(f'Expected a rank-4 NHWC input. Received: shape={tuple(inputs.shape)}')
  hp = (hparams or MOBILENET_V1_HPARAMS).replace(is_training=is_training)
  net, end_points = mobilenet_v1_base(inputs, min_depth=min_depth,
                                      depth_multiplier=depth_multiplier, conv_defs=conv_defs,
                                      scope=scope, hparams=hp)
  # 7 x 7 x 1024 -> 1 x 1 x 1024
  s = f'{scope}/Logits'
  if global_pool:
    net = layers.global_pool(net, f'{s}/global_pool')
    end_points['global_pool'] = net
  else:
    kernel = layers.reduced_kernel_size_for_small_input(net, (7, 7))
    net = avg_pool2d(net, kernel, f'{s}/AvgPool_1a', stride=2, padding='VALID',
                     reduced_from=7)
    end_points['AvgPool_1a'] = net
  if not num_classes:
    return net, end_points
  net = layers.dropout(net, dropout_keep_prob, f'{s}/Dropout_1b', hp)
  logits = conv2d(net, num_classes, 1, f'{s}/Conv2d_1c_1x1', hp, normalize=False,
                  activation_fn=None,
                  kernel_initializer=initializers.TruncatedNormal(
                      stddev=getattr(hp, 'stddev', 0.09)))
  if spatial_squeeze:
    logits = layers.flatten(logits, f'{s}/SpatialSqueeze')
  end_points['Logits'] = logits
  end_points['Predictions'] = (prediction_fn(logits) if prediction_fn is not None
                               else layers.softmax(logits, f'{scope}/Predictions'))
  return logits, end_points


mobilenet_v1.default_image_size = 224


def _variant(name: str):
  multiplier, url, top1, top5 = VARIANTS[name]
  builder = mobilenet_v1
  if multiplier != 1.0:
    builder = functools.partial(mobilenet_v1, depth_multiplier=multiplier)
    functools.update_wrapper(builder, mobilenet_v1)
    builder.__name__ = builder.__qualname__ = name
  register_network(name, default_image_size=224, hparams=MOBILENET_V1_HPARAMS,
                   checkpoint_url=url, top1=top1, top5=top5)(builder)
  return builder


_variant('mobilenet_v1')
mobilenet_v1_075 = _variant('mobilenet_v1_075')
mobilenet_v1_050 = _variant('mobilenet_v1_050')
mobilenet_v1_025 = _variant('mobilenet_v1_025')
