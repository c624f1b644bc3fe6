"""slim's classification loss, on every Keras backend.

slim trains with `tf.losses.softmax_cross_entropy(onehot_labels, logits,
label_smoothing)`: the labels are made one-hot, smoothed as
`onehot * (1 - label_smoothing) + label_smoothing / num_classes`, and each
auxiliary head adds its own cross-entropy at weight 0.4. The L2 weight decay
is not part of this loss: the layers carry it (`model.losses`), and Keras adds
it to the compiled loss, as the training command does.

    model = slimvision.create_model('inception_v3', num_classes=5, aux_logits=True)
    model.compile('sgd', loss=ClassificationLoss(label_smoothing=0.1),
                  metrics=['sparse_categorical_accuracy'])
"""

import keras
from keras import ops


def softmax_cross_entropy(labels, logits, label_smoothing: float = 0.0):
  """Per-example softmax cross-entropy with slim's label smoothing.

  Args:
    labels: int [batch] class ids in [0, num_classes) (or [batch, 1]), or
      float [batch, num_classes] one-hot / probability targets.
    logits: float [batch, num_classes].
    label_smoothing: in [0, 1]; 0 is plain cross-entropy.

  Returns:
    float32 [batch], in nats.
  """
  logits = ops.cast(logits, 'float32')
  num_classes = logits.shape[-1]
  if len(labels.shape) == len(logits.shape) and labels.shape[-1] == num_classes:
    targets = ops.cast(labels, 'float32')
  else:
    labels = ops.reshape(labels, (-1,)) if len(labels.shape) > 1 else labels
    targets = ops.one_hot(ops.cast(labels, 'int32'), num_classes, dtype='float32')
  if label_smoothing:
    targets = targets * (1.0 - label_smoothing) + label_smoothing / num_classes
  return ops.categorical_crossentropy(targets, logits, from_logits=True)


@keras.saving.register_keras_serializable(package='slimvision')
class ClassificationLoss(keras.losses.Loss):
  """slim's training loss as a Keras loss: softmax cross-entropy with label
  smoothing on the logits; sparse (int class id) or one-hot labels.

  An `ImageClassifier` trained with auxiliary heads applies the compiled loss
  to each head too, at its net's auxiliary weight (slim's 0.4). The mean is
  over the batch, as slim's.

  Args:
    label_smoothing: slim's --label_smoothing, in [0, 1].
    name, reduction, dtype: as `keras.losses.Loss`.

  Raises:
    ValueError: for a label_smoothing outside [0, 1].
  """

  def __init__(self, label_smoothing: float = 0.0, name: str = 'classification_loss', reduction: str = 'sum_over_batch_size',
               dtype=None):
    super().__init__(name=name, reduction=reduction, dtype=dtype)
    if not 0.0 <= float(label_smoothing) <= 1.0:
      raise ValueError('label_smoothing must be in [0, 1]. '
                       f'Received: label_smoothing={label_smoothing}')
    self.label_smoothing = float(label_smoothing)

  def call(self, y_true, y_pred):
    return softmax_cross_entropy(y_true, y_pred, self.label_smoothing)

  def get_config(self):
    return {**super().get_config(), 'label_smoothing': self.label_smoothing}


__all__ = ['ClassificationLoss', 'softmax_cross_entropy']
