"""Inception V4 (Szegedy et al., "Inception-v4, Inception-ResNet and the Impact
of Residual Connections on Learning", https://arxiv.org/abs/1602.07261).

Mirrors slim's `nets/inception_v4.py`: same builder arguments and defaults,
same end_points and the same checkpoint variable names, so slim's released
`inception_v4_2016_09_09.ckpt` restores as it is.
Published (slim, 299 x 299, 1001 classes): top-1 80.2, top-5 95.2.
"""

from typing import Optional, Tuple

from . import inception_utils
from . import layers
from .layers import ConvHParams, avg_pool2d, concat, conv2d, max_pool2d
from .nets_factory import register_network

# slim's inception arg_scope, shared by Inception v1-v4.
INCEPTION_V4_HPARAMS = inception_utils.INCEPTION_HPARAMS

CHECKPOINT_URL = 'http://download.tensorflow.org/models/inception_v4_2016_09_09.tar.gz'

# The Inception-A, -B and -C stages: (end point prefix, number of blocks); a
# stage's blocks are `<prefix>b`, `<prefix>c`, ...
_STAGES = (('Mixed_5', 4), ('Mixed_6', 7), ('Mixed_7', 3))

END_POINTS = ('Conv2d_1a_3x3', 'Conv2d_2a_3x3', 'Conv2d_2b_3x3', 'Mixed_3a', 'Mixed_4a',
              'Mixed_5a', 'Mixed_5b', 'Mixed_5c', 'Mixed_5d', 'Mixed_5e', 'Mixed_6a',
              'Mixed_6b', 'Mixed_6c', 'Mixed_6d', 'Mixed_6e', 'Mixed_6f', 'Mixed_6g',
              'Mixed_6h', 'Mixed_7a', 'Mixed_7b', 'Mixed_7c', 'Mixed_7d')


def _avg_pool_branch(net, depth, scope, hp):
  b = avg_pool2d(net, 3, f'{scope}/AvgPool_0a_3x3', stride=1, padding='SAME')
  return conv2d(b, depth, 1, f'{scope}/Conv2d_0b_1x1', hp)


def block_inception_a(net, scope, hp):
  """Inception-A, 35 x 35 x 384 -> 35 x 35 x 384."""
  b0 = conv2d(net, 96, 1, f'{scope}/Branch_0/Conv2d_0a_1x1', hp)
  b1 = conv2d(net, 64, 1, f'{scope}/Branch_1/Conv2d_0a_1x1', hp)
  b1 = conv2d(b1, 96, 3, f'{scope}/Branch_1/Conv2d_0b_3x3', hp)
  b2 = conv2d(net, 64, 1, f'{scope}/Branch_2/Conv2d_0a_1x1', hp)
  b2 = conv2d(b2, 96, 3, f'{scope}/Branch_2/Conv2d_0b_3x3', hp)
  b2 = conv2d(b2, 96, 3, f'{scope}/Branch_2/Conv2d_0c_3x3', hp)
  b3 = _avg_pool_branch(net, 96, f'{scope}/Branch_3', hp)
  return concat([b0, b1, b2, b3], f'{scope}/concat')


def block_reduction_a(net, scope, hp):
  """Reduction-A, 35 x 35 x 384 -> 17 x 17 x 1024."""
  b0 = conv2d(net, 384, 3, f'{scope}/Branch_0/Conv2d_1a_3x3', hp, stride=2, padding='VALID')
  b1 = conv2d(net, 192, 1, f'{scope}/Branch_1/Conv2d_0a_1x1', hp)
  b1 = conv2d(b1, 224, 3, f'{scope}/Branch_1/Conv2d_0b_3x3', hp)
  b1 = conv2d(b1, 256, 3, f'{scope}/Branch_1/Conv2d_1a_3x3', hp, stride=2, padding='VALID')
  b2 = max_pool2d(net, 3, f'{scope}/Branch_2/MaxPool_1a_3x3', stride=2, padding='VALID')
  return concat([b0, b1, b2], f'{scope}/concat')


def block_inception_b(net, scope, hp):
  """Inception-B, 17 x 17 x 1024 -> 17 x 17 x 1024."""
  b0 = conv2d(net, 384, 1, f'{scope}/Branch_0/Conv2d_0a_1x1', hp)
  b1 = conv2d(net, 192, 1, f'{scope}/Branch_1/Conv2d_0a_1x1', hp)
  b1 = conv2d(b1, 224, (1, 7), f'{scope}/Branch_1/Conv2d_0b_1x7', hp)
  b1 = conv2d(b1, 256, (7, 1), f'{scope}/Branch_1/Conv2d_0c_7x1', hp)
  b2 = conv2d(net, 192, 1, f'{scope}/Branch_2/Conv2d_0a_1x1', hp)
  b2 = conv2d(b2, 192, (7, 1), f'{scope}/Branch_2/Conv2d_0b_7x1', hp)
  b2 = conv2d(b2, 224, (1, 7), f'{scope}/Branch_2/Conv2d_0c_1x7', hp)
  b2 = conv2d(b2, 224, (7, 1), f'{scope}/Branch_2/Conv2d_0d_7x1', hp)
  b2 = conv2d(b2, 256, (1, 7), f'{scope}/Branch_2/Conv2d_0e_1x7', hp)
  b3 = _avg_pool_branch(net, 128, f'{scope}/Branch_3', hp)
  return concat([b0, b1, b2, b3], f'{scope}/concat')


def block_reduction_b(net, scope, hp):
  """Reduction-B, 17 x 17 x 1024 -> 8 x 8 x 1536."""
  b0 = conv2d(net, 192, 1, f'{scope}/Branch_0/Conv2d_0a_1x1', hp)
  b0 = conv2d(b0, 192, 3, f'{scope}/Branch_0/Conv2d_1a_3x3', hp, stride=2, padding='VALID')
  b1 = conv2d(net, 256, 1, f'{scope}/Branch_1/Conv2d_0a_1x1', hp)
  b1 = conv2d(b1, 256, (1, 7), f'{scope}/Branch_1/Conv2d_0b_1x7', hp)
  b1 = conv2d(b1, 320, (7, 1), f'{scope}/Branch_1/Conv2d_0c_7x1', hp)
  b1 = conv2d(b1, 320, 3, f'{scope}/Branch_1/Conv2d_1a_3x3', hp, stride=2, padding='VALID')
  b2 = max_pool2d(net, 3, f'{scope}/Branch_2/MaxPool_1a_3x3', stride=2, padding='VALID')
  return concat([b0, b1, b2], f'{scope}/concat')


def block_inception_c(net, scope, hp):
  """Inception-C, 8 x 8 x 1536 -> 8 x 8 x 1536."""
  b0 = conv2d(net, 256, 1, f'{scope}/Branch_0/Conv2d_0a_1x1', hp)
  b1 = conv2d(net, 384, 1, f'{scope}/Branch_1/Conv2d_0a_1x1', hp)
  b1 = concat([conv2d(b1, 256, (1, 3), f'{scope}/Branch_1/Conv2d_0b_1x3', hp),
               conv2d(b1, 256, (3, 1), f'{scope}/Branch_1/Conv2d_0c_3x1', hp)],
              f'{scope}/Branch_1/concat')
  b2 = conv2d(net, 384, 1, f'{scope}/Branch_2/Conv2d_0a_1x1', hp)
  b2 = conv2d(b2, 448, (3, 1), f'{scope}/Branch_2/Conv2d_0b_3x1', hp)
  b2 = conv2d(b2, 512, (1, 3), f'{scope}/Branch_2/Conv2d_0c_1x3', hp)
  b2 = concat([conv2d(b2, 256, (1, 3), f'{scope}/Branch_2/Conv2d_0d_1x3', hp),
               conv2d(b2, 256, (3, 1), f'{scope}/Branch_2/Conv2d_0e_3x1', hp)],
              f'{scope}/Branch_2/concat')
  b3 = _avg_pool_branch(net, 256, f'{scope}/Branch_3', hp)
  return concat([b0, b1, b2, b3], f'{scope}/concat')


def inception_v4_base(inputs, final_endpoint: str = 'Mixed_7d', scope: Optional[str] = None,
                      hparams: Optional[ConvHParams] = None):
  """Inception V4 from the input to `final_endpoint` (one of `END_POINTS`).

  Args:
    inputs: NHWC Keras tensor.
    final_endpoint: the end point to stop at.
    scope: root scope, 'InceptionV4' by default.
    hparams: slim's arg_scope values; `INCEPTION_V4_HPARAMS` by default.

  Returns:
    (net, end_points) with slim's end_point names.

  Raises:
    ValueError: for an unknown final_endpoint.
  """
  if final_endpoint not in END_POINTS:
    raise ValueError(f'Unknown final_endpoint {final_endpoint!r}. Expected one of '
                     f'{list(END_POINTS)}.')
  hp = hparams or INCEPTION_V4_HPARAMS
  scope = scope or 'InceptionV4'
  end_points = {}

  def done(name, net):
    end_points[name] = net
    return name == final_endpoint

  # 299 x 299 x 3
  net = conv2d(inputs, 32, 3, f'{scope}/Conv2d_1a_3x3', hp, stride=2, padding='VALID')
  if done('Conv2d_1a_3x3', net): return net, end_points
  # 149 x 149 x 32
  net = conv2d(net, 32, 3, f'{scope}/Conv2d_2a_3x3', hp, padding='VALID')
  if done('Conv2d_2a_3x3', net): return net, end_points
  # 147 x 147 x 32
  net = conv2d(net, 64, 3, f'{scope}/Conv2d_2b_3x3', hp)
  if done('Conv2d_2b_3x3', net): return net, end_points

  # 147 x 147 x 64
  s = f'{scope}/Mixed_3a'
  b0 = max_pool2d(net, 3, f'{s}/Branch_0/MaxPool_0a_3x3', stride=2, padding='VALID')
  b1 = conv2d(net, 96, 3, f'{s}/Branch_1/Conv2d_0a_3x3', hp, stride=2, padding='VALID')
  net = concat([b0, b1], f'{s}/concat')
  if done('Mixed_3a', net): return net, end_points

  # 73 x 73 x 160
  s = f'{scope}/Mixed_4a'
  b0 = conv2d(net, 64, 1, f'{s}/Branch_0/Conv2d_0a_1x1', hp)
  b0 = conv2d(b0, 96, 3, f'{s}/Branch_0/Conv2d_1a_3x3', hp, padding='VALID')
  b1 = conv2d(net, 64, 1, f'{s}/Branch_1/Conv2d_0a_1x1', hp)
  b1 = conv2d(b1, 64, (1, 7), f'{s}/Branch_1/Conv2d_0b_1x7', hp)
  b1 = conv2d(b1, 64, (7, 1), f'{s}/Branch_1/Conv2d_0c_7x1', hp)
  b1 = conv2d(b1, 96, 3, f'{s}/Branch_1/Conv2d_1a_3x3', hp, padding='VALID')
  net = concat([b0, b1], f'{s}/concat')
  if done('Mixed_4a', net): return net, end_points

  # 71 x 71 x 192
  s = f'{scope}/Mixed_5a'
  b0 = conv2d(net, 192, 3, f'{s}/Branch_0/Conv2d_1a_3x3', hp, stride=2, padding='VALID')
  b1 = max_pool2d(net, 3, f'{s}/Branch_1/MaxPool_1a_3x3', stride=2, padding='VALID')
  net = concat([b0, b1], f'{s}/concat')
  if done('Mixed_5a', net): return net, end_points

  # 35 x 35 x 384 -> 4 x Inception-A -> Reduction-A -> 17 x 17 x 1024
  # -> 7 x Inception-B -> Reduction-B -> 8 x 8 x 1536 -> 3 x Inception-C
  blocks = (block_inception_a, block_inception_b, block_inception_c)
  reductions = (('Mixed_6a', block_reduction_a), ('Mixed_7a', block_reduction_b), None)
  for (prefix, repeats), block, reduction in zip(_STAGES, blocks, reductions):
    for i in range(repeats):
      name = f'{prefix}{chr(ord("b") + i)}'
      net = block(net, f'{scope}/{name}', hp)
      if done(name, net): return net, end_points
    if reduction is not None:
      name, reduce = reduction
      net = reduce(net, f'{scope}/{name}', hp)
      if done(name, net): return net, end_points
  raise AssertionError('unreachable')  # final_endpoint was validated above.


def _aux_logits(net, num_classes, scope, hp):
  # 17 x 17 x 1024 -> 5 x 5 x 768 -> num_classes
  aux = avg_pool2d(net, 5, f'{scope}/AvgPool_1a_5x5', stride=3, padding='VALID')
  aux = conv2d(aux, 128, 1, f'{scope}/Conv2d_1b_1x1', hp)
  aux = conv2d(aux, 768, _spatial_kernel(aux), f'{scope}/Conv2d_2a', hp, padding='VALID',
               reduced_from=layers.WHOLE_MAP)
  aux = layers.flatten(aux, f'{scope}/Flatten')
  return layers.fully_connected(aux, num_classes, f'{scope}/Aux_logits', hp)


def _spatial_kernel(x):
  h, w = layers.static_spatial_shape(x)
  if h is None or w is None:
    raise ValueError('The auxiliary head needs a static input size; build the model for a '
                     'fixed image_size or pass create_aux_logits=False.')
  return (h, w)


@register_network('inception_v4', default_image_size=299, hparams=INCEPTION_V4_HPARAMS,
                  checkpoint_url=CHECKPOINT_URL, top1=80.2, top5=95.2)
def inception_v4(inputs, num_classes: int = 1001, is_training: Optional[bool] = True,
                 dropout_keep_prob: float = 0.8, reuse=None, scope: str = 'InceptionV4',
                 create_aux_logits: bool = True,
                 hparams: Optional[ConvHParams] = None) -> Tuple:
  """Inception V4 classifier, as slim's `inception_v4`.

  Args:
    inputs: NHWC Keras tensor (299 x 299 by default).
    num_classes: logits width; 0 or None returns the pooled features.
    is_training: batch norm / dropout mode; None defers it to the `training`
      argument of the Keras model call.
    dropout_keep_prob: keep probability before the logits.
    reuse: accepted for slim compatibility; weights are shared by reusing the
      Keras model.
    scope: root scope of every variable.
    create_aux_logits: build the auxiliary head on Mixed_6h.
    hparams: slim's arg_scope values (`INCEPTION_V4_HPARAMS` by default).

  Returns:
    (logits, end_points).
  """
  del reuse
  hp = (hparams or INCEPTION_V4_HPARAMS).replace(is_training=is_training)
  net, end_points = inception_v4_base(inputs, scope=scope, hparams=hp)
  if create_aux_logits and num_classes:
    end_points['AuxLogits'] = _aux_logits(end_points['Mixed_6h'], num_classes,
                                          f'{scope}/AuxLogits', hp)

  # 8 x 8 x 1536 -> 1 x 1 x 1536
  s = f'{scope}/Logits'
  if None in layers.static_spatial_shape(net):
    net = layers.global_pool(net, f'{s}/global_pool')
  else:
    net = avg_pool2d(net, layers.static_spatial_shape(net), f'{s}/AvgPool_1a',
                     padding='VALID', reduced_from=layers.WHOLE_MAP)
  end_points['global_pool'] = net
  if not num_classes:
    return net, end_points
  net = layers.dropout(net, dropout_keep_prob, f'{s}/Dropout_1b', hp)
  net = layers.flatten(net, f'{s}/PreLogitsFlatten')
  end_points['PreLogitsFlatten'] = net
  # 1536
  logits = layers.fully_connected(net, num_classes, f'{s}/Logits', hp)
  end_points['Logits'] = logits
  end_points['Predictions'] = layers.softmax(logits, f'{s}/Predictions')
  return logits, end_points


inception_v4.default_image_size = 299
