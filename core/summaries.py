"""TensorBoard summaries written with `tf.summary.write`, so the tensorboard package is not needed.

The metadata marks each value as TensorBoard's scalar or image plugin would.
"""

import tensorflow as tf
from tensorflow.core.framework import summary_pb2


def _metadata(plugin: str, data_class: int) -> bytes:
  return summary_pb2.SummaryMetadata(
      plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin),
      data_class=data_class).SerializeToString()


_SCALAR = _metadata('scalars', summary_pb2.DATA_CLASS_SCALAR)
_IMAGE = _metadata('images', summary_pb2.DATA_CLASS_BLOB_SEQUENCE)


def scalar(tag: str, value, step) -> None:
  """A scalar at `step` in the default summary writer."""
  tf.summary.write(tag, tf.cast(value, tf.float32), step=step, metadata=_SCALAR)


def images(tag: str, pixels, step) -> None:
  """uint8 images [N, H, W, C] as PNGs at `step` in the default summary writer."""
  encoded = [tf.io.encode_png(image) for image in pixels]
  size = [tf.as_string(int(pixels.shape[2])), tf.as_string(int(pixels.shape[1]))]
  tf.summary.write(tag, tf.stack(size + encoded), step=step, metadata=_IMAGE)
