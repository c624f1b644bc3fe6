"""The configuration of each command, as frozen dataclasses: one home for every option.

`TrainConfig` (train_image_classifier.py), `EvalConfig` (eval_image_classifier.py),
`ExportConfig` (export_inference_graph.py) and `ClassifyConfig`
(classify_image.py). Field names and defaults are slim's flag names and defaults,
so a config reads like a slim command line; each class's docstring documents its
fields once (its `Attributes:` section is also each flag's --help, see
`field_help`), and the enumerations below are the only lists of their names. The
scripts define their flags from these classes (`core.cli.define_flags`); the
fields slim did not have (warmup, cosine decay, AdamW, mixed precision, XLA, ...)
come last.

This module imports neither TensorFlow nor Keras: the scripts read it at start-up.
"""

import dataclasses
import inspect
import json
import typing
from typing import Any, Dict, Mapping, Optional, Tuple

OPTIMIZERS = ('adadelta', 'adagrad', 'adam', 'adamw', 'ftrl', 'momentum', 'sgd', 'rmsprop')
LEARNING_RATE_DECAY_TYPES = ('exponential', 'fixed', 'polynomial', 'cosine')
MIXED_PRECISION = (None, 'bfloat16', 'float16')


def option(default: Any = dataclasses.MISSING, *, choices: Optional[Tuple[Any, ...]] = None,
           at_least: Optional[float] = None, **field_kwargs) -> Any:
  """A dataclass field with the constraints `check_fields` enforces (and the flags show).

  Args:
    default: the default value.
    choices: the allowed values (the flag becomes an enum of the non-None ones).
    at_least: the smallest allowed value (None stays allowed for an Optional field).
    **field_kwargs: passed to `dataclasses.field` (e.g. default_factory).
  """
  metadata = {'choices': choices, 'at_least': at_least}
  return dataclasses.field(default=default, metadata=metadata, **field_kwargs)


def check_fields(config: Any) -> None:
  """Raises ValueError for the first field of `config` outside its `option` constraints.

  The message names the field, what was expected and what was received:
  `batch_size must be >= 1. Received: batch_size=0`.
  """
  for field in dataclasses.fields(config):
    value = getattr(config, field.name)
    choices = field.metadata.get('choices')
    if choices is not None and value not in choices:
      shown = ', '.join(repr(c) for c in choices)
      raise ValueError(f'Unknown {field.name} {value!r}. Expected one of: {shown}. '
                       f'Received: {field.name}={value!r}')
    at_least = field.metadata.get('at_least')
    if at_least is not None and value is not None and value < at_least:
      optional = ' or None' if _allows_none(field, type(config)) else ''
      raise ValueError(f'{field.name} must be >= {at_least}{optional}. '
                       f'Received: {field.name}={value}')


def field_help(config_class: type) -> Dict[str, str]:
  """Each field's description, from the `Attributes:` section of the class docstring.

  Google style: a line `name: text` indented under `Attributes:`, continued on
  more deeply indented lines. These are the flags' help texts.

  Raises:
    ValueError: naming the fields the docstring leaves undocumented.
  """
  lines = inspect.cleandoc(config_class.__doc__ or '').splitlines()
  start = lines.index('Attributes:') + 1 if 'Attributes:' in lines else len(lines)
  entries: Dict[str, str] = {}
  indent, name = None, None
  for line in lines[start:]:
    depth = len(line) - len(line.lstrip())
    if not line.strip():
      continue
    if depth == 0:  # The next section.
      break
    indent = indent or depth
    if depth == indent:
      name, _, text = line.strip().partition(':')
      entries[name] = text.strip()
    else:
      entries[name] += ' ' + line.strip()
  missing = [f.name for f in dataclasses.fields(config_class) if f.name not in entries]
  if missing:
    raise ValueError(f'{config_class.__name__} documents no field {missing} in its '
                     'Attributes: section.')
  return entries


def field_type(config_class: type, name: str) -> Tuple[type, bool]:
  """(the type of field `name` without Optional, whether it allows None)."""
  hint = typing.get_type_hints(config_class)[name]
  args = typing.get_args(hint)
  if typing.get_origin(hint) is typing.Union and type(None) in args:
    return next(a for a in args if a is not type(None)), True
  return hint, False


def _allows_none(field: dataclasses.Field, config_class: type) -> bool:
  return field_type(config_class, field.name)[1]


class _Config:
  """What every config shares: replace, dicts and JSON."""

  def replace(self, **changes):
    return dataclasses.replace(self, **changes)

  def to_dict(self) -> Dict[str, Any]:
    return dataclasses.asdict(self)

  def to_json(self) -> str:
    return json.dumps(self.to_dict(), indent=2, sort_keys=True)

  @classmethod
  def from_dict(cls, values: Dict[str, Any]):
    """A config from a dict; unknown keys raise, listing the known ones."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
      raise ValueError(f'Unknown {cls.__name__} field(s) {unknown}. Known: {sorted(known)}.')
    return cls(**values)


@dataclasses.dataclass(frozen=True)
class TrainConfig(_Config):
  """Everything a training run needs (slim's train_image_classifier flags).

  Attributes:
    train_dir: Directory where checkpoints, summaries and config.json are written.
    dataset_name: The name of the dataset to load.
    dataset_split_name: The name of the train/test split.
    dataset_dir: The directory where the dataset files are stored.
    labels_offset: An offset for the labels in the dataset. Set to 1 to train a model
      without a background class on a dataset with one (e.g. vgg, resnet_v1 on imagenet).
    model_name: The name of the architecture to train.
    preprocessing_name: The name of the preprocessing to use. If None, the model_name one.
    batch_size: The number of samples in each batch, per replica (slim's per-clone
      batch size).
    train_image_size: Train image size (default: the net's).
    max_number_of_steps: The maximum number of training steps.
    use_grayscale: Whether to convert input images to grayscale.
    skip_undecodable: Skip images that do not decode, each logged with its file and record
      index and a running count, instead of stopping.
    num_clones: Number of replicas on this machine: GPUs, or logical CPU devices on a
      machine without GPUs (1: all visible GPUs).
    clone_on_cpu: Use CPUs to deploy clones.
    log_every_n_steps: The frequency with which logs are printed.
    save_summaries_secs: The frequency with which summaries are saved, in seconds.
    save_interval_secs: The frequency with which the model is saved, in seconds.
    max_checkpoints_to_keep: Checkpoints kept in train_dir.
    weight_decay: The weight decay on the model weights.
    label_smoothing: The amount of label smoothing.
    moving_average_decay: The decay to use for the moving average. If left as None, then
      moving averages are not used.
    optimizer: The name of the optimizer.
    adadelta_rho: The decay rate for adadelta.
    adagrad_initial_accumulator_value: Starting value for the AdaGrad accumulators.
    adam_beta1: The exponential decay rate for the 1st moment estimates.
    adam_beta2: The exponential decay rate for the 2nd moment estimates.
    opt_epsilon: Epsilon term for the optimizer.
    ftrl_learning_rate_power: The learning rate power.
    ftrl_initial_accumulator_value: Starting value for the FTRL accumulators.
    ftrl_l1: The FTRL l1 regularization strength.
    ftrl_l2: The FTRL l2 regularization strength.
    momentum: The momentum for the MomentumOptimizer.
    rmsprop_momentum: Momentum.
    rmsprop_decay: Decay term for RMSProp.
    learning_rate_decay_type: How the learning rate is decayed; cosine decays to
      end_learning_rate over max_number_of_steps.
    learning_rate: Initial learning rate.
    end_learning_rate: The minimal end learning rate used by a polynomial or cosine decay.
    learning_rate_decay_factor: Learning rate decay factor.
    num_epochs_per_decay: Number of epochs after which learning rate decays.
    checkpoint_path: The path to a checkpoint from which to fine-tune (slim's released
      checkpoints or ours; a prefix or a directory), or "pretrained": the release of
      --model_name, downloaded and cached once.
    checkpoint_exclude_scopes: Comma-separated list of scopes of variables to exclude when
      restoring from a checkpoint.
    trainable_scopes: Comma-separated list of scopes to filter the set of variables to
      train. By default, None would train all the variables.
    ignore_missing_vars: When restoring a checkpoint would ignore missing variables.
    warmup_epochs: Epochs of linear learning-rate warmup from 0 before the schedule.
    adamw_weight_decay: Decoupled weight decay of --optimizer=adamw (use with
      --weight_decay=0).
    mixed_precision: Compute in bfloat16 or float16 (with loss scaling); variables stay
      float32.
    jit_compile: Compile the forward and backward pass with XLA (slower on CPU).
    seed: Seed of the input shuffling.
    shuffle_buffer: Examples in the shuffle buffer (default: the input pipeline's).
    checkpoint_input_pipeline: Keep the input position in the checkpoints so that a resumed
      run continues where it stopped (the shuffle buffer is saved with it).
    num_summary_images: Input images written to each image summary.
    steps_per_loop: Training steps per call of the compiled step function: metrics reach
      the host only at the end of each loop, which ends at every --log_every_n_steps step.
      1 (the default, the faster on CPU) fetches them after every step.
  """
  # Where and what.
  train_dir: str = '/tmp/tfmodel/'
  dataset_name: str = 'imagenet'
  dataset_split_name: str = 'train'
  dataset_dir: Optional[str] = None
  labels_offset: int = 0
  model_name: str = 'inception_v3'
  preprocessing_name: Optional[str] = None
  batch_size: int = option(32, at_least=1)
  train_image_size: Optional[int] = None
  max_number_of_steps: Optional[int] = option(None, at_least=0)
  use_grayscale: bool = False
  skip_undecodable: bool = False
  # Devices.
  num_clones: int = option(1, at_least=1)
  clone_on_cpu: bool = False
  # Logging and checkpoints.
  log_every_n_steps: int = option(10, at_least=1)
  save_summaries_secs: int = 600
  save_interval_secs: int = 600
  max_checkpoints_to_keep: int = option(5, at_least=1)
  # Regularisation and loss.
  weight_decay: float = option(0.00004, at_least=0)
  label_smoothing: float = 0.0
  moving_average_decay: Optional[float] = None
  # Optimizer.
  optimizer: str = option('rmsprop', choices=OPTIMIZERS)
  adadelta_rho: float = 0.95
  adagrad_initial_accumulator_value: float = 0.1
  adam_beta1: float = 0.9
  adam_beta2: float = 0.999
  opt_epsilon: float = 1.0
  ftrl_learning_rate_power: float = -0.5
  ftrl_initial_accumulator_value: float = 0.1
  ftrl_l1: float = 0.0
  ftrl_l2: float = 0.0
  momentum: float = option(0.9, at_least=0)
  rmsprop_momentum: float = 0.9
  rmsprop_decay: float = 0.9
  # Learning rate.
  learning_rate_decay_type: str = option('exponential', choices=LEARNING_RATE_DECAY_TYPES)
  learning_rate: float = option(0.01, at_least=0)
  end_learning_rate: float = option(0.0001, at_least=0)
  learning_rate_decay_factor: float = 0.94
  num_epochs_per_decay: float = 2.0
  # Fine-tuning.
  checkpoint_path: Optional[str] = None
  checkpoint_exclude_scopes: Optional[str] = None
  trainable_scopes: Optional[str] = None
  ignore_missing_vars: bool = False
  # Beyond slim.
  warmup_epochs: float = option(0.0, at_least=0)
  adamw_weight_decay: float = option(0.05, at_least=0)
  mixed_precision: Optional[str] = option(None, choices=MIXED_PRECISION)
  jit_compile: bool = False
  seed: Optional[int] = None
  shuffle_buffer: Optional[int] = None
  checkpoint_input_pipeline: bool = True
  num_summary_images: int = 3
  steps_per_loop: int = option(1, at_least=1)

  def __post_init__(self):
    check_fields(self)
    check_preprocessing_name(self.preprocessing_name)
    if self.num_epochs_per_decay <= 0:
      raise ValueError('num_epochs_per_decay must be > 0. '
                       f'Received: num_epochs_per_decay={self.num_epochs_per_decay}')
    if self.moving_average_decay is not None and not 0.0 < self.moving_average_decay < 1.0:
      raise ValueError('moving_average_decay must be in (0, 1) or None. '
                       f'Received: moving_average_decay={self.moving_average_decay}')
    if not 0.0 <= self.label_smoothing < 1.0:
      raise ValueError(f'label_smoothing must be in [0, 1). '
                       f'Received: label_smoothing={self.label_smoothing}')
    if self.learning_rate_decay_type == 'cosine' and not self.max_number_of_steps:
      raise ValueError("learning_rate_decay_type='cosine' decays over the whole run: set "
                       'max_number_of_steps.')

  @property
  def exclude_scopes(self) -> Tuple[str, ...]:
    return split_scopes(self.checkpoint_exclude_scopes)

  @property
  def trainable_scope_list(self) -> Tuple[str, ...]:
    return split_scopes(self.trainable_scopes)


@dataclasses.dataclass(frozen=True)
class EvalConfig(_Config):
  """What to evaluate, on what, and where the results go (slim's eval_image_classifier flags).

  Attributes:
    checkpoint_path: The checkpoint prefix, or a directory: its latest checkpoint (with
      --eval_interval_secs, the train_dir to watch), or "pretrained": the release of
      --model_name (its moving averages where it holds them).
    eval_dir: Directory where results.json and the summaries are written.
    model_name: The name of the architecture to evaluate.
    dataset_name: The name of the dataset to load.
    dataset_split_name: The name of the train/test split.
    dataset_dir: The directory where the dataset files are stored.
    preprocessing_name: The name of the preprocessing to use. If None, the model_name one.
    eval_image_size: Eval image size (default: the net's).
    batch_size: The number of samples in each batch (all replicas).
    max_num_batches: Max number of batches to evaluate; by default, all of the split.
    moving_average_decay: The decay to use for the moving average. If set, the moving
      averages of the weights (`<name>/ExponentialMovingAverage`) are evaluated where the
      checkpoint holds them.
    labels_offset: An offset for the labels in the dataset. Set to 1 to evaluate a model
      without a background class (vgg, resnet_v1) on imagenet, -1 for a 1001-class model
      on 1000-label data.
    num_classes: Logits width; defaults to the dataset's number of classes minus
      labels_offset (the network's registered width for an injected dataset).
    num_preprocessing_threads: The number of threads used to create the batches (kept
      for slim's flag; tf.data tunes the parallelism).
    eval_interval_secs: If set, watch --checkpoint_path and evaluate each new checkpoint,
      looking at most this often.
    eval_timeout_secs: With --eval_interval_secs: stop when no new checkpoint came for
      this long (default: wait until the last training step).
    max_number_of_steps: With --eval_interval_secs: stop after a checkpoint at or beyond
      this step (default: max_number_of_steps in the watched directory's config.json).
    num_clones: Replicas to evaluate on: GPUs, or logical CPU devices on a machine without
      GPUs.
    skip_undecodable: Skip (and log, with a count) images that do not decode instead of
      failing; num_examples then counts the others.
    use_grayscale: Evaluate a net trained with --use_grayscale (one-channel input).
    network_kwargs: Further arguments of the network builder (e.g. depth_multiplier).
  """
  checkpoint_path: str
  eval_dir: str
  model_name: str = 'inception_v3'
  dataset_name: str = 'imagenet'
  dataset_split_name: str = 'test'
  dataset_dir: Optional[str] = None
  preprocessing_name: Optional[str] = None
  eval_image_size: Optional[int] = None
  batch_size: int = option(100, at_least=1)
  max_num_batches: Optional[int] = option(None, at_least=1)
  moving_average_decay: Optional[float] = None
  labels_offset: int = 0
  num_classes: Optional[int] = None
  num_preprocessing_threads: int = 4
  eval_interval_secs: Optional[float] = option(None, at_least=0)
  eval_timeout_secs: Optional[float] = None
  max_number_of_steps: Optional[int] = None
  num_clones: int = option(1, at_least=1)
  skip_undecodable: bool = False
  use_grayscale: bool = False
  network_kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)

  def __post_init__(self):
    check_preprocessing_name(self.preprocessing_name)
    check_fields(self)

  @property
  def continuous(self) -> bool:
    return self.eval_interval_secs is not None


@dataclasses.dataclass(frozen=True)
class ExportConfig(_Config):
  """What to export and where (slim's export_inference_graph flags, and more).

  Attributes:
    model_name: The name of the architecture to save.
    checkpoint_path: The checkpoint (prefix or directory, slim's or ours) to export, or
      "pretrained": the release of --model_name. None exports freshly initialised weights
      (slim's graph-only export).
    export_dir: Where to write the SavedModel.
    output_file: Where to save the GraphDef (.pb binary, .pbtxt text); frozen with the
      checkpoint's values when --checkpoint_path is given.
    tflite_file: Where to write a TFLite model of serving_default.
    quantize: Dynamic-range quantize the TFLite model (int8 weights).
    image_size: The image size to use, otherwise use the model default_image_size.
    batch_size: Batch size for the exported model. Defaulted to "None" so batch size can
      be specified at model runtime.
    is_training: Whether to save out a training-focused version of the model.
    dataset_name: The name of the dataset whose number of classes sizes the logits (and
      whose built-in class names the SavedModel keeps).
    dataset_dir: A dataset directory whose labels.txt names the classes; the names are
      kept in the SavedModel (assets/labels.txt) for classify_image.py.
    num_classes: Number of classes, instead of --dataset_name's (1001 for ImageNet with
      background).
    labels_offset: An offset for the labels in the dataset. Set to 1 for a model without a
      background class (vgg, resnet_v1) on imagenet; the `classes` output adds it back.
    preprocessing_name: The preprocessing of the serving_bytes signature. If None, the
      model_name one.
    use_moving_averages: Restore `<name>/ExponentialMovingAverage` where the checkpoint
      has them.
    use_grayscale: Export a net trained with --use_grayscale (one-channel input;
      serving_bytes makes the images grey).
    network_kwargs: Further arguments of the network builder.
  """
  model_name: str = 'inception_v3'
  checkpoint_path: Optional[str] = None
  export_dir: Optional[str] = None
  output_file: Optional[str] = None
  tflite_file: Optional[str] = None
  quantize: bool = False
  image_size: Optional[int] = None
  batch_size: Optional[int] = option(None, at_least=1)
  is_training: bool = False
  dataset_name: Optional[str] = 'imagenet'
  dataset_dir: Optional[str] = None
  num_classes: Optional[int] = None
  labels_offset: int = 0
  preprocessing_name: Optional[str] = None
  use_moving_averages: bool = False
  use_grayscale: bool = False
  network_kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)

  def __post_init__(self):
    if not (self.export_dir or self.output_file or self.tflite_file):
      raise ValueError('Nothing to export: pass at least one of --export_dir (SavedModel), '
                       '--tflite_file (TFLite) or --output_file (GraphDef).')
    check_fields(self)
    if self.quantize and not self.tflite_file:
      raise ValueError('quantize applies to the TFLite model: pass --tflite_file too.')


@dataclasses.dataclass(frozen=True)
class ClassifyConfig(_Config):
  """What to classify images with (classify_image.py).

  Attributes:
    model_name: Name of the network (see nets_factory).
    checkpoint_path: Checkpoint prefix or directory (slim or ours), or "pretrained": the
      release of --model_name (the default without --saved_model_dir).
    saved_model_dir: A SavedModel from export_inference_graph.py --export_dir, instead of
      --model_name and --checkpoint_path.
    num_classes: Logits width; the network default when unset.
    top_k: How many classes to print per image.
    image_size: Input size; the network default when unset.
    preprocessing_name: Defaults to the network's eval preprocessing.
    moving_average: Use the moving averages of the weights.
    dataset_name: The dataset the model was trained on: its label names (and number of
      classes). ImageNet's names when unset.
    dataset_dir: A dataset directory whose labels.txt names the labels.
    labels_offset: Label = logit index + labels_offset (slim's flag); by default 1 for a
      1000-class net with ImageNet's 1001 labels, else 0.
    use_grayscale: The net was trained with --use_grayscale.
  """
  model_name: str = 'inception_v3'
  checkpoint_path: Optional[str] = None
  saved_model_dir: Optional[str] = None
  num_classes: Optional[int] = option(None, at_least=1)
  top_k: int = option(5, at_least=1)
  image_size: Optional[int] = None
  preprocessing_name: Optional[str] = None
  moving_average: bool = False
  dataset_name: Optional[str] = None
  dataset_dir: Optional[str] = None
  labels_offset: Optional[int] = None
  use_grayscale: bool = False

  def __post_init__(self):
    check_fields(self)
    check_preprocessing_name(self.preprocessing_name)


def check_preprocessing_name(name: Optional[str]) -> None:
  """Raises ValueError (with close matches) unless `name` is None or a
  preprocessing or network name."""
  if name:
    from ..preprocessing import preprocessing_factory  # pylint: disable=g-import-not-at-top
    preprocessing_factory.preprocessing_name_for(name)


def split_scopes(scopes: Optional[str]) -> Tuple[str, ...]:
  """slim's comma-separated scope lists ('A/Logits, A/AuxLogits') as a tuple."""
  if not scopes:
    return ()
  if not isinstance(scopes, str):
    scopes = ','.join(scopes)
  return tuple(s.strip() for s in scopes.split(',') if s.strip())
