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

import gc
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
      # The asset's source file lives as long as the module (saving copies it).
      self._labels_dir = tempfile.TemporaryDirectory(prefix='slimvision_labels_')
      dataset_utils.write_label_file(labels_to_names, self._labels_dir.name)
      self.labels_file = tf.saved_model.Asset(
          os.path.join(self._labels_dir.name, dataset_utils.LABELS_FILENAME))
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
      # A call of the traced `serve`: the net is traced (and saved) once.
      return self.serve(images)

    self.serve = tf.function(serve, input_signature=[
        tf.TensorSpec([batch_size, size, size, channels], tf.float32, name='images')])
    self.serve_bytes = tf.function(serve_bytes, input_signature=[
        tf.TensorSpec([batch_size], tf.string, name='image_bytes')])

  def signatures(self) -> Dict[str, Callable]:
    return {SERVING_DEFAULT: self.serve.get_concrete_function(),
            SERVING_BYTES: self.serve_bytes.get_concrete_function()}


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
  """Converts `serving_default` of `module` to TFLite; returns `path`.

  The converter reads a SavedModel (the TFLite converter itself writes one for
  a function it is given); see `saved_model_to_tflite`.
  """
  with tempfile.TemporaryDirectory(prefix='slimvision_tflite_') as saved:
    tf.saved_model.save(module, saved,
                        signatures={SERVING_DEFAULT: module.serve.get_concrete_function()})
    return saved_model_to_tflite(saved, path, quantize)


def saved_model_to_tflite(export_dir: str, path: str, quantize: bool = False) -> str:
  """Converts the `serving_default` signature of a SavedModel to TFLite.

  Args:
    export_dir: a SavedModel written by `save_saved_model` (or `write_tflite`).
    path: the .tflite file to write (any tf.io.gfile path).
    quantize: dynamic-range quantization (int8 weights, float activations).

  Returns:
    `path`. Its signature `serving_default` and its input and output tensors
    carry the SavedModel's names: `images` -> `logits`, `probabilities`,
    `classes`.

  The converter holds several copies of the weights at once, so `export`
  frees its own network before converting.
  """
  converter = tf.lite.TFLiteConverter.from_saved_model(export_dir,
                                                       signature_keys=[SERVING_DEFAULT])
  if quantize:
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
  model = bytearray(converter.convert())
  del converter
  model = _name_tflite_tensors(model)
  _makedirs_for(path)
  with tf.io.gfile.GFile(path, 'wb') as f:
    f.write(model)
  logging.info('Wrote %s TFLite model %s (%.1f MB).',
               'dynamic-range quantized' if quantize else 'float', path, len(model) / 2**20)
  return path


# The vtable slot of `Tensor.name` in TFLite's schema (field 3: 4 + 2 * 3).
_TENSOR_NAME_SLOT = 10


def _name_tflite_tensors(model: bytearray) -> bytearray:
  """Names the TFLite tensors of each signature after its keys (`images`, `logits`, ...).

  The converter names a signature's tensors after the graph's placeholders
  (`serving_default_images:0`) and `StatefulPartitionedCall_1:N`; readers of
  the model that use `get_input_details()` / `get_output_details()` rather
  than the signature runner see these names, so give them the signature's
  keys. A key no longer than the name it replaces is written over it in
  place (a FlatBuffers string is a length and its bytes), which copies
  nothing: the model holds the weights. Otherwise the model is rebuilt.
  """
  # pylint: disable=g-import-not-at-top
  from tensorflow.lite.python import schema_py_generated as schema
  root = schema.Model.GetRootAs(model, 0)
  renames = []
  for s in range(root.SignatureDefsLength()):
    signature = root.SignatureDefs(s)
    subgraph = root.Subgraphs(signature.SubgraphIndex())
    entries = ([signature.Inputs(i) for i in range(signature.InputsLength())]
               + [signature.Outputs(i) for i in range(signature.OutputsLength())])
    for entry in entries:
      renames.append((subgraph.Tensors(entry.TensorIndex()), entry.Name()))
  if not all(len(key) <= len(tensor.Name() or b'') for tensor, key in renames):
    return _rebuilt_with_names(model)
  for tensor, key in renames:
    table = tensor._tab  # pylint: disable=protected-access
    start = table.Indirect(table.Offset(_TENSOR_NAME_SLOT) + table.Pos)
    old_length = int.from_bytes(model[start:start + 4], 'little')
    model[start:start + 4] = len(key).to_bytes(4, 'little')
    model[start + 4:start + 5 + old_length] = key + bytes(old_length + 1 - len(key))
    if tensor.Name() != key:
      raise RuntimeError(f'Renaming the TFLite tensor {key!r} failed: its name reads '
                         f'{tensor.Name()!r}.')
  return model


def _rebuilt_with_names(model: bytearray) -> bytearray:
  """`_name_tflite_tensors` by rebuilding the model (copies it a few times)."""
  # pylint: disable=g-import-not-at-top
  from tensorflow.lite.tools import flatbuffer_utils
  tree = flatbuffer_utils.convert_bytearray_to_object(model)
  for signature in tree.signatureDefs or []:
    tensors = tree.subgraphs[signature.subgraphIndex].tensors
    for entry in list(signature.inputs or []) + list(signature.outputs or []):
      tensors[entry.tensorIndex].name = entry.name
  return flatbuffer_utils.convert_object_to_bytearray(tree)


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
  if config.output_file:
    written['tensors'] = write_graph_def(module, config.output_file,
                                         frozen=bool(config.checkpoint_path))
    written['graph_def'] = config.output_file
  if config.tflite_file:
    if config.export_dir:
      # The converter reads the SavedModel just written: the network is freed
      # first, as the converter's copies of the weights are the export's peak.
      del module, fn
      gc.collect()
      written['tflite'] = saved_model_to_tflite(config.export_dir, config.tflite_file,
                                                config.quantize)
    else:
      written['tflite'] = write_tflite(module, config.tflite_file, config.quantize)
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
           'save_saved_model', 'saved_model_to_tflite', 'tflite_interpreter', 'write_graph_def',
           'write_tflite', 'OUTPUT_KEYS', 'SERVING_BYTES', 'SERVING_DEFAULT']
