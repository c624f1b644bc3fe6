"""Export: a network (and its checkpoint) as a SavedModel, a TFLite model, a GraphDef.

The engine behind `export_inference_graph.py` (slim's script of the same name):

    config = export.ExportConfig(model_name='inception_v3',
                                 checkpoint_path='/tmp/inception_v3.ckpt',
                                 export_dir='/tmp/inception_v3_saved_model',
                                 tflite_file='/tmp/inception_v3.tflite')
    export.export(config)

The SavedModel has two signatures (DESIGN §4):
* `serving_default`: `images` float32 [batch, size, size, channels], already
  preprocessed -> `logits` [batch, num_classes], `probabilities` (softmax) and
  `classes` (int64 argmax, in the dataset's label space: `labels_offset` is
  added back, so ImageNet names index it directly);
* `serving_bytes`: `image_bytes` string [batch] of encoded JPEG / PNG (/ GIF /
  BMP) -> the net's evaluation preprocessing -> the same outputs.
When the dataset's class names are known (`dataset_dir`'s labels.txt, or the
dataset's built-in names) and cover the logits, the SavedModel holds them as
`assets/labels.txt` (slim's `<label>:<name>` lines), which `classify_image.py
--saved_model_dir` prints.
The TFLite model holds `serving_default` (float, or dynamic-range quantized
with `quantize`). `output_file` keeps slim's meaning: a binary GraphDef of the
inference graph (input `images`), frozen with the checkpoint's values when a
checkpoint is given.
"""

import os
import tempfile
import warnings
from typing import Any, Callable, Dict, Mapping, Optional

from absl import logging
import tensorflow as tf

from .config import ExportConfig
from ..datasets import dataset_utils
from ..nets import checkpoints
from ..nets import nets_factory

SERVING_DEFAULT = 'serving_default'
SERVING_BYTES = 'serving_bytes'
OUTPUT_KEYS = ('logits', 'probabilities', 'classes')


def _num_classes(config: ExportConfig) -> int:
  """The logits width: the dataset's (or given) class count minus labels_offset."""
  if config.num_classes is not None:
    total = int(config.num_classes)
  elif config.dataset_name:
    from ..datasets import dataset_factory  # pylint: disable=g-import-not-at-top
    total = int(dataset_factory.get_dataset(config.dataset_name, 'train', '').num_classes)
  else:
    return nets_factory.get_spec(config.model_name).num_classes
  width = total - int(config.labels_offset)
  if width < 1:
    raise ValueError(f'{total} classes minus labels_offset={config.labels_offset} leaves no '
                     'logits. Check --num_classes / --dataset_name and --labels_offset.')
  return width


def build_network(config: ExportConfig) -> nets_factory.NetworkFn:
  """The network of `config`, with the checkpoint's weights when one is given."""
  spec = nets_factory.get_spec(config.model_name)
  fn = nets_factory.get_network_fn(
      config.model_name, num_classes=_num_classes(config), is_training=config.is_training,
      image_size=config.image_size, input_channels=1 if config.use_grayscale else None,
      **spec.inference_kwargs(config.network_kwargs))
  if config.checkpoint_path:
    checkpoints.restore_for_inference(fn, config.checkpoint_path,
                                      use_moving_averages=config.use_moving_averages,
                                      command=checkpoints.EXPORT)
  else:
    logging.warning('No checkpoint_path: exporting %s with freshly initialised weights.',
                    config.model_name)
  return fn


class ServingModule(tf.Module):
  """The exported object: the net's variables and its two serving functions.

  Args:
    network_fn: a built NetworkFn.
    preprocessing_name: preprocessing applied by `serve_bytes`.
    labels_offset: added to the argmax to give `classes`.
    batch_size: fixed input batch size, or None.
    labels_to_names: {label: name} of the `classes`, kept as the asset
      `labels.txt`; None keeps no names.
  """

  def __init__(self, network_fn: nets_factory.NetworkFn,
               preprocessing_name: Optional[str] = None, labels_offset: int = 0,
               batch_size: Optional[int] = None,
               labels_to_names: Optional[Mapping[int, str]] = None):
    super().__init__(name='slimvision_serving')
    if labels_to_names:
      self.labels_file = tf.saved_model.Asset(_labels_file(labels_to_names))
    # Tracked so the SavedModel holds the weights (under their slim names).
    self.weights_by_name = checkpoints.trackable_variables(network_fn)
    self.labels_offset = tf.constant(int(labels_offset), tf.int64)
    size, channels = network_fn.image_size, network_fn.input_channels
    self.image_size = size
    self.channels = channels
    training = bool(network_fn.is_training)
    preprocess = _eval_preprocessing(preprocessing_name or network_fn.spec.preprocessing,
                                     channels)

    def outputs(logits) -> Dict[str, tf.Tensor]:
      logits = tf.reshape(tf.cast(logits, tf.float32), [tf.shape(logits)[0], -1])
      return {'logits': logits, 'probabilities': tf.nn.softmax(logits),
              'classes': tf.argmax(logits, axis=-1) + int(labels_offset)}

    def serve(images):
      logits, _ = network_fn(images, is_training=training)
      return outputs(logits)

    def decode_one(encoded):
      image = dataset_utils.decode_image(encoded, channels)
      return tf.ensure_shape(preprocess(image, size, size), [size, size, channels])

    def serve_bytes(image_bytes):
      images = tf.map_fn(decode_one, image_bytes,
                         fn_output_signature=tf.TensorSpec([size, size, channels], tf.float32))
      return serve(images)

    self.serve = tf.function(serve, input_signature=[
        tf.TensorSpec([batch_size, size, size, channels], tf.float32, name='images')])
    self.serve_bytes = tf.function(serve_bytes, input_signature=[
        tf.TensorSpec([batch_size], tf.string, name='image_bytes')])

  def signatures(self) -> Dict[str, Callable]:
    return {SERVING_DEFAULT: self.serve.get_concrete_function(),
            SERVING_BYTES: self.serve_bytes.get_concrete_function()}


def _labels_file(labels_to_names: Mapping[int, str]) -> str:
  """A temporary labels.txt of `labels_to_names` (SavedModel saving copies it)."""
  directory = tempfile.mkdtemp(prefix='slimvision_labels_')
  dataset_utils.write_label_file(labels_to_names, directory)
  return os.path.join(directory, dataset_utils.LABELS_FILENAME)


def class_names(config: ExportConfig, width: int) -> Optional[Dict[int, str]]:
  """The class names to keep in the SavedModel: {label: name} when they name
  exactly the `width + labels_offset` labels of the logits, else None."""
  from ..datasets import dataset_factory  # pylint: disable=g-import-not-at-top
  from ..datasets import dataset_utils  # pylint: disable=g-import-not-at-top
  info = (dataset_factory.get_dataset_module(config.dataset_name).INFO
          if config.dataset_name else None)
  names = dataset_utils.label_names(info, config.dataset_dir)
  offset = int(config.labels_offset)
  if not names:
    return None
  if len(names) != width + offset or not all(l + offset in names for l in range(width)):
    logging.warning('Not keeping class names in the export: %d names for %d logits with '
                    'labels_offset=%d. Pass --dataset_dir with the labels.txt of the dataset '
                    'the net was trained on.', len(names), width, offset)
    return None
  return dict(names)


def _eval_preprocessing(name: str, channels: int) -> Callable:
  from ..preprocessing import preprocessing_factory  # pylint: disable=g-import-not-at-top
  return preprocessing_factory.get_preprocessing(name, is_training=False,
                                                 output_channels=channels)


def save_saved_model(module: ServingModule, export_dir: str) -> str:
  """Writes the SavedModel with both signatures; returns export_dir."""
  tf.saved_model.save(module, export_dir, signatures=module.signatures())
  logging.info('Wrote SavedModel %s (signatures %s, %s).', export_dir, SERVING_DEFAULT,
               SERVING_BYTES)
  return export_dir


def write_tflite(module: ServingModule, path: str, quantize: bool = False) -> str:
  """Converts `serving_default` to TFLite (dynamic-range int8 weights with quantize)."""
  concrete = module.serve.get_concrete_function()
  converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], module)
  if quantize:
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
  model = _name_tflite_outputs(converter.convert())
  _makedirs_for(path)
  with tf.io.gfile.GFile(path, 'wb') as f:
    f.write(model)
  logging.info('Wrote %s TFLite model %s (%.1f MB).',
               'dynamic-range quantized' if quantize else 'float', path, len(model) / 2**20)
  return path


def _name_tflite_outputs(model: bytes) -> bytes:
  """Names the TFLite tensors of each signature after its keys (`images`, `logits`, ...).

  The converter names a function's inputs and outputs after the graph's
  placeholders and `StatefulPartitionedCall:N`; readers of the model that use
  `get_input_details()` / `get_output_details()` rather than the signature
  runner see these names, so give them the signature's keys.
  """
  # pylint: disable=g-import-not-at-top
  from tensorflow.lite.tools import flatbuffer_utils
  tree = flatbuffer_utils.convert_bytearray_to_object(bytearray(model))
  for signature in tree.signatureDefs or []:
    tensors = tree.subgraphs[signature.subgraphIndex].tensors
    for entry in list(signature.inputs or []) + list(signature.outputs or []):
      tensors[entry.tensorIndex].name = entry.name
  return bytes(flatbuffer_utils.convert_object_to_bytearray(tree))


def write_graph_def(module: ServingModule, path: str, frozen: bool = True) -> Dict[str, str]:
  """Writes `serving_default` as a GraphDef (slim's --output_file).

  Args:
    module: the ServingModule.
    path: the file; `.pbtxt` writes text, anything else binary.
    frozen: fold the variables' values into constants (a self-contained graph);
      otherwise the graph reads them from resource inputs, as slim's unfrozen
      export needed a checkpoint beside it.

  Returns:
    {'images': input tensor name, output key: tensor name}.
  """
  # pylint: disable=g-import-not-at-top
  from tensorflow.python.framework import convert_to_constants
  concrete = module.serve.get_concrete_function()
  keys = sorted(concrete.structured_outputs)  # tf.nest's order of the outputs.
  if frozen:
    concrete = convert_to_constants.convert_variables_to_constants_v2(concrete)
  graph_def = concrete.graph.as_graph_def()
  names = {'images': concrete.inputs[0].name}
  # The outputs are Identity nodes; give them the output keys as names, so
  # GraphDef users fetch `logits:0`, `probabilities:0`, `classes:0`.
  taken = {node.name for node in graph_def.node}
  renames = {t.op.name: key for key, t in zip(keys, concrete.outputs) if key not in taken}
  for node in graph_def.node:
    node.name = renames.get(node.name, node.name)
    node.input[:] = [_renamed_input(i, renames) for i in node.input]
  names.update((key, f'{renames.get(t.op.name, t.op.name)}:{t.value_index}')
               for key, t in zip(keys, concrete.outputs))
  _makedirs_for(path)
  as_text = path.endswith('.pbtxt')
  tf.io.write_graph(graph_def, _directory_of(path), os.path.basename(path), as_text=as_text)
  logging.info('Wrote %s GraphDef %s; tensors: %s.', 'frozen' if frozen else 'unfrozen', path,
               ', '.join(f'{k}={v}' for k, v in names.items()))
  return names


def _renamed_input(name: str, renames: Mapping[str, str]) -> str:
  control = name.startswith('^')
  op, _, index = name.lstrip('^').partition(':')
  op = renames.get(op, op)
  return ('^' if control else '') + op + (f':{index}' if index else '')


def _directory_of(path: str) -> str:
  """The directory of a local path or of a URL of another filesystem (gs://, ram://)."""
  return os.path.dirname(path if '://' in path else os.path.abspath(path))


def _makedirs_for(path: str) -> None:
  tf.io.gfile.makedirs(_directory_of(path))


def export(config: ExportConfig) -> Dict[str, Any]:
  """Builds the net, restores the checkpoint and writes what `config` asks for.

  Returns:
    {'saved_model': dir, 'tflite': file, 'graph_def': file, 'tensors': {...}}
    for what was written.

  Raises:
    ValueError: for an unknown model, a checkpoint that does not fit, or
      nothing to export.
  """
  fn = build_network(config)
  module = ServingModule(fn, config.preprocessing_name, config.labels_offset,
                         config.batch_size, class_names(config, fn.num_classes))
  written = {}
  if config.export_dir:
    written['saved_model'] = save_saved_model(module, config.export_dir)
  if config.tflite_file:
    written['tflite'] = write_tflite(module, config.tflite_file, config.quantize)
  if config.output_file:
    written['tensors'] = write_graph_def(module, config.output_file,
                                         frozen=bool(config.checkpoint_path))
    written['graph_def'] = config.output_file
  return written


def tflite_interpreter(path: str):
  """An interpreter for `path`: LiteRT's when installed, else tf.lite's."""
  try:
    from ai_edge_litert import interpreter as litert  # pylint: disable=g-import-not-at-top
    return litert.Interpreter(model_path=path)
  except ImportError:
    with warnings.catch_warnings():  # tf.lite.Interpreter warns of its deprecation.
      warnings.simplefilter('ignore')
      return tf.lite.Interpreter(model_path=path)


def run_tflite(path: str, images) -> Dict[str, Any]:
  """Runs a TFLite model written by `write_tflite` on a float batch; {name: array}."""
  runner = tflite_interpreter(path).get_signature_runner(SERVING_DEFAULT)
  return runner(images=tf.convert_to_tensor(images, tf.float32).numpy())


__all__ = ['ExportConfig', 'ServingModule', 'build_network', 'class_names', 'export', 'run_tflite',
           'save_saved_model', 'tflite_interpreter', 'write_graph_def', 'write_tflite', 'OUTPUT_KEYS',
           'SERVING_BYTES', 'SERVING_DEFAULT']
