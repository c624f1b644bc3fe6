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
import functools
import inspect
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import keras

from . import layers

AUX_LOSS_WEIGHT = 0.4  # slim's weight of an auxiliary head's loss.


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
  """What the registry knows about one registered network.

  Every fact that code outside `nets/` needs about a net lives here (or is
  derived here from the builder), so that the commands ask for it instead of
  naming end_points or inspecting builders.

  Attributes:
    name: slim's nets_factory key.
    builder: the slim-style builder `(inputs, num_classes, is_training, ...)
      -> (logits, end_points)`.
    default_image_size: the square input size the net was trained at.
    hparams: the family's default hyper-parameters (frozen dataclass).
    num_classes: the logits width of the released checkpoint (1001 with
      ImageNet's background class, 1000 without, 10 for CIFAR / MNIST nets).
    input_channels: channels of the images the net takes (3, or 1 for LeNet).
    preprocessing: the preprocessing its released checkpoint was trained with
      ('inception', 'vgg', 'cifarnet' or 'lenet').
    predictions: the end_point holding the softmax of the logits (None: the
      net has none, as slim's VGG; take the softmax of the logits).
    aux_logits: end_points of auxiliary classifier heads, when built; each
      adds `aux_loss_weight` times its cross-entropy to the training loss.
    aux_loss_weight: slim's weight of an auxiliary head's loss (0.4).
    classifier_scopes: shell-style patterns of the variable scopes of the
      classifier (the logits layer), matched component by component against
      slim variable names (`*/Logits` matches `InceptionV3/Logits/...`).
    aux_scopes: the same for the auxiliary heads (`*/AuxLogits`, `aux_*`).
      Fine-tuning to another number of classes leaves the classifier and
      auxiliary scopes at their initialisers; inference skips the auxiliary ones.
    checkpoint_url: slim's released checkpoint archive, if any.
    checkpoint_sha256: that archive's sha256 (hex), where recorded; downloads
      are checked against it.
    top1, top5: slim's published ImageNet accuracy of that checkpoint (%).
    builder_kwargs: arguments always passed to the builder (variants).
  """
  name: str
  builder: Callable[..., Tuple[Any, Dict[str, Any]]]
  default_image_size: int
  hparams: Any
  num_classes: int = 1001
  input_channels: int = 3
  preprocessing: str = 'inception'
  predictions: Optional[str] = 'Predictions'
  aux_logits: Tuple[str, ...] = ('AuxLogits',)
  aux_loss_weight: float = AUX_LOSS_WEIGHT
  classifier_scopes: Tuple[str, ...] = ('*/Logits',)
  aux_scopes: Tuple[str, ...] = ('*/AuxLogits',)
  checkpoint_url: Optional[str] = None
  checkpoint_sha256: Optional[str] = None
  top1: Optional[float] = None
  top5: Optional[float] = None
  builder_kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)

  @property
  def labels_offset(self) -> int:
    """1 for nets trained on 1000 labels (no background class), else 0."""
    return 1 if self.num_classes == 1000 else 0

  @functools.cached_property
  def _parameters(self) -> Mapping[str, inspect.Parameter]:
    return inspect.signature(self.builder).parameters

  @property
  def takes_current_step(self) -> bool:
    """Whether the builder takes the training step (NASNet's drop path schedule)."""
    return 'current_step' in self._parameters

  @property
  def scope(self) -> Optional[str]:
    """The variable scope every weight sits under (`InceptionV3`), or None when the
    net has no single one (NASNet's `cell_N`, `final_layer`, ...)."""
    param = self._parameters.get('scope')
    default = None if param is None else param.default
    return default if isinstance(default, str) else None

  @property
  def has_optional_aux_logits(self) -> bool:
    """Whether the auxiliary head can be left out (`create_aux_logits`)."""
    return 'create_aux_logits' in self._parameters

  @property
  def aux_logits_only_in_training(self) -> bool:
    """Whether slim builds the auxiliary head only for training (NASNet, PNASNet)."""
    param = self._parameters.get('create_aux_logits')
    return param is not None and param.default is None

  def inference_kwargs(self, builder_kwargs: Optional[Mapping[str, Any]] = None
                       ) -> Dict[str, Any]:
    """Builder arguments for inference: no auxiliary head unless asked for.

    The auxiliary logits feed only the training loss; leaving them out saves
    their compute, and at a reduced image size their kernel (and so its slim
    variable shape) changes, which would not match a checkpoint.
    """
    kwargs = dict(builder_kwargs or {})
    if self.has_optional_aux_logits:
      kwargs.setdefault('create_aux_logits', False)
    return kwargs

  def head_scopes(self, names: Iterable[str], classifier: bool = True,
                  aux: bool = True) -> List[str]:
    """The concrete head scopes (e.g. `InceptionV3/AuxLogits`) among slim `names`.

    Args:
      names: slim variable names (of a model or a checkpoint).
      classifier: include the classifier scopes.
      aux: include the auxiliary heads' scopes.
    """
    patterns = (self.classifier_scopes if classifier else ()) + (self.aux_scopes if aux else ())
    return sorted({s for s in (scope_matching(n, patterns) for n in names) if s})


def scope_matching(name: str, patterns: Sequence[str]) -> Optional[str]:
  """The prefix of slim name `name` matched by one of the scope `patterns`, or None."""
  parts = name.split('/')
  for pattern in patterns:
    depth = len(pattern.split('/'))
    if len(parts) > depth and fnmatch.fnmatchcase('/'.join(parts[:depth]), pattern):
      return '/'.join(parts[:depth])
  return None


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
      preprocessing, predictions, aux_logits, aux_loss_weight,
      classifier_scopes, aux_scopes, checkpoint_url, checkpoint_sha256, top1, top5,
      builder_kwargs).

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


def list_networks(pattern: str = '*', pretrained: bool = False) -> List[str]:
  """Sorted names of the registered networks matching a shell-style pattern
  (with `pretrained`, only those slim released a checkpoint of)."""
  return sorted(n for n in _REGISTRY if fnmatch.fnmatch(n, pattern)
                and (not pretrained or _REGISTRY[n].checkpoint_url))


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
    spec: the `NetworkSpec`.
    model: the `keras.Model` (weights created); its outputs are the end_points.
    default_image_size: the registered square input size.
    image_size: the spatial size this model was built for.
    input_channels: the channels of the images it takes.
    num_classes: logits width (0: the net ends at its pooled features).
    is_training: batch norm / dropout mode used by `__call__`.
    logits_key: the end_point holding the logits (`Logits`,
      `resnet_v1_50/spatial_squeeze`, ...; the features when num_classes=0).
    predictions_key: the end_point holding the softmax, or None.
    aux_logits_keys: the end_points of the auxiliary heads built (may be empty).
  """

  def __init__(self, spec: NetworkSpec, model: keras.Model, num_classes: int,
               is_training: bool, image_size: int, hparams: Any, logits_key: str):
    self.spec = spec
    self.name = spec.name
    self.model = model
    self.num_classes = num_classes
    self.is_training = is_training
    self.image_size = image_size
    self.input_channels = int(model.input_shape[-1])
    self.hparams = hparams
    self.default_image_size = spec.default_image_size
    outputs = model.output
    self.logits_key = logits_key
    self.predictions_key = spec.predictions if spec.predictions in outputs else None
    self.aux_logits_keys = tuple(k for k in spec.aux_logits if k in outputs)

  def __call__(self, images, is_training: Optional[bool] = None):
    """Runs the net on float32 NHWC `images`; returns (logits, end_points)."""
    training = self.is_training if is_training is None else is_training
    end_points = self.model(images, training=training)
    return end_points[self.logits_key], end_points

  def aux_logits(self, end_points: Mapping[str, Any]) -> List[Any]:
    """The auxiliary heads' logits among `end_points` (weighted by `spec.aux_loss_weight`)."""
    return [end_points[k] for k in self.aux_logits_keys]

  def head_scopes(self, classifier: bool = True, aux: bool = True) -> List[str]:
    """The concrete scopes of this model's classifier and / or auxiliary heads."""
    from . import checkpoints  # pylint: disable=g-import-not-at-top
    return self.spec.head_scopes(checkpoints.slim_variable_names(self), classifier, aux)

  def __repr__(self):
    return (f'NetworkFn({self.name!r}, num_classes={self.num_classes}, '
            f'image_size={self.image_size}, is_training={self.is_training})')


def get_network_fn(name: str, num_classes: Optional[int] = None,
                   weight_decay: float = 0.0, is_training: bool = False,
                   image_size: Optional[int] = None, input_channels: Optional[int] = None,
                   pretrained: bool = False, **kwargs) -> NetworkFn:
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
    input_channels: channels of the input images; defaults to the registered
      ones (3, LeNet 1). 1 builds the first layer for grayscale images
      (slim's --use_grayscale).
    pretrained: restore slim's released checkpoint of the net (downloaded and
      cached once; see `pretrained.load_pretrained`).
    **kwargs: further arguments of the slim builder (e.g. dropout_keep_prob,
      create_aux_logits, depth_multiplier, current_step); None values are
      ignored so the registered defaults win.

  Returns:
    A `NetworkFn`.

  Raises:
    ValueError: for an unknown name, invalid arguments, or an image size too
      small for the net (naming the smallest that works).
  """
  spec = get_spec(name)
  num_classes = spec.num_classes if num_classes is None else int(num_classes)
  if num_classes < 0:
    raise ValueError(f'num_classes must be >= 0. Received: num_classes={num_classes}')
  image_size = spec.default_image_size if image_size is None else int(image_size)
  channels = spec.input_channels if input_channels is None else int(input_channels)
  if image_size < 1 or channels < 1:
    raise ValueError('image_size and input_channels must be >= 1. Received: '
                     f'image_size={image_size}, input_channels={channels}')
  hparams = dataclasses.replace(spec.hparams, weight_decay=float(weight_decay),
                                is_training=None)
  builder_kwargs = {**spec.builder_kwargs,
                    **{k: v for k, v in kwargs.items() if v is not None}}
  # The model is built with the training mode left to the call, but a head that
  # slim builds only for training (NASNet's and PNASNet's auxiliary head)
  # follows `is_training`.
  if spec.aux_logits_only_in_training:
    builder_kwargs.setdefault('create_aux_logits', bool(is_training))
  inputs = keras.Input((image_size, image_size, channels), dtype='float32', name='images')
  try:
    net, end_points = spec.builder(inputs, num_classes=num_classes, is_training=None,
                                   hparams=hparams, **builder_kwargs)
  except ValueError:
    if image_size < spec.default_image_size:
      smallest = minimum_image_size(name, is_training=is_training, **kwargs)
      if image_size < smallest:
        raise ValueError(
            f'Image size {image_size} is too small for {name}: its layers need inputs of at '
            f'least {smallest} x {smallest} pixels (default {spec.default_image_size}). '
            f'Received: image_size={image_size}') from None
    raise
  end_points = dict(end_points)
  logits_key = next((k for k, v in end_points.items() if v is net), None)
  if logits_key is None:
    logits_key = 'Logits' if num_classes else 'Features'
    end_points[logits_key] = net
  model = keras.Model(inputs, end_points, name=name)
  fn = NetworkFn(spec, model, num_classes, bool(is_training), image_size, hparams, logits_key)
  if pretrained:
    from . import pretrained as pretrained_lib  # pylint: disable=g-import-not-at-top
    pretrained_lib.load_pretrained(fn)
  return fn


@functools.lru_cache(maxsize=None)
def _minimum_image_size(name: str, is_training: bool, kwargs: Tuple) -> int:
  fn = get_network_fn(name, is_training=is_training, **dict(kwargs))
  for size in range(1, fn.image_size):
    if layers.spatial_failure(fn.model, size) is None:
      return size
  return fn.image_size


def minimum_image_size(name: str, is_training: bool = False, **kwargs) -> int:
  """The smallest square input (pixels) at which the net builds.

  Computed from the net: it is built once at its default size, then the
  spatial sizes of its layers are replayed at smaller inputs with slim's
  rules (`layers.spatial_failure`). Training builds may need more (an
  auxiliary head's pooling).

  Args:
    name: a registered network.
    is_training: for the training build (auxiliary heads included).
    **kwargs: builder arguments, as `get_network_fn`'s.

  Raises:
    ValueError: for an unknown name.
  """
  get_spec(name)
  kwargs = {k: v for k, v in kwargs.items() if v is not None and k != 'current_step'}
  return _minimum_image_size(name, bool(is_training), tuple(sorted(kwargs.items())))


def hparams_for(name: str, **changes):
  """The registered hyper-parameters of `name`, with `changes` applied."""
  return dataclasses.replace(get_spec(name).hparams, **changes)


__all__ = ['AUX_LOSS_WEIGHT', 'NetworkSpec', 'NetworkFn', 'register_network', 'list_networks',
           'get_spec', 'get_network_fn', 'hparams_for', 'minimum_image_size', 'scope_matching',
           'layers']
