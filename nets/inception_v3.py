"""Inception V3 (Szegedy et al., "Rethinking the Inception Architecture for
Computer Vision", https://arxiv.org/abs/1512.00567).

Mirrors slim's `nets/inception_v3.py`: same builder arguments and defaults,
same end_points and the same checkpoint variable names, so slim's released
`inception_v3_2016_08_28.ckpt` restores as it is.
Published (slim, 299 x 299, 1001 classes): top-1 78.0, top-5 93.9.
"""

from typing import Callable, Optional, Tuple

from . import inception_utils
from . import initializers
from . import layers
from .layers import ConvHParams, avg_pool2d, concat, conv2d, max_pool2d
from .nets_factory import register_network

# slim's inception arg_scope, shared by Inception v1-v4.
INCEPTION_HPARAMS = inception_utils.INCEPTION_HPARAMS

CHECKPOINT_URL = 'http://download.tensorflow.org/models/inception_v3_2016_08_28.tar.gz'

# Mixed_5b..5d: (Branch_3 depth, Branch_1 conv names). Mixed_5c's Branch_1 scope
# names are slim's own (`Conv2d_0b_1x1`, `Conv_1_0c_5x5`), kept for its checkpoints.
_BLOCKS_35 = (
    ('Mixed_5b', 32, ('Conv2d_0a_1x1', 'Conv2d_0b_5x5')),
    ('Mixed_5c', 64, ('Conv2d_0b_1x1', 'Conv_1_0c_5x5')),
    ('Mixed_5d', 64, ('Conv2d_0a_1x1', 'Conv2d_0b_5x5')),
)
# Mixed_6b..6e: depth of the factorized 7x7 towers.
_BLOCKS_17 = (('Mixed_6b', 128), ('Mixed_6c', 160), ('Mixed_6d', 160), ('Mixed_6e', 192))
# Mixed_7b, 7c: name of Branch_1's 3x1 conv.
_BLOCKS_8 = (('Mixed_7b', 'Conv2d_0b_3x1'), ('Mixed_7c', 'Conv2d_0c_3x1'))

END_POINTS = ('Conv2d_1a_3x3', 'Conv2d_2a_3x3', 'Conv2d_2b_3x3', 'MaxPool_3a_3x3',
              'Conv2d_3b_1x1', 'Conv2d_4a_3x3', 'MaxPool_5a_3x3', 'Mixed_5b', 'Mixed_5c',
              'Mixed_5d', 'Mixed_6a', 'Mixed_6b', 'Mixed_6c', 'Mixed_6d', 'Mixed_6e',
              'Mixed_7a', 'Mixed_7b', 'Mixed_7c')


def _block_35(net, scope, pool_depth, branch_1_names, depth, hp):
  b0 = conv2d(net, depth(64), 1, f'{scope}/Branch_0/Conv2d_0a_1x1', hp)
  b1 = conv2d(net, depth(48), 1, f'{scope}/Branch_1/{branch_1_names[0]}', hp)
  b1 = conv2d(b1, depth(64), 5, f'{scope}/Branch_1/{branch_1_names[1]}', hp)
  b2 = conv2d(net, depth(64), 1, f'{scope}/Branch_2/Conv2d_0a_1x1', hp)
  b2 = conv2d(b2, depth(96), 3, f'{scope}/Branch_2/Conv2d_0b_3x3', hp)
  b2 = conv2d(b2, depth(96), 3, f'{scope}/Branch_2/Conv2d_0c_3x3', hp)
  b3 = avg_pool2d(net, 3, f'{scope}/Branch_3/AvgPool_0a_3x3', stride=1, padding='SAME')
  b3 = conv2d(b3, depth(pool_depth), 1, f'{scope}/Branch_3/Conv2d_0b_1x1', hp)
  return concat([b0, b1, b2, b3], f'{scope}/concat')


def _reduction_6a(net, scope, depth, hp):
  b0 = conv2d(net, depth(384), 3, f'{scope}/Branch_0/Conv2d_1a_1x1', hp, stride=2,
              padding='VALID')
  b1 = conv2d(net, depth(64), 1, f'{scope}/Branch_1/Conv2d_0a_1x1', hp)
  b1 = conv2d(b1, depth(96), 3, f'{scope}/Branch_1/Conv2d_0b_3x3', hp)
  b1 = conv2d(b1, depth(96), 3, f'{scope}/Branch_1/Conv2d_1a_1x1', hp, stride=2,
              padding='VALID')
  b2 = max_pool2d(net, 3, f'{scope}/Branch_2/MaxPool_1a_3x3', stride=2, padding='VALID')
  return concat([b0, b1, b2], f'{scope}/concat')


def _block_17(net, scope, mid, depth, hp):
  b0 = conv2d(net, depth(192), 1, f'{scope}/Branch_0/Conv2d_0a_1x1', hp)
  b1 = conv2d(net, depth(mid), 1, f'{scope}/Branch_1/Conv2d_0a_1x1', hp)
  b1 = conv2d(b1, depth(mid), (1, 7), f'{scope}/Branch_1/Conv2d_0b_1x7', hp)
  b1 = conv2d(b1, depth(192), (7, 1), f'{scope}/Branch_1/Conv2d_0c_7x1', hp)
  b2 = conv2d(net, depth(mid), 1, f'{scope}/Branch_2/Conv2d_0a_1x1', hp)
  b2 = conv2d(b2, depth(mid), (7, 1), f'{scope}/Branch_2/Conv2d_0b_7x1', hp)
  b2 = conv2d(b2, depth(mid), (1, 7), f'{scope}/Branch_2/Conv2d_0c_1x7', hp)
  b2 = conv2d(b2, depth(mid), (7, 1), f'{scope}/Branch_2/Conv2d_0d_7x1', hp)
  b2 = conv2d(b2, depth(192), (1, 7), f'{scope}/Branch_2/Conv2d_0e_1x7', hp)
  b3 = avg_pool2d(net, 3, f'{scope}/Branch_3/AvgPool_0a_3x3', stride=1, padding='SAME')
  b3 = conv2d(b3, depth(192), 1, f'{scope}/Branch_3/Conv2d_0b_1x1', hp)
  return concat([b0, b1, b2, b3], f'{scope}/concat')


def _reduction_7a(net, scope, depth, hp):
  b0 = conv2d(net, depth(192), 1, f'{scope}/Branch_0/Conv2d_0a_1x1', hp)
  b0 = conv2d(b0, depth(320), 3, f'{scope}/Branch_0/Conv2d_1a_3x3', hp, stride=2,
              padding='VALID')
  b1 = conv2d(net, depth(192), 1, f'{scope}/Branch_1/Conv2d_0a_1x1', hp)
  b1 = conv2d(b1, depth(192), (1, 7), f'{scope}/Branch_1/Conv2d_0b_1x7', hp)
  b1 = conv2d(b1, depth(192), (7, 1), f'{scope}/Branch_1/Conv2d_0c_7x1', hp)
  b1 = conv2d(b1, depth(192), 3, f'{scope}/Branch_1/Conv2d_1a_3x3', hp, stride=2,
              padding='VALID')
  b2 = max_pool2d(net, 3, f'{scope}/Branch_2/MaxPool_1a_3x3', stride=2, padding='VALID')
  return concat([b0, b1, b2], f'{scope}/concat')


def _block_8(net, scope, branch_1_3x1, depth, hp):
  b0 = conv2d(net, depth(320), 1, f'{scope}/Branch_0/Conv2d_0a_1x1', hp)
  b1 = conv2d(net, depth(384), 1, f'{scope}/Branch_1/Conv2d_0a_1x1', hp)
  b1 = concat([conv2d(b1, depth(384), (1, 3), f'{scope}/Branch_1/Conv2d_0b_1x3', hp),
               conv2d(b1, depth(384), (3, 1), f'{scope}/Branch_1/{branch_1_3x1}', hp)],
              f'{scope}/Branch_1/concat')
  b2 = conv2d(net, depth(448), 1, f'{scope}/Branch_2/Conv2d_0a_1x1', hp)
  b2 = conv2d(b2, depth(384), 3, f'{scope}/Branch_2/Conv2d_0b_3x3', hp)
  b2 = concat([conv2d(b2, depth(384), (1, 3), f'{scope}/Branch_2/Conv2d_0c_1x3', hp),
               conv2d(b2, depth(384), (3, 1), f'{scope}/Branch_2/Conv2d_0d_3x1', hp)],
              f'{scope}/Branch_2/concat')
  b3 = avg_pool2d(net, 3, f'{scope}/Branch_3/AvgPool_0a_3x3', stride=1, padding='SAME')
  b3 = conv2d(b3, depth(192), 1, f'{scope}/Branch_3/Conv2d_0b_1x1', hp)
  return concat([b0, b1, b2, b3], f'{scope}/concat')


def inception_v3_base(inputs, final_endpoint: str = 'Mixed_7c', min_depth: int = 16,
                      depth_multiplier: float = 1.0, scope: Optional[str] = None,
                      hparams: Optional[ConvHParams] = None):
  """Inception V3 from the input to `final_endpoint` (one of `END_POINTS`).

  Args:
    inputs: NHWC Keras tensor.
    final_endpoint: the end point to stop at.
    min_depth: minimum channels of every conv (active when depth_multiplier < 1).
    depth_multiplier: multiplier on every conv's channels.
    scope: root scope, 'InceptionV3' by default.
    hparams: slim's arg_scope values; `INCEPTION_HPARAMS` by default.

  Returns:
    (net, end_points) with slim's end_point names.

  Raises:
    ValueError: for an unknown final_endpoint or depth_multiplier <= 0.
  """
  if final_endpoint not in END_POINTS:
    raise ValueError(f'Unknown final_endpoint {final_endpoint!r}. Expected one of '
                     f'{list(END_POINTS)}.')
  hp = hparams or INCEPTION_HPARAMS
  depth = inception_utils.depth_fn(min_depth, depth_multiplier)
  scope = scope or 'InceptionV3'
  end_points = {}

  def done(name, net):
    end_points[name] = net
    return name == final_endpoint

  # 299 x 299 x 3
  net = conv2d(inputs, depth(32), 3, f'{scope}/Conv2d_1a_3x3', hp, stride=2, padding='VALID')
  if done('Conv2d_1a_3x3', net): return net, end_points
  # 149 x 149 x 32
  net = conv2d(net, depth(32), 3, f'{scope}/Conv2d_2a_3x3', hp, padding='VALID')
  if done('Conv2d_2a_3x3', net): return net, end_points
  # 147 x 147 x 32
  net = conv2d(net, depth(64), 3, f'{scope}/Conv2d_2b_3x3', hp, padding='SAME')
  if done('Conv2d_2b_3x3', net): return net, end_points
  # 147 x 147 x 64
  net = max_pool2d(net, 3, f'{scope}/MaxPool_3a_3x3', stride=2, padding='VALID')
  if done('MaxPool_3a_3x3', net): return net, end_points
  # 73 x 73 x 64
  net = conv2d(net, depth(80), 1, f'{scope}/Conv2d_3b_1x1', hp, padding='VALID')
  if done('Conv2d_3b_1x1', net): return net, end_points
  # 73 x 73 x 80
  net = conv2d(net, depth(192), 3, f'{scope}/Conv2d_4a_3x3', hp, padding='VALID')
  if done('Conv2d_4a_3x3', net): return net, end_points
  # 71 x 71 x 192
  net = max_pool2d(net, 3, f'{scope}/MaxPool_5a_3x3', stride=2, padding='VALID')
  if done('MaxPool_5a_3x3', net): return net, end_points

  # 35 x 35 x 192 -> 35 x 35 x 256 / 288 / 288
  for name, pool_depth, branch_1_names in _BLOCKS_35:
    net = _block_35(net, f'{scope}/{name}', pool_depth, branch_1_names, depth, hp)
    if done(name, net): return net, end_points
  # 17 x 17 x 768
  net = _reduction_6a(net, f'{scope}/Mixed_6a', depth, hp)
  if done('Mixed_6a', net): return net, end_points
  for name, mid in _BLOCKS_17:
    net = _block_17(net, f'{scope}/{name}', mid, depth, hp)
    if done(name, net): return net, end_points
  # 8 x 8 x 1280
  net = _reduction_7a(net, f'{scope}/Mixed_7a', depth, hp)
  if done('Mixed_7a', net): return net, end_points
  # 8 x 8 x 2048
  for name, branch_1_3x1 in _BLOCKS_8:
    net = _block_8(net, f'{scope}/{name}', branch_1_3x1, depth, hp)
    if done(name, net): return net, end_points
  raise AssertionError('unreachable')  # final_endpoint was validated above.


def _aux_logits(net, num_classes, scope, depth, hp, spatial_squeeze):
  # 17 x 17 x 768 -> 5 x 5 x 768 -> 1 x 1 x num_classes
  aux = avg_pool2d(net, 5, f'{scope}/AvgPool_1a_5x5', stride=3, padding='VALID')
  aux = conv2d(aux, depth(128), 1, f'{scope}/Conv2d_1b_1x1', hp)
  kernel = layers.reduced_kernel_size_for_small_input(aux, (5, 5))
  aux = conv2d(aux, depth(768), kernel, f'{scope}/Conv2d_2a_{kernel[0]}x{kernel[1]}', hp,
               padding='VALID', kernel_initializer=_truncated_normal(0.01), reduced_from=5)
  aux = conv2d(aux, num_classes, 1, f'{scope}/Conv2d_2b_1x1', hp, normalize=False,
               activation_fn=None, kernel_initializer=_truncated_normal(0.001))
  if spatial_squeeze:
    aux = layers.flatten(aux, f'{scope}/SpatialSqueeze')
  return aux


def _truncated_normal(stddev):
  return initializers.TruncatedNormal(stddev=stddev)


@register_network('inception_v3', default_image_size=299, hparams=INCEPTION_HPARAMS,
                  checkpoint_url=CHECKPOINT_URL, top1=78.0, top5=93.9)
def inception_v3(inputs, num_classes: int = 1000, is_training: Optional[bool] = True,
                 dropout_keep_prob: float = 0.8, min_depth: int = 16,
                 depth_multiplier: float = 1.0, prediction_fn: Optional[Callable] = None,
                 spatial_squeeze: bool = True, reuse=None, create_aux_logits: bool = True,
                 scope: str = 'InceptionV3', global_pool: bool = False,
                 hparams: Optional[ConvHParams] = None) -> Tuple:
  """Inception V3 classifier, as slim's `inception_v3`.

  Args:
    inputs: NHWC Keras tensor (299 x 299 by default).
    num_classes: logits width; 0 or None returns the pooled features.
    is_training: batch norm / dropout mode; None defers it to the `training`
      argument of the Keras model call.
    dropout_keep_prob: keep probability before the logits.
    min_depth, depth_multiplier: see `inception_v3_base`.
    prediction_fn: maps logits to predictions; softmax by default.
    spatial_squeeze: logits [B, C] rather than [B, 1, 1, C].
    reuse: accepted for slim compatibility; weights are shared by reusing the
      Keras model.
    create_aux_logits: build the auxiliary head on Mixed_6e.
    scope: root scope of every variable.
    global_pool: global average pooling instead of an 8 x 8 average pool.
    hparams: slim's arg_scope values (`INCEPTION_HPARAMS` by default).

  Returns:
    (logits, end_points).
  """
  del reuse
  hp = (hparams or INCEPTION_HPARAMS).replace(is_training=is_training)
  depth = inception_utils.depth_fn(min_depth, depth_multiplier)
  net, end_points = inception_v3_base(inputs, min_depth=min_depth,
                                      depth_multiplier=depth_multiplier, scope=scope,
                                      hparams=hp)
  if create_aux_logits and num_classes:
    end_points['AuxLogits'] = _aux_logits(end_points['Mixed_6e'], num_classes,
                                          f'{scope}/AuxLogits', depth, hp, spatial_squeeze)
  # 8 x 8 x 2048 -> 1 x 1 x 2048 -> num_classes
  return inception_utils.conv_logits(
      net, end_points, scope, hp, num_classes=num_classes, pool_size=8,
      global_pool=global_pool, dropout_keep_prob=dropout_keep_prob,
      spatial_squeeze=spatial_squeeze, prediction_fn=prediction_fn)


inception_v3.default_image_size = 299
