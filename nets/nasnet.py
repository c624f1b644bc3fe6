"""NASNet-A (Zoph et al., "Learning Transferable Architectures for Scalable Image
Recognition", https://arxiv.org/abs/1707.07012).

Mirrors slim's `nets/nasnet/nasnet.py`: `build_nasnet_cifar`,
`build_nasnet_mobile` and `build_nasnet_large` with slim's arguments,
configurations (`cifar_config`, `mobile_imagenet_config`,
`large_imagenet_config`), arg-scope values, end_points (`Stem`, `Cell_<i>`,
`Reduction_Cell_<i>`, `global_pool`, `Logits`, `Predictions`, `AuxLogits`)
and checkpoint variable names (`cell_stem_0/...`, `cell_<i>/comb_iter_<j>/...`,
`reduction_cell_<i>/...`, `final_layer/FC/...`, `aux_<i>/aux_logits/...`), so
slim's released checkpoints restore as they are.
Released: nasnet-a_mobile_04_10_2017 (224 x 224, 1001 classes, top-1 74.0,
top-5 91.6), nasnet-a_large_04_10_2017 (331 x 331, 82.7 / 96.2); NASNet-A
CIFAR-10 (32 x 32, 10 classes) has no released checkpoint.

The auxiliary head is built, as in slim, only for training (`is_training`
True, or `create_aux_logits=True` when the training mode is left to the model
call, as `nets_factory` does). Drop path is a training-time layer
(`nasnet_utils.DropPath`); pass `current_step` to ramp its rate over
`total_training_steps` as slim did with the global step.
"""

from typing import Any, Optional, Tuple

from . import layers
from . import nasnet_utils
from .layers import ConvHParams
from .nasnet_utils import NasNetConfig
from .nets_factory import register_network

_URL = 'http://download.tensorflow.org/models/{}.tar.gz'


def cifar_config() -> NasNetConfig:
  """NASNet-A 6 @ 768 for CIFAR-10 (600 epochs at batch 32 ramp the drop path)."""
  return NasNetConfig(stem_multiplier=3.0, drop_path_keep_prob=0.6, num_cells=18,
                      use_aux_head=1, num_conv_filters=32, dense_dropout_keep_prob=1.0,
                      filter_scaling_rate=2.0, num_reduction_layers=2,
                      skip_reduction_layer_input=0, total_training_steps=937500)


def large_imagenet_config() -> NasNetConfig:
  """NASNet-A 6 @ 4032 for ImageNet at 331 x 331."""
  return NasNetConfig(stem_multiplier=3.0, dense_dropout_keep_prob=0.5, num_cells=18,
                      filter_scaling_rate=2.0, num_conv_filters=168, drop_path_keep_prob=0.7,
                      use_aux_head=1, num_reduction_layers=2, skip_reduction_layer_input=1,
                      total_training_steps=250000)


def mobile_imagenet_config() -> NasNetConfig:
  """NASNet-A 4 @ 1056 for ImageNet at 224 x 224 (no drop path)."""
  return NasNetConfig(stem_multiplier=1.0, dense_dropout_keep_prob=0.5, num_cells=12,
                      filter_scaling_rate=2.0, drop_path_keep_prob=1.0, num_conv_filters=44,
                      use_aux_head=1, num_reduction_layers=2, skip_reduction_layer_input=0,
                      total_training_steps=250000)


def nasnet_cifar_arg_scope(weight_decay: float = 5e-4, batch_norm_decay: float = 0.9,
                           batch_norm_epsilon: float = 1e-5) -> ConvHParams:
  """slim's `nasnet_cifar_arg_scope`, as the hyper-parameters it set."""
  return nasnet_utils.arg_scope_hparams(weight_decay, batch_norm_decay, batch_norm_epsilon)


def nasnet_mobile_arg_scope(weight_decay: float = 4e-5, batch_norm_decay: float = 0.9997,
                            batch_norm_epsilon: float = 1e-3) -> ConvHParams:
  """slim's `nasnet_mobile_arg_scope`, as the hyper-parameters it set."""
  return nasnet_utils.arg_scope_hparams(weight_decay, batch_norm_decay, batch_norm_epsilon)


def nasnet_large_arg_scope(weight_decay: float = 5e-5, batch_norm_decay: float = 0.9997,
                           batch_norm_epsilon: float = 1e-3) -> ConvHParams:
  """slim's `nasnet_large_arg_scope`, as the hyper-parameters it set."""
  return nasnet_utils.arg_scope_hparams(weight_decay, batch_norm_decay, batch_norm_epsilon)


NASNET_CIFAR_HPARAMS = nasnet_cifar_arg_scope()
NASNET_MOBILE_HPARAMS = nasnet_mobile_arg_scope()
NASNET_LARGE_HPARAMS = nasnet_large_arg_scope()


def _cifar_stem(inputs, config, hp: ConvHParams):
  """The CIFAR stem: one 3x3 conv at full resolution."""
  # 32 x 32 x (num_conv_filters * stem_multiplier)
  net = nasnet_utils.conv2d(inputs, int(config.num_conv_filters * config.stem_multiplier), 3,
                            'l1_stem_3x3', hp)
  net = layers.batch_norm(net, 'l1_stem_bn', hp)
  return net, [None, net]


def end_point_names(config) -> Tuple[str, ...]:
  """The end points of a NASNet built with `config`, in order (AuxLogits aside)."""
  reductions = nasnet_utils.calc_reduction_layers(config.num_cells,
                                                  config.num_reduction_layers)
  names = ['Stem']
  for cell_num in range(config.num_cells):
    if cell_num in reductions:
      names.append(f'Reduction_Cell_{reductions.index(cell_num)}')
    names.append(f'Cell_{cell_num}')
  return tuple(names + ['global_pool', 'Logits', 'Predictions'])


def _build_nasnet_base(images, normal_cell, reduction_cell, num_classes: int, config,
                       hp: ConvHParams, aux_head: bool, stem_type: str,
                       final_endpoint: Optional[str] = None) -> Tuple[Any, dict]:
  """The NASNet body and classifier (slim's `_build_nasnet_base`)."""
  nasnet_utils.check_final_endpoint(final_endpoint, end_point_names(config))
  end_points = {}
  done = nasnet_utils.end_point_recorder(end_points, final_endpoint)
  reductions = nasnet_utils.calc_reduction_layers(config.num_cells,
                                                  config.num_reduction_layers)
  if stem_type == 'imagenet':
    net, cell_outputs = nasnet_utils.imagenet_stem(images, config, hp, reduction_cell)
  else:
    net, cell_outputs = _cifar_stem(images, config, hp)
  if done('Stem', net): return net, end_points

  aux_cells = nasnet_utils.aux_head_cells(config)
  filter_scaling = 1.0
  # Cell numbers count the ImageNet stem's two cells (drop path scales with them).
  true_cell_num = 2 if stem_type == 'imagenet' else 0
  for cell_num in range(config.num_cells):
    if config.skip_reduction_layer_input:
      prev_layer = cell_outputs[-2]
    if cell_num in reductions:
      filter_scaling *= config.filter_scaling_rate
      index = reductions.index(cell_num)
      net = reduction_cell(net, f'reduction_cell_{index}', filter_scaling=filter_scaling,
                           stride=2, prev_layer=cell_outputs[-2], cell_num=true_cell_num)
      if done(f'Reduction_Cell_{index}', net): return net, end_points
      true_cell_num += 1
      cell_outputs.append(net)
    if not config.skip_reduction_layer_input:
      prev_layer = cell_outputs[-2]
    net = normal_cell(net, f'cell_{cell_num}', filter_scaling=filter_scaling, stride=1,
                      prev_layer=prev_layer, cell_num=true_cell_num)
    if done(f'Cell_{cell_num}', net): return net, end_points
    true_cell_num += 1
    if aux_head and config.use_aux_head and cell_num in aux_cells and num_classes:
      nasnet_utils.build_aux_head(net, end_points, num_classes, config, hp,
                                  scope=f'aux_{cell_num}')
    cell_outputs.append(net)

  net = nasnet_utils.final_layer(net, num_classes, config, hp, done)
  return net, end_points


def _build(images, num_classes: int, is_training: Optional[bool], config, hparams,
           current_step, create_aux_logits: Optional[bool], stem_type: str,
           final_endpoint: Optional[str]):
  """Shared by the three builders: cells from the config, then the body."""
  nasnet_utils.check_config(config)
  hp = hparams.replace(is_training=is_training)
  # Cells in the net: the normal ones, two reductions, and on ImageNet two stem cells.
  total_num_cells = config.num_cells + 2 + (2 if stem_type == 'imagenet' else 0)
  drop_path_keep_prob = 1.0 if is_training is False else config.drop_path_keep_prob
  cells = [nasnet_utils.Cell(spec, config.num_conv_filters, drop_path_keep_prob,
                             total_num_cells, config.total_training_steps, hp,
                             config.use_bounded_activation, current_step)
           for spec in (nasnet_utils.NASNET_A_NORMAL_CELL,
                        nasnet_utils.NASNET_A_REDUCTION_CELL)]
  aux_head = bool(is_training) if create_aux_logits is None else bool(create_aux_logits)
  return _build_nasnet_base(images, cells[0], cells[1], num_classes, config, hp, aux_head,
                            stem_type, final_endpoint)


@register_network('nasnet_cifar', default_image_size=32, hparams=NASNET_CIFAR_HPARAMS,
                  classifier_scopes=('final_layer',), aux_scopes=('aux_*',),
                  num_classes=10, preprocessing='cifarnet')
def build_nasnet_cifar(images, num_classes: int, is_training: Optional[bool] = True,
                       config: Optional[NasNetConfig] = None, current_step=None, *,
                       create_aux_logits: Optional[bool] = None,
                       hparams: Optional[ConvHParams] = None) -> Tuple:
  """NASNet-A for CIFAR-10, as slim's `build_nasnet_cifar`.

  Args:
    images: NHWC Keras tensor (32 x 32 by default).
    num_classes: logits width; 0 or None returns the pooled features.
    is_training: batch norm / dropout / drop path mode; None defers it to the
      `training` argument of the Keras model call.
    config: a NasNetConfig; `cifar_config()` by default.
    current_step: the training step for the drop path ramp (see
      `nasnet_utils.DropPath`); None: the ramp counts as done.
    create_aux_logits: build the auxiliary head (if `config.use_aux_head`);
      None follows slim: only when `is_training` is True.
    hparams: slim's arg_scope values (`NASNET_CIFAR_HPARAMS` by default).

  Returns:
    (logits, end_points).
  """
  return _build(images, num_classes, is_training, config or cifar_config(),
                hparams or NASNET_CIFAR_HPARAMS, current_step, create_aux_logits, 'cifar', None)


build_nasnet_cifar.default_image_size = 32


@register_network('nasnet_mobile', default_image_size=224, hparams=NASNET_MOBILE_HPARAMS,
                  classifier_scopes=('final_layer',), aux_scopes=('aux_*',),
                  checkpoint_url=_URL.format('nasnet-a_mobile_04_10_2017'), top1=74.0,
                  top5=91.6)
def build_nasnet_mobile(images, num_classes: int, is_training: Optional[bool] = True,
                        final_endpoint: Optional[str] = None,
                        config: Optional[NasNetConfig] = None, current_step=None, *,
                        create_aux_logits: Optional[bool] = None,
                        hparams: Optional[ConvHParams] = None) -> Tuple:
  """NASNet-A Mobile for ImageNet, as slim's `build_nasnet_mobile`.

  Args:
    images: NHWC Keras tensor (224 x 224 by default).
    num_classes: logits width; 0 or None returns the pooled features.
    is_training: batch norm / dropout / drop path mode; None defers it to the
      `training` argument of the Keras model call.
    final_endpoint: stop at this end point (see `end_point_names`).
    config: a NasNetConfig; `mobile_imagenet_config()` by default.
    current_step: the training step for the drop path ramp.
    create_aux_logits: build the auxiliary head (if `config.use_aux_head`);
      None follows slim: only when `is_training` is True.
    hparams: slim's arg_scope values (`NASNET_MOBILE_HPARAMS` by default).

  Returns:
    (logits, end_points); the net at `final_endpoint` when given.
  """
  return _build(images, num_classes, is_training, config or mobile_imagenet_config(),
                hparams or NASNET_MOBILE_HPARAMS, current_step, create_aux_logits,
                'imagenet', final_endpoint)


build_nasnet_mobile.default_image_size = 224


@register_network('nasnet_large', default_image_size=331, hparams=NASNET_LARGE_HPARAMS,
                  classifier_scopes=('final_layer',), aux_scopes=('aux_*',),
                  checkpoint_url=_URL.format('nasnet-a_large_04_10_2017'), top1=82.7,
                  top5=96.2)
def build_nasnet_large(images, num_classes: int, is_training: Optional[bool] = True,
                       final_endpoint: Optional[str] = None,
                       config: Optional[NasNetConfig] = None, current_step=None, *,
                       create_aux_logits: Optional[bool] = None,
                       hparams: Optional[ConvHParams] = None) -> Tuple:
  """NASNet-A Large for ImageNet, as slim's `build_nasnet_large`.

  Args:
    images: NHWC Keras tensor (331 x 331 by default).
    num_classes: logits width; 0 or None returns the pooled features.
    is_training: batch norm / dropout / drop path mode; None defers it to the
      `training` argument of the Keras model call.
    final_endpoint: stop at this end point (see `end_point_names`).
    config: a NasNetConfig; `large_imagenet_config()` by default.
    current_step: the training step for the drop path ramp.
    create_aux_logits: build the auxiliary head (if `config.use_aux_head`);
      None follows slim: only when `is_training` is True.
    hparams: slim's arg_scope values (`NASNET_LARGE_HPARAMS` by default).

  Returns:
    (logits, end_points); the net at `final_endpoint` when given.
  """
  return _build(images, num_classes, is_training, config or large_imagenet_config(),
                hparams or NASNET_LARGE_HPARAMS, current_step, create_aux_logits,
                'imagenet', final_endpoint)


build_nasnet_large.default_image_size = 331

# The names slim's nets_factory uses.
nasnet_cifar = build_nasnet_cifar
nasnet_mobile = build_nasnet_mobile
nasnet_large = build_nasnet_large
