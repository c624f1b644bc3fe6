"""CifarNet: the small CIFAR-10 network of TensorFlow's CIFAR-10 tutorial
(after Krizhevsky's cuda-convnet layers-18pct), in slim's variant.

Mirrors slim's `nets/cifarnet.py`: two 5 x 5 convolutions with pooling and
local response normalisation, two fully-connected layers, dropout and the
logits, with slim's variable names (`CifarNet/conv1/weights`, ...,
`CifarNet/logits/biases`). No released checkpoint.
"""

from typing import Callable, Optional, Tuple

import keras
from keras import ops

from . import initializers
from . import layers
from .layers import ConvHParams, conv2d, max_pool2d
from .nets_factory import register_network

# slim's cifarnet_arg_scope: weight decay applies to the fully-connected layers only.
CIFARNET_HPARAMS = ConvHParams(weight_decay=0.004, use_batch_norm=False, activation='relu')

END_POINTS = ('conv1', 'pool1', 'conv2', 'pool2', 'Flatten', 'fc3', 'fc4', 'Logits',
              'Predictions')


@keras.saving.register_keras_serializable(package='slimvision')
class LocalResponseNorm(keras.layers.Layer):
  """`tf.nn.lrn` over channels: `x / (bias + alpha * sum_{|d| <= r} x_{c+d}**2) ** beta`."""

  def __init__(self, depth_radius: int = 5, bias: float = 1.0, alpha: float = 1.0,
               beta: float = 0.5, **kwargs):
    super().__init__(**kwargs)
    self.depth_radius = int(depth_radius)
    self.bias = float(bias)
    self.alpha = float(alpha)
    self.beta = float(beta)

  def call(self, inputs):
    if keras.backend.backend() == 'tensorflow':
      import tensorflow as tf  # pylint: disable=g-import-not-at-top
      return tf.nn.lrn(inputs, self.depth_radius, bias=self.bias, alpha=self.alpha,
                       beta=self.beta)
    r = self.depth_radius
    channels = inputs.shape[-1]
    squares = ops.pad(ops.square(inputs), [[0, 0], [0, 0], [0, 0], [r, r]])
    window = sum(squares[..., d:d + channels] for d in range(2 * r + 1))
    return inputs / ops.power(self.bias + self.alpha * window, self.beta)

  def compute_output_shape(self, input_shape):
    return input_shape

  def get_config(self):
    return {**super().get_config(), 'depth_radius': self.depth_radius, 'bias': self.bias,
            'alpha': self.alpha, 'beta': self.beta}


def _lrn(x, scope):
  return LocalResponseNorm(4, bias=1.0, alpha=0.001 / 9.0, beta=0.75,
                           name=layers.layer_name(scope))(x)


def _dense(x, units, scope, hp, *, stddev, bias, activation_fn, regularize=True):
  """slim.fully_connected with cifarnet's initializers (truncated normal, constant bias)."""
  x = keras.layers.Dense(
      units, kernel_initializer=initializers.TruncatedNormal(stddev=stddev),
      bias_initializer=keras.initializers.Constant(bias),
      kernel_regularizer=hp.regularizer() if regularize else None,
      name=layers.layer_name(scope))(x)
  return layers.activation(x, scope, activation_fn)


@register_network('cifarnet', default_image_size=32, hparams=CIFARNET_HPARAMS, num_classes=10,
                  preprocessing='cifarnet', classifier_scopes=('*/logits',), aux_scopes=())
def cifarnet(images, num_classes: int = 10, is_training: Optional[bool] = False,
             dropout_keep_prob: float = 0.5, prediction_fn: Optional[Callable] = None,
             scope: str = 'CifarNet', hparams: Optional[ConvHParams] = None) -> Tuple:
  """CifarNet classifier, as slim's `cifarnet`.

  Args:
    images: NHWC Keras tensor, 32 x 32 x 3 by default.
    num_classes: logits width; 0 or None returns the `fc4` features.
    is_training: dropout mode; None defers it to the `training` argument of
      the Keras model call.
    dropout_keep_prob: keep probability of `dropout3`.
    prediction_fn: maps logits to predictions; softmax by default.
    scope: root scope of every variable.
    hparams: slim's arg_scope values (`CIFARNET_HPARAMS` by default).

  Returns:
    (logits, end_points).
  """
  hp = (hparams or CIFARNET_HPARAMS).replace(is_training=is_training)
  conv_hp = hp.replace(weight_decay=0.0)  # slim regularises the fully-connected layers only.
  conv_init = initializers.TruncatedNormal(stddev=5e-2)
  end_points = {}
  # 32 x 32 x 3
  net = end_points['conv1'] = conv2d(images, 64, 5, f'{scope}/conv1', conv_hp,
                                     kernel_initializer=conv_init)
  net = end_points['pool1'] = max_pool2d(net, 2, f'{scope}/pool1', stride=2)
  # 16 x 16 x 64
  net = _lrn(net, f'{scope}/norm1')
  net = end_points['conv2'] = conv2d(net, 64, 5, f'{scope}/conv2', conv_hp,
                                     kernel_initializer=conv_init)
  net = _lrn(net, f'{scope}/norm2')
  net = end_points['pool2'] = max_pool2d(net, 2, f'{scope}/pool2', stride=2)
  # 8 x 8 x 64
  net = end_points['Flatten'] = layers.flatten(net, f'{scope}/Flatten')
  # 4096
  net = end_points['fc3'] = _dense(net, 384, f'{scope}/fc3', hp, stddev=0.04, bias=0.1,
                                   activation_fn=hp.activation)
  net = layers.dropout(net, dropout_keep_prob, f'{scope}/dropout3', hp)
  net = end_points['fc4'] = _dense(net, 192, f'{scope}/fc4', hp, stddev=0.04, bias=0.1,
                                   activation_fn=hp.activation)
  # 192
  if not num_classes:
    return net, end_points
  logits = end_points['Logits'] = _dense(net, num_classes, f'{scope}/logits', hp,
                                         stddev=1 / 192.0, bias=0.0, activation_fn=None,
                                         regularize=False)
  end_points['Predictions'] = (prediction_fn(logits) if prediction_fn is not None
                               else layers.softmax(logits, f'{scope}/Predictions'))
  return logits, end_points


cifarnet.default_image_size = 32


def cifarnet_arg_scope(weight_decay: float = 0.004) -> ConvHParams:
  """slim's `cifarnet_arg_scope`, as the hyper-parameters it set."""
  return CIFARNET_HPARAMS.replace(weight_decay=weight_decay)
