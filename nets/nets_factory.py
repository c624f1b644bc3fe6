"""The network registry: slim's `nets_factory`, as a decorator registry.

    from nets import nets_factory
    nets_factory.list_networks('inception*')
    fn = nets_factory.get_network_fn('inception_v3', num_classes=1001, is_training=False)
    logits, end_points = fn(images)        # float32 NHWC, fn.default_image_size square

Each family module registers its public builders with `@register_network`,
giving the per-variant metadata (default image size, preprocessing, released
checkpoint, published accuracy) as data.
"""

import dataclasses
import difflib
import fnmatch
import inspect
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import keras

from . import layers


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
  """What the registry knows about one registered network."""
  name: str
  builder: Callable[..., Tuple[Any, Dict[str, Any]]]
  default_image_size: int
  hparams: Any
  num_classes: int = 1001
  input_channels: int = 3
  preprocessing: str = 'inception'
  checkpoint_url: Optional[str] = None
  top1: Optional[float] = None
  top5: Optional[float] = None
  builder_kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)

  @property
  def labels_offset(self) -> int:
    """1 for nets trained on 1000 labels (no background class), else 0."""
    return 1 if self.num_classes == 1000 else 0


_REGISTRY: Dict[str, NetworkSpec] = {}


def register_network(name: str, *, default_image_size: int, hparams: Any,
                     **metadata) -> Callable:
  """Decorator registering a slim-style builder under `name`.

  Args:
    name: slim's nets_factory key, e.g. 'inception_resnet_v2'.
    default_image_size: the square input size the net was trained at.
    hparams: the family's default hyper-parameters (a frozen dataclass with at
      least `weight_decay`).
    **metadata: further `NetworkSpec` fields (num_classes, input_channels,
      preprocessing, checkpoint_url, top1, top5, builder_kwargs).

  Raises:
    ValueError: if `name` is already registered.
  """
  def decorator(builder):
    if name in _REGISTRY:
      raise ValueError(f'Network {name!r} is already registered '
                       f'(by {_REGISTRY[name].builder.__module__}).')
    _REGISTRY[name] = NetworkSpec(name=name, builder=builder,
                                  default_image_size=default_image_size,
                                  hparams=hparams, **metadata)
    return builder
  return decorator


def list_networks(pattern: str = '*') -> List[str]:
  """Sorted names of the registered networks matching a shell-style pattern."""
  return sorted(n for n in _REGISTRY if fnmatch.fnmatch(n, pattern))


def get_spec(name: str) -> NetworkSpec:
  """The registry entry for `name`; unknown names suggest the closest ones."""
  try:
    return _REGISTRY[name]
  except KeyError:
    close = difflib.get_close_matches(str(name), list(_REGISTRY), n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ''
    raise ValueError(f'Unknown model_name {name!r}.{hint} '
                     f"Known: {', '.join(list_networks())}.") from None


class NetworkFn:
  """A built network: `logits, end_points = fn(images)`, same weights every call.

  Attributes:
    name: the registry name.
    model: the `keras.Model` (weights created); its outputs are the end_points.
    default_image_size: the registered square input size.
    image_size: the spatial size this model was built for.
    num_classes: logits width (0: the net ends at its pooled features).
    is_training: batch norm / dropout mode used by `__call__`.
    spec: the `NetworkSpec`.
  """

  def __init__(self, spec: NetworkSpec, model: keras.Model, num_classes: int,
               is_training: bool, image_size: int, hparams: Any, output_key: str):
    self.spec = spec
    self.output_key = output_key
    self.name = spec.name
    self.model = model
    self.num_classes = num_classes
    self.is_training = is_training
    self.image_size = image_size
    self.hparams = hparams
    self.default_image_size = spec.default_image_size

  def __call__(self, images, is_training: Optional[bool] = None):
    """Runs the net on float32 NHWC `images`; returns (logits, end_points)."""
    training = self.is_training if is_training is None else is_training
    end_points = self.model(images, training=training)
    logits = end_points.get('Logits')
    if logits is None:  # num_classes=0: the net ends at its features.
      logits = end_points[self.output_key]
    return logits, end_points

  def __repr__(self):
    return (f'NetworkFn({self.name!r}, num_classes={self.num_classes}, '
            f'image_size={self.image_size}, is_training={self.is_training})')


def get_network_fn(name: str, num_classes: Optional[int] = None,
                   weight_decay: float = 0.0, is_training: bool = False,
                   image_size: Optional[int] = None, **kwargs) -> NetworkFn:
  """Builds a registered network, as slim's `nets_factory.get_network_fn`.

  Args:
    name: a name from `list_networks()`.
    num_classes: logits width; defaults to the registered one (1001 for nets
      trained with a background class, 1000 otherwise). 0 builds the net
      without its classifier.
    weight_decay: L2 weight decay (slim's convention) on the weights.
    is_training: default batch norm / dropout mode of `fn(images)`.
    image_size: square input size the model is built for; defaults to
      `default_image_size`. slim's shape-dependent choices (pooling kernels
      reduced for small inputs) follow it.
    **kwargs: further arguments of the slim builder (e.g. dropout_keep_prob,
      create_aux_logits, depth_multiplier); None values are ignored so the
      registered defaults win.

  Returns:
    A `NetworkFn`.

  Raises:
    ValueError: for an unknown name or invalid arguments.
  """
  spec = get_spec(name)
  num_classes = spec.num_classes if num_classes is None else int(num_classes)
  if num_classes < 0:
    raise ValueError(f'num_classes must be >= 0. Received: num_classes={num_classes}')
  image_size = spec.default_image_size if image_size is None else int(image_size)
  hparams = dataclasses.replace(spec.hparams, weight_decay=float(weight_decay),
                                is_training=None)
  builder_kwargs = {**spec.builder_kwargs,
                    **{k: v for k, v in kwargs.items() if v is not None}}
  # The model is built with the training mode left to the call, but a head that
  # slim builds only for training (NASNet's and PNASNet's auxiliary head: their
  # builders take `create_aux_logits=None`) follows `is_training`.
  aux = inspect.signature(spec.builder).parameters.get('create_aux_logits')
  if aux is not None and aux.default is None:
    builder_kwargs.setdefault('create_aux_logits', bool(is_training))
  inputs = keras.Input((image_size, image_size, spec.input_channels),
                       dtype='float32', name='images')
  net, end_points = spec.builder(inputs, num_classes=num_classes, is_training=None,
                                 hparams=hparams, **builder_kwargs)
  end_points = dict(end_points)
  output_key = next((k for k, v in end_points.items() if v is net), None)
  if output_key is None:
    output_key = 'Logits' if num_classes else 'Features'
    end_points[output_key] = net
  model = keras.Model(inputs, end_points, name=name)
  return NetworkFn(spec, model, num_classes, bool(is_training), image_size, hparams,
                   output_key)


def hparams_for(name: str, **changes):
  """The registered hyper-parameters of `name`, with `changes` applied."""
  return dataclasses.replace(get_spec(name).hparams, **changes)


__all__ = ['NetworkSpec', 'NetworkFn', 'register_network', 'list_networks',
           'get_spec', 'get_network_fn', 'hparams_for', 'layers']
