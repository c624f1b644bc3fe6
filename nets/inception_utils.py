"""What the Inception v1-v4 families share: slim's `inception_arg_scope`, and the V2 / V3 head."""

from typing import Callable, Optional, Tuple

from . import layers
from .layers import ConvHParams

# slim's inception_arg_scope: weight decay 4e-5, batch norm (decay 0.9997,
# epsilon 0.001, no scale) after every conv, ReLU.
INCEPTION_HPARAMS = ConvHParams(weight_decay=0.00004, batch_norm_decay=0.9997,
                                batch_norm_epsilon=0.001, batch_norm_scale=False,
                                activation='relu')


def depth_fn(min_depth: int, depth_multiplier: float) -> Callable[[int], int]:
  """slim's `depth(d) = max(int(d * depth_multiplier), min_depth)`.

  Raises:
    ValueError: if depth_multiplier <= 0.
  """
  if depth_multiplier <= 0:
    raise ValueError('depth_multiplier must be greater than zero. '
                     f'Received: depth_multiplier={depth_multiplier}')
  return lambda d: max(int(d * depth_multiplier), min_depth)


def conv_logits(net, end_points: dict, scope: str, hp: ConvHParams, *, num_classes: int,
                pool_size: int, global_pool: bool, dropout_keep_prob: float,
                spatial_squeeze: bool, prediction_fn: Optional[Callable]) -> Tuple:
  """The classifier of Inception V2 and V3: pool, dropout, 1x1 conv logits, predictions.

  End points: `AvgPool_1a` (or `global_pool`), `PreLogits`, `Logits`,
  `Predictions`; variables under `<scope>/Logits/Conv2d_1c_1x1`.

  Args:
    net: the last feature map.
    end_points: the base's end points, extended in place.
    scope: the network's root scope.
    hp: the family's hyper-parameters.
    num_classes: logits width; 0 or None stops after the pooling.
    pool_size: the average pool's kernel (reduced for small inputs, as slim).
    global_pool: global average pooling instead of that average pool.
    dropout_keep_prob, spatial_squeeze, prediction_fn: as the builders'.

  Returns:
    (logits, end_points), or (pooled features, end_points) without classes.
  """
  s = f'{scope}/Logits'
  if global_pool:
    net = layers.global_pool(net, f'{s}/global_pool')
    end_points['global_pool'] = net
  else:
    kernel = layers.reduced_kernel_size_for_small_input(net, (pool_size, pool_size))
    net = layers.avg_pool2d(net, kernel, f'{s}/AvgPool_1a_{kernel[0]}x{kernel[1]}', stride=2,
                            padding='VALID', reduced_from=pool_size)
    end_points['AvgPool_1a'] = net
  if not num_classes:
    return net, end_points
  net = layers.dropout(net, dropout_keep_prob, f'{s}/Dropout_1b', hp)
  end_points['PreLogits'] = net
  logits = layers.conv2d(net, num_classes, 1, f'{s}/Conv2d_1c_1x1', hp, normalize=False,
                         activation_fn=None)
  if spatial_squeeze:
    logits = layers.flatten(logits, f'{s}/SpatialSqueeze')
  end_points['Logits'] = logits
  end_points['Predictions'] = (prediction_fn(logits) if prediction_fn is not None
                               else layers.softmax(logits, f'{scope}/Predictions'))
  return logits, end_points
