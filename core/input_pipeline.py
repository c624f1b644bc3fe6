"""Training and evaluation input pipelines over slim's TFRecords.

    ds = input_pipeline.train_input('imagenet', '/data/imagenet', model_name='inception_v3',
                                    image_size=299, batch_size=32)
    for images, labels in ds: ...        # float32 [32, 299, 299, 3], int64 [32]

Training: the split's files are sharded per input pipeline (worker), read
with a parallel interleave, shuffled, repeated, decoded and preprocessed with a
parallel map (AUTOTUNE), batched with `drop_remainder=True` and prefetched.
With inception preprocessing, JPEG records are decoded with
`tf.image.decode_and_crop_jpeg`, so only the random crop window is decoded.

Evaluation: every record of every file exactly once, in file order, the last
partial batch kept (or the examples unbatched, for a caller that pads them).

Both are `DatasetSplit.make_tf_dataset` with a decode-and-preprocess
`transform`; a run builds its split once and passes it (`split=`).

Both fail, naming the file and record index, on a corrupt record, and on an
undecodable image unless `skip_undecodable=True` (then such images are
skipped and each is logged with a running count).
"""

from typing import Optional

import tensorflow as tf

from ..datasets import dataset_factory
from ..datasets import dataset_utils
from ..preprocessing import inception_preprocessing
from ..preprocessing import preprocessing_factory

AUTOTUNE = tf.data.AUTOTUNE


def _preprocessing_name(preprocessing_name: Optional[str], model_name: Optional[str]) -> str:
  name = preprocessing_name or model_name
  if not name:
    raise ValueError('Give preprocessing_name or model_name (whose preprocessing is used). '
                     'Received: preprocessing_name=None, model_name=None')
  return preprocessing_factory.preprocessing_name_for(name)


def _check_sizes(image_size: int, batch_size: int) -> None:
  if int(image_size) <= 0 or int(batch_size) <= 0:
    raise ValueError('image_size and batch_size must be positive. '
                     f'Received: image_size={image_size}, batch_size={batch_size}')


def _net_channels(channels: Optional[int], use_grayscale: bool,
                  model_name: Optional[str]) -> Optional[int]:
  """The channels the net takes: given, 1 with use_grayscale, else the net's registered."""
  if use_grayscale:
    return 1
  if channels is not None or not model_name:
    return channels
  from ..nets import nets_factory  # pylint: disable=g-import-not-at-top
  return nets_factory.get_spec(model_name).input_channels


def _make_transform(split, family: str, is_training: bool, image_size: int,
                    labels_offset: int, fast_mode: bool, channels: Optional[int],
                    fused: bool):
  """item dict (image still encoded) -> (float32 image, int64 label)."""
  prep = preprocessing_factory.get_preprocessing(family, is_training=is_training,
                                                 output_channels=channels)
  kwargs = {}
  if family == 'inception' and is_training:
    kwargs['fast_mode'] = fast_mode

  def transform(item):
    label = tf.cast(item['label'], tf.int64) - labels_offset
    bbox = item.get('object/bbox')
    if fused:
      image = inception_preprocessing.preprocess_for_train_from_jpeg(
          item['image/encoded'], image_size, image_size, bbox=bbox, fast_mode=fast_mode,
          use_grayscale=channels == 1)
    else:
      image = split.decode_image(item['image/encoded'])
      extra = dict(kwargs)
      if family == 'inception' and is_training and bbox is not None:
        extra['bbox'] = bbox
      image = prep(image, image_size, image_size, **extra)
    return tf.cast(image, tf.float32), label

  return transform


def train_input(dataset_name: Optional[str] = None, dataset_dir: Optional[str] = None,
                split_name: str = 'train', preprocessing_name: Optional[str] = None,
                model_name: Optional[str] = None, image_size: int = 224, batch_size: int = 32,
                labels_offset: int = 0,
                input_context: Optional[tf.distribute.InputContext] = None,
                shuffle_buffer: Optional[int] = None, cache: bool = False,
                seed: Optional[int] = None, num_epochs: Optional[int] = None,
                fast_mode: bool = True, skip_undecodable: bool = False,
                skipped: Optional[tf.Variable] = None,
                file_pattern: Optional[str] = None, use_grayscale: bool = False,
                fused_decode_and_crop: bool = True, channels: Optional[int] = None,
                split: Optional[dataset_utils.DatasetSplit] = None) -> tf.data.Dataset:
  """The training pipeline: `(images float32 [B, H, W, C], labels int64 [B])`.

  Args:
    dataset_name: a `dataset_factory` name.
    dataset_dir: directory with the TFRecords.
    split_name: the split to train on.
    preprocessing_name: 'inception', 'vgg', ... (or a net name); default: the
      preprocessing of `model_name`.
    model_name: the network, used when preprocessing_name is None.
    image_size: square output size.
    batch_size: examples per batch **per input pipeline** (with a strategy,
      `input_context.get_per_replica_batch_size(global_batch)`).
    labels_offset: subtracted from the stored labels (slim's flag).
    input_context: shards the files by `input_pipeline_id` over
      `num_input_pipelines` (each worker reads its own files).
    shuffle_buffer: records in the shuffle buffer (default: 16 batches, at
      least 1024).
    cache: keep the raw records in memory after the first epoch.
    seed: shuffle seed (random crops still draw from the global generator).
    num_epochs: passes over the data; None repeats forever.
    fast_mode: inception's fast colour distortion / bilinear-only resize.
    skip_undecodable: skip and count undecodable images (and records that are
      not Examples) instead of failing.
    skipped: an int64 CPU variable that counts the records skipped.
    file_pattern: overrides the split's file glob.
    use_grayscale: one-channel output (slim's flag; same as channels=1).
    fused_decode_and_crop: decode only the crop window of JPEGs (inception).
    channels: the channels the net takes (default: `model_name`'s, else the
      dataset's); grey images become RGB for a 3-channel net and vice versa.
    split: the `DatasetSplit`, built once by the run, instead of dataset_name,
      dataset_dir, split_name and file_pattern.

  Returns:
    A batched, prefetched `tf.data.Dataset` (drop_remainder=True).
  """
  _check_sizes(image_size, batch_size)
  family = _preprocessing_name(preprocessing_name, model_name)
  split = split or _get_split(dataset_name, split_name, dataset_dir, file_pattern)
  fused = fused_decode_and_crop and family == 'inception' and split.channels == 3
  transform = _make_transform(split, family, True, image_size, labels_offset, fast_mode,
                              _net_channels(channels, use_grayscale, model_name), fused)
  ds = split.make_tf_dataset(shuffle=True, num_epochs=num_epochs, seed=seed,
                             shuffle_buffer=shuffle_buffer or max(1024, 16 * batch_size),
                             input_context=input_context, skip_undecodable=skip_undecodable,
                             transform=transform, check_labels=True, cache=cache,
                             skipped=skipped)
  return ds.batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE)


def eval_input(dataset_name: Optional[str] = None, dataset_dir: Optional[str] = None,
               split_name: str = 'validation', preprocessing_name: Optional[str] = None,
               model_name: Optional[str] = None, image_size: int = 224,
               batch_size: Optional[int] = 32, labels_offset: int = 0,
               skip_undecodable: bool = False, file_pattern: Optional[str] = None,
               use_grayscale: bool = False, channels: Optional[int] = None,
               skipped: Optional[tf.Variable] = None,
               split: Optional[dataset_utils.DatasetSplit] = None) -> tf.data.Dataset:
  """The evaluation pipeline: every example exactly once, in file order.

  Args:
    dataset_name, dataset_dir, split_name, preprocessing_name, model_name,
    image_size, labels_offset, skip_undecodable, skipped, file_pattern, use_grayscale,
    channels, split: as `train_input`.
    batch_size: examples per batch; the last batch keeps the remainder. None:
      the examples unbatched (for a caller that batches them itself, as
      `evaluate.Evaluator` does, padding the last batch).

  Returns:
    A `tf.data.Dataset` of `(images float32 [b, H, W, C], labels int64 [b])`
    with `b <= batch_size` (drop_remainder=False), or of `(image [H, W, C],
    label [])` pairs.
  """
  _check_sizes(image_size, batch_size or 1)
  family = _preprocessing_name(preprocessing_name, model_name)
  split = split or _get_split(dataset_name, split_name, dataset_dir, file_pattern)
  transform = _make_transform(split, family, False, image_size, labels_offset, True,
                              _net_channels(channels, use_grayscale, model_name), fused=False)
  ds = split.make_tf_dataset(shuffle=False, skip_undecodable=skip_undecodable,
                             transform=transform, check_labels=True, skipped=skipped)
  if batch_size is not None:
    ds = ds.batch(batch_size, drop_remainder=False)
  return ds.prefetch(AUTOTUNE)


def _get_split(dataset_name: Optional[str], split_name: str, dataset_dir: Optional[str],
               file_pattern: Optional[str]) -> dataset_utils.DatasetSplit:
  if not dataset_name:
    raise ValueError('Give dataset_name (with dataset_dir) or split. '
                     'Received: dataset_name=None, split=None')
  return dataset_factory.get_dataset(dataset_name, split_name, dataset_dir,
                                     file_pattern=file_pattern)
