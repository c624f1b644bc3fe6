"""Configuration of a training run: slim's train_image_classifier flags as a frozen dataclass.

Field names and defaults are slim's flag names and defaults, so a config reads
like a slim command line; the fields slim did not have (warmup, cosine decay,
AdamW, mixed precision, XLA) come last.
"""

import dataclasses
import json
from typing import Any, Dict, Optional, Tuple

OPTIMIZERS = ('adadelta', 'adagrad', 'adam', 'adamw', 'ftrl', 'momentum', 'sgd', 'rmsprop')
LEARNING_RATE_DECAY_TYPES = ('exponential', 'fixed', 'polynomial', 'cosine')
MIXED_PRECISION = (None, 'bfloat16', 'float16')


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  """Everything a training run needs; see train_image_classifier.py for the flag help."""
  # Where and what.
  train_dir: str = '/tmp/tfmodel/'
  dataset_name: str = 'imagenet'
  dataset_split_name: str = 'train'
  dataset_dir: Optional[str] = None
  labels_offset: int = 0
  model_name: str = 'inception_v3'
  preprocessing_name: Optional[str] = None
  batch_size: int = 32  # Per replica, as slim's per-clone batch.
  train_image_size: Optional[int] = None
  max_number_of_steps: Optional[int] = None
  use_grayscale: bool = False
  skip_undecodable: bool = False
  # Devices.
  num_clones: int = 1
  clone_on_cpu: bool = False
  # Logging and checkpoints.
  log_every_n_steps: int = 10
  save_summaries_secs: int = 600
  save_interval_secs: int = 600
  max_checkpoints_to_keep: int = 5
  # Regularisation and loss.
  weight_decay: float = 0.00004
  label_smoothing: float = 0.0
  moving_average_decay: Optional[float] = None
  # Optimizer.
  optimizer: str = 'rmsprop'
  adadelta_rho: float = 0.95
  adagrad_initial_accumulator_value: float = 0.1
  adam_beta1: float = 0.9
  adam_beta2: float = 0.999
  opt_epsilon: float = 1.0
  ftrl_learning_rate_power: float = -0.5
  ftrl_initial_accumulator_value: float = 0.1
  ftrl_l1: float = 0.0
  ftrl_l2: float = 0.0
  momentum: float = 0.9
  rmsprop_momentum: float = 0.9
  rmsprop_decay: float = 0.9
  # Learning rate.
  learning_rate_decay_type: str = 'exponential'
  learning_rate: float = 0.01
  end_learning_rate: float = 0.0001
  learning_rate_decay_factor: float = 0.94
  num_epochs_per_decay: float = 2.0
  # Fine-tuning.
  checkpoint_path: Optional[str] = None
  checkpoint_exclude_scopes: Optional[str] = None
  trainable_scopes: Optional[str] = None
  ignore_missing_vars: bool = False
  # Beyond slim.
  warmup_epochs: float = 0.0
  adamw_weight_decay: float = 0.05
  mixed_precision: Optional[str] = None
  jit_compile: bool = False
  seed: Optional[int] = None
  shuffle_buffer: Optional[int] = None
  checkpoint_input_pipeline: bool = True
  num_summary_images: int = 3
  steps_per_loop: int = 10

  def __post_init__(self):
    _one_of('optimizer', self.optimizer, OPTIMIZERS)
    check_preprocessing_name(self.preprocessing_name)
    _one_of('learning_rate_decay_type', self.learning_rate_decay_type,
            LEARNING_RATE_DECAY_TYPES)
    _one_of('mixed_precision', self.mixed_precision, MIXED_PRECISION)
    for name in ('batch_size', 'num_clones', 'log_every_n_steps', 'max_checkpoints_to_keep',
                 'steps_per_loop'):
      if getattr(self, name) < 1:
        raise ValueError(f'{name} must be >= 1. Received: {name}={getattr(self, name)}')
    for name in ('learning_rate', 'end_learning_rate', 'weight_decay', 'warmup_epochs',
                 'adamw_weight_decay', 'momentum'):
      if getattr(self, name) < 0:
        raise ValueError(f'{name} must be >= 0. Received: {name}={getattr(self, name)}')
    if self.num_epochs_per_decay <= 0:
      raise ValueError('num_epochs_per_decay must be > 0. '
                       f'Received: num_epochs_per_decay={self.num_epochs_per_decay}')
    if self.max_number_of_steps is not None and self.max_number_of_steps < 0:
      raise ValueError('max_number_of_steps must be >= 0 or None. '
                       f'Received: max_number_of_steps={self.max_number_of_steps}')
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

  def replace(self, **changes) -> 'TrainConfig':
    return dataclasses.replace(self, **changes)

  def to_dict(self) -> Dict[str, Any]:
    return dataclasses.asdict(self)

  def to_json(self) -> str:
    return json.dumps(self.to_dict(), indent=2, sort_keys=True)

  @classmethod
  def from_dict(cls, values: Dict[str, Any]) -> 'TrainConfig':
    """A config from a dict; unknown keys raise, listing the known ones."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
      raise ValueError(f'Unknown TrainConfig field(s) {unknown}. Known: {sorted(known)}.')
    return cls(**values)


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


def _one_of(name, value, allowed):
  if value not in allowed:
    shown = ', '.join(repr(a) for a in allowed)
    raise ValueError(f'Unknown {name} {value!r}. Expected one of: {shown}. '
                     f'Received: {name}={value!r}')
