"""Inception V1 / GoogLeNet (Szegedy et al., "Going Deeper with Convolutions",
https://arxiv.org/abs/1409.4842), with batch norm as in slim.

Mirrors slim's `nets/inception_v1.py`: same builder arguments and defaults,
same end_points and the same checkpoint variable names, so slim's released
`inception_v1_2016_08_28.ckpt` restores as it is.
Published (slim, 224 x 224, 1001 classes): top-1 69.8, top-5 89.6.
"""

from typing import Callable, Optional, Tuple

from . import inception_utils
from . import initializers
from . import layers
from .layers import ConvHParams, avg_pool2d, concat, conv2d, max_pool2d
from .nets_factory import register_network

# slim's inception arg_scope, shared by Inception v1-v4.
INCEPTION_V1_HPARAMS = inception_utils.INCEPTION_HPARAMS

CHECKPOINT_URL = 'http://download.tensorflow.org/models/inception_v1_2016_08_28.tar.gz'

# After the root block: Inception modules given by their branch depths
# (Branch_0 1x1, Branch_1 1x1 -> 3x3, Branch_2 1x1 -> 3x3, Branch_3 pool -> 1x1),
# and the 'SAME' max pools between them (kernel size).
_MODULES = (
    ('Mixed_3b', (64, 96, 128, 16, 32, 32)),
    ('Mixed_3c', (128, 128, 192, 32, 96, 64)),
    ('MaxPool_4a_3x3', 3),
    ('Mixed_4b', (192, 96, 208, 16, 48, 64)),
    ('Mixed_4c', (160, 112, 224, 24, 64, 64)),
    ('Mixed_4d', (128, 128, 256, 24, 64, 64)),
    ('Mixed_4e', (112, 144, 288, 32, 64, 64)),
    ('Mixed_4f', (256, 160, 320, 32, 128, 128)),
    ('MaxPool_5a_2x2', 2),
    ('Mixed_5b', (256, 160, 320, 32, 128, 128)),
    ('Mixed_5c', (384, 192, 384, 48, 128, 128)),
)
# slim names Mixed_5b's Branch_2 3x3 conv `Conv2d_0a_3x3`; kept for its checkpoints.
_BRANCH_2_3X3 = {'Mixed_5b': 'Conv2d_0a_3x3'}

ROOT_END_POINTS = ('Conv2d_1a_7x7', 'MaxPool_2a_3x3', 'Conv2d_2b_1x1', 'Conv2d_2c_3x3',
                   'MaxPool_3a_3x3')
END_POINTS = ROOT_END_POINTS + tuple(name for name, _ in _MODULES)


def _trunc_normal(stddev):
  return initializers.TruncatedNormal(stddev=stddev)


def _inception_module(net, scope, depths, branch_2_3x3, hp):
  d0, d1a, d1b, d2a, d2b, d3 = depths
  init = _trunc_normal(0.01)
  b0 = conv2d(net, d0, 1, f'{scope}/Branch_0/Conv2d_0a_1x1', hp, kernel_initializer=init)
  b1 = conv2d(net, d1a, 1, f'{scope}/Branch_1/Conv2d_0a_1x1', hp, kernel_initializer=init)
  b1 = conv2d(b1, d1b, 3, f'{scope}/Branch_1/Conv2d_0b_3x3', hp, kernel_initializer=init)
  b2 = conv2d(net, d2a, 1, f'{scope}/Branch_2/Conv2d_0a_1x1', hp, kernel_initializer=init)
  b2 = conv2d(b2, d2b, 3, f'{scope}/Branch_2/{branch_2_3x3}', hp, kernel_initializer=init)
  b3 = max_pool2d(net, 3, f'{scope}/Branch_3/MaxPool_0a_3x3', stride=1, padding='SAME')
  b3 = conv2d(b3, d3, 1, f'{scope}/Branch_3/Conv2d_0b_1x1', hp, kernel_initializer=init)
  return concat([b0, b1, b2, b3], f'{scope}/concat')


def inception_v1_base(inputs, final_endpoint: str = 'Mixed_5c',
                      include_root_block: bool = True, scope: str = 'InceptionV1',
                      hparams: Optional[ConvHParams] = None):
  """Inception V1 from the input to `final_endpoint` (one of `END_POINTS`).

  Args:
    inputs: NHWC Keras tensor.
    final_endpoint: the end point to stop at.
    include_root_block: build the convolutions and pools before Mixed_3b;
      without them the network starts at Mixed_3b and their end points do not
      exist.
    scope: root scope of every variable.
    hparams: slim's arg_scope values; `INCEPTION_V1_HPARAMS` by default.

  Returns:
    (net, end_points) with slim's end_point names.

  Raises:
    ValueError: for an unknown (or, without the root block, unavailable)
      final_endpoint.
  """
  valid = END_POINTS if include_root_block else END_POINTS[len(ROOT_END_POINTS):]
  if final_endpoint not in valid:
    raise ValueError(f'Unknown final_endpoint {final_endpoint!r} (include_root_block='
                     f'{include_root_block}). Expected one of {list(valid)}.')
  hp = hparams or INCEPTION_V1_HPARAMS
  scope = scope or 'InceptionV1'
  init = _trunc_normal(0.01)
  end_points = {}

  def done(name, net):
    end_points[name] = net
    return name == final_endpoint

  net = inputs
  if include_root_block:
    # 224 x 224 x 3
    net = conv2d(net, 64, 7, f'{scope}/Conv2d_1a_7x7', hp, stride=2, kernel_initializer=init)
    if done('Conv2d_1a_7x7', net): return net, end_points
    # 112 x 112 x 64
    net = max_pool2d(net, 3, f'{scope}/MaxPool_2a_3x3', stride=2, padding='SAME')
    if done('MaxPool_2a_3x3', net): return net, end_points
    # 56 x 56 x 64
    net = conv2d(net, 64, 1, f'{scope}/Conv2d_2b_1x1', hp, kernel_initializer=init)
    if done('Conv2d_2b_1x1', net): return net, end_points
    net = conv2d(net, 192, 3, f'{scope}/Conv2d_2c_3x3', hp, kernel_initializer=init)
    if done('Conv2d_2c_3x3', net): return net, end_points
    # 56 x 56 x 192
    net = max_pool2d(net, 3, f'{scope}/MaxPool_3a_3x3', stride=2, padding='SAME')
    if done('MaxPool_3a_3x3', net): return net, end_points

  # 28 x 28 x 192 -> 28 x 28 x 480 -> 14 x 14 x 832 -> 7 x 7 x 1024
  for name, spec in _MODULES:
    if name.startswith('MaxPool'):
      net = max_pool2d(net, spec, f'{scope}/{name}', stride=2, padding='SAME')
    else:
      net = _inception_module(net, f'{scope}/{name}', spec,
                              _BRANCH_2_3X3.get(name, 'Conv2d_0b_3x3'), hp)
    if done(name, net): return net, end_points
  raise AssertionError('unreachable')  # final_endpoint was validated above.


@register_network('inception_v1', default_image_size=224, hparams=INCEPTION_V1_HPARAMS,
                  checkpoint_url=CHECKPOINT_URL, top1=69.8, top5=89.6)
def inception_v1(inputs, num_classes: int = 1000, is_training: Optional[bool] = True,
                 dropout_keep_prob: float = 0.8, prediction_fn: Optional[Callable] = None,
                 spatial_squeeze: bool = True, reuse=None, scope: str = 'InceptionV1',
                 global_pool: bool = False,
                 hparams: Optional[ConvHParams] = None) -> Tuple:
  """Inception V1 classifier, as slim's `inception_v1`.

  Args:
    inputs: NHWC Keras tensor (224 x 224 by default).
    num_classes: logits width; 0 or None returns the pooled features.
    is_training: batch norm / dropout mode; None defers it to the `training`
      argument of the Keras model call.
    dropout_keep_prob: keep probability before the logits.
    prediction_fn: maps logits to predictions; softmax by default.
    spatial_squeeze: logits [B, C] rather than [B, 1, 1, C].
    reuse: accepted for slim compatibility; weights are shared by reusing the
      Keras model.
    scope: root scope of every variable.
    global_pool: global average pooling instead of a fixed 7 x 7 average pool
      (which leaves larger outputs for larger inputs).
    hparams: slim's arg_scope values (`INCEPTION_V1_HPARAMS` by default).

  Returns:
    (logits, end_points).
  """
  del reuse
  hp = (hparams or INCEPTION_V1_HPARAMS).replace(is_training=is_training)
  net, end_points = inception_v1_base(inputs, scope=scope, hparams=hp)
  # 7 x 7 x 1024 -> 1 x 1 x 1024
  s = f'{scope}/Logits'
  if global_pool:
    net = layers.global_pool(net, f'{s}/global_pool')
    end_points['global_pool'] = net
  else:
    net = avg_pool2d(net, 7, f'{s}/AvgPool_0a_7x7', stride=1, padding='VALID')
    end_points['AvgPool_0a_7x7'] = net
  if not num_classes:
    return net, end_points
  net = layers.dropout(net, dropout_keep_prob, f'{s}/Dropout_0b', hp)
  logits = conv2d(net, num_classes, 1, f'{s}/Conv2d_0c_1x1', hp, normalize=False,
                  activation_fn=None)
  if spatial_squeeze:
    logits = layers.flatten(logits, f'{s}/SpatialSqueeze')
  end_points['Logits'] = logits
  end_points['Predictions'] = (prediction_fn(logits) if prediction_fn is not None
                               else layers.softmax(logits, f'{s}/Predictions'))
  return logits, end_points


inception_v1.default_image_size = 224
