"""VGG (Simonyan and Zisserman, "Very Deep Convolutional Networks for
Large-Scale Image Recognition", https://arxiv.org/abs/1409.1556): configurations
A (11 layers), D (16) and E (19).

Mirrors slim's `nets/vgg.py`: same builder arguments and defaults, same
end_points (keyed by scope path, `vgg_16/conv3/conv3_2`, ..., `vgg_16/fc8`) and
the same checkpoint variable names, so slim's released `vgg_16_2016_08_28.ckpt`
and `vgg_19_2016_08_28.ckpt` (converted from Caffe, 1000 classes, no background
class) restore as they are. The fully-connected layers are convolutions
(`fc6` 7 x 7, `fc7` and `fc8` 1 x 1), so the nets also run fully
convolutionally on larger inputs.
Published (slim, 224 x 224, 1000 classes): vgg_16 top-1 71.5, top-5 89.8;
vgg_19 top-1 71.1, top-5 89.8. No released vgg_a checkpoint.

`fully_convolutional_head` and `conv2d_with_bias` are shared with the other
Caffe-era classifiers of this form (`alexnet`, `overfeat`).
"""

from typing import Optional, Sequence, Tuple

from . import initializers
from . import layers
from .layers import ConvHParams, IntPair, max_pool2d
from .nets_factory import register_network

# slim's vgg_arg_scope: relu, no batch norm, zero biases, 'SAME' convolutions.
VGG_HPARAMS = ConvHParams(weight_decay=0.0005, use_batch_norm=False, activation='relu')

CHECKPOINT_URLS = {
    'vgg_16': 'http://download.tensorflow.org/models/vgg_16_2016_08_28.tar.gz',
    'vgg_19': 'http://download.tensorflow.org/models/vgg_19_2016_08_28.tar.gz',
}

# Convolutions per block (conv1 ... conv5); the blocks have 64, 128, 256, 512
# and 512 channels and each ends with a 2 x 2 max pool.
VARIANTS = {
    'vgg_a': (1, 1, 2, 2, 2),
    'vgg_16': (2, 2, 3, 3, 3),
    'vgg_19': (2, 2, 4, 4, 4),
}
_BLOCK_DEPTHS = (64, 128, 256, 512, 512)

_DEFAULT = object()


def conv2d_with_bias(x, filters: int, kernel_size: IntPair, scope: str, hp: ConvHParams, *,
                     stride: IntPair = 1, padding: str = 'SAME', activation_fn=_DEFAULT,
                     kernel_initializer=None, bias_initializer=None):
  """slim.conv2d without batch norm, with this family's default initializers.

  The VGG-style nets (VGG, AlexNet, OverFeat) have biases instead of batch norm
  and slim's `xavier_initializer` (Glorot uniform) for their weights; AlexNet
  and OverFeat start some biases at 0.1.

  Args:
    x: NHWC input.
    filters: output channels.
    kernel_size: int or (kh, kw).
    scope: the slim scope; variables are `<scope>/weights` and `<scope>/biases`.
    hp: the family's hyper-parameters (weight decay, activation).
    stride, padding: as in slim ('SAME' / 'VALID').
    activation_fn: defaults to `hp.activation`; None for a linear layer.
    kernel_initializer: defaults to Glorot uniform.
    bias_initializer: defaults to zeros.

  Returns:
    The output tensor.
  """
  activation_fn = hp.activation if activation_fn is _DEFAULT else activation_fn
  return layers.conv2d(
      x, filters, kernel_size, scope, hp, stride=stride, padding=padding, normalize=False,
      activation_fn=activation_fn,
      kernel_initializer=kernel_initializer or initializers.glorot_uniform(),
      bias_initializer=bias_initializer)


def _spatial_squeeze(x, scope):
  """slim's `tf.squeeze(net, [1, 2])`: [B, 1, 1, C] -> [B, C]."""
  h, w = layers.static_spatial_shape(x)
  if (h, w) != (1, 1) and None not in (h, w):
    raise ValueError(f'spatial_squeeze needs 1 x 1 logits, got {h} x {w} at {scope!r}. '
                     'Pass spatial_squeeze=False for a prediction map, or global_pool=True.')
  return layers.flatten(x, scope)


def fully_convolutional_head(net, end_points, scope: str, hp: ConvHParams, *,
                             num_classes: int, fc6_depth: int, fc6_kernel: Sequence[int],
                             fc7_depth: int, fc6_padding: str = 'VALID',
                             dropout_keep_prob: float = 0.5, spatial_squeeze: bool = True,
                             global_pool: bool = False, kernel_initializer=None,
                             bias_initializer=None) -> Tuple:
  """fc6 / fc7 / fc8 as convolutions, with slim's dropout, pooling and squeeze.

  Args:
    net: the last pooled feature map.
    end_points: the net's end_points, updated in place (`<scope>/fc6`,
      `<scope>/fc7`, `global_pool`, `<scope>/fc8`).
    scope: the net's root scope.
    hp: the family's hyper-parameters.
    num_classes: logits width; 0 or None stops after fc7 (and global_pool).
    fc6_depth, fc6_kernel, fc7_depth: channels and kernel of the fc layers.
    fc6_padding: 'VALID' (a 1 x 1 output at the default size) or 'SAME'.
    dropout_keep_prob: keep probability of dropout6 and dropout7.
    spatial_squeeze: logits [B, C] rather than [B, H, W, C].
    global_pool: average fc7 over height and width before the logits.
    kernel_initializer, bias_initializer: of fc6 and fc7 (and fc8's weights;
      fc8's biases always start at zero).

  Returns:
    (net, end_points): the logits, or fc7's output when num_classes is 0.
  """
  net = conv2d_with_bias(net, fc6_depth, fc6_kernel, f'{scope}/fc6', hp, padding=fc6_padding,
                         kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer)
  end_points[f'{scope}/fc6'] = net
  net = layers.dropout(net, dropout_keep_prob, f'{scope}/dropout6', hp)
  net = conv2d_with_bias(net, fc7_depth, 1, f'{scope}/fc7', hp,
                         kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer)
  end_points[f'{scope}/fc7'] = net
  if global_pool:
    net = layers.global_pool(net, f'{scope}/global_pool')
    end_points['global_pool'] = net
  if not num_classes:
    return net, end_points
  net = layers.dropout(net, dropout_keep_prob, f'{scope}/dropout7', hp)
  net = conv2d_with_bias(net, num_classes, 1, f'{scope}/fc8', hp, activation_fn=None,
                         kernel_initializer=kernel_initializer)
  if spatial_squeeze:
    net = _spatial_squeeze(net, f'{scope}/fc8/squeezed')
  end_points[f'{scope}/fc8'] = net
  return net, end_points


def _vgg(inputs, repeats, num_classes, is_training, dropout_keep_prob, spatial_squeeze,
         scope, fc_conv_padding, global_pool, hparams):
  hp = (hparams or VGG_HPARAMS).replace(is_training=is_training)
  end_points = {}
  net = inputs
  # 224 x 224 x 3 -> 112 -> 56 -> 28 -> 14 -> 7 x 7 x 512
  for block, (count, depth) in enumerate(zip(repeats, _BLOCK_DEPTHS), start=1):
    for i in range(1, count + 1):
      name = f'{scope}/conv{block}/conv{block}_{i}'
      net = end_points[name] = conv2d_with_bias(net, depth, 3, name, hp)
    name = f'{scope}/pool{block}'
    net = end_points[name] = max_pool2d(net, 2, name, stride=2, padding='VALID')
  # 7 x 7 x 512 -> 1 x 1 x 4096 -> 1 x 1 x 4096 -> num_classes
  return fully_convolutional_head(net, end_points, scope, hp, num_classes=num_classes,
                                  fc6_depth=4096, fc6_kernel=(7, 7), fc7_depth=4096,
                                  fc6_padding=fc_conv_padding,
                                  dropout_keep_prob=dropout_keep_prob,
                                  spatial_squeeze=spatial_squeeze, global_pool=global_pool)


@register_network('vgg_a', default_image_size=224, hparams=VGG_HPARAMS, num_classes=1000,
                  preprocessing='vgg', predictions=None,
                  classifier_scopes=('*/fc8',), aux_scopes=())
def vgg_a(inputs, num_classes: int = 1000, is_training: Optional[bool] = True,
          dropout_keep_prob: float = 0.5, spatial_squeeze: bool = True,
          scope: str = 'vgg_a', fc_conv_padding: str = 'VALID', global_pool: bool = False,
          hparams: Optional[ConvHParams] = None) -> Tuple:
  """VGG configuration A (11 layers), as slim's `vgg_a`.

  Args:
    inputs: NHWC Keras tensor, 224 x 224 by default.
    num_classes: logits width; 0 or None returns fc7's output (after
      global_pool, if set).
    is_training: dropout mode; None defers it to the `training` argument of
      the Keras model call.
    dropout_keep_prob: keep probability of dropout6 and dropout7.
    spatial_squeeze: logits [B, C] rather than [B, H, W, C].
    scope: root scope of every variable.
    fc_conv_padding: padding of fc6: 'VALID' (a 1 x 1 output at 224 x 224)
      or 'SAME' (a prediction map at 1/32 of the input size).
    global_pool: average fc7 over height and width, for any input size.
    hparams: slim's arg_scope values (`VGG_HPARAMS` by default).

  Returns:
    (logits, end_points).
  """
  return _vgg(inputs, VARIANTS['vgg_a'], num_classes, is_training, dropout_keep_prob,
              spatial_squeeze, scope, fc_conv_padding, global_pool, hparams)


@register_network('vgg_16', default_image_size=224, hparams=VGG_HPARAMS, num_classes=1000,
                  preprocessing='vgg', predictions=None,
                  classifier_scopes=('*/fc8',), aux_scopes=(), checkpoint_url=CHECKPOINT_URLS['vgg_16'],
                  top1=71.5, top5=89.8)
def vgg_16(inputs, num_classes: int = 1000, is_training: Optional[bool] = True,
           dropout_keep_prob: float = 0.5, spatial_squeeze: bool = True,
           scope: str = 'vgg_16', fc_conv_padding: str = 'VALID', global_pool: bool = False,
           hparams: Optional[ConvHParams] = None) -> Tuple:
  """VGG configuration D (16 layers), as slim's `vgg_16`; arguments as `vgg_a`."""
  return _vgg(inputs, VARIANTS['vgg_16'], num_classes, is_training, dropout_keep_prob,
              spatial_squeeze, scope, fc_conv_padding, global_pool, hparams)


@register_network('vgg_19', default_image_size=224, hparams=VGG_HPARAMS, num_classes=1000,
                  preprocessing='vgg', predictions=None,
                  classifier_scopes=('*/fc8',), aux_scopes=(), checkpoint_url=CHECKPOINT_URLS['vgg_19'],
                  top1=71.1, top5=89.8)
def vgg_19(inputs, num_classes: int = 1000, is_training: Optional[bool] = True,
           dropout_keep_prob: float = 0.5, spatial_squeeze: bool = True,
           scope: str = 'vgg_19', fc_conv_padding: str = 'VALID', global_pool: bool = False,
           hparams: Optional[ConvHParams] = None) -> Tuple:
  """VGG configuration E (19 layers), as slim's `vgg_19`; arguments as `vgg_a`."""
  return _vgg(inputs, VARIANTS['vgg_19'], num_classes, is_training, dropout_keep_prob,
              spatial_squeeze, scope, fc_conv_padding, global_pool, hparams)


vgg_a.default_image_size = vgg_16.default_image_size = vgg_19.default_image_size = 224

# slim's aliases.
vgg_d = vgg_16
vgg_e = vgg_19


def vgg_arg_scope(weight_decay: float = 0.0005) -> ConvHParams:
  """slim's `vgg_arg_scope`, as the hyper-parameters it set."""
  return VGG_HPARAMS.replace(weight_decay=weight_decay)
