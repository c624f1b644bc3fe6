"""Inception-ResNet-v2 (Szegedy et al., "Inception-v4, Inception-ResNet and the
Impact of Residual Connections on Learning", https://arxiv.org/abs/1602.07261).

Mirrors slim's `nets/inception_resnet_v2.py`: same builder arguments and
defaults, end_points and checkpoint variable names, so slim's released
`inception_resnet_v2_2016_08_30.ckpt` restores as it is.
Published (slim, 299 x 299, 1001 classes): top-1 80.4, top-5 95.3.
"""

from typing import Optional, Tuple


from . import layers
from .layers import ConvHParams, avg_pool2d, concat, conv2d, max_pool2d
from .nets_factory import register_network

# slim's inception_resnet_v2_arg_scope.
INCEPTION_RESNET_V2_HPARAMS = ConvHParams(weight_decay=0.00004, batch_norm_decay=0.9997,
                                          batch_norm_epsilon=0.001, batch_norm_scale=False,
                                          activation='relu')

CHECKPOINT_URL = ('http://download.tensorflow.org/models/'
                  'inception_resnet_v2_2016_08_30.tar.gz')

END_POINTS = ('Conv2d_1a_3x3', 'Conv2d_2a_3x3', 'Conv2d_2b_3x3', 'MaxPool_3a_3x3',
              'Conv2d_3b_1x1', 'Conv2d_4a_3x3', 'MaxPool_5a_3x3', 'Mixed_5b', 'Mixed_6a',
              'PreAuxLogits', 'Mixed_7a', 'Conv2d_7b_1x1')


def _residual(net, towers, scope, scale, activation_fn, hp):
  """Merges the towers, projects to the input depth, adds `scale *` it to `net`."""
  mixed = concat(towers, f'{scope}/concat')
  # The scale is folded into the projection (see layers.ScaledConv2D).
  up = conv2d(mixed, net.shape[-1], 1, f'{scope}/Conv2d_1x1', hp, normalize=False,
              activation_fn=None, output_scale=scale)
  net = layers.ScaledResidual(1.0, clip=activation_fn == 'relu6',
                              name=layers.layer_name(f'{scope}/add'))([net, up])
  return layers.activation(net, scope, activation_fn)


def block35(net, scope, hp, scale=1.0, activation_fn='relu'):
  """The 35 x 35 residual block (slim's `block35`)."""
  t0 = conv2d(net, 32, 1, f'{scope}/Branch_0/Conv2d_1x1', hp)
  t1 = conv2d(net, 32, 1, f'{scope}/Branch_1/Conv2d_0a_1x1', hp)
  t1 = conv2d(t1, 32, 3, f'{scope}/Branch_1/Conv2d_0b_3x3', hp)
  t2 = conv2d(net, 32, 1, f'{scope}/Branch_2/Conv2d_0a_1x1', hp)
  t2 = conv2d(t2, 48, 3, f'{scope}/Branch_2/Conv2d_0b_3x3', hp)
  t2 = conv2d(t2, 64, 3, f'{scope}/Branch_2/Conv2d_0c_3x3', hp)
  return _residual(net, [t0, t1, t2], scope, scale, activation_fn, hp)


def block17(net, scope, hp, scale=1.0, activation_fn='relu', rate=1):
  """The 17 x 17 residual block (slim's `block17`)."""
  t0 = conv2d(net, 192, 1, f'{scope}/Branch_0/Conv2d_1x1', hp, rate=rate)
  t1 = conv2d(net, 128, 1, f'{scope}/Branch_1/Conv2d_0a_1x1', hp, rate=rate)
  t1 = conv2d(t1, 160, (1, 7), f'{scope}/Branch_1/Conv2d_0b_1x7', hp, rate=rate)
  t1 = conv2d(t1, 192, (7, 1), f'{scope}/Branch_1/Conv2d_0c_7x1', hp, rate=rate)
  return _residual(net, [t0, t1], scope, scale, activation_fn, hp)


def block8(net, scope, hp, scale=1.0, activation_fn='relu'):
  """The 8 x 8 residual block (slim's `block8`)."""
  t0 = conv2d(net, 192, 1, f'{scope}/Branch_0/Conv2d_1x1', hp)
  t1 = conv2d(net, 192, 1, f'{scope}/Branch_1/Conv2d_0a_1x1', hp)
  t1 = conv2d(t1, 224, (1, 3), f'{scope}/Branch_1/Conv2d_0b_1x3', hp)
  t1 = conv2d(t1, 256, (3, 1), f'{scope}/Branch_1/Conv2d_0c_3x1', hp)
  return _residual(net, [t0, t1], scope, scale, activation_fn, hp)


def _repeat(net, repetitions, block, scope, hp, **kwargs):
  """slim.repeat: `<scope>/<block name>_1 ... _n`."""
  for i in range(1, repetitions + 1):
    net = block(net, f'{scope}/{block.__name__}_{i}', hp, **kwargs)
  return net


def inception_resnet_v2_base(inputs, final_endpoint: str = 'Conv2d_7b_1x1',
                             output_stride: int = 16, align_feature_maps: bool = False,
                             scope: Optional[str] = None, activation_fn='relu',
                             hparams: Optional[ConvHParams] = None):
  """Inception-ResNet-v2 from the input to `final_endpoint` (one of `END_POINTS`).

  Args:
    inputs: NHWC Keras tensor.
    final_endpoint: the end point to stop at.
    output_stride: 16, or 8 (atrous Mixed_6a / block17; only up to PreAuxLogits).
    align_feature_maps: 'SAME' instead of 'VALID' paddings, aligning feature maps.
    scope: root scope, 'InceptionResnetV2' by default.
    activation_fn: activation of the residual blocks.
    hparams: slim's arg_scope values (`INCEPTION_RESNET_V2_HPARAMS` by default).

  Returns:
    (net, end_points) with slim's end_point names.

  Raises:
    ValueError: for an unknown final_endpoint or output_stride, or
      output_stride=8 past PreAuxLogits.
  """
  if output_stride not in (8, 16):
    raise ValueError(f'output_stride must be 8 or 16. Received: output_stride={output_stride}')
  if final_endpoint not in END_POINTS:
    raise ValueError(f'Unknown final_endpoint {final_endpoint!r}. Expected one of '
                     f'{list(END_POINTS)}.')
  if output_stride == 8 and END_POINTS.index(final_endpoint) > END_POINTS.index('PreAuxLogits'):
    raise ValueError('output_stride=8 is only supported up to the PreAuxLogits end point. '
                     f'Received: final_endpoint={final_endpoint!r}')
  hp = hparams or INCEPTION_RESNET_V2_HPARAMS
  scope = scope or 'InceptionResnetV2'
  padding = 'SAME' if align_feature_maps else 'VALID'
  end_points = {}

  def done(name, net):
    end_points[name] = net
    return name == final_endpoint

  # 149 x 149 x 32
  net = conv2d(inputs, 32, 3, f'{scope}/Conv2d_1a_3x3', hp, stride=2, padding=padding)
  if done('Conv2d_1a_3x3', net): return net, end_points
  # 147 x 147 x 32
  net = conv2d(net, 32, 3, f'{scope}/Conv2d_2a_3x3', hp, padding=padding)
  if done('Conv2d_2a_3x3', net): return net, end_points
  # 147 x 147 x 64
  net = conv2d(net, 64, 3, f'{scope}/Conv2d_2b_3x3', hp)
  if done('Conv2d_2b_3x3', net): return net, end_points
  # 73 x 73 x 64
  net = max_pool2d(net, 3, f'{scope}/MaxPool_3a_3x3', stride=2, padding=padding)
  if done('MaxPool_3a_3x3', net): return net, end_points
  # 73 x 73 x 80
  net = conv2d(net, 80, 1, f'{scope}/Conv2d_3b_1x1', hp, padding=padding)
  if done('Conv2d_3b_1x1', net): return net, end_points
  # 71 x 71 x 192
  net = conv2d(net, 192, 3, f'{scope}/Conv2d_4a_3x3', hp, padding=padding)
  if done('Conv2d_4a_3x3', net): return net, end_points
  # 35 x 35 x 192
  net = max_pool2d(net, 3, f'{scope}/MaxPool_5a_3x3', stride=2, padding=padding)
  if done('MaxPool_5a_3x3', net): return net, end_points

  # 35 x 35 x 320
  s = f'{scope}/Mixed_5b'
  t0 = conv2d(net, 96, 1, f'{s}/Branch_0/Conv2d_1x1', hp)
  t1 = conv2d(net, 48, 1, f'{s}/Branch_1/Conv2d_0a_1x1', hp)
  t1 = conv2d(t1, 64, 5, f'{s}/Branch_1/Conv2d_0b_5x5', hp)
  t2 = conv2d(net, 64, 1, f'{s}/Branch_2/Conv2d_0a_1x1', hp)
  t2 = conv2d(t2, 96, 3, f'{s}/Branch_2/Conv2d_0b_3x3', hp)
  t2 = conv2d(t2, 96, 3, f'{s}/Branch_2/Conv2d_0c_3x3', hp)
  t3 = avg_pool2d(net, 3, f'{s}/Branch_3/AvgPool_0a_3x3', stride=1, padding='SAME')
  t3 = conv2d(t3, 64, 1, f'{s}/Branch_3/Conv2d_0b_1x1', hp)
  net = concat([t0, t1, t2, t3], f'{s}/concat')
  if done('Mixed_5b', net): return net, end_points

  net = _repeat(net, 10, block35, f'{scope}/Repeat', hp, scale=0.17,
                activation_fn=activation_fn)

  # 17 x 17 x 1088 (33 x 33 x 1088 with output_stride 8)
  atrous = output_stride == 8
  stride = 1 if atrous else 2
  s = f'{scope}/Mixed_6a'
  t0 = conv2d(net, 384, 3, f'{s}/Branch_0/Conv2d_1a_3x3', hp, stride=stride, padding=padding)
  t1 = conv2d(net, 256, 1, f'{s}/Branch_1/Conv2d_0a_1x1', hp)
  t1 = conv2d(t1, 256, 3, f'{s}/Branch_1/Conv2d_0b_3x3', hp)
  t1 = conv2d(t1, 384, 3, f'{s}/Branch_1/Conv2d_1a_3x3', hp, stride=stride, padding=padding)
  t2 = max_pool2d(net, 3, f'{s}/Branch_2/MaxPool_1a_3x3', stride=stride, padding=padding)
  net = concat([t0, t1, t2], f'{s}/concat')
  if done('Mixed_6a', net): return net, end_points

  net = _repeat(net, 20, block17, f'{scope}/Repeat_1', hp, scale=0.10,
                activation_fn=activation_fn, rate=2 if atrous else 1)
  if done('PreAuxLogits', net): return net, end_points

  # 8 x 8 x 2080
  s = f'{scope}/Mixed_7a'
  t0 = conv2d(net, 256, 1, f'{s}/Branch_0/Conv2d_0a_1x1', hp)
  t0 = conv2d(t0, 384, 3, f'{s}/Branch_0/Conv2d_1a_3x3', hp, stride=2, padding=padding)
  t1 = conv2d(net, 256, 1, f'{s}/Branch_1/Conv2d_0a_1x1', hp)
  t1 = conv2d(t1, 288, 3, f'{s}/Branch_1/Conv2d_1a_3x3', hp, stride=2, padding=padding)
  t2 = conv2d(net, 256, 1, f'{s}/Branch_2/Conv2d_0a_1x1', hp)
  t2 = conv2d(t2, 288, 3, f'{s}/Branch_2/Conv2d_0b_3x3', hp)
  t2 = conv2d(t2, 320, 3, f'{s}/Branch_2/Conv2d_1a_3x3', hp, stride=2, padding=padding)
  t3 = max_pool2d(net, 3, f'{s}/Branch_3/MaxPool_1a_3x3', stride=2, padding=padding)
  net = concat([t0, t1, t2, t3], f'{s}/concat')
  if done('Mixed_7a', net): return net, end_points

  net = _repeat(net, 9, block8, f'{scope}/Repeat_2', hp, scale=0.20,
                activation_fn=activation_fn)
  net = block8(net, f'{scope}/Block8', hp, activation_fn=None)
  # 8 x 8 x 1536
  net = conv2d(net, 1536, 1, f'{scope}/Conv2d_7b_1x1', hp)
  done('Conv2d_7b_1x1', net)
  return net, end_points


@register_network('inception_resnet_v2', default_image_size=299,
                  hparams=INCEPTION_RESNET_V2_HPARAMS, checkpoint_url=CHECKPOINT_URL,
                  top1=80.4, top5=95.3)
def inception_resnet_v2(inputs, num_classes: int = 1001, is_training: Optional[bool] = True,
                        dropout_keep_prob: float = 0.8, reuse=None,
                        scope: str = 'InceptionResnetV2', create_aux_logits: bool = True,
                        activation_fn='relu',
                        hparams: Optional[ConvHParams] = None) -> Tuple:
  """Inception-ResNet-v2 classifier, as slim's `inception_resnet_v2`.

  Args:
    inputs: NHWC Keras tensor (299 x 299 by default).
    num_classes: logits width; 0 or None returns the pooled features.
    is_training: batch norm / dropout mode; None defers it to the `training`
      argument of the Keras model call.
    dropout_keep_prob: keep probability before the logits.
    reuse: accepted for slim compatibility; weights are shared by reusing the
      Keras model.
    scope: root scope of every variable.
    create_aux_logits: build the auxiliary head on PreAuxLogits.
    activation_fn: activation of the residual blocks.
    hparams: slim's arg_scope values (`INCEPTION_RESNET_V2_HPARAMS` by default).

  Returns:
    (logits, end_points).
  """
  del reuse
  hp = (hparams or INCEPTION_RESNET_V2_HPARAMS).replace(is_training=is_training)
  net, end_points = inception_resnet_v2_base(inputs, scope=scope,
                                             activation_fn=activation_fn, hparams=hp)
  if create_aux_logits and num_classes:
    s = f'{scope}/AuxLogits'
    aux = avg_pool2d(end_points['PreAuxLogits'], 5, f'{s}/Conv2d_1a_3x3', stride=3,
                     padding='VALID')
    aux = conv2d(aux, 128, 1, f'{s}/Conv2d_1b_1x1', hp)
    aux = conv2d(aux, 768, _spatial_kernel(aux), f'{s}/Conv2d_2a_5x5', hp, padding='VALID',
                 reduced_from=layers.WHOLE_MAP)
    aux = layers.flatten(aux, f'{s}/Flatten')
    end_points['AuxLogits'] = layers.fully_connected(aux, num_classes, f'{s}/Logits', hp)

  # 8 x 8 x 1536 -> 1 x 1 x 1536
  s = f'{scope}/Logits'
  if None in layers.static_spatial_shape(net):
    net = layers.global_pool(net, f'{s}/global_pool')
  else:
    net = avg_pool2d(net, layers.static_spatial_shape(net), f'{s}/AvgPool_1a_8x8',
                     padding='VALID', reduced_from=layers.WHOLE_MAP)
  end_points['global_pool'] = net
  if not num_classes:
    return net, end_points
  net = layers.flatten(net, f'{s}/Flatten')
  net = layers.dropout(net, dropout_keep_prob, f'{s}/Dropout', hp)
  end_points['PreLogitsFlatten'] = net
  logits = layers.fully_connected(net, num_classes, f'{s}/Logits', hp)
  end_points['Logits'] = logits
  end_points['Predictions'] = layers.softmax(logits, f'{scope}/Predictions')
  return logits, end_points


def _spatial_kernel(x):
  h, w = layers.static_spatial_shape(x)
  if h is None or w is None:
    raise ValueError('The auxiliary head needs a static input size; build the model for a '
                     'fixed image_size or pass create_aux_logits=False.')
  return (h, w)


inception_resnet_v2.default_image_size = 299
