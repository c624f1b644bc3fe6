"""MobileNet v3 (Howard et al., "Searching for MobileNetV3",
https://arxiv.org/abs/1905.02244) and MobileNet EdgeTPU.

Mirrors slim's `nets/mobilenet/mobilenet_v3.py`: layer tables for the large,
small and minimalistic variants (squeeze-excite with a hard-sigmoid gate,
hard-swish, 5x5 depthwise kernels; the minimalistic ones drop all three) and
for EdgeTPU (fused expand convs instead of depthwise in the early blocks), built
by the MobileNet v2 machinery (`mobilenet_v2.mobilenet`): same builder
arguments and defaults, end_points and checkpoint variable names (scope
`MobilenetV3`, or `MobilenetEdgeTPU`), so slim's released checkpoints restore
as they are.
Published (slim, 224 x 224, 1001 classes, top-1): large 75.2, small 67.5,
large minimalistic 72.3, small minimalistic 61.9, EdgeTPU 75.6 (8-bit),
EdgeTPU 0.75 73.5 (8-bit).
"""

import functools
from typing import Optional, Tuple

from .mobilenet_v2 import Conv, ExpandedConv, MobilenetV2HParams, ReduceTo1x1
from . import mobilenet_v2
from .nets_factory import register_network

# slim's mobilenet training_scope with the v3 conv default (relu).
MOBILENET_V3_HPARAMS = MobilenetV2HParams(weight_decay=0.00004, batch_norm_decay=0.997,
                                          batch_norm_epsilon=0.001, batch_norm_scale=True,
                                          activation='relu')

_HS = 'hard_swish'


def _op(ef, n, k, s=1, act=None, se=False, **kwargs):
  """slim's `mbv3_op` / `mbv3_op_se`: expansion factor, outputs, kernel, stride."""
  return ExpandedConv(stride=s, depth=n, expansion=ef, kernel=k, activation=act, se=se,
                      **kwargs)


def _fused(ef, n, k, s=1, **kwargs):
  """slim's `mbv3_fused`: a k x k expand conv (stride s) instead of expand + depthwise."""
  return _op(ef, n, k, s, fused=True, **kwargs)


# Spatial sizes at 224 x 224: 112 (Conv), 56, 28, 14, 7, then 1 x 1 after ReduceTo1x1.
V3_LARGE = (
    Conv(kernel=(3, 3), stride=2, depth=16, activation=_HS),
    _op(1, 16, 3),
    _op(4, 24, 3, 2),
    _op(3, 24, 3),
    _op(3, 40, 5, 2, se=True),
    _op(3, 40, 5, se=True),
    _op(3, 40, 5, se=True),
    _op(6, 80, 3, 2, act=_HS),
    _op(2.5, 80, 3, act=_HS),
    _op(184 / 80., 80, 3, act=_HS),
    _op(184 / 80., 80, 3, act=_HS),
    _op(6, 112, 3, act=_HS, se=True),
    _op(6, 112, 3, act=_HS, se=True),
    _op(6, 160, 5, 2, act=_HS, se=True),
    _op(6, 160, 5, act=_HS, se=True),
    _op(6, 160, 5, act=_HS, se=True),
    Conv(kernel=(1, 1), stride=1, depth=960, activation=_HS),
    ReduceTo1x1(),
    Conv(kernel=(1, 1), stride=1, depth=1280, activation=_HS, normalize=False),
)

V3_LARGE_MINIMALISTIC = (
    Conv(kernel=(3, 3), stride=2, depth=16),
    _op(1, 16, 3),
    _op(4, 24, 3, 2),
    _op(3, 24, 3),
    _op(3, 40, 3, 2),
    _op(3, 40, 3),
    _op(3, 40, 3),
    _op(6, 80, 3, 2),
    _op(2.5, 80, 3),
    _op(184 / 80., 80, 3),
    _op(184 / 80., 80, 3),
    _op(6, 112, 3),
    _op(6, 112, 3),
    _op(6, 160, 3, 2),
    _op(6, 160, 3),
    _op(6, 160, 3),
    Conv(kernel=(1, 1), stride=1, depth=960),
    ReduceTo1x1(),
    Conv(kernel=(1, 1), stride=1, depth=1280, normalize=False),
)

V3_SMALL = (
    Conv(kernel=(3, 3), stride=2, depth=16, activation=_HS),
    _op(1, 16, 3, 2, se=True),
    _op(72. / 16, 24, 3, 2),
    _op(88. / 24, 24, 3),
    _op(4, 40, 5, 2, act=_HS, se=True),
    _op(6, 40, 5, act=_HS, se=True),
    _op(6, 40, 5, act=_HS, se=True),
    _op(3, 48, 5, act=_HS, se=True),
    _op(3, 48, 5, act=_HS, se=True),
    _op(6, 96, 5, 2, act=_HS, se=True),
    _op(6, 96, 5, act=_HS, se=True),
    _op(6, 96, 5, act=_HS, se=True),
    Conv(kernel=(1, 1), stride=1, depth=576, activation=_HS),
    ReduceTo1x1(),
    Conv(kernel=(1, 1), stride=1, depth=1024, activation=_HS, normalize=False),
)

V3_SMALL_MINIMALISTIC = (
    Conv(kernel=(3, 3), stride=2, depth=16),
    _op(1, 16, 3, 2),
    _op(72. / 16, 24, 3, 2),
    _op(88. / 24, 24, 3),
    _op(4, 40, 3, 2),
    _op(6, 40, 3),
    _op(6, 40, 3),
    _op(3, 48, 3),
    _op(3, 48, 3),
    _op(6, 96, 3, 2),
    _op(6, 96, 3),
    _op(6, 96, 3),
    Conv(kernel=(1, 1), stride=1, depth=576),
    ReduceTo1x1(),
    Conv(kernel=(1, 1), stride=1, depth=1024, normalize=False),
)

V3_EDGETPU = (
    Conv(kernel=(3, 3), stride=2, depth=32),
    _fused(1, 16, 3),
    _fused(8, 32, 3, 2),
    _fused(4, 32, 3),
    _fused(4, 32, 3),
    _fused(4, 32, 3),
    _fused(8, 48, 3, 2),
    _fused(4, 48, 3),
    _fused(4, 48, 3),
    _fused(4, 48, 3),
    _op(8, 96, 3, 2),
    _op(4, 96, 3),
    _op(4, 96, 3),
    _op(4, 96, 3),
    _op(8, 96, 3, residual=False),
    _op(4, 96, 3),
    _op(4, 96, 3),
    _op(4, 96, 3),
    _op(8, 160, 5, 2),
    _op(4, 160, 5),
    _op(4, 160, 5),
    _op(4, 160, 5),
    _op(8, 192, 3),
    Conv(kernel=(1, 1), stride=1, depth=1280),
)

_V3_URL = 'https://storage.googleapis.com/mobilenet_v3/checkpoints/v3-{}_224_1.0_float.tgz'
_EDGETPU_URL = ('https://storage.cloud.google.com/mobilenet_edgetpu/checkpoints/'
                'mobilenet_edgetpu_224_{}.tgz')

# name: (slim function, builder defaults, checkpoint url, top-1).
VARIANTS = {
    'mobilenet_v3_large': ('large', {'conv_defs': V3_LARGE}, _V3_URL.format('large'), 75.2),
    'mobilenet_v3_small': ('small', {'conv_defs': V3_SMALL}, _V3_URL.format('small'), 67.5),
    'mobilenet_v3_large_minimalistic': (
        'large_minimalistic', {'conv_defs': V3_LARGE_MINIMALISTIC},
        _V3_URL.format('large-minimalistic'), 72.3),
    'mobilenet_v3_small_minimalistic': (
        'small_minimalistic', {'conv_defs': V3_SMALL_MINIMALISTIC},
        _V3_URL.format('small-minimalistic'), 61.9),
    'mobilenet_edgetpu': (
        'edge_tpu', {'conv_defs': V3_EDGETPU, 'scope': 'MobilenetEdgeTPU'},
        _EDGETPU_URL.format('1.0'), 75.6),
    'mobilenet_edgetpu_075': (
        'edge_tpu_075', {'conv_defs': V3_EDGETPU, 'scope': 'MobilenetEdgeTPU',
                         'depth_multiplier': 0.75, 'finegrain_classification_mode': True},
        _EDGETPU_URL.format('0.75'), 73.5),
}


def mobilenet(inputs, num_classes: int = 1001, depth_multiplier: float = 1.0,
              scope: str = 'MobilenetV3', conv_defs=None,
              finegrain_classification_mode: bool = False,
              hparams: Optional[MobilenetV2HParams] = None, **kwargs) -> Tuple:
  """MobileNet v3 classifier, as slim's `mobilenet_v3.mobilenet`.

  Args:
    inputs: NHWC Keras tensor (224 x 224 by default).
    num_classes: logits width; 0 or None returns the pooled features.
    depth_multiplier: multiplier on every layer's output channels.
    scope: root scope of every variable.
    conv_defs: the layer table; `V3_LARGE` by default.
    finegrain_classification_mode: leave the last layer's width unscaled.
    hparams: slim's training_scope values (`MOBILENET_V3_HPARAMS` by default).
    **kwargs: passed to `mobilenet_v2.mobilenet` (is_training, prediction_fn,
      reuse, base_only, final_endpoint, output_stride, use_explicit_padding).

  Returns:
    (logits, end_points).
  """
  conv_defs = V3_LARGE if conv_defs is None else tuple(conv_defs)
  if finegrain_classification_mode:
    # slim skips the multiplier on the last layer; dividing by it first has the
    # same effect (the widths are multiples of 8).
    last = conv_defs[-1]
    conv_defs = conv_defs[:-1] + (last._replace(depth=last.depth / depth_multiplier),)
  return mobilenet_v2.mobilenet(inputs, num_classes=num_classes,
                                depth_multiplier=depth_multiplier, scope=scope,
                                conv_defs=conv_defs, hparams=hparams or MOBILENET_V3_HPARAMS,
                                **kwargs)


mobilenet.default_image_size = 224


def mobilenet_base(inputs, depth_multiplier: float = 1.0, **kwargs):
  """The MobileNet v3 trunk without pooling and logits (slim's `mobilenet_base`)."""
  return mobilenet(inputs, depth_multiplier=depth_multiplier, base_only=True, **kwargs)


def _variant(name: str):
  slim_name, defaults, url, top1 = VARIANTS[name]
  builder = functools.partial(mobilenet, **defaults)
  functools.update_wrapper(builder, mobilenet)
  builder.__name__ = builder.__qualname__ = slim_name
  register_network(name, default_image_size=224, hparams=MOBILENET_V3_HPARAMS,
                   checkpoint_url=url, top1=top1)(builder)
  return builder


large = _variant('mobilenet_v3_large')
small = _variant('mobilenet_v3_small')
large_minimalistic = _variant('mobilenet_v3_large_minimalistic')
small_minimalistic = _variant('mobilenet_v3_small_minimalistic')
edge_tpu = _variant('mobilenet_edgetpu')
edge_tpu_075 = _variant('mobilenet_edgetpu_075')
