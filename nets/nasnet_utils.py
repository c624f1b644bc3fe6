"""Cell machinery shared by NASNet-A and PNASNet-5 (slim's `nets/nasnet/nasnet_utils.py`).

A cell reads two hidden states: its input (ReLU, 1x1 conv, `beginning_bn`:
state 0) and the output of the cell before (`prev_layer`, brought to the
same width and resolution by `prev_1x1` / `prev_bn` or a factorized
reduction: state 1). It then makes five combinations `comb_iter_<i>`, each
the sum of two operations (`left`, `right`) on two earlier states: stacked
separable convs (`separable_5x5_1`, `bn_sep_5x5_1`, ..., ReLU before each),
3 x 3 average / max pools, or the identity (`none`). The states that no
combination consumed are concatenated (`cell_output`). A cell type is data
(`CellSpec`); `Cell` builds instances of it with the settings a net shares.

Drop path (`DropPath`) drops whole operation outputs per example while
training, with slim's schedule: the drop rate grows linearly with the cell's
depth and, over `total_training_steps`, with the training step (see
`DropPath` for where the step comes from).

The stem, auxiliary head and classifier that NASNet and PNASNet share live
here too, so neither family reaches into the other.
"""

import dataclasses
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import keras
from keras import ops

from . import initializers
from . import layers
from .layers import ConvHParams

# Bound of the clipped activations of `use_bounded_activation` (slim's CLIP_BY_VALUE_CAP).
CLIP_BY_VALUE_CAP = 6.0


@dataclasses.dataclass(frozen=True)
class NasNetConfig:
  """slim's `*_config()` HParams: the architecture of one NASNet / PNASNet variant.

  Attributes:
    stem_multiplier: width multiplier of the stem's first conv (of 32 filters
      on ImageNet, of `num_conv_filters` on CIFAR).
    dense_dropout_keep_prob: keep probability before the classifier.
    num_cells: normal cells (NASNet) or cells (PNASNet, whose reductions are
      strided normal cells).
    filter_scaling_rate: width factor at every reduction.
    num_conv_filters: filters of the first cells.
    drop_path_keep_prob: keep probability of drop path in the deepest cell.
    use_aux_head: build the auxiliary head (when training).
    num_reduction_layers: reductions among the cells.
    skip_reduction_layer_input: cells after a reduction read the state from
      before it as their `prev_layer`.
    total_training_steps: steps over which the drop path rate ramps up.
    data_format: 'NHWC' (the only one these Keras layers support).
    use_bounded_activation: ReLU6 and clipping at +-6 instead of ReLU.
  """
  stem_multiplier: float
  dense_dropout_keep_prob: float
  num_cells: int
  filter_scaling_rate: float
  num_conv_filters: int
  drop_path_keep_prob: float
  use_aux_head: int
  num_reduction_layers: int
  skip_reduction_layer_input: int
  total_training_steps: int
  data_format: str = 'NHWC'
  use_bounded_activation: bool = False

  def replace(self, **changes) -> 'NasNetConfig':
    return dataclasses.replace(self, **changes)


def arg_scope_hparams(weight_decay: float, batch_norm_decay: float,
                      batch_norm_epsilon: float) -> ConvHParams:
  """What slim's `nasnet_*_arg_scope` set: scaled batch norm, convs without bias
  or activation (the cells add ReLUs and batch norms themselves)."""
  return ConvHParams(weight_decay=weight_decay, batch_norm_decay=batch_norm_decay,
                     batch_norm_epsilon=batch_norm_epsilon, batch_norm_scale=True,
                     activation=None)


def check_config(config) -> None:
  """Raises ValueError for a data format the Keras layers do not build."""
  if config.data_format != 'NHWC':
    raise ValueError("Only data_format='NHWC' is supported (TensorFlow picks its GPU "
                     f'layouts itself). Received: data_format={config.data_format!r}')


def calc_reduction_layers(num_cells: int, num_reduction_layers: int) -> List[int]:
  """The cell indices where slim places reductions: evenly spaced, rounded down."""
  return [int(float(i) / (num_reduction_layers + 1) * num_cells)
          for i in range(1, num_reduction_layers + 1)]


# ----------------------------------------------------------------------------
# Layers
# ----------------------------------------------------------------------------

def _initializer():
  # slim's variance_scaling_initializer(mode='FAN_OUT'): factor 2, truncated normal.
  return initializers.VarianceScaling(2.0, mode='fan_out',
                                            distribution='truncated_normal')


def _training_kwargs(hp: ConvHParams) -> dict:
  return {} if hp.is_training is None else {'training': hp.is_training}


def conv2d(x, filters: int, kernel_size, scope: str, hp: ConvHParams, *, stride: int = 1,
           padding: str = 'SAME', reduced_from=None):
  """slim.conv2d under the NASNet arg scope: weights only (no bias, norm or activation).

  `reduced_from`: as `layers.conv2d`'s.
  """
  layer = keras.layers.Conv2D(
      filters, kernel_size, strides=stride, padding=padding.lower(), use_bias=False,
      kernel_initializer=_initializer(), kernel_regularizer=hp.regularizer(),
      name=layers.layer_name(scope))
  layers.mark_reduced_kernel(layer, reduced_from)
  return layer(x)


def separable_conv2d(x, filters: int, kernel_size: int, scope: str, hp: ConvHParams, *,
                     stride: int = 1):
  """slim.separable_conv2d (depth multiplier 1): `depthwise_weights` and
  `pointwise_weights`, both under weight decay; no bias, norm or activation."""
  return keras.layers.SeparableConv2D(
      filters, kernel_size, strides=stride, padding='same', depth_multiplier=1,
      use_bias=False, depthwise_initializer=_initializer(),
      pointwise_initializer=_initializer(), depthwise_regularizer=hp.regularizer(),
      pointwise_regularizer=hp.regularizer(), name=layers.layer_name(scope))(x)


def fully_connected(x, units: int, scope: str, hp: ConvHParams):
  return layers.fully_connected(x, units, scope, hp, kernel_initializer=_initializer())


def _relu(x, scope: str, bounded: bool):
  return layers.activation(x, scope, 'relu6' if bounded else 'relu')


@keras.saving.register_keras_serializable(package='slimvision')
class ClipByValue(keras.layers.Layer):
  """Clips to [-clip_value, clip_value] (slim's bounded-activation clipping)."""

  def __init__(self, clip_value: float = CLIP_BY_VALUE_CAP, **kwargs):
    super().__init__(**kwargs)
    self.clip_value = float(clip_value)

  def call(self, inputs):
    return ops.clip(inputs, -self.clip_value, self.clip_value)

  def compute_output_shape(self, input_shape):
    return input_shape

  def get_config(self):
    return {**super().get_config(), 'clip_value': self.clip_value}


def _clip(x, scope: str, bounded: bool):
  return ClipByValue(name=layers.layer_name(f'{scope}/clip'))(x) if bounded else x


@keras.saving.register_keras_serializable(package='slimvision')
class DropPath(keras.layers.Layer):
  """slim's `drop_path`: while training, zeroes whole examples of a hidden state.

  Each example is kept with probability `p` (one Bernoulli draw per example,
  broadcast over height, width and channels) and scaled by `1 / p`, so the
  expected value is unchanged; at inference the layer is the identity.

  `keep_prob` is the cell's keep probability, already scaled by depth as slim
  does (`1 - (cell_num + 1) / total_num_cells * (1 - drop_path_keep_prob)`).
  Over training slim lowers the keep probability from 1 to that value
  linearly in the global step over `total_training_steps`:
  `p = 1 - min(1, step / total_training_steps) * (1 - keep_prob)`. Keras
  has no global step, so the step comes from `current_step` (a callable
  returning it, e.g. `lambda: optimizer.iterations`, or a variable), read at
  every call. Without one the ramp counts as finished: `p = keep_prob` from
  the first step. `current_step` is not part of the serialized config.

  Args:
    keep_prob: the depth-scaled keep probability, in (0, 1].
    total_training_steps: length of the ramp; 0 disables it.
    current_step: None, a callable returning the training step, or a variable.
    seed: of the random draws.
  """

  def __init__(self, keep_prob: float, total_training_steps: int = 0, current_step=None,
               seed: Optional[int] = None, **kwargs):
    super().__init__(**kwargs)
    if not 0.0 < float(keep_prob) <= 1.0:
      raise ValueError(f'keep_prob must be in (0, 1]. Received: keep_prob={keep_prob}')
    self.keep_prob = float(keep_prob)
    self.total_training_steps = int(total_training_steps)
    self.seed = seed
    self.seed_generator = keras.random.SeedGenerator(seed)
    # Held in a closure so that a step variable is not tracked as a weight of the layer.
    if current_step is None or callable(current_step):
      self._current_step = current_step
    else:
      self._current_step = lambda: current_step

  def scheduled_keep_prob(self):
    """The keep probability at the current step (a float without a step source)."""
    if self._current_step is None or self.total_training_steps <= 0:
      return self.keep_prob
    step = ops.cast(self._current_step(), 'float32')
    ratio = ops.minimum(1.0, step / float(self.total_training_steps))
    return 1.0 - ratio * (1.0 - self.keep_prob)

  def call(self, inputs, training=None):
    if not training or self.keep_prob >= 1.0:
      return inputs
    keep_prob = self.scheduled_keep_prob()
    noise = keras.random.uniform((ops.shape(inputs)[0], 1, 1, 1), seed=self.seed_generator)
    mask = ops.cast(ops.floor(keep_prob + noise), inputs.dtype)
    return inputs * ops.cast(1.0 / keep_prob, inputs.dtype) * mask

  def compute_output_shape(self, input_shape):
    return input_shape

  def get_config(self):
    return {**super().get_config(), 'keep_prob': self.keep_prob,
            'total_training_steps': self.total_training_steps, 'seed': self.seed}


def factorized_reduction(net, output_filters: int, stride: int, scope: str, hp: ConvHParams):
  """Reduces `net` to `output_filters` (and halves it with stride 2) losing no pixel.

  With stride 2 two paths each read every other pixel, one starting at (0, 0)
  (`path1_conv`), one at (1, 1) (`path2_conv`; slim pads a zero row and column
  at the bottom / right and crops the first ones, a shift by one pixel); their
  concatenation is normalised by `final_path_bn`. With stride 1 it is a 1x1
  conv (`path_conv`) and batch norm (`path_bn`).
  """
  if stride == 1:
    net = conv2d(net, output_filters, 1, f'{scope}/path_conv', hp)
    return layers.batch_norm(net, f'{scope}/path_bn', hp)
  path1 = layers.avg_pool2d(net, 1, f'{scope}/path1_avg_pool', stride=stride)
  path1 = conv2d(path1, output_filters // 2, 1, f'{scope}/path1_conv', hp)
  path2 = keras.layers.ZeroPadding2D(((0, 1), (0, 1)),
                                     name=layers.layer_name(f'{scope}/path2_pad'))(net)
  path2 = keras.layers.Cropping2D(((1, 0), (1, 0)),
                                  name=layers.layer_name(f'{scope}/path2_crop'))(path2)
  path2 = layers.avg_pool2d(path2, 1, f'{scope}/path2_avg_pool', stride=stride)
  # An odd width gives path 2 the extra filter.
  path2 = conv2d(path2, output_filters // 2 + output_filters % 2, 1, f'{scope}/path2_conv', hp)
  net = layers.concat([path1, path2], f'{scope}/path_concat')
  return layers.batch_norm(net, f'{scope}/final_path_bn', hp)


# ----------------------------------------------------------------------------
# Cells
# ----------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class CellSpec:
  """One cell type as data.

  Attributes:
    operations: per combination `i`, `operations[2i]` (left) and
      `operations[2i + 1]` (right): 'separable_<k>x<k>_<n>' (n stacked
      separable convs), 'avg_pool_3x3', 'max_pool_3x3' or 'none'.
    hiddenstate_indices: the states those operations read (0: the cell's
      input after its 1x1, 1: the previous cell's output, 2 + j: combination j).
    used_hiddenstates: per state, 1 if a combination consumed it, which
      leaves it out of the cell's output.
  """
  operations: Tuple[str, ...]
  hiddenstate_indices: Tuple[int, ...]
  used_hiddenstates: Tuple[int, ...]


NASNET_A_NORMAL_CELL = CellSpec(
    operations=('separable_5x5_2', 'separable_3x3_2', 'separable_5x5_2', 'separable_3x3_2',
                'avg_pool_3x3', 'none', 'avg_pool_3x3', 'avg_pool_3x3', 'separable_3x3_2',
                'none'),
    hiddenstate_indices=(0, 1, 1, 1, 0, 1, 1, 1, 0, 0),
    used_hiddenstates=(1, 0, 0, 0, 0, 0, 0))

NASNET_A_REDUCTION_CELL = CellSpec(
    operations=('separable_5x5_2', 'separable_7x7_2', 'max_pool_3x3', 'separable_7x7_2',
                'avg_pool_3x3', 'separable_5x5_2', 'none', 'avg_pool_3x3', 'separable_3x3_2',
                'max_pool_3x3'),
    hiddenstate_indices=(0, 1, 0, 1, 0, 1, 3, 2, 2, 0),
    used_hiddenstates=(1, 1, 1, 0, 0, 0, 0))


def _separable_info(operation: str) -> Tuple[int, int]:
  """'separable_5x5_2' -> (kernel 5, 2 layers); 'separable_3x3' -> (3, 1)."""
  parts = operation.split('_')
  num_layers = 1 if 'x' in parts[-1] else int(parts[-1])
  height, width = parts[1].split('x')
  if height != width:
    raise ValueError(f'Rectangular filters are not supported. Received: {operation!r}')
  return int(height), num_layers


def _pooling_info(operation: str) -> Tuple[str, int]:
  """'avg_pool_3x3' -> ('avg', 3)."""
  parts = operation.split('_')
  height, width = parts[-1].split('x')
  if parts[0] not in ('avg', 'max') or height != width:
    raise ValueError(f'Unknown pooling operation {operation!r}; expected avg_pool_<k>x<k> '
                     'or max_pool_<k>x<k>.')
  return parts[0], int(height)


@dataclasses.dataclass(frozen=True)
class Cell:
  """A cell type with the settings all its instances in a net share (slim's
  `NasNetABaseCell`); calling it builds one instance.

  Attributes:
    spec: the cell type.
    num_conv_filters: filters at filter_scaling 1.
    drop_path_keep_prob: drop path keep probability of the deepest cell (1:
      no drop path).
    total_num_cells: cells in the net, stems and reductions included (the
      depth scale of drop path).
    total_training_steps: length of the drop path ramp.
    hp: the arg-scope hyper-parameters (with the training mode).
    use_bounded_activation: ReLU6 and clipping instead of ReLU.
    current_step: source of the training step for the drop path ramp.
  """
  spec: CellSpec
  num_conv_filters: int
  drop_path_keep_prob: float
  total_num_cells: int
  total_training_steps: int
  hp: ConvHParams
  use_bounded_activation: bool = False
  current_step: Any = None

  def __call__(self, net, scope: str, filter_scaling: float = 1.0, stride: int = 1,
               prev_layer=None, cell_num: int = -1):
    filter_size = int(self.num_conv_filters * filter_scaling)
    prev_layer = self._reduce_prev_layer(prev_layer, net, filter_size, scope)
    states = [self._cell_base(net, filter_size, scope), prev_layer]
    operations, indices = self.spec.operations, self.spec.hiddenstate_indices
    for i in range(len(operations) // 2):
      s = f'{scope}/comb_iter_{i}'
      branches = []
      for j, side in ((2 * i, 'left'), (2 * i + 1, 'right')):
        branches.append(self._apply_conv_operation(
            states[indices[j]], operations[j], stride, indices[j] < 2, filter_size,
            cell_num, f'{s}/{side}'))
      h = keras.layers.Add(name=layers.layer_name(f'{s}/combine'))(branches)
      if self.use_bounded_activation:
        h = _relu(h, f'{s}/combine', True)
      states.append(h)
    return self._combine_unused_states(states, f'{scope}/cell_output')

  def _reduce_prev_layer(self, prev_layer, curr_layer, filter_size: int, scope: str):
    """Brings the previous cell's output to this cell's resolution and width."""
    if prev_layer is None:
      return curr_layer
    if prev_layer.shape[2] != curr_layer.shape[2]:
      prev_layer = _relu(prev_layer, f'{scope}/path', self.use_bounded_activation)
      return factorized_reduction(prev_layer, filter_size, 2, scope, self.hp)
    if prev_layer.shape[-1] != filter_size:
      prev_layer = _relu(prev_layer, f'{scope}/prev_1x1', self.use_bounded_activation)
      prev_layer = conv2d(prev_layer, filter_size, 1, f'{scope}/prev_1x1', self.hp)
      return layers.batch_norm(prev_layer, f'{scope}/prev_bn', self.hp)
    return prev_layer

  def _cell_base(self, net, filter_size: int, scope: str):
    net = _relu(net, f'{scope}/1x1', self.use_bounded_activation)
    net = conv2d(net, filter_size, 1, f'{scope}/1x1', self.hp)
    return layers.batch_norm(net, f'{scope}/beginning_bn', self.hp)

  def _apply_conv_operation(self, net, operation: str, stride: int, from_cell_input: bool,
                            filter_size: int, cell_num: int, scope: str):
    """One operation of a combination; only the cell's two inputs are strided."""
    stride = stride if from_cell_input else 1
    bounded, hp = self.use_bounded_activation, self.hp
    input_filters = net.shape[-1]
    if operation.startswith('separable'):
      net = self._stacked_separable_conv(net, stride, operation, filter_size, scope)
      net = _clip(net, scope, bounded)
    elif operation == 'none':
      if bounded:
        net = _relu(net, f'{scope}/none', True)
      if stride > 1 or input_filters != filter_size:
        if not bounded:
          net = _relu(net, f'{scope}/1x1', False)
        net = conv2d(net, filter_size, 1, f'{scope}/1x1', hp, stride=stride)
        net = layers.batch_norm(net, f'{scope}/bn_1', hp)
        net = _clip(net, scope, bounded)
      return net  # slim never drops the identity.
    elif 'pool' in operation:
      if bounded:
        net = _relu(net, f'{scope}/pool', True)
      kind, kernel = _pooling_info(operation)
      pool = layers.avg_pool2d if kind == 'avg' else layers.max_pool2d
      net = pool(net, kernel, f'{scope}/{operation}', stride=stride, padding='SAME')
      if input_filters != filter_size:
        net = conv2d(net, filter_size, 1, f'{scope}/1x1', hp)
        net = layers.batch_norm(net, f'{scope}/bn_1', hp)
      net = _clip(net, scope, bounded)
    else:
      raise ValueError(f'Unknown operation {operation!r}; expected separable_<k>x<k>_<n>, '
                       'avg_pool_<k>x<k>, max_pool_<k>x<k> or none.')
    return self._apply_drop_path(net, cell_num, scope)

  def _stacked_separable_conv(self, net, stride: int, operation: str, filter_size: int,
                              scope: str):
    """ReLU, separable conv, batch norm, `n` times; only the first is strided."""
    kernel, num_layers = _separable_info(operation)
    for layer_num in range(1, num_layers + 1):
      name = f'separable_{kernel}x{kernel}_{layer_num}'
      net = _relu(net, f'{scope}/{name}', self.use_bounded_activation)
      net = separable_conv2d(net, filter_size, kernel, f'{scope}/{name}', self.hp,
                             stride=stride)
      net = layers.batch_norm(net, f'{scope}/bn_sep_{kernel}x{kernel}_{layer_num}', self.hp)
      stride = 1
    return net

  def _apply_drop_path(self, net, cell_num: int, scope: str):
    # slim sets drop_path_keep_prob to 1 when not training (`_update_hparams`).
    if self.drop_path_keep_prob >= 1.0 or self.hp.is_training is False:
      return net
    if cell_num < 0:
      raise ValueError('Drop path needs the cell number to scale its rate by depth. '
                       f'Received: cell_num={cell_num}')
    layer_ratio = (cell_num + 1) / float(self.total_num_cells)
    keep_prob = 1.0 - layer_ratio * (1.0 - self.drop_path_keep_prob)
    layer = DropPath(keep_prob, self.total_training_steps, self.current_step,
                     name=layers.layer_name(f'{scope}/drop_path'))
    return layer(net, **_training_kwargs(self.hp))

  def _combine_unused_states(self, states: Sequence, scope: str):
    """Concatenates the states no combination consumed, reduced to the last one's shape."""
    used = self.spec.used_hiddenstates
    if len(used) != len(states):
      raise ValueError(f'used_hiddenstates has {len(used)} entries for {len(states)} states.')
    final_width, final_filters = states[-1].shape[2], states[-1].shape[-1]
    outputs = []
    for idx, (state, is_used) in enumerate(zip(states, used)):
      if is_used:
        continue
      if state.shape[2] != final_width or state.shape[-1] != final_filters:
        stride = 2 if state.shape[2] != final_width else 1
        state = factorized_reduction(state, final_filters, stride, f'{scope}/reduction_{idx}',
                                     self.hp)
      outputs.append(state)
    return layers.concat(outputs, f'{scope}/concat')


# ----------------------------------------------------------------------------
# Stem, auxiliary head and classifier
# ----------------------------------------------------------------------------

def imagenet_stem(inputs, config, hp: ConvHParams, stem_cell: Cell):
  """The ImageNet stem: a strided 3x3 conv and two strided cells.

  Returns:
    (net, cell_outputs) with cell_outputs `[None, conv0, cell_stem_0, cell_stem_1]`.
  """
  # 165 x 165 (331 input) / 111 x 111 (224 input)
  net = conv2d(inputs, int(32 * config.stem_multiplier), 3, 'conv0', hp, stride=2,
               padding='VALID')
  net = layers.batch_norm(net, 'conv0_bn', hp)
  cell_outputs = [None, net]
  num_stem_cells = 2
  filter_scaling = 1.0 / (config.filter_scaling_rate ** num_stem_cells)
  for cell_num in range(num_stem_cells):
    net = stem_cell(net, f'cell_stem_{cell_num}', filter_scaling=filter_scaling, stride=2,
                    prev_layer=cell_outputs[-2], cell_num=cell_num)
    cell_outputs.append(net)
    filter_scaling *= config.filter_scaling_rate
  return net, cell_outputs


def aux_head_cells(config) -> List[int]:
  """The cell whose output feeds the auxiliary head: the last before the second reduction."""
  reductions = calc_reduction_layers(config.num_cells, config.num_reduction_layers)
  return [reductions[1] - 1] if len(reductions) >= 2 else []


def build_aux_head(net, end_points: Dict[str, Any], num_classes: int, config,
                   hp: ConvHParams, scope: str) -> None:
  """The auxiliary classifier on a cell's output: `end_points['AuxLogits']`."""
  bounded = config.use_bounded_activation
  s = f'{scope}/aux_logits'
  aux = _relu(net, scope, bounded)
  aux = layers.avg_pool2d(aux, 5, f'{s}/AvgPool', stride=3, padding='VALID')
  aux = conv2d(aux, 128, 1, f'{s}/proj', hp)
  aux = layers.batch_norm(aux, f'{s}/aux_bn0', hp)
  aux = _relu(aux, f'{s}/aux_bn0', bounded)
  kernel = layers.static_spatial_shape(aux)
  if None in kernel:
    raise ValueError('The auxiliary head needs a static input size; build the model for a '
                     'fixed image size or pass create_aux_logits=False.')
  aux = conv2d(aux, 768, kernel, f'{s}/Conv', hp, padding='VALID',
               reduced_from=layers.WHOLE_MAP)
  aux = layers.batch_norm(aux, f'{s}/aux_bn1', hp)
  aux = _relu(aux, f'{s}/aux_bn1', bounded)
  aux = layers.flatten(aux, f'{s}/Flatten')
  end_points['AuxLogits'] = fully_connected(aux, num_classes, f'{s}/FC', hp)


def final_layer(net, num_classes: int, config, hp: ConvHParams,
                done: Callable[[str, Any], bool]):
  """ReLU, global average pool (`global_pool`), dropout, `final_layer/FC` (`Logits`),
  softmax (`Predictions`).

  Args:
    net: the last cell's output.
    num_classes: logits width; 0 or None stops after the pooling.
    config: the variant's NasNetConfig.
    hp: the arg-scope hyper-parameters.
    done: records an end point and says whether to stop there.

  Returns:
    The logits, or the pooled features when stopping earlier.
  """
  s = 'final_layer'
  net = _relu(net, s, config.use_bounded_activation)
  net = keras.layers.GlobalAveragePooling2D(name=layers.layer_name(f'{s}/global_pool'))(net)
  if done('global_pool', net) or not num_classes:
    return net
  net = layers.dropout(net, config.dense_dropout_keep_prob, f'{s}/dropout', hp)
  logits = fully_connected(net, num_classes, f'{s}/FC', hp)
  if done('Logits', logits):
    return logits
  done('Predictions', layers.softmax(logits, f'{s}/predictions'))
  return logits


def end_point_recorder(end_points: Dict[str, Any], final_endpoint: Optional[str]):
  """slim's `add_and_check_endpoint`: records an end point, True at `final_endpoint`."""
  def done(name: str, net) -> bool:
    end_points[name] = net
    return name == final_endpoint
  return done


def check_final_endpoint(final_endpoint: Optional[str], names: Sequence[str]) -> None:
  if final_endpoint is not None and final_endpoint not in names:
    raise ValueError(f'Unknown final_endpoint {final_endpoint!r}. Expected one of '
                     f'{list(names)}.')
