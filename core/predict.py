"""Classify image files: eval preprocessing, one forward pass, top-k with names.

    from slimvision.core import predict
    for path, top in zip(paths, predict.classify(paths, 'inception_v3', 'inception_v3.ckpt')):
      print(path, top[0].name, top[0].probability)
"""

import dataclasses
import os
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np
import tensorflow as tf

from ..datasets import dataset_factory
from ..datasets import dataset_utils
from ..datasets import imagenet
from ..nets import checkpoints
from ..nets import nets_factory
from ..preprocessing import preprocessing_factory


@dataclasses.dataclass(frozen=True)
class Prediction:
  """One of the top-k classes of an image.

  Attributes:
    label: the dataset label (for ImageNet 1..1000, 0 being background),
      i.e. the logit index plus the labels offset.
    name: human-readable name of the label.
    probability: softmax probability of the class.
  """
  label: int
  name: str
  probability: float


def load_image(path: str, channels: int = 0) -> tf.Tensor:
  """Decodes a JPEG / PNG / GIF / BMP file to uint8 HxWxC (C: the file's, or `channels`).

  Raises:
    ValueError: naming the file, if it is missing or not a decodable image.
  """
  if not tf.io.gfile.exists(path):
    raise ValueError(f'Image file {path!r} not found.')
  data = tf.io.read_file(path)
  try:
    return dataset_utils.decode_image(data, channels)
  except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError) as e:
    raise ValueError(f'Cannot decode {path!r} as an image (JPEG, PNG, GIF or BMP expected): '
                     f'{dataset_utils.clean_tf_message(e.message)}') from None


def imagenet_names(num_classes: int) -> Dict[int, str]:
  """Logit index -> ImageNet name for a 1001-class (background first) or 1000-class net."""
  names = imagenet.create_readable_names_for_imagenet_labels()
  offset = {1001: 0, 1000: 1}.get(num_classes)
  if offset is None:
    return {i: f'class {i}' for i in range(num_classes)}
  return {i: names[i + offset] for i in range(num_classes)}


def dataset_label_names(dataset_name: Optional[str] = None,
                        dataset_dir: Optional[str] = None) -> Optional[Dict[int, str]]:
  """{label: name} of a dataset: `labels.txt` in dataset_dir, else the dataset's own names.

  Returns:
    None when neither is given (or neither has names).

  Raises:
    ValueError: for an unknown dataset name.
  """
  info = dataset_factory.get_dataset_module(dataset_name).INFO if dataset_name else None
  return dataset_utils.label_names(info, dataset_dir)


def default_labels_offset(labels_to_names: Mapping[int, str], num_classes: int) -> int:
  """1 where the names have one label more than the net has classes (a 1000-class net
  with ImageNet's 1001 labels, 0 being background), else 0."""
  return 1 if len(labels_to_names) == num_classes + 1 and 0 in labels_to_names else 0


def _names_or_imagenet(labels_to_names: Optional[Mapping[int, str]],
                       num_classes: int) -> Mapping[int, str]:
  """The given names; else ImageNet's for a 1000- or 1001-class net, else none."""
  if labels_to_names is not None:
    return labels_to_names
  if num_classes in (1000, 1001):
    return imagenet.create_readable_names_for_imagenet_labels()
  return {}


def top_k(probabilities: np.ndarray, names: Mapping[int, str], k: int = 5,
          labels_offset: int = 0) -> List[List[Prediction]]:
  """Top-k `Prediction`s of each row of a [batch, classes] probability array.

  `names` maps dataset labels (logit index + labels_offset) to names.
  """
  out = []
  for row in np.asarray(probabilities):
    order = np.argsort(-row, kind='stable')[:k]
    out.append([Prediction(int(i) + labels_offset,
                           names.get(int(i) + labels_offset, f'class {int(i) + labels_offset}'),
                           float(row[i])) for i in order])
  return out


def classify(image_paths: Sequence[str], model_name: str = 'inception_v3',
             checkpoint_path: Optional[str] = None, num_classes: Optional[int] = None,
             top: int = 5, image_size: Optional[int] = None,
             preprocessing_name: Optional[str] = None,
             labels_to_names: Optional[Mapping[int, str]] = None,
             moving_average: bool = False,
             saved_model_dir: Optional[str] = None,
             labels_offset: Optional[int] = None,
             use_grayscale: bool = False) -> List[List[Prediction]]:
  """Top-`top` classes of each image with a network and a checkpoint (or a SavedModel).

  Args:
    image_paths: image files.
    model_name: a registered network name.
    checkpoint_path: slim's released checkpoint or one of ours (prefix,
      checkpoint file or directory). None runs the randomly initialised net
      (for smoke tests).
    num_classes: logits width; defaults to the network's registered one.
    top: how many classes to return per image.
    image_size: input size; defaults to the network's default.
    preprocessing_name: defaults to the network's eval preprocessing
      (inception: central crop 0.875, resize, scale to [-1, 1]).
    labels_to_names: {dataset label: name} (a dataset's `labels_to_names`,
      e.g. from `dataset_label_names`); ImageNet's 1001 names by default.
    moving_average: restore the moving averages of the weights.
    saved_model_dir: a SavedModel written by export_inference_graph.py
      (`--export_dir`) to use instead of model_name / checkpoint_path; its
      `serving_bytes` signature decodes and preprocesses the files itself.
    labels_offset: dataset label = logit index + labels_offset (slim's flag);
      by default 1 when the names have one label more than the net has
      classes (a 1000-class net with ImageNet's names), else 0. The labels
      printed are those of the exported model's `classes` output.
    use_grayscale: the net was trained on one-channel images (--use_grayscale).

  Returns:
    One list of `Prediction`s per image, best first.

  Raises:
    ValueError: naming the file or directory, for a missing or undecodable
      image, a checkpoint that does not fit, or a directory that holds no
      exported SavedModel.
  """
  if saved_model_dir:
    return classify_saved_model(image_paths, saved_model_dir, top, labels_to_names)
  fn = _inference_network(model_name, checkpoint_path, num_classes, image_size,
                          use_grayscale, moving_average)
  preprocess = preprocessing_factory.get_preprocessing(
      preprocessing_name or model_name, is_training=False, output_channels=fn.input_channels)
  size = fn.image_size
  batch = tf.stack([preprocess(load_image(os.fspath(p), fn.input_channels), size, size)
                   for p in image_paths])
  logits, _ = fn(batch)
  probabilities = tf.nn.softmax(tf.reshape(tf.cast(logits, tf.float32), [len(image_paths), -1]))
  names = _names_or_imagenet(labels_to_names, fn.num_classes)
  if labels_offset is None:
    labels_offset = default_labels_offset(names, fn.num_classes)
  return top_k(probabilities.numpy(), names, top, labels_offset)


def _inference_network(model_name, checkpoint_path, num_classes, image_size, use_grayscale,
                       moving_average) -> nets_factory.NetworkFn:
  """`model_name` built for inference, restored from `checkpoint_path` if given."""
  fn = nets_factory.get_network_fn(model_name, num_classes=num_classes, is_training=False,
                                   image_size=image_size,
                                   input_channels=1 if use_grayscale else None,
                                   **nets_factory.get_spec(model_name).inference_kwargs())
  if checkpoint_path:
    checkpoints.restore_for_inference(fn, checkpoint_path, use_moving_averages=moving_average,
                                      command=checkpoints.CLASSIFY)
  return fn


def load_saved_model(saved_model_dir: str):
  """The `serving_bytes` function of a SavedModel from export_inference_graph.py.

  Raises:
    ValueError: if the directory is missing, is not a SavedModel, or lacks the
      signature.
  """
  saved_model_dir = os.fspath(saved_model_dir)
  if not tf.saved_model.contains_saved_model(saved_model_dir):
    state = 'does not exist' if not tf.io.gfile.exists(saved_model_dir) else 'holds no SavedModel'
    raise ValueError(f'SavedModel directory {saved_model_dir!r} {state}. Export one with '
                     'export_inference_graph.py --model_name=... --checkpoint_path=... '
                     f'--export_dir={saved_model_dir}.')
  loaded = tf.saved_model.load(saved_model_dir)
  if 'serving_bytes' not in loaded.signatures:
    raise ValueError(f'SavedModel {saved_model_dir!r} has no serving_bytes signature (it has '
                     f"{', '.join(sorted(loaded.signatures)) or 'none'}): expected one written "
                     'by export_inference_graph.py --export_dir. Re-export it.')
  return loaded.signatures['serving_bytes']


def classify_saved_model(image_paths: Sequence[str], saved_model_dir: str, top: int = 5,
                         labels_to_names: Optional[Mapping[int, str]] = None
                         ) -> List[List[Prediction]]:
  """Top-`top` classes of each image with an exported SavedModel (`serving_bytes`).

  The labels are the model's `classes` output (argmax plus the labels offset
  it was exported with); `labels_to_names` maps them to names (default: the
  names the export kept in `assets/labels.txt`, else ImageNet's for a 1000- or
  1001-class model).
  """
  serve = load_saved_model(saved_model_dir)
  own = saved_model_label_names(saved_model_dir)
  for path in image_paths:  # Fail on a bad file by name, before the model sees it.
    load_image(os.fspath(path))
  data = tf.stack([tf.io.read_file(os.fspath(p)) for p in image_paths])
  outputs = serve(image_bytes=data)
  probabilities = outputs['probabilities'].numpy()
  offset = int(outputs['classes'].numpy()[0]) - int(np.argmax(probabilities[0]))
  width = probabilities.shape[-1]
  if labels_to_names is None:
    labels_to_names = own
  elif len(labels_to_names) not in (width, width + offset) or (
      own is not None and len(own) != len(labels_to_names)):
    raise ValueError(
        f'The SavedModel {saved_model_dir} has {width} classes'
        f"{f' and names its own {len(own)} labels' if own else ''}, but the names given "
        f'(--dataset_name / --dataset_dir) are {len(labels_to_names)}: they belong to another '
        'dataset. Drop --dataset_name and --dataset_dir'
        f"{' (the SavedModel keeps its class names)' if own else ''}, or pass those of the "
        'dataset the model was trained on.')
  return top_k(probabilities, _names_or_imagenet(labels_to_names, probabilities.shape[-1]),
               top, offset)


def saved_model_label_names(saved_model_dir: str) -> Optional[Dict[int, str]]:
  """The {label: name} an export kept in `<saved_model_dir>/assets/labels.txt`, or None."""
  assets = os.path.join(os.fspath(saved_model_dir), 'assets')
  if dataset_utils.has_labels(assets):
    return dataset_utils.read_label_file(assets)
  return None


def format_predictions(path: str, predictions: Sequence[Prediction]) -> str:
  """The block `classify_image.py` prints for one image."""
  lines = [path]
  for rank, p in enumerate(predictions, 1):
    lines.append(f'  {rank}. {p.probability:7.2%}  [{p.label:4d}] {p.name}')
  return '\n'.join(lines)
