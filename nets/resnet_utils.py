"""What ResNet v1 and v2 share: block tables, `conv2d_same`, `subsample`, dense stacking.

Mirrors slim's `nets/resnet_utils.py`. A ResNet is a list of `Block`s, each a
scope (`block1` ...), a unit function (slim's `bottleneck` of v1 or v2) and one
argument dict per unit (`depth`, `depth_bottleneck`, `stride`).
`stack_blocks_dense` creates the `<block>/unit_<i>` scopes and, for
`output_stride`, trades strides for atrous rates, exactly as slim does.
"""

import collections
from typing import Callable, Dict, List, Optional, Sequence

import keras

from . import layers
from .layers import ConvHParams, conv2d, max_pool2d

# slim's resnet_arg_scope: He-initialised convs with L2 0.0001, batch norm with
# decay 0.997, epsilon 1e-5 and a learned gamma, relu; pool1 uses 'SAME'.
RESNET_HPARAMS = ConvHParams(weight_decay=0.0001, batch_norm_decay=0.997,
                             batch_norm_epsilon=1e-5, batch_norm_scale=True,
                             activation='relu')

# Units per block of the bottleneck ResNets (block1 .. block4).
UNITS_PER_BLOCK = {
    50: (3, 4, 6, 3),
    101: (3, 4, 23, 3),
    152: (3, 8, 36, 3),
    200: (3, 24, 36, 3),
}
# Bottleneck depth and stride of block1 .. block4.
_BASE_DEPTHS = (64, 128, 256, 512)
_BLOCK_STRIDES = (2, 2, 2, 1)


class Block(collections.namedtuple('Block', ['scope', 'unit_fn', 'args'])):
  """A ResNet block: `scope`, `unit_fn(net, scope, hp, rate=..., **unit)` and one
  dict of unit arguments per unit."""


def bottleneck_block(scope: str, unit_fn: Callable, base_depth: int, num_units: int,
                     stride: int) -> Block:
  """slim's `resnet_v{1,2}_block`: `num_units` bottlenecks, the stride in the last one."""
  unit = {'depth': base_depth * 4, 'depth_bottleneck': base_depth, 'stride': 1}
  return Block(scope, unit_fn, [dict(unit)] * (num_units - 1) + [dict(unit, stride=stride)])


def bottleneck_blocks(depth: int, unit_fn: Callable, min_base_depth: int = 8,
                      depth_multiplier: float = 1.0) -> List[Block]:
  """The four blocks of ResNet-`depth` (50, 101, 152 or 200).

  Raises:
    ValueError: for another depth or a non-positive depth_multiplier.
  """
  if depth not in UNITS_PER_BLOCK:
    raise ValueError(f'Unknown ResNet depth {depth}. Expected one of '
                     f'{sorted(UNITS_PER_BLOCK)}.')
  if depth_multiplier <= 0:
    raise ValueError('depth_multiplier must be greater than zero. '
                     f'Received: depth_multiplier={depth_multiplier}')
  base = lambda d: max(int(d * depth_multiplier), min_base_depth)
  return [bottleneck_block(f'block{i + 1}', unit_fn, base(d), n, s)
          for i, (d, n, s) in enumerate(zip(_BASE_DEPTHS, UNITS_PER_BLOCK[depth],
                                            _BLOCK_STRIDES))]


def subsample(x, factor: int, scope: str):
  """slim's `subsample`: a 1 x 1 max pool with stride `factor` (identity for 1)."""
  if factor == 1:
    return x
  return max_pool2d(x, 1, scope, stride=factor, padding='SAME')


def conv2d_same(x, filters: int, kernel_size: int, stride: int, scope: str, hp: ConvHParams,
                rate: int = 1, **conv_kwargs):
  """slim's `conv2d_same`: 'SAME' output size, independent of the input's parity.

  With stride > 1 the input is zero-padded explicitly (the `<scope>/Pad` layer)
  by (k_eff - 1) // 2 before and the rest after, then convolved 'VALID'; a
  strided 'SAME' convolution would pad differently for even inputs.
  """
  if stride == 1:
    return conv2d(x, filters, kernel_size, scope, hp, rate=rate, padding='SAME', **conv_kwargs)
  effective = kernel_size + (kernel_size - 1) * (rate - 1)
  begin = (effective - 1) // 2
  end = effective - 1 - begin
  x = keras.layers.ZeroPadding2D(((begin, end), (begin, end)),
                                 name=layers.layer_name(f'{scope}/Pad'))(x)
  return conv2d(x, filters, kernel_size, scope, hp, stride=stride, rate=rate,
                padding='VALID', **conv_kwargs)


def stack_blocks_dense(net, blocks: Sequence[Block], scope: str, hp: ConvHParams,
                       end_points: Dict, output_stride: Optional[int] = None,
                       store_non_strided_activations: bool = False):
  """slim's `stack_blocks_dense`: runs the blocks under `<scope>/<block>/unit_<i>`.

  Args:
    net: NHWC input.
    blocks: the `Block`s.
    scope: the network scope the block scopes sit in.
    hp: the family's hyper-parameters.
    end_points: dict the block outputs (`<scope>/<block>`) are added to; the
      units add their own.
    output_stride: None for the nominal stride, else the wanted ratio of input
      to output resolution (of this stack); strides past it become atrous rates.
    store_non_strided_activations: move each block's stride after the block,
      so its end_point holds the non-strided activations.

  Returns:
    The output tensor.

  Raises:
    ValueError: if `output_stride` cannot be reached.
  """
  current_stride = 1
  rate = 1
  for block in blocks:
    block_scope = f'{scope}/{block.scope}'
    block_stride = 1
    for i, unit in enumerate(block.args):
      if store_non_strided_activations and i == len(block.args) - 1:
        block_stride = unit.get('stride', 1)
        unit = dict(unit, stride=1)
      unit_scope = f'{block_scope}/unit_{i + 1}'
      if output_stride is not None and current_stride == output_stride:
        net = block.unit_fn(net, unit_scope, hp, rate=rate, end_points=end_points,
                            **dict(unit, stride=1))
        rate *= unit.get('stride', 1)
      else:
        net = block.unit_fn(net, unit_scope, hp, rate=1, end_points=end_points, **unit)
        current_stride *= unit.get('stride', 1)
        if output_stride is not None and current_stride > output_stride:
          raise ValueError(f'The target output_stride {output_stride} cannot be reached.')
    end_points[block_scope] = net
    # Subsampling moved out of the block's last unit (store_non_strided_activations).
    if output_stride is not None and current_stride == output_stride:
      rate *= block_stride
    else:
      net = subsample(net, block_stride, f'{block_scope}/subsample')
      current_stride *= block_stride
      if output_stride is not None and current_stride > output_stride:
        raise ValueError(f'The target output_stride {output_stride} cannot be reached.')
  if output_stride is not None and current_stride != output_stride:
    raise ValueError(f'The target output_stride {output_stride} cannot be reached.')
  return net


def root_output_stride(output_stride: Optional[int]) -> Optional[int]:
  """The output_stride left for the blocks after the stride-4 root (conv1 + pool1).

  Raises:
    ValueError: if `output_stride` is not a multiple of 4.
  """
  if output_stride is None:
    return None
  if output_stride % 4 != 0:
    raise ValueError('The output_stride needs to be a multiple of 4. '
                     f'Received: output_stride={output_stride}')
  return output_stride // 4


def classifier_head(net, num_classes: Optional[int], scope: str, hp: ConvHParams,
                    end_points: Dict, global_pool: bool, spatial_squeeze: bool):
  """The ResNet head: global pool, 1 x 1 `logits` conv, squeeze and `predictions`."""
  if global_pool:
    net = layers.global_pool(net, f'{scope}/pool5')
    end_points['global_pool'] = net
  if not num_classes:
    return net
  net = conv2d(net, num_classes, 1, f'{scope}/logits', hp, normalize=False, activation_fn=None)
  end_points[f'{scope}/logits'] = net
  if spatial_squeeze:
    h, w = layers.static_spatial_shape(net)
    if (h, w) != (1, 1):
      raise ValueError('spatial_squeeze needs 1 x 1 logits; pass global_pool=True or '
                       f'spatial_squeeze=False. Received: logits of spatial shape {(h, w)}')
    net = layers.flatten(net, f'{scope}/SpatialSqueeze')
    end_points[f'{scope}/spatial_squeeze'] = net
  end_points['predictions'] = layers.softmax(net, f'{scope}/predictions')
  return net
