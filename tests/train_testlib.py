"""Helpers of the training tests: two tiny registered nets and in-memory input."""

import numpy as np
import tensorflow as tf

from slimvision.nets import layers, nets_factory
from slimvision.nets.layers import ConvHParams

TINY_HPARAMS = ConvHParams(weight_decay=0.0, batch_norm_decay=0.9, batch_norm_scale=True)
IMAGE_SIZE = 8
NUM_CLASSES = 3


def _tiny(images, num_classes=NUM_CLASSES, is_training=None, use_batch_norm=True,
          create_aux_logits=False, scope='Tiny', hparams=None):
  """conv (+BN) -> pool -> logits, with an optional auxiliary head; no dropout."""
  hp = (hparams or TINY_HPARAMS).replace(is_training=is_training, use_batch_norm=use_batch_norm)
  end_points = {}
  net = end_points['Conv1'] = layers.conv2d(images, 4, 3, f'{scope}/Conv1', hp)
  net = layers.global_pool(net, f'{scope}/Pool')
  net = end_points['PreLogits'] = layers.flatten(net, f'{scope}/Flatten')
  if create_aux_logits:
    end_points['AuxLogits'] = layers.fully_connected(net, num_classes, f'{scope}/AuxLogits', hp)
  logits = end_points['Logits'] = layers.fully_connected(net, num_classes, f'{scope}/Logits', hp)
  return logits, end_points


if 'tiny_bn_net' not in nets_factory.list_networks():
  nets_factory.register_network('tiny_bn_net', default_image_size=IMAGE_SIZE,
                                hparams=TINY_HPARAMS, num_classes=NUM_CLASSES)(_tiny)
  nets_factory.register_network(
      'tiny_aux_net', default_image_size=IMAGE_SIZE, hparams=TINY_HPARAMS,
      num_classes=NUM_CLASSES,
      builder_kwargs={'use_batch_norm': False, 'create_aux_logits': True})(_tiny)


def examples(n=64, size=IMAGE_SIZE, channels=3, num_classes=NUM_CLASSES, seed=0):
  """Deterministic images whose label is learnable (it sets the mean brightness)."""
  rng = np.random.default_rng(seed)
  labels = np.arange(n) % num_classes
  images = rng.uniform(-0.5, 0.5, (n, size, size, channels)) + (labels[:, None, None, None] - 1) * 0.3
  return images.astype(np.float32), labels.astype(np.int64)


def input_fn_for(batch_size, n=64, size=IMAGE_SIZE, channels=3, num_classes=NUM_CLASSES,
                 nan_from_batch=None, shuffle=False, fill=np.nan):
  """An input_fn of per-replica batches, sharded by input pipeline, repeated.

  With `nan_from_batch=k`, the k-th batch of each pipeline (0-based) and the
  following ones are images filled with `fill` (NaN; or a finite value so large
  that the forward pass overflows).
  """
  images, labels = examples(n, size, channels, num_classes)

  def input_fn(ctx):
    ds = tf.data.Dataset.from_tensor_slices((images, labels))
    ds = ds.shard(ctx.num_input_pipelines, ctx.input_pipeline_id)
    if shuffle:
      ds = ds.shuffle(16, seed=1, reshuffle_each_iteration=True)
    ds = ds.repeat().batch(batch_size, drop_remainder=True)
    if nan_from_batch is not None:
      ds = ds.enumerate().map(lambda i, b: (
          tf.where(i >= nan_from_batch, tf.fill(tf.shape(b[0]), np.float32(fill)), b[0]), b[1]))
    return ds

  return input_fn
