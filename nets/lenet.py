"""LeNet (LeCun et al., "Gradient-Based Learning Applied to Document
Recognition", 1998), in slim's variant for MNIST.

Mirrors slim's `nets/lenet.py`: two 5 x 5 convolutions with max pooling, a
1024-unit fully-connected layer, dropout and the logits, with slim's variable
names (`LeNet/conv1/weights`, ..., `LeNet/fc4/biases`). No released checkpoint;
slim's recipe (sgd, learning rate 0.01, batch 50) reaches about 99% on MNIST.
"""

from typing import Callable, Optional, Tuple

from . import initializers
from . import layers
from .layers import ConvHParams, conv2d, fully_connected, max_pool2d
from .nets_factory import register_network

# slim's lenet_arg_scope: no batch norm, relu, truncated_normal(0.1) weights.
LENET_HPARAMS = ConvHParams(weight_decay=0.0, use_batch_norm=False, activation='relu')

END_POINTS = ('conv1', 'pool1', 'conv2', 'pool2', 'Flatten', 'fc3', 'dropout3', 'Logits',
              'Predictions')


def _init():
  return initializers.TruncatedNormal(stddev=0.1)


@register_network('lenet', default_image_size=28, hparams=LENET_HPARAMS, num_classes=10,
                  input_channels=1, preprocessing='lenet', classifier_scopes=('*/fc4',),
                  aux_scopes=())
def lenet(images, num_classes: int = 10, is_training: Optional[bool] = False,
          dropout_keep_prob: float = 0.5, prediction_fn: Optional[Callable] = None,
          scope: str = 'LeNet', hparams: Optional[ConvHParams] = None) -> Tuple:
  """LeNet classifier, as slim's `lenet`.

  Args:
    images: NHWC Keras tensor, 28 x 28 x 1 by default.
    num_classes: logits width; 0 or None returns the `fc3` features.
    is_training: dropout mode; None defers it to the `training` argument of
      the Keras model call.
    dropout_keep_prob: keep probability of `dropout3`.
    prediction_fn: maps logits to predictions; softmax by default.
    scope: root scope of every variable.
    hparams: slim's arg_scope values (`LENET_HPARAMS` by default).

  Returns:
    (logits, end_points).
  """
  hp = (hparams or LENET_HPARAMS).replace(is_training=is_training)
  end_points = {}
  # 28 x 28 x 1
  net = end_points['conv1'] = conv2d(images, 32, 5, f'{scope}/conv1', hp,
                                     kernel_initializer=_init())
  # 28 x 28 x 32
  net = end_points['pool1'] = max_pool2d(net, 2, f'{scope}/pool1', stride=2)
  # 14 x 14 x 32
  net = end_points['conv2'] = conv2d(net, 64, 5, f'{scope}/conv2', hp,
                                     kernel_initializer=_init())
  # 14 x 14 x 64
  net = end_points['pool2'] = max_pool2d(net, 2, f'{scope}/pool2', stride=2)
  # 7 x 7 x 64
  net = end_points['Flatten'] = layers.flatten(net, f'{scope}/Flatten')
  # 3136
  net = end_points['fc3'] = fully_connected(net, 1024, f'{scope}/fc3', hp,
                                            activation_fn=hp.activation,
                                            kernel_initializer=_init())
  # 1024
  if not num_classes:
    return net, end_points
  net = end_points['dropout3'] = layers.dropout(net, dropout_keep_prob, f'{scope}/dropout3', hp)
  logits = end_points['Logits'] = fully_connected(net, num_classes, f'{scope}/fc4', hp,
                                                  kernel_initializer=_init())
  end_points['Predictions'] = (prediction_fn(logits) if prediction_fn is not None
                               else layers.softmax(logits, f'{scope}/Predictions'))
  return logits, end_points


lenet.default_image_size = 28


def lenet_arg_scope(weight_decay: float = 0.0) -> ConvHParams:
  """slim's `lenet_arg_scope`, as the hyper-parameters it set."""
  return LENET_HPARAMS.replace(weight_decay=weight_decay)
