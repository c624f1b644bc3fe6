"""MobileNet v2 (Sandler et al., "MobileNetV2: Inverted Residuals and Linear
Bottlenecks", https://arxiv.org/abs/1801.04381).

Mirrors slim's `nets/mobilenet/mobilenet_v2.py` (with the shared
`mobilenet.py` and `conv_blocks.py`): a 3x3 conv (`Conv`), 17 inverted
residual blocks (`expanded_conv`, `expanded_conv_1`, ...: a 1x1 `expand` conv,
a 3x3 `depthwise` conv, both relu6, and a linear 1x1 `project` conv, with a
residual where the shape allows), a 1x1 conv to 1280 (`Conv_1`) and the
classifier; channel counts scaled by the depth multiplier and rounded with
slim's `_make_divisible`. Same builder arguments and defaults, end_points
(`layer_<i>`, `layer_<i>/expansion_output`, `.../depthwise_output`,
`.../output`) and checkpoint variable names, so slim's released
`mobilenet_v2_<mult>_224.ckpt` restore as they are.
Published (slim, 224 x 224, 1001 classes, top-1 / top-5): 1.0 71.9 / 91.0,
1.4 74.9 / 92.5, 0.35 60.3 / 82.9.
"""

import collections
import dataclasses
import functools
from typing import Callable, Dict, Optional, Tuple

import keras
from keras import ops

from . import initializers
from . import layers
from .layers import ConvHParams, conv2d, depthwise_conv2d, fixed_padding
from .nets_factory import register_network


@dataclasses.dataclass(frozen=True)
class MobilenetV2HParams(ConvHParams):
  """slim's mobilenet `training_scope` (plus V2_DEF's batch norm with gamma).

  Attributes:
    stddev: of the truncated-normal initializer of every conv.
    dropout_keep_prob: keep probability before the logits.
  """
  stddev: float = 0.09
  dropout_keep_prob: float = 0.8


# Depthwise weights carry no weight decay; batch norm epsilon is slim's default.
MOBILENET_V2_HPARAMS = MobilenetV2HParams(weight_decay=0.00004, batch_norm_decay=0.997,
                                          batch_norm_epsilon=0.001, batch_norm_scale=True,
                                          activation='relu6')

# The layer tables (shared with MobileNet v3 and EdgeTPU). An `activation` of
# None means the family's (`hp.activation`).
# `Conv`: a full conv, with batch norm unless `normalize` is False.
Conv = collections.namedtuple('Conv', ['kernel', 'stride', 'depth', 'activation', 'normalize'],
                              defaults=(None, True))
# `ExpandedConv`: an inverted residual block whose inner depth is the input
# depth times `expansion`, rounded to a multiple of `divisible_by`; `kernel` is
# the depthwise kernel, `activation` that of expand and depthwise, `se` adds
# squeeze-excite after the depthwise conv, `fused` replaces expand + depthwise
# by one `kernel` x `kernel` expand conv.
ExpandedConv = collections.namedtuple(
    'ExpandedConv', ['stride', 'depth', 'expansion', 'divisible_by', 'kernel', 'activation',
                     'se', 'fused', 'residual'],
    defaults=(6, 8, 3, None, False, False, True))
# `ReduceTo1x1`: slim's `reduce_to_1x1`, an average pool over a square input
# (`default_size` x `default_size` otherwise).
ReduceTo1x1 = collections.namedtuple('ReduceTo1x1', ['stride', 'default_size'],
                                     defaults=(1, 7))

# slim's V2_DEF; spatial sizes at 224 x 224 in the comments.
V2_DEF = (
    Conv(kernel=(3, 3), stride=2, depth=32),                # 112 x 112
    ExpandedConv(stride=1, depth=16, expansion=1, divisible_by=1),
    ExpandedConv(stride=2, depth=24),                       # 56 x 56
    ExpandedConv(stride=1, depth=24),
    ExpandedConv(stride=2, depth=32),                       # 28 x 28
    ExpandedConv(stride=1, depth=32),
    ExpandedConv(stride=1, depth=32),
    ExpandedConv(stride=2, depth=64),                       # 14 x 14
    ExpandedConv(stride=1, depth=64),
    ExpandedConv(stride=1, depth=64),
    ExpandedConv(stride=1, depth=64),
    ExpandedConv(stride=1, depth=96),
    ExpandedConv(stride=1, depth=96),
    ExpandedConv(stride=1, depth=96),
    ExpandedConv(stride=2, depth=160),                      # 7 x 7
    ExpandedConv(stride=1, depth=160),
    ExpandedConv(stride=1, depth=160),
    ExpandedConv(stride=1, depth=320),
    Conv(kernel=(1, 1), stride=1, depth=1280),
)

_URL = 'https://storage.googleapis.com/mobilenet_v2/checkpoints/mobilenet_v2_{}_224.tgz'

# name: (depth_multiplier, finegrain_classification_mode, checkpoint url, top-1, top-5).
VARIANTS = {
    'mobilenet_v2': (1.0, False, _URL.format('1.0'), 71.9, 91.0),
    'mobilenet_v2_140': (1.4, False, _URL.format('1.4'), 74.9, 92.5),
    'mobilenet_v2_035': (0.35, True, _URL.format('0.35'), 60.3, 82.9),
}


def make_divisible(v: float, divisor: int, min_value: Optional[int] = None) -> int:
  """slim's `_make_divisible`: round to a multiple of `divisor`, never more than 10% down."""
  min_value = divisor if min_value is None else min_value
  new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
  if new_v < 0.9 * v:
    new_v += divisor
  return int(new_v)


@keras.saving.register_keras_serializable(package='slimvision')
def hard_swish(x):
  """MobileNet v3's `x * relu6(x + 3) / 6`."""
  return x * ops.relu6(x + 3.0) * (1.0 / 6.0)


@keras.saving.register_keras_serializable(package='slimvision')
def hard_sigmoid(x):
  """The squeeze-excite gate of MobileNet v3: `relu6(x + 3) * 0.16667`, slim's constant."""
  return ops.relu6(x + 3.0) * 0.16667


_ACTIVATIONS = {'hard_swish': hard_swish, 'hard_sigmoid': hard_sigmoid}


def _activation_fn(name_or_fn, hp):
  if name_or_fn is None:
    return hp.activation
  return _ACTIVATIONS.get(name_or_fn, name_or_fn)


def squeeze_excite(x, scope: str, hp: ConvHParams, squeeze_factor: int = 4,
                   divisible_by: int = 8):
  """slim's `squeeze_excite` (v3 settings): pool, 1x1 relu, 1x1 hard-sigmoid gate, scale."""
  channels = x.shape[-1]
  init = _initializer(hp)
  gate = layers.global_pool(x, f'{scope}/AvgPool')
  gate = conv2d(gate, make_divisible(channels / squeeze_factor, divisible_by), 1,
                f'{scope}/Conv', hp, normalize=False, activation_fn='relu',
                kernel_initializer=init)
  gate = conv2d(gate, channels, 1, f'{scope}/Conv_1', hp, normalize=False,
                activation_fn=hard_sigmoid, kernel_initializer=init)
  return keras.layers.Multiply(name=layers.layer_name(f'{scope}/mul'))([x, gate])


def expanded_conv(x, scope: str, hp: ConvHParams, num_outputs: int, expansion_size: int,
                  stride: int = 1, rate: int = 1, kernel_size=(3, 3), residual: bool = True,
                  use_explicit_padding: bool = False, inner_activation_fn=None,
                  se: bool = False, fused_stride: Optional[int] = None,
                  end_points: Optional[Dict] = None):
  """slim's `expanded_conv`: expand (1x1) -> depthwise -> linear project (1x1) [+ input].

  Args:
    x: NHWC input.
    scope: the block scope (`MobilenetV2/expanded_conv_3`).
    hp: the family's hyper-parameters (initializer stddev included).
    num_outputs: channels of the projection.
    expansion_size: inner channels; no `expand` conv unless it exceeds the input's.
    stride, rate, kernel_size: of the depthwise conv.
    residual: add the input when stride is 1 and the depths match.
    use_explicit_padding: pad explicitly and run the depthwise conv 'VALID'.
    inner_activation_fn: of expand and depthwise; None for `hp.activation`.
    se: squeeze-excite on the depthwise output.
    fused_stride: if set, a `kernel_size` expand conv with this stride replaces
      expand + depthwise (slim's `mbv3_fused`).
    end_points: dict that receives `expansion_output` (when expanded),
      `depthwise_output` (when there is a depthwise conv) and `output`.

  Returns:
    The block's output.
  """
  end_points = {} if end_points is None else end_points
  init = _initializer(hp)
  act = _activation_fn(inner_activation_fn, hp)
  fused = fused_stride is not None
  net = x
  if expansion_size > x.shape[-1]:
    net = conv2d(net, expansion_size, kernel_size if fused else 1, f'{scope}/expand', hp,
                 stride=fused_stride if fused else 1, activation_fn=act,
                 kernel_initializer=init)
    end_points['expansion_output'] = net
  if not fused:
    padding = 'SAME'
    if use_explicit_padding:
      net = fixed_padding(net, kernel_size, f'{scope}/depthwise', rate)
      padding = 'VALID'
    net = depthwise_conv2d(net, kernel_size, f'{scope}/depthwise', hp, stride=stride,
                           rate=rate, padding=padding, activation_fn=act,
                           kernel_initializer=init)
    end_points['depthwise_output'] = net
  if se:
    net = squeeze_excite(net, f'{scope}/squeeze_excite', hp)
  net = conv2d(net, num_outputs, 1, f'{scope}/project', hp, activation_fn=None,
               kernel_initializer=init)
  if residual and stride == 1 and net.shape[-1] == x.shape[-1]:
    net = keras.layers.Add(name=layers.layer_name(f'{scope}/add'))([net, x])
  end_points['output'] = net
  return net


def _initializer(hp):
  return initializers.TruncatedNormal(stddev=getattr(hp, 'stddev', 0.09))


def mobilenet_v2_base(inputs, conv_defs=None, depth_multiplier: float = 1.0,
                      min_depth: int = 8, divisible_by: int = 8,
                      final_endpoint: Optional[str] = None, output_stride: Optional[int] = None,
                      use_explicit_padding: bool = False, scope: str = 'MobilenetV2',
                      hparams: Optional[ConvHParams] = None):
  """MobileNet v2 from the input to `final_endpoint` (slim's `mobilenet_base`).

  Args:
    inputs: NHWC Keras tensor.
    conv_defs: the layer table; `V2_DEF` by default.
    depth_multiplier: multiplier on every layer's output channels, rounded by
      `make_divisible(d * depth_multiplier, divisible_by, min_depth)`.
    min_depth, divisible_by: see `depth_multiplier`.
    final_endpoint: `layer_<i>` to stop at; None builds every layer.
    output_stride: None, 1 or an even number; strides past it become atrous
      rates of the depthwise convs.
    use_explicit_padding: pad explicitly and convolve 'VALID' ('SAME' sizes).
    scope: root scope.
    hparams: slim's arg_scope values (`MOBILENET_V2_HPARAMS` by default).

  Returns:
    (net, end_points) with slim's end_point names.

  Raises:
    ValueError: for depth_multiplier <= 0, an odd output_stride or an unknown
      final_endpoint.
  """
  if depth_multiplier <= 0:
    raise ValueError('depth_multiplier must be greater than zero. '
                     f'Received: depth_multiplier={depth_multiplier}')
  if output_stride is not None and (output_stride == 0 or
                                    (output_stride > 1 and output_stride % 2)):
    raise ValueError('output_stride must be None, 1 or a multiple of 2. '
                     f'Received: output_stride={output_stride}')
  conv_defs = V2_DEF if conv_defs is None else tuple(conv_defs)
  names = [f'layer_{i + 1}' for i in range(len(conv_defs))]
  if final_endpoint is not None and final_endpoint not in names:
    raise ValueError(f'Unknown final_endpoint {final_endpoint!r}. Expected one of {names}.')
  hp = hparams or MOBILENET_V2_HPARAMS
  init = _initializer(hp)
  depth = lambda d: make_divisible(d * depth_multiplier, divisible_by, min_depth)
  padding = 'VALID' if use_explicit_padding else 'SAME'
  end_points = {}
  scope_counts = collections.Counter()

  def unique(base):  # slim's default scope names: Conv, Conv_1, expanded_conv, expanded_conv_1.
    n = scope_counts[base]
    scope_counts[base] += 1
    return f'{scope}/{base}' if n == 0 else f'{scope}/{base}_{n}'

  current_stride, rate = 1, 1
  net = inputs
  for end_point, conv_def in zip(names, conv_defs):
    if output_stride is not None and current_stride == output_stride:
      layer_stride, layer_rate = 1, rate
      rate *= conv_def.stride
    else:
      layer_stride, layer_rate = conv_def.stride, 1
      current_stride *= conv_def.stride

    if isinstance(conv_def, Conv):
      s = unique('Conv')
      kernel = ((conv_def.kernel,) * 2 if isinstance(conv_def.kernel, int)
                else tuple(conv_def.kernel))
      # 1x1 convs never take an atrous rate.
      conv_rate = layer_rate if kernel != (1, 1) else 1
      if use_explicit_padding:
        net = fixed_padding(net, kernel, s, conv_rate)
      net = conv2d(net, depth(conv_def.depth), kernel, s, hp, stride=layer_stride,
                   rate=conv_rate, padding=padding, normalize=conv_def.normalize,
                   activation_fn=_activation_fn(conv_def.activation, hp),
                   kernel_initializer=init)
    elif isinstance(conv_def, ExpandedConv):
      block_end_points = {}
      inner = make_divisible(net.shape[-1] * conv_def.expansion, conv_def.divisible_by)
      kernel = (conv_def.kernel,) * 2
      # slim's fused block gives its expand conv the table's stride, whatever
      # the output_stride.
      net = expanded_conv(net, unique('expanded_conv'), hp, depth(conv_def.depth), inner,
                          stride=layer_stride, rate=layer_rate, kernel_size=kernel,
                          residual=conv_def.residual,
                          use_explicit_padding=use_explicit_padding,
                          inner_activation_fn=conv_def.activation, se=conv_def.se,
                          fused_stride=conv_def.stride if conv_def.fused else None,
                          end_points=block_end_points)
      for key, value in block_end_points.items():
        end_points[f'{end_point}/{key}'] = value
    elif isinstance(conv_def, ReduceTo1x1):
      h, w = layers.static_spatial_shape(net)
      kernel = (h, h) if h is not None and h == w else (conv_def.default_size,) * 2
      net = layers.avg_pool2d(net, kernel, unique('AvgPool2D'), stride=layer_stride,
                              padding='VALID',
                              reduced_from=layers.WHOLE_MAP if kernel == (h, w) else None)
    else:
      raise ValueError(f'Unknown layer type {type(conv_def).__name__} for {end_point}; '
                       'expected Conv, ExpandedConv or ReduceTo1x1.')
    end_points[end_point] = net
    if end_point == final_endpoint:
      break
  return net, end_points


def mobilenet(inputs, num_classes: int = 1001, depth_multiplier: float = 1.0,
              scope: str = 'MobilenetV2', conv_defs=None,
              finegrain_classification_mode: bool = False, min_depth: Optional[int] = None,
              divisible_by: Optional[int] = None, activation_fn=None,
              prediction_fn: Optional[Callable] = None, reuse=None, base_only: bool = False,
              is_training: Optional[bool] = False, final_endpoint: Optional[str] = None,
              output_stride: Optional[int] = None, use_explicit_padding: bool = False,
              hparams: Optional[MobilenetV2HParams] = None) -> Tuple:
  """MobileNet v2 classifier, as slim's `mobilenet_v2.mobilenet`.

  Args:
    inputs: NHWC Keras tensor (224 x 224 by default).
    num_classes: logits width; 0 or None returns the pooled features.
    depth_multiplier: multiplier on every layer's output channels.
    scope: root scope of every variable.
    conv_defs: the layer table (`V2_DEF` by default).
    finegrain_classification_mode: keep the last conv at full width when
      depth_multiplier < 1.
    min_depth, divisible_by: channel rounding (8 and 8 when None).
    activation_fn: replaces relu6 in every conv but the linear projections.
    prediction_fn: maps logits to predictions; softmax by default.
    reuse: accepted for slim compatibility; weights are shared by reusing the
      Keras model.
    base_only: stop after the last layer (no pooling, no logits).
    is_training: batch norm / dropout mode; None defers it to the `training`
      argument of the Keras model call.
    final_endpoint, output_stride, use_explicit_padding: see `mobilenet_v2_base`.
    hparams: slim's training_scope values (`MOBILENET_V2_HPARAMS` by default).

  Returns:
    (logits, end_points).
  """
  del reuse
  if len(inputs.shape) != 4:
    raise ValueError(f'Expected a rank-4 NHWC input. Received: shape={tuple(inputs.shape)}')
  conv_defs = V2_DEF if conv_defs is None else tuple(conv_defs)
  if finegrain_classification_mode and depth_multiplier < 1:
    last = conv_defs[-1]
    conv_defs = conv_defs[:-1] + (last._replace(depth=last.depth / depth_multiplier),)
  hp = (hparams or MOBILENET_V2_HPARAMS).replace(is_training=is_training)
  if activation_fn:
    hp = hp.replace(activation=activation_fn)
  net, end_points = mobilenet_v2_base(
      inputs, conv_defs=conv_defs, depth_multiplier=depth_multiplier,
      min_depth=8 if min_depth is None else min_depth,
      divisible_by=8 if divisible_by is None else divisible_by,
      final_endpoint=final_endpoint, output_stride=output_stride,
      use_explicit_padding=use_explicit_padding, scope=scope, hparams=hp)
  if base_only:
    return net, end_points
  # 7 x 7 x 1280 -> 1 x 1 x 1280
  s = f'{scope}/Logits'
  net = layers.global_pool(net, f'{s}/global_pool')
  end_points['global_pool'] = net
  if not num_classes:
    return net, end_points
  net = layers.dropout(net, getattr(hp, 'dropout_keep_prob', 0.8), f'{s}/Dropout', hp)
  logits = conv2d(net, num_classes, 1, f'{s}/Conv2d_1c_1x1', hp, normalize=False,
                  activation_fn=None, kernel_initializer=_initializer(hp))
  logits = layers.flatten(logits, f'{s}/Squeeze')
  end_points['Logits'] = logits
  end_points['Predictions'] = (prediction_fn(logits) if prediction_fn is not None
                               else layers.softmax(logits, f'{scope}/Predictions'))
  return logits, end_points


mobilenet.default_image_size = 224


def mobilenet_base(inputs, depth_multiplier: float = 1.0, **kwargs):
  """The MobileNet v2 trunk without pooling and logits (slim's `mobilenet_base`)."""
  return mobilenet(inputs, depth_multiplier=depth_multiplier, base_only=True, **kwargs)


def _variant(name: str):
  multiplier, finegrain, url, top1, top5 = VARIANTS[name]
  builder = mobilenet
  if multiplier != 1.0:
    kwargs = {'depth_multiplier': multiplier}
    if finegrain:
      kwargs['finegrain_classification_mode'] = True
    builder = functools.partial(mobilenet, **kwargs)
    functools.update_wrapper(builder, mobilenet)
    builder.__name__ = builder.__qualname__ = name
  register_network(name, default_image_size=224, hparams=MOBILENET_V2_HPARAMS,
                   checkpoint_url=url, top1=top1, top5=top5)(builder)
  return builder


_variant('mobilenet_v2')
mobilenet_v2_140 = _variant('mobilenet_v2_140')
mobilenet_v2_035 = _variant('mobilenet_v2_035')
