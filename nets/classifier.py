"""A registered net as a Keras model: `compile`, `fit`, `evaluate`, `predict`, `save`.

    import keras, slimvision
    model = slimvision.create_model('inception_v3', num_classes=5, pretrained=True)
    model.compile(keras.optimizers.SGD(0.01), loss=slimvision.ClassificationLoss(0.1),
                  metrics=['sparse_categorical_accuracy'])
    model.fit(images, labels)            # images float32 [B, 299, 299, 3] in [-1, 1]
    logits = model.predict(images)       # [B, 5]

The architecture code uses only `keras.layers` and `keras.ops`, so the model
runs on the TensorFlow, JAX and PyTorch backends with slim's variable names
(checkpoints are read with TensorFlow's reader, whichever backend computes).
Images are float32 NHWC, preprocessed as `model.spec.preprocessing` names
(`preprocessing_factory.get_preprocessing`).
"""

from typing import Any, Dict, Mapping, Optional

import keras

from . import nets_factory


@keras.saving.register_keras_serializable(package='slimvision')
class ImageClassifier(keras.Model):
  """A registered slim net: images -> logits, with slim's training objective.

  Calling it gives the logits, float32 [batch, num_classes]. Built with
  `aux_logits=True`, a training call (`fit`, or `model(x, training=True)`)
  gives `{'logits': ..., '<aux end_point>': ...}` instead, and the compiled
  loss is applied to each auxiliary head too at the net's weight (slim's 0.4),
  while metrics see the logits alone. Built with `features=True`, it gives the
  end_points dict (slim's keys), for use as a backbone.

  The L2 weight decay (slim's convention, `weight_decay`) is carried by the
  layers (`model.losses`) and so added to the compiled loss.

  Args:
    network_name: a name from `nets_factory.list_networks()`.
    num_classes: logits width; None: the release's (1001 or 1000, 10 for
      CIFAR / MNIST nets); 0: no classifier (the pooled features).
    aux_logits: build the auxiliary heads (nets that have them, e.g.
      inception_v3, nasnet_large) and train them.
    features: return the end_points dict instead of the logits.
    image_size: square input size in pixels; default the net's.
    input_channels: 3, or 1 for grayscale input; default the net's.
    weight_decay: slim's L2 weight decay on the weights (slim trained with
      0.00004 for most nets).
    builder_kwargs: further arguments of the slim builder (dropout_keep_prob,
      depth_multiplier, ...).

  Attributes:
    network: the `nets_factory.NetworkFn` (its `model` outputs the end_points).
    spec: the registry's `NetworkSpec`.

  Raises:
    ValueError: for an unknown net, invalid sizes, or `aux_logits` for a net
      without auxiliary heads.
  """

  def __init__(self, network_name: str, num_classes: Optional[int] = None,
               aux_logits: bool = False, features: bool = False,
               image_size: Optional[int] = None, input_channels: Optional[int] = None,
               weight_decay: float = 0.0, builder_kwargs: Optional[Mapping[str, Any]] = None,
               **kwargs):
    spec = nets_factory.get_spec(network_name)
    if aux_logits and not spec.has_optional_aux_logits:
      with_aux = [n for n in nets_factory.list_networks()
                  if nets_factory.get_spec(n).has_optional_aux_logits]
      raise ValueError(f'{network_name} has no auxiliary heads; aux_logits=True needs one of: '
                       f"{', '.join(with_aux)}. Received: aux_logits={aux_logits}")
    builder_kwargs = dict(builder_kwargs or {})
    if spec.has_optional_aux_logits:
      builder_kwargs['create_aux_logits'] = bool(aux_logits)
    network = nets_factory.get_network_fn(
        network_name, num_classes=num_classes, weight_decay=weight_decay,
        is_training=False, image_size=image_size, input_channels=input_channels,
        **builder_kwargs)
    kwargs.setdefault('name', network_name)
    super().__init__(**kwargs)
    self.network = network
    self.spec = spec
    self.backbone = network.model
    self.features = bool(features)
    self.aux_logits = bool(aux_logits)
    self._config = {'network_name': network_name, 'num_classes': network.num_classes,
                    'aux_logits': self.aux_logits, 'features': self.features,
                    'image_size': network.image_size,
                    'input_channels': network.input_channels,
                    'weight_decay': float(weight_decay), 'builder_kwargs': builder_kwargs}
    self.build((None, network.image_size, network.image_size, network.input_channels))

  def build(self, input_shape):
    self.built = True

  def call(self, images, training=None):
    end_points = self.backbone(images, training=training)
    if self.features:
      return end_points
    logits = end_points[self.network.logits_key]
    if training and self.network.aux_logits_keys:
      return {'logits': logits, **{k: end_points[k] for k in self.network.aux_logits_keys}}
    return logits

  def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
    """The compiled loss of the logits, plus (training with auxiliary heads) the
    same loss of each head at the net's auxiliary weight, plus `model.losses`."""
    if not isinstance(y_pred, dict) or self.features:
      return super().compute_loss(x, y, y_pred, sample_weight, training)
    total = super().compute_loss(x, y, y_pred['logits'], sample_weight, training)
    if self.loss is not None:
      loss_fn = keras.losses.get(self.loss)
      for key in self.network.aux_logits_keys:
        total = total + self.spec.aux_loss_weight * loss_fn(y, y_pred[key], sample_weight)
    return total

  def compute_metrics(self, x, y, y_pred, sample_weight=None):
    if isinstance(y_pred, dict) and not self.features:
      y_pred = y_pred['logits']
    return super().compute_metrics(x, y, y_pred, sample_weight)

  def get_config(self) -> Dict[str, Any]:
    return {**super().get_config(), **self._config}

  @classmethod
  def from_config(cls, config, custom_objects=None):
    config = dict(config)
    config.pop('trainable', None)
    config.pop('dtype', None)
    return cls(**config)


def create_model(name: str, num_classes: Optional[int] = None, pretrained: bool = False,
                 *, aux_logits: bool = False, features: bool = False,
                 image_size: Optional[int] = None, input_channels: Optional[int] = None,
                 weight_decay: float = 0.0, checkpoint_path: Optional[str] = None,
                 checkpoint_sha256: Optional[str] = None, exclude_scopes=None,
                 **builder_kwargs) -> ImageClassifier:
  """A registered net as a Keras model (`ImageClassifier`), optionally with
  slim's released weights: timm's `create_model` for slim's zoo.

  With `pretrained=True` (or a `checkpoint_path`), every weight that fits is
  restored; where the release used the moving averages of the weights for its
  published accuracy, those are restored. A classifier (or auxiliary head)
  that does not fit, because `num_classes` differs from the release's, is left
  at its initialiser, and a warning names its scopes: train it before use.

  Args:
    name: a name from `nets_factory.list_networks()`.
    num_classes: logits width; None: the release's. 0: no classifier.
    pretrained: restore slim's release of the net (downloaded once and cached
      in `$SLIMVISION_HOME`; see `pretrained.fetch`).
    aux_logits, features, image_size, input_channels, weight_decay: as
      `ImageClassifier`'s.
    checkpoint_path: restore this checkpoint instead (slim's or ours; a
      prefix, file or directory), with the same rules.
    checkpoint_sha256: the expected sha256 of the release archive.
    exclude_scopes: scopes not to restore (slim's --checkpoint_exclude_scopes;
      comma-separated or a sequence), left at their initialisers; default:
      the heads that do not fit.
    **builder_kwargs: further arguments of the slim builder.

  Returns:
    An `ImageClassifier`, built.

  Raises:
    ValueError: as `ImageClassifier`; a net without a release
      (`pretrained=True`); a checkpoint that does not fit beyond the heads,
      naming every mismatch.
    download.DownloadError: a failed or corrupt download.
  """
  if checkpoint_sha256 and checkpoint_path:
    raise ValueError('checkpoint_sha256 checks the archive of a downloaded release: pass it '
                     'with pretrained=True, not with checkpoint_path.')
  model = ImageClassifier(name, num_classes=num_classes, aux_logits=aux_logits,
                          features=features, image_size=image_size,
                          input_channels=input_channels, weight_decay=weight_decay,
                          builder_kwargs={k: v for k, v in builder_kwargs.items()
                                          if v is not None})
  if pretrained or checkpoint_path:
    from . import pretrained as pretrained_lib  # pylint: disable=g-import-not-at-top
    pretrained_lib.load_pretrained(model.network, sha256=checkpoint_sha256,
                                   checkpoint_path=checkpoint_path,
                                   exclude_scopes=exclude_scopes)
  return model


__all__ = ['ImageClassifier', 'create_model']
