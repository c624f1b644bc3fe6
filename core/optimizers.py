"""slim's optimizers and learning-rate schedules, plus warmup, cosine decay and AdamW.

    schedule = optimizers.learning_rate_schedule(config, steps_per_epoch)
    optimizer = optimizers.make_optimizer(config, schedule)

The optimizers are Keras 3 optimizers configured with slim's flags. Where a
Keras optimizer differs from the TF1 one slim used, the TF1 behaviour is kept:
RMSProp starts its mean-square accumulator at one (Keras starts at zero), which
matters with slim's `opt_epsilon=1.0`.
"""

import math

import keras
import tensorflow as tf

from . import config as config_lib
from .config import TrainConfig


class SlimRMSProp(keras.optimizers.RMSprop):
  """TF1's `RMSPropOptimizer`: `ms` starts at 1; `lr * g / sqrt(ms + epsilon)`."""

  def build(self, var_list):
    if self.built:
      return
    super().build(var_list)
    for velocity in self._velocities:
      if velocity is not None:
        velocity.assign(tf.ones(velocity.shape, velocity.dtype))


@keras.saving.register_keras_serializable(package='slimvision')
class SlimLearningRate(keras.optimizers.schedules.LearningRateSchedule):
  """slim's `_configure_learning_rate`, plus cosine decay and a linear warmup.

  With `warmup_steps = W > 0` the rate rises linearly from 0 to the schedule's
  start value over the first W steps, and the schedule then runs on `step - W`.

  Args:
    decay_type: 'exponential' (staircase, as slim), 'fixed', 'polynomial'
      (power 1, to `end_learning_rate`) or 'cosine' (to `end_learning_rate`
      over `total_steps - warmup_steps`).
    learning_rate: the initial rate.
    decay_steps: steps between exponential decays, or the polynomial decay length.
    decay_factor: exponential decay factor.
    end_learning_rate: polynomial / cosine end value.
    total_steps: the length of the run (cosine only).
    warmup_steps: linear warmup length.
  """

  def __init__(self, decay_type: str, learning_rate: float, decay_steps: int = 1,
               decay_factor: float = 0.94, end_learning_rate: float = 0.0001,
               total_steps: int = 0, warmup_steps: int = 0):
    self.decay_type = decay_type
    self.learning_rate = float(learning_rate)
    self.decay_steps = max(int(decay_steps), 1)
    self.decay_factor = float(decay_factor)
    self.end_learning_rate = float(end_learning_rate)
    self.total_steps = int(total_steps)
    self.warmup_steps = int(warmup_steps)

  def _decayed(self, step):
    lr = tf.constant(self.learning_rate, tf.float32)
    if self.decay_type == 'fixed':
      return lr
    if self.decay_type == 'exponential':
      return lr * tf.pow(self.decay_factor, tf.floor(step / self.decay_steps))
    end = tf.constant(self.end_learning_rate, tf.float32)
    if self.decay_type == 'polynomial':
      frac = tf.minimum(step, self.decay_steps) / self.decay_steps
      return (lr - end) * (1.0 - frac) + end
    if self.decay_type == 'cosine':
      length = max(self.total_steps - self.warmup_steps, 1)
      frac = tf.minimum(step, length) / length
      return end + 0.5 * (lr - end) * (1.0 + tf.cos(math.pi * frac))
    raise ValueError(f'Unknown learning_rate_decay_type {self.decay_type!r}.')

  def __call__(self, step):
    step = tf.cast(step, tf.float32)
    if not self.warmup_steps:
      return self._decayed(step)
    warm = self.learning_rate * (step + 1.0) / self.warmup_steps
    return tf.where(step < self.warmup_steps, warm,
                    self._decayed(tf.maximum(step - self.warmup_steps, 0.0)))

  def get_config(self):
    return {'decay_type': self.decay_type, 'learning_rate': self.learning_rate,
            'decay_steps': self.decay_steps, 'decay_factor': self.decay_factor,
            'end_learning_rate': self.end_learning_rate, 'total_steps': self.total_steps,
            'warmup_steps': self.warmup_steps}


def learning_rate_schedule(config: TrainConfig, steps_per_epoch: float) -> SlimLearningRate:
  """The schedule of `config`, with epochs converted to steps of the global batch.

  Args:
    config: the run's configuration.
    steps_per_epoch: dataset size / global batch size (slim divided by the
      per-clone batch only; with one replica both agree).
  """
  return SlimLearningRate(
      config.learning_rate_decay_type, config.learning_rate,
      decay_steps=int(steps_per_epoch * config.num_epochs_per_decay),
      decay_factor=config.learning_rate_decay_factor,
      end_learning_rate=config.end_learning_rate,
      total_steps=config.max_number_of_steps or 0,
      warmup_steps=int(round(steps_per_epoch * config.warmup_epochs)))


def make_optimizer(config: TrainConfig, learning_rate) -> keras.optimizers.Optimizer:
  """slim's `_configure_optimizer` on Keras optimizers (plus 'adamw').

  Args:
    config: the run's configuration (optimizer name and parameters).
    learning_rate: a float or a schedule of the step.

  Returns:
    A Keras optimizer (not yet built).
  """
  c = config
  name = c.optimizer
  if name == 'adadelta':
    return keras.optimizers.Adadelta(learning_rate, rho=c.adadelta_rho, epsilon=c.opt_epsilon)
  if name == 'adagrad':
    return keras.optimizers.Adagrad(
        learning_rate, initial_accumulator_value=c.adagrad_initial_accumulator_value)
  if name == 'adam':
    return keras.optimizers.Adam(learning_rate, beta_1=c.adam_beta1, beta_2=c.adam_beta2,
                                 epsilon=c.opt_epsilon)
  if name == 'adamw':
    return keras.optimizers.AdamW(learning_rate, weight_decay=c.adamw_weight_decay,
                                  beta_1=c.adam_beta1, beta_2=c.adam_beta2,
                                  epsilon=c.opt_epsilon)
  if name == 'ftrl':
    return keras.optimizers.Ftrl(
        learning_rate, learning_rate_power=c.ftrl_learning_rate_power,
        initial_accumulator_value=c.ftrl_initial_accumulator_value,
        l1_regularization_strength=c.ftrl_l1, l2_regularization_strength=c.ftrl_l2)
  if name == 'momentum':
    return keras.optimizers.SGD(learning_rate, momentum=c.momentum)
  if name == 'rmsprop':
    return SlimRMSProp(learning_rate, rho=c.rmsprop_decay, momentum=c.rmsprop_momentum,
                       epsilon=c.opt_epsilon)
  if name == 'sgd':
    return keras.optimizers.SGD(learning_rate)
  raise ValueError(f'Unknown optimizer {name!r}. Expected one of: '
                   f'{", ".join(config_lib.OPTIMIZERS)}. Received: optimizer={name!r}')
