"""PNASNet-5 (Liu et al., "Progressive Neural Architecture Search",
https://arxiv.org/abs/1712.00559).

Mirrors slim's `nets/nasnet/pnasnet.py`: `build_pnasnet_large` and
`build_pnasnet_mobile` with slim's arguments, configurations, arg-scope
values, end_points (`Stem`, `Cell_<i>`, `global_pool`, `Logits`,
`Predictions`, `AuxLogits`) and checkpoint variable names. PNASNet has one
cell type; its reductions are the same cell with stride 2, and the ImageNet
stem of NASNet is built from it.
Released: pnasnet-5_large_2017_12_13 (331 x 331, 1001 classes, top-1 82.9,
top-5 96.2), pnasnet-5_mobile_2017_12_13 (224 x 224, 74.2 / 91.9).

As in NASNet (`nasnet.py`), the auxiliary head is built only for training and
drop path ramps over `total_training_steps` when given `current_step`.
"""

from typing import Any, Optional, Tuple

from . import nasnet_utils
from .layers import ConvHParams
from .nasnet_utils import CellSpec, NasNetConfig
from .nets_factory import register_network

_URL = 'http://download.tensorflow.org/models/{}.tar.gz'

PNASNET_NORMAL_CELL = CellSpec(
    operations=('separable_5x5_2', 'max_pool_3x3', 'separable_7x7_2', 'max_pool_3x3',
                'separable_5x5_2', 'separable_3x3_2', 'separable_3x3_2', 'max_pool_3x3',
                'separable_3x3_2', 'none'),
    hiddenstate_indices=(1, 1, 0, 0, 0, 0, 4, 0, 1, 0),
    used_hiddenstates=(1, 1, 0, 0, 0, 0, 0))


def large_imagenet_config() -> NasNetConfig:
  """PNASNet-5 Large (4 @ 4320) for ImageNet at 331 x 331."""
  return NasNetConfig(stem_multiplier=3.0, dense_dropout_keep_prob=0.5, num_cells=12,
                      filter_scaling_rate=2.0, num_conv_filters=216, drop_path_keep_prob=0.6,
                      use_aux_head=1, num_reduction_layers=2, skip_reduction_layer_input=1,
                      total_training_steps=250000)


def mobile_imagenet_config() -> NasNetConfig:
  """PNASNet-5 Mobile (3 @ 1080) for ImageNet at 224 x 224 (no drop path)."""
  return NasNetConfig(stem_multiplier=1.0, dense_dropout_keep_prob=0.5, num_cells=9,
                      filter_scaling_rate=2.0, num_conv_filters=54, drop_path_keep_prob=1.0,
                      use_aux_head=1, num_reduction_layers=2, skip_reduction_layer_input=1,
                      total_training_steps=250000)


def pnasnet_large_arg_scope(weight_decay: float = 4e-5, batch_norm_decay: float = 0.9997,
                            batch_norm_epsilon: float = 0.001) -> ConvHParams:
  """slim's `pnasnet_large_arg_scope` (NASNet Large's with PNASNet's weight decay)."""
  return nasnet_utils.arg_scope_hparams(weight_decay, batch_norm_decay, batch_norm_epsilon)


def pnasnet_mobile_arg_scope(weight_decay: float = 4e-5, batch_norm_decay: float = 0.9997,
                             batch_norm_epsilon: float = 0.001) -> ConvHParams:
  """slim's `pnasnet_mobile_arg_scope`, as the hyper-parameters it set."""
  return nasnet_utils.arg_scope_hparams(weight_decay, batch_norm_decay, batch_norm_epsilon)


PNASNET_LARGE_HPARAMS = pnasnet_large_arg_scope()
PNASNET_MOBILE_HPARAMS = pnasnet_mobile_arg_scope()


def end_point_names(config) -> Tuple[str, ...]:
  """The end points of a PNASNet built with `config`, in order (AuxLogits aside)."""
  return tuple(['Stem'] + [f'Cell_{i}' for i in range(config.num_cells)]
               + ['global_pool', 'Logits', 'Predictions'])


def _build_pnasnet_base(images, normal_cell, num_classes: int, config, hp: ConvHParams,
                        aux_head: bool, final_endpoint: Optional[str] = None
                        ) -> Tuple[Any, dict]:
  """The PNASNet body and classifier (slim's `_build_pnasnet_base`)."""
  nasnet_utils.check_final_endpoint(final_endpoint, end_point_names(config))
  end_points = {}
  done = nasnet_utils.end_point_recorder(end_points, final_endpoint)
  reductions = nasnet_utils.calc_reduction_layers(config.num_cells,
                                                  config.num_reduction_layers)
  net, cell_outputs = nasnet_utils.imagenet_stem(images, config, hp, normal_cell)
  if done('Stem', net): return net, end_points

  aux_cells = nasnet_utils.aux_head_cells(config)
  filter_scaling = 1.0
  true_cell_num = 2  # after the two stem cells
  prev_layer = None
  for cell_num in range(config.num_cells):
    is_reduction = cell_num in reductions
    if is_reduction:
      filter_scaling *= config.filter_scaling_rate
    # Without skip_reduction_layer_input a reduction keeps the previous cell's prev_layer.
    if config.skip_reduction_layer_input or not is_reduction:
      prev_layer = cell_outputs[-2]
    net = normal_cell(net, f'cell_{cell_num}', filter_scaling=filter_scaling,
                      stride=2 if is_reduction else 1, prev_layer=prev_layer,
                      cell_num=true_cell_num)
    if done(f'Cell_{cell_num}', net): return net, end_points
    true_cell_num += 1
    cell_outputs.append(net)
    if aux_head and config.use_aux_head and cell_num in aux_cells and num_classes:
      nasnet_utils.build_aux_head(net, end_points, num_classes, config, hp,
                                  scope=f'aux_{cell_num}')

  net = nasnet_utils.final_layer(net, num_classes, config, hp, done)
  return net, end_points


def _build(images, num_classes: int, is_training: Optional[bool], config, hparams,
           current_step, create_aux_logits: Optional[bool], final_endpoint: Optional[str]):
  nasnet_utils.check_config(config)
  hp = hparams.replace(is_training=is_training)
  # PNASNet's reductions are normal cells: the cells plus the two stem cells.
  total_num_cells = config.num_cells + 2
  drop_path_keep_prob = 1.0 if is_training is False else config.drop_path_keep_prob
  cell = nasnet_utils.Cell(PNASNET_NORMAL_CELL, config.num_conv_filters, drop_path_keep_prob,
                           total_num_cells, config.total_training_steps, hp,
                           config.use_bounded_activation, current_step)
  aux_head = bool(is_training) if create_aux_logits is None else bool(create_aux_logits)
  return _build_pnasnet_base(images, cell, num_classes, config, hp, aux_head, final_endpoint)


@register_network('pnasnet_large', default_image_size=331, hparams=PNASNET_LARGE_HPARAMS,
                  classifier_scopes=('final_layer',), aux_scopes=('aux_*',),
                  checkpoint_url=_URL.format('pnasnet-5_large_2017_12_13'), top1=82.9,
                  top5=96.2)
def build_pnasnet_large(images, num_classes: int, is_training: Optional[bool] = True,
                        final_endpoint: Optional[str] = None,
                        config: Optional[NasNetConfig] = None, *, current_step=None,
                        create_aux_logits: Optional[bool] = None,
                        hparams: Optional[ConvHParams] = None) -> Tuple:
  """PNASNet-5 Large for ImageNet, as slim's `build_pnasnet_large`.

  Args:
    images: NHWC Keras tensor (331 x 331 by default).
    num_classes: logits width; 0 or None returns the pooled features.
    is_training: batch norm / dropout / drop path mode; None defers it to the
      `training` argument of the Keras model call.
    final_endpoint: stop at this end point (see `end_point_names`).
    config: a NasNetConfig; `large_imagenet_config()` by default.
    current_step: the training step for the drop path ramp (see
      `nasnet_utils.DropPath`); None: the ramp counts as done.
    create_aux_logits: build the auxiliary head (if `config.use_aux_head`);
      None follows slim: only when `is_training` is True.
    hparams: slim's arg_scope values (`PNASNET_LARGE_HPARAMS` by default).

  Returns:
    (logits, end_points); the net at `final_endpoint` when given.
  """
  return _build(images, num_classes, is_training, config or large_imagenet_config(),
                hparams or PNASNET_LARGE_HPARAMS, current_step, create_aux_logits,
                final_endpoint)


build_pnasnet_large.default_image_size = 331


@register_network('pnasnet_mobile', default_image_size=224, hparams=PNASNET_MOBILE_HPARAMS,
                  classifier_scopes=('final_layer',), aux_scopes=('aux_*',),
                  checkpoint_url=_URL.format('pnasnet-5_mobile_2017_12_13'), top1=74.2,
                  top5=91.9)
def build_pnasnet_mobile(images, num_classes: int, is_training: Optional[bool] = True,
                         final_endpoint: Optional[str] = None,
                         config: Optional[NasNetConfig] = None, *, current_step=None,
                         create_aux_logits: Optional[bool] = None,
                         hparams: Optional[ConvHParams] = None) -> Tuple:
  """PNASNet-5 Mobile for ImageNet, as slim's `build_pnasnet_mobile`.

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
    hparams: slim's arg_scope values (`PNASNET_MOBILE_HPARAMS` by default).

  Returns:
    (logits, end_points); the net at `final_endpoint` when given.
  """
  return _build(images, num_classes, is_training, config or mobile_imagenet_config(),
                hparams or PNASNET_MOBILE_HPARAMS, current_step, create_aux_logits,
                final_endpoint)


build_pnasnet_mobile.default_image_size = 224

# The names slim's nets_factory uses.
pnasnet_large = build_pnasnet_large
pnasnet_mobile = build_pnasnet_mobile
