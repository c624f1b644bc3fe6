"""Building blocks shared by every network family.

slim built its networks from `slim.conv2d`, `slim.batch_norm`, pools and
`slim.fully_connected` under `tf.variable_scope`s and `arg_scope`s. Here the
same blocks are plain functions on Keras tensors that create explicitly named
Keras layers:

* a slim scope path (`InceptionV3/Mixed_5b/Branch_1/Conv2d_0a_1x1`) becomes a
  Keras layer name through `layer_name` and comes back through `scope_name`;
  nothing else in the project knows the separator;
* what slim set with `arg_scope` (batch-norm decay, epsilon and scale, weight
  decay, activation, training mode) travels in one frozen `ConvHParams`.

Only `keras.layers` / `keras.ops` are used, so the networks build under any
Keras backend; `BatchNorm` adds TensorFlow's fused kernel as a fast path.
"""

import dataclasses
from typing import Callable, Optional, Sequence, Tuple, Union

import keras
from keras import ops

from . import initializers

# Keras 3 forbids '/' in layer names and PyTorch '.' in parameter names (the
# Keras torch backend registers each weight under its layer's name); TensorFlow's
# op names allow '>', and slim scope components never contain it.
_SCOPE_SEP = '/'
_NAME_SEP = '>'

IntPair = Union[int, Sequence[int]]


def layer_name(scope: str) -> str:
  """Encodes a slim scope path as a Keras layer name."""
  if _NAME_SEP in scope:
    raise ValueError(
        f"Scope components must not contain '{_NAME_SEP}'. Received: scope={scope!r}")
  return scope.replace(_SCOPE_SEP, _NAME_SEP)


def scope_name(name: str) -> str:
  """Decodes a Keras layer name made by `layer_name` back to the slim scope."""
  return name.replace(_NAME_SEP, _SCOPE_SEP)


@dataclasses.dataclass(frozen=True)
class ConvHParams:
  """What slim's `*_arg_scope` functions set, passed down explicitly.

  Attributes:
    weight_decay: L2 coefficient on conv / fully-connected weights, with slim's
      convention `wd * sum(w**2) / 2`.
    batch_norm_decay: moving-average decay of the batch-norm statistics.
    batch_norm_epsilon: added to the variance.
    batch_norm_scale: whether batch norm learns a `gamma`.
    use_batch_norm: conv layers are followed by batch norm (and have no bias).
    activation: activation after conv layers ('relu', 'relu6', ... or None).
    is_training: batch norm and dropout mode; None leaves it to the `training`
      argument given when the Keras model is called.
  """
  weight_decay: float = 0.00004
  batch_norm_decay: float = 0.9997
  batch_norm_epsilon: float = 0.001
  batch_norm_scale: bool = False
  use_batch_norm: bool = True
  activation: Optional[str] = 'relu'
  is_training: Optional[bool] = None

  def replace(self, **changes) -> 'ConvHParams':
    return dataclasses.replace(self, **changes)

  def regularizer(self) -> Optional[keras.regularizers.Regularizer]:
    # keras L2(l) is l * sum(w**2); slim's l2_regularizer(wd) is wd * sum(w**2) / 2.
    return keras.regularizers.L2(self.weight_decay / 2.0) if self.weight_decay else None


def _pair(value: IntPair) -> Tuple[int, int]:
  if isinstance(value, int):
    return (value, value)
  value = tuple(int(v) for v in value)
  if len(value) != 2:
    raise ValueError(f'Expected an int or a pair of ints. Received: {value!r}')
  return value


def _padding(padding: str) -> str:
  padding = padding.lower()
  if padding not in ('same', 'valid'):
    raise ValueError(f"padding must be 'SAME' or 'VALID'. Received: padding={padding!r}")
  return padding


def _training_kwargs(hp: ConvHParams) -> dict:
  return {} if hp.is_training is None else {'training': hp.is_training}


_ACTIVATION_SCOPES = {'relu': 'Relu', 'relu6': 'Relu6', 'swish': 'Swish',
                      'sigmoid': 'Sigmoid', 'tanh': 'Tanh', 'elu': 'Elu'}


def activation(x, scope: str, fn: Union[str, Callable, None]):
  """Applies an activation as a named layer (identity when `fn` is None)."""
  if fn is None:
    return x
  suffix = _ACTIVATION_SCOPES.get(fn, 'Activation') if isinstance(fn, str) else 'Activation'
  return keras.layers.Activation(fn, name=layer_name(f'{scope}/{suffix}'))(x)


@keras.saving.register_keras_serializable(package='slimvision')
class BatchNorm(keras.layers.BatchNormalization):
  """slim's `batch_norm`: Keras batch norm plus TensorFlow's fused kernel.

  Under the TensorFlow backend, 4-D channels-last inputs go through
  `FusedBatchNormV3` (as slim's `fused=True` did), which is markedly faster on
  CPU and GPU than the composite ops Keras uses; everything else falls back to
  the portable Keras implementation. A layer that is not trainable always runs
  in inference mode, so frozen scopes keep their statistics when fine-tuning.
  """

  def _use_fused(self, inputs) -> bool:
    return (keras.backend.backend() == 'tensorflow' and len(inputs.shape) == 4
            and self.axis in (-1, 3) and self.built)

  def call(self, inputs, training=None, mask=None):
    training = bool(training) and self.trainable
    if mask is not None or not self._use_fused(inputs):
      return super().call(inputs, training=training, mask=mask)
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    channels = inputs.shape[-1]
    scale = self.gamma if self.scale else tf.ones([channels], tf.float32)
    offset = self.beta if self.center else tf.zeros([channels], tf.float32)
    x = inputs
    if x.dtype not in (tf.float32, tf.float16, tf.bfloat16):
      x = tf.cast(x, tf.float32)
    if not training:
      y, _, _ = tf.compat.v1.nn.fused_batch_norm(
          x, tf.cast(scale, tf.float32), tf.cast(offset, tf.float32),
          mean=tf.cast(self.moving_mean, tf.float32),
          variance=tf.cast(self.moving_variance, tf.float32),
          epsilon=self.epsilon, is_training=False)
      return tf.cast(y, inputs.dtype) if y.dtype != inputs.dtype else y
    y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
        x, tf.cast(scale, tf.float32), tf.cast(offset, tf.float32),
        epsilon=self.epsilon, is_training=True)
    # `variance` is the unbiased batch variance, which is what slim's fused
    # batch norm folded into the moving average.
    m = self.momentum
    self.moving_mean.assign(self.moving_mean * m + tf.cast(mean, self.moving_mean.dtype) * (1.0 - m))
    self.moving_variance.assign(
        self.moving_variance * m + tf.cast(variance, self.moving_variance.dtype) * (1.0 - m))
    return tf.cast(y, inputs.dtype) if y.dtype != inputs.dtype else y


def batch_norm(x, scope: str, hp: ConvHParams):
  """slim.batch_norm with the family's decay / epsilon / scale, named `<scope>`."""
  layer = BatchNorm(momentum=hp.batch_norm_decay, epsilon=hp.batch_norm_epsilon,
                    center=True, scale=hp.batch_norm_scale, name=layer_name(scope))
  return layer(x, **_training_kwargs(hp))


_DEFAULT = object()


def conv2d(x, filters: int, kernel_size: IntPair, scope: str, hp: ConvHParams, *,
           stride: IntPair = 1, padding: str = 'SAME', rate: IntPair = 1,
           normalize: Optional[bool] = None, activation_fn=_DEFAULT,
           kernel_initializer=None, bias_initializer=None, output_scale: float = 1.0,
           reduced_from: Optional[IntPair] = None):
  """slim.conv2d: convolution, then batch norm (or a bias), then activation.

  Args:
    x: NHWC input.
    filters: output channels.
    kernel_size: int or (kh, kw).
    scope: the slim scope of the layer; variables are `<scope>/weights`,
      `<scope>/BatchNorm/*` (or `<scope>/biases`).
    hp: the family's hyper-parameters.
    stride, padding, rate: as in slim ('SAME' / 'VALID').
    normalize: batch norm after the convolution; defaults to
      `hp.use_batch_norm`. Without it the convolution has a bias.
    activation_fn: defaults to `hp.activation`; None for a linear layer.
    kernel_initializer: defaults to slim's variance-scaling (He) initializer.
    bias_initializer: of the bias (without batch norm); zeros by default.
    output_scale: multiplies the convolution's output (see `ScaledConv2D`).
    reduced_from: how the builder chose the kernel from the input size (see
      `mark_reduced_kernel`), so that `spatial_failure` can replay it.

  Returns:
    The output tensor.
  """
  normalize = hp.use_batch_norm if normalize is None else normalize
  activation_fn = hp.activation if activation_fn is _DEFAULT else activation_fn
  conv_class, extra = keras.layers.Conv2D, {}
  if output_scale != 1.0:
    conv_class, extra = ScaledConv2D, {'output_scale': output_scale}
  layer = conv_class(
      filters, _pair(kernel_size), strides=_pair(stride), padding=_padding(padding),
      dilation_rate=_pair(rate), use_bias=not normalize,
      kernel_initializer=kernel_initializer or initializers.he_normal(),
      bias_initializer=bias_initializer or keras.initializers.Zeros(),
      kernel_regularizer=hp.regularizer(), name=layer_name(scope), **extra)
  mark_reduced_kernel(layer, reduced_from)
  x = layer(x)
  if normalize:
    x = batch_norm(x, f'{scope}/BatchNorm', hp)
  return activation(x, scope, activation_fn)


@keras.saving.register_keras_serializable(package='slimvision')
class ScaledConv2D(keras.layers.Conv2D):
  """A convolution whose output is multiplied by a constant `output_scale`.

  The scale is applied to the kernel and the bias rather than to the output
  (`s * (W * x + b) = (s W) * x + s b`), which leaves a plain
  convolution + bias that TensorFlow's graph optimiser fuses with a following
  residual add and activation. The stored weights are unscaled, as in slim's
  checkpoints (where the Inception-ResNet blocks scale the conv's output).
  """

  def __init__(self, *args, output_scale: float = 1.0, **kwargs):
    super().__init__(*args, **kwargs)
    self.output_scale = float(output_scale)

  def call(self, inputs):
    outputs = self.convolution_op(inputs, self.kernel * self.output_scale)
    if self.use_bias:
      bias = ops.reshape(self.bias * self.output_scale, (1,) * (self.rank + 1) + (self.filters,))
      outputs = ops.add(outputs, bias)
    return outputs

  def get_config(self):
    return {**super().get_config(), 'output_scale': self.output_scale}


def depthwise_conv2d(x, kernel_size, scope: str, hp: ConvHParams, *, stride=1, rate=1,
                     padding: str = 'SAME', depth_multiplier: int = 1,
                     normalize: Optional[bool] = None, activation_fn=_DEFAULT,
                     kernel_initializer=None, regularize: bool = False):
  """slim.separable_conv2d with num_outputs=None: a depthwise conv alone.

  Variables are `<scope>/depthwise_weights` `[kh, kw, in, depth_multiplier]`
  and `<scope>/BatchNorm/*` (or `<scope>/biases` without batch norm).

  Args:
    x: NHWC input.
    kernel_size: int or (kh, kw).
    scope: the slim scope of the layer.
    hp: the family's hyper-parameters.
    stride, rate, padding: as in slim ('SAME' / 'VALID').
    depth_multiplier: output channels per input channel.
    normalize: batch norm after the conv; defaults to `hp.use_batch_norm`.
    activation_fn: defaults to `hp.activation`; None for a linear layer.
    kernel_initializer: defaults to He normal.
    regularize: apply the family's weight decay to the depthwise weights.

  Returns:
    The output tensor.
  """
  normalize = hp.use_batch_norm if normalize is None else normalize
  activation_fn = hp.activation if activation_fn is _DEFAULT else activation_fn
  x = keras.layers.DepthwiseConv2D(
      _pair(kernel_size), strides=_pair(stride), padding=_padding(padding),
      depth_multiplier=depth_multiplier, dilation_rate=_pair(rate), use_bias=not normalize,
      depthwise_initializer=kernel_initializer or initializers.he_normal(),
      depthwise_regularizer=hp.regularizer() if regularize else None,
      name=layer_name(scope))(x)
  if normalize:
    x = batch_norm(x, f'{scope}/BatchNorm', hp)
  return activation(x, scope, activation_fn)


def fixed_padding(x, kernel_size: Sequence[int], scope: str, rate: int = 1):
  """Zero padding that makes a 'VALID' conv give 'SAME' sizes (slim's `_fixed_padding`).

  slim computes both pads from kernel_size[0]; so does this.
  """
  effective = kernel_size[0] + (kernel_size[0] - 1) * (rate - 1)
  begin = (effective - 1) // 2
  end = effective - 1 - begin
  return keras.layers.ZeroPadding2D(((begin, end), (begin, end)),
                                    name=layer_name(f'{scope}/Pad'))(x)


def fully_connected(x, units: int, scope: str, hp: ConvHParams, *,
                    activation_fn=None, kernel_initializer=None):
  """slim.fully_connected (weights `[in, out]` and biases, no batch norm)."""
  x = keras.layers.Dense(
      units, kernel_initializer=kernel_initializer or initializers.glorot_uniform(),
      kernel_regularizer=hp.regularizer(), name=layer_name(scope))(x)
  return activation(x, scope, activation_fn)


def max_pool2d(x, kernel_size: IntPair, scope: str, *, stride: IntPair = 2,
               padding: str = 'VALID'):
  return keras.layers.MaxPooling2D(_pair(kernel_size), strides=_pair(stride),
                                   padding=_padding(padding), name=layer_name(scope))(x)


def avg_pool2d(x, kernel_size: IntPair, scope: str, *, stride: IntPair = 2,
               padding: str = 'VALID', reduced_from: Optional[IntPair] = None):
  """slim.avg_pool2d; with 'SAME' padding the border windows average only real pixels.

  `reduced_from`: as `conv2d`'s.
  """
  layer = AveragePooling2D(_pair(kernel_size), strides=_pair(stride),
                           padding=_padding(padding), name=layer_name(scope))
  mark_reduced_kernel(layer, reduced_from)
  return layer(x)


def _same_padding(size: int, kernel: int, stride: int) -> Tuple[int, int]:
  """TensorFlow's SAME padding of one axis: (before, after), the odd pixel after."""
  total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
  return total // 2, total - total // 2


@keras.saving.register_keras_serializable(package='slimvision')
class AveragePooling2D(keras.layers.AveragePooling2D):
  """slim's average pooling on every backend: with SAME padding, a border window
  averages only the real pixels it covers, the padding split as TensorFlow
  splits it (the odd pixel after).

  TensorFlow's own kernel does exactly this; elsewhere the windows are summed
  over the explicitly padded input and divided by the number of real pixels
  (the PyTorch backend otherwise pads both sides alike).
  """

  def call(self, inputs):
    if self.padding != 'same' or keras.backend.backend() == 'tensorflow':
      return super().call(inputs)
    pads = [_same_padding(int(size), k, s)
            for size, k, s in zip(inputs.shape[1:3], self.pool_size, self.strides)]
    paddings = [(0, 0), *pads, (0, 0)]
    mean_with_zeros = ops.average_pool(ops.pad(inputs, paddings), self.pool_size,
                                       self.strides, 'valid')
    ones = ops.ones((1, *[int(d) for d in inputs.shape[1:3]], 1), dtype=inputs.dtype)
    real_fraction = ops.average_pool(ops.pad(ones, paddings), self.pool_size, self.strides,
                                     'valid')
    return mean_with_zeros / real_fraction


WHOLE_MAP = 'whole_map'  # `reduced_from` of a kernel that covers its whole input.


def mark_reduced_kernel(layer, reduced_from: Union[IntPair, str, None]) -> None:
  """Records on `layer` how the builder chose its kernel from the input size.

  Args:
    layer: a convolution or pooling layer.
    reduced_from: the kernel that `reduced_kernel_size_for_small_input`
      shrank, or `WHOLE_MAP` for a kernel set to the input's spatial size;
      None: a fixed kernel. `spatial_failure` replays the rule.
  """
  if reduced_from is not None:
    layer.reduced_from = reduced_from if reduced_from == WHOLE_MAP else _pair(reduced_from)


def global_pool(x, scope: str):
  """Mean over height and width, keeping them as 1 x 1 (slim's `reduce_mean(keepdims)`)."""
  return keras.layers.GlobalAveragePooling2D(keepdims=True, name=layer_name(scope))(x)


def concat(tensors, scope: str):
  return keras.layers.Concatenate(axis=-1, name=layer_name(scope))(list(tensors))


def dropout(x, keep_prob: float, scope: str, hp: ConvHParams):
  return keras.layers.Dropout(1.0 - keep_prob, name=layer_name(scope))(
      x, **_training_kwargs(hp))


def flatten(x, scope: str):
  return keras.layers.Flatten(name=layer_name(scope))(x)


def softmax(x, scope: str):
  return keras.layers.Softmax(name=layer_name(scope))(x)


def static_spatial_shape(x) -> Tuple[Optional[int], Optional[int]]:
  return tuple(x.shape[1:3])


def reduced_kernel_size_for_small_input(x, kernel_size: Sequence[int]) -> Tuple[int, int]:
  """slim's rule: shrink a pooling / conv kernel to a small static input."""
  h, w = static_spatial_shape(x)
  if h is None or w is None:
    return tuple(kernel_size)
  return (min(h, kernel_size[0]), min(w, kernel_size[1]))


def _window_output(size: int, kernel: int, stride: int, padding: str, rate: int = 1
                   ) -> int:
  """Output length of a convolution / pooling window along one axis (<= 0: none)."""
  if padding == 'same':
    return -(-size // stride)
  return (size - (kernel - 1) * rate - 1) // stride + 1


def spatial_failure(model: keras.Model, size: int) -> Optional[str]:
  """Whether the net built as `model` would build for `size` x `size` inputs.

  Replays the spatial sizes of the model's layers at another input size,
  applying slim's rule for kernels reduced on small inputs (layers marked with
  `reduced_from`), without building anything.

  Returns:
    None if every layer gets a non-empty input and merged branches agree,
    else the slim scope of the first layer that does not.
  """
  sizes = {}
  for layer in model.operations:
    node = layer._inbound_nodes[0]  # pylint: disable=protected-access
    inputs = [sizes.get(id(t), size) for t in node.input_tensors]
    if isinstance(layer, keras.layers.InputLayer):
      out = size
    elif any(h is None for h in inputs):  # Past a Flatten / Dense: no spatial axes.
      out = None
    elif isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D,
                            keras.layers.SeparableConv2D, keras.layers.MaxPooling2D,
                            keras.layers.AveragePooling2D)):
      kernel = getattr(layer, 'kernel_size', None) or layer.pool_size
      kernel = kernel[0]
      reduced_from = getattr(layer, 'reduced_from', None)
      if reduced_from == WHOLE_MAP:
        kernel = inputs[0]
      elif reduced_from:
        kernel = min(reduced_from[0], inputs[0])
      rate = getattr(layer, 'dilation_rate', (1, 1))[0]
      out = _window_output(inputs[0], kernel, layer.strides[0], layer.padding, rate)
    elif isinstance(layer, keras.layers.ZeroPadding2D):
      out = inputs[0] + sum(layer.padding[0])
    elif isinstance(layer, keras.layers.Cropping2D):
      out = inputs[0] - sum(layer.cropping[0])
    elif isinstance(layer, keras.layers.GlobalAveragePooling2D):
      out = 1 if layer.keepdims else None
    elif isinstance(layer, (keras.layers.Flatten, keras.layers.Dense)):
      out = None
    elif len(inputs) > 1:  # Concatenate, Add, Multiply: equal (or broadcast 1) sizes.
      out = max(inputs)
      if any(h not in (1, out) for h in inputs) or (
          isinstance(layer, keras.layers.Concatenate) and len(set(inputs)) > 1):
        return scope_name(layer.name)
    else:
      out = inputs[0]
    if out is not None and out < 1:
      return scope_name(layer.name)
    for t in node.output_tensors:
      sizes[id(t)] = out
  return None


@keras.saving.register_keras_serializable(package='slimvision')
class ScaledResidual(keras.layers.Layer):
  """`shortcut + scale * residual`, the Inception-ResNet merge.

  With `clip=True` the scaled residual is clipped to [-6, 6] first, as slim does
  when the block activation is relu6.
  """

  def __init__(self, scale: float = 1.0, clip: bool = False, **kwargs):
    super().__init__(**kwargs)
    self.scale = float(scale)
    self.clip = bool(clip)

  def call(self, inputs):
    shortcut, residual = inputs
    if self.scale != 1.0:
      residual = residual * self.scale
    if self.clip:
      residual = ops.clip(residual, -6.0, 6.0)
    return shortcut + residual

  def compute_output_shape(self, input_shapes):
    return input_shapes[0]

  def get_config(self):
    return {**super().get_config(), 'scale': self.scale, 'clip': self.clip}
