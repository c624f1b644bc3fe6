"""Inception V2 / BN-Inception (Ioffe and Szegedy, "Batch Normalization:
Accelerating Deep Network Training by Reducing Internal Covariate Shift",
https://arxiv.org/abs/1502.03167).

Mirrors slim's `nets/inception_v2.py`: same builder arguments and defaults,
same end_points and the same checkpoint variable names, so slim's released
`inception_v2_2016_08_28.ckpt` restores as it is. As in slim, the first layer
is a 7 x 7 separable convolution with a bias and no batch norm
(`Conv2d_1a_7x7/depthwise_weights`, `pointwise_weights`, `biases`).
Published (slim, 224 x 224, 1001 classes): top-1 73.9, top-5 91.8.
"""

from typing import Callable, Optional, Tuple

import keras

from . import inception_utils
from . import initializers
from . import layers
from .layers import ConvHParams, avg_pool2d, concat, conv2d, max_pool2d
from .nets_factory import register_network

# slim's inception arg_scope, shared by Inception v1-v4.
INCEPTION_V2_HPARAMS = inception_utils.INCEPTION_HPARAMS

CHECKPOINT_URL = 'http://download.tensorflow.org/models/inception_v2_2016_08_28.tar.gz'

# After the root block, in order. Inception modules: ('module', name, branch
# depths (Branch_0 1x1, Branch_1 1x1 -> 3x3, Branch_2 1x1 -> 3x3 -> 3x3,
# Branch_3 pool -> 1x1), Branch_3's pool). Reductions (stride 2, 'SAME'):
# ('reduction', name, (Branch_0 1x1 -> 3x3, Branch_1 1x1 -> 3x3 -> 3x3)).
_BLOCKS = (
    ('module', 'Mixed_3b', (64, 64, 64, 64, 96, 32), 'avg'),
    ('module', 'Mixed_3c', (64, 64, 96, 64, 96, 64), 'avg'),
    ('reduction', 'Mixed_4a', (128, 160, 64, 96)),
    ('module', 'Mixed_4b', (224, 64, 96, 96, 128, 128), 'avg'),
    ('module', 'Mixed_4c', (192, 96, 128, 96, 128, 128), 'avg'),
    ('module', 'Mixed_4d', (160, 128, 160, 128, 160, 96), 'avg'),
    ('module', 'Mixed_4e', (96, 128, 192, 160, 192, 96), 'avg'),
    ('reduction', 'Mixed_5a', (128, 192, 192, 256)),
    ('module', 'Mixed_5b', (352, 192, 320, 160, 224, 128), 'avg'),
    ('module', 'Mixed_5c', (352, 192, 320, 192, 224, 128), 'max'),
)

ROOT_END_POINTS = ('Conv2d_1a_7x7', 'MaxPool_2a_3x3', 'Conv2d_2b_1x1', 'Conv2d_2c_3x3',
                   'MaxPool_3a_3x3')
END_POINTS = ROOT_END_POINTS + tuple(block[1] for block in _BLOCKS)


def _trunc_normal(stddev):
  return initializers.TruncatedNormal(stddev=stddev)


def _inception_module(net, scope, depths, pool, depth, hp):
  d0, d1a, d1b, d2a, d2b, d3 = (depth(d) for d in depths)
  b0 = conv2d(net, d0, 1, f'{scope}/Branch_0/Conv2d_0a_1x1', hp)
  b1 = conv2d(net, d1a, 1, f'{scope}/Branch_1/Conv2d_0a_1x1', hp,
              kernel_initializer=_trunc_normal(0.09))
  b1 = conv2d(b1, d1b, 3, f'{scope}/Branch_1/Conv2d_0b_3x3', hp)
  b2 = conv2d(net, d2a, 1, f'{scope}/Branch_2/Conv2d_0a_1x1', hp,
              kernel_initializer=_trunc_normal(0.09))
  b2 = conv2d(b2, d2b, 3, f'{scope}/Branch_2/Conv2d_0b_3x3', hp)
  b2 = conv2d(b2, d2b, 3, f'{scope}/Branch_2/Conv2d_0c_3x3', hp)
  if pool == 'max':
    b3 = max_pool2d(net, 3, f'{scope}/Branch_3/MaxPool_0a_3x3', stride=1, padding='SAME')
  else:
    b3 = avg_pool2d(net, 3, f'{scope}/Branch_3/AvgPool_0a_3x3', stride=1, padding='SAME')
  b3 = conv2d(b3, d3, 1, f'{scope}/Branch_3/Conv2d_0b_1x1', hp,
              kernel_initializer=_trunc_normal(0.1))
  return concat([b0, b1, b2, b3], f'{scope}/concat')


def _reduction(net, scope, depths, depth, hp):
  d0a, d0b, d1a, d1b = (depth(d) for d in depths)
  b0 = conv2d(net, d0a, 1, f'{scope}/Branch_0/Conv2d_0a_1x1', hp,
              kernel_initializer=_trunc_normal(0.09))
  b0 = conv2d(b0, d0b, 3, f'{scope}/Branch_0/Conv2d_1a_3x3', hp, stride=2)
  b1 = conv2d(net, d1a, 1, f'{scope}/Branch_1/Conv2d_0a_1x1', hp,
              kernel_initializer=_trunc_normal(0.09))
  b1 = conv2d(b1, d1b, 3, f'{scope}/Branch_1/Conv2d_0b_3x3', hp)
  b1 = conv2d(b1, d1b, 3, f'{scope}/Branch_1/Conv2d_1a_3x3', hp, stride=2)
  b2 = max_pool2d(net, 3, f'{scope}/Branch_2/MaxPool_1a_3x3', stride=2, padding='SAME')
  return concat([b0, b1, b2], f'{scope}/concat')


def _separable_conv2d(x, filters, kernel_size, scope, hp, *, depth_multiplier, stride):
  """slim.separable_conv2d as inception_v2 uses it: biases, no batch norm.

  slim's inception arg_scope neither normalises nor regularises separable
  convolutions, so this layer has `depthwise_weights`, `pointwise_weights`
  and `biases`, and no weight decay.
  """
  x = keras.layers.SeparableConv2D(
      filters, kernel_size, strides=stride, padding='same',
      depth_multiplier=depth_multiplier, use_bias=True,
      depthwise_initializer=_trunc_normal(1.0), pointwise_initializer=_trunc_normal(1.0),
      name=layers.layer_name(scope))(x)
  return layers.activation(x, scope, hp.activation)


def inception_v2_base(inputs, final_endpoint: str = 'Mixed_5c', min_depth: int = 16,
                      depth_multiplier: float = 1.0, use_separable_conv: bool = True,
                      data_format: str = 'NHWC', include_root_block: bool = True,
                      scope: Optional[str] = None,
                      hparams: Optional[ConvHParams] = None):
  """Inception V2 from the input to `final_endpoint` (one of `END_POINTS`).

  Args:
    inputs: NHWC Keras tensor.
    final_endpoint: the end point to stop at.
    min_depth: minimum channels of every conv (active when depth_multiplier < 1).
    depth_multiplier: multiplier on every conv's channels.
    use_separable_conv: a separable 7 x 7 first layer (slim's default and the
      released checkpoint) rather than a plain convolution with batch norm.
    data_format: 'NHWC' only (Keras layers here are channels-last).
    include_root_block: build the convolutions and pools before Mixed_3b;
      without them the network starts at Mixed_3b and their end points do not
      exist.
    scope: root scope, 'InceptionV2' by default.
    hparams: slim's arg_scope values; `INCEPTION_V2_HPARAMS` by default.

  Returns:
    (net, end_points) with slim's end_point names.

  Raises:
    ValueError: for an unknown (or, without the root block, unavailable)
      final_endpoint, depth_multiplier <= 0 or a data_format other than NHWC.
  """
  if data_format != 'NHWC':
    raise ValueError("Only data_format='NHWC' is supported; Keras layers here are "
                     f'channels-last. Received: data_format={data_format!r}')
  depth = inception_utils.depth_fn(min_depth, depth_multiplier)
  valid = END_POINTS if include_root_block else END_POINTS[len(ROOT_END_POINTS):]
  if final_endpoint not in valid:
    raise ValueError(f'Unknown final_endpoint {final_endpoint!r} (include_root_block='
                     f'{include_root_block}). Expected one of {list(valid)}.')
  hp = hparams or INCEPTION_V2_HPARAMS
  scope = scope or 'InceptionV2'
  end_points = {}

  def done(name, net):
    end_points[name] = net
    return name == final_endpoint

  net = inputs
  if include_root_block:
    # 224 x 224 x 3
    s = f'{scope}/Conv2d_1a_7x7'
    if use_separable_conv:
      # The depthwise multiplier keeps in_channels * multiplier <= out_channels,
      # so the separable convolution is not over-parameterised.
      net = _separable_conv2d(net, depth(64), 7, s, hp,
                              depth_multiplier=min(int(depth(64) / 3), 8), stride=2)
    else:
      net = conv2d(net, depth(64), 7, s, hp, stride=2, kernel_initializer=_trunc_normal(1.0))
    if done('Conv2d_1a_7x7', net): return net, end_points
    # 112 x 112 x 64
    net = max_pool2d(net, 3, f'{scope}/MaxPool_2a_3x3', stride=2, padding='SAME')
    if done('MaxPool_2a_3x3', net): return net, end_points
    # 56 x 56 x 64
    net = conv2d(net, depth(64), 1, f'{scope}/Conv2d_2b_1x1', hp,
                 kernel_initializer=_trunc_normal(0.1))
    if done('Conv2d_2b_1x1', net): return net, end_points
    net = conv2d(net, depth(192), 3, f'{scope}/Conv2d_2c_3x3', hp)
    if done('Conv2d_2c_3x3', net): return net, end_points
    # 56 x 56 x 192
    net = max_pool2d(net, 3, f'{scope}/MaxPool_3a_3x3', stride=2, padding='SAME')
    if done('MaxPool_3a_3x3', net): return net, end_points

  # 28 x 28 x 192 -> 28 x 28 x 320 -> 14 x 14 x 576 -> 7 x 7 x 1024
  for kind, name, depths, *pool in _BLOCKS:
    if kind == 'reduction':
      net = _reduction(net, f'{scope}/{name}', depths, depth, hp)
    else:
      net = _inception_module(net, f'{scope}/{name}', depths, pool[0], depth, hp)
    if done(name, net): return net, end_points
  raise AssertionError('unreachable')  # final_endpoint was validated above.


@register_network('inception_v2', default_image_size=224, hparams=INCEPTION_V2_HPARAMS,
                  checkpoint_url=CHECKPOINT_URL, top1=73.9, top5=91.8)
def inception_v2(inputs, num_classes: int = 1000, is_training: Optional[bool] = True,
                 dropout_keep_prob: float = 0.8, min_depth: int = 16,
                 depth_multiplier: float = 1.0, prediction_fn: Optional[Callable] = None,
                 spatial_squeeze: bool = True, reuse=None, scope: str = 'InceptionV2',
                 global_pool: bool = False,
                 hparams: Optional[ConvHParams] = None) -> Tuple:
  """Inception V2 classifier, as slim's `inception_v2`.

  Args:
    inputs: NHWC Keras tensor (224 x 224 by default).
    num_classes: logits width; 0 or None returns the pooled features.
    is_training: batch norm / dropout mode; None defers it to the `training`
      argument of the Keras model call.
    dropout_keep_prob: keep probability before the logits.
    min_depth, depth_multiplier: see `inception_v2_base`.
    prediction_fn: maps logits to predictions; softmax by default.
    spatial_squeeze: logits [B, C] rather than [B, 1, 1, C].
    reuse: accepted for slim compatibility; weights are shared by reusing the
      Keras model.
    scope: root scope of every variable.
    global_pool: global average pooling instead of a 7 x 7 average pool
      (reduced for small inputs).
    hparams: slim's arg_scope values (`INCEPTION_V2_HPARAMS` by default).

  Returns:
    (logits, end_points).

  Raises:
    ValueError: if depth_multiplier <= 0.
  """
  del reuse
  hp = (hparams or INCEPTION_V2_HPARAMS).replace(is_training=is_training)
  net, end_points = inception_v2_base(inputs, min_depth=min_depth,
                                      depth_multiplier=depth_multiplier, scope=scope,
                                      hparams=hp)
  # 7 x 7 x 1024 -> 1 x 1 x 1024 -> num_classes
  return inception_utils.conv_logits(
      net, end_points, scope, hp, num_classes=num_classes, pool_size=7,
      global_pool=global_pool, dropout_keep_prob=dropout_keep_prob,
      spatial_squeeze=spatial_squeeze, prediction_fn=prediction_fn)


inception_v2.default_image_size = 224
