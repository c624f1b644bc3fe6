"""Checkpoints in slim's variable names: the one home of name translation.

A Keras weight maps to a slim variable name as `scope_name(layer.name) + '/' +
leaf`, where the leaf is slim's name for the weight (`kernel` -> `weights`,
`bias` -> `biases`, ...). Every family's quirks, if any, live in `_slim_leaf`.

Two checkpoint layouts are read, by the same code and with the same checks:
* slim's name-based TF1 checkpoints (as released): keys are variable names;
* the object-based checkpoints that training writes, where the model's
  variables sit in a dict keyed by slim name under `MODEL_KEY` (see
  `trackable_variables`); their keys are `model/<escaped name>/.ATTRIBUTES/...`.
"""

import dataclasses
import difflib
import functools
import os
import re
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from absl import logging
import keras
import numpy as np
from . import layers

def _tf():
  """TensorFlow, imported when a checkpoint is read or written: building and running
  the nets needs only Keras, on any backend."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return tf


MODEL_KEY = 'model'
EMA_SUFFIX = 'ExponentialMovingAverage'
_OBJECT_GRAPH_KEY = '_CHECKPOINTABLE_OBJECT_GRAPH'
_VALUE_SUFFIX = '/.ATTRIBUTES/VARIABLE_VALUE'

_LEAF_NAMES = {
    'kernel': 'weights',
    'bias': 'biases',
    'depthwise_kernel': 'depthwise_weights',
    'pointwise_kernel': 'pointwise_weights',
    'gamma': 'gamma',
    'beta': 'beta',
    'moving_mean': 'moving_mean',
    'moving_variance': 'moving_variance',
}

# Entries of slim checkpoints that are not model variables: the step counter and
# optimizer / moving-average slots (`<var>/Momentum`, `<var>/RMSProp_1`, ...).
_AUXILIARY = re.compile(
    r'(^|/)(global_step|beta[12]_power)$'
    r'|/(ExponentialMovingAverage|Momentum|RMSProp(_1)?|Adam(_1)?|Adagrad'
    r'|Adadelta(_1)?|Ftrl(_1)?|AdamW(_1)?)$')


def _model_of(net) -> keras.Model:
  model = getattr(net, 'model', net)
  if not isinstance(model, keras.Model):
    raise TypeError(f'Expected a NetworkFn or a keras.Model. Received: {type(net).__name__}')
  return model


def _slim_leaf(layer: keras.layers.Layer, weight) -> str:
  """slim's name for one weight of one layer."""
  leaf = weight.name.split('/')[-1]
  if leaf == 'kernel' and isinstance(layer, keras.layers.DepthwiseConv2D):
    # Keras 3 calls a depthwise kernel `kernel`; slim calls it `depthwise_weights`.
    return 'depthwise_weights'
  try:
    return _LEAF_NAMES[leaf]
  except KeyError:
    raise ValueError(f'Layer {layer.name!r} ({type(layer).__name__}) has a weight '
                     f'{leaf!r} with no slim name; expected one of '
                     f'{sorted(_LEAF_NAMES)}.') from None


def slim_variables(net) -> Dict[str, keras.Variable]:
  """{slim variable name: Keras variable} for every weight of the model, in model order."""
  out = {}
  for layer in _model_of(net).layers:
    for weight in layer.weights:
      name = f'{layers.scope_name(layer.name)}/{_slim_leaf(layer, weight)}'
      if name in out:
        raise ValueError(f'Two weights map to the slim name {name!r}.')
      out[name] = weight
  return out


def slim_variable_names(net) -> Dict[str, Tuple[int, ...]]:
  """{slim variable name: shape}: exactly what a slim checkpoint of this net holds."""
  return {name: tuple(int(d) for d in v.shape) for name, v in slim_variables(net).items()}


def trackable_variables(net, ema: Optional[Mapping[str, keras.Variable]] = None) -> Dict:
  """The dict training checkpoints under `MODEL_KEY`, keyed by slim names.

  Args:
    net: a NetworkFn or keras.Model.
    ema: optional {slim name: shadow variable}; stored as
      `<name>/ExponentialMovingAverage`, slim's name for the averages.
  """
  out = {name: _tf_variable(v) for name, v in slim_variables(net).items()}
  for name, v in (ema or {}).items():
    out[f'{name}/{EMA_SUFFIX}'] = _tf_variable(v)
  return out


def _tf_variable(v):
  return getattr(v, 'value', v) if isinstance(v, keras.Variable) else v


# ----------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------

_CHECKPOINT_FILE = re.compile(r'\.(index|meta|data-\d{5}-of-\d{5})$')


def resolve_checkpoint_path(path: str) -> str:
  """A checkpoint prefix from a prefix, one of its files, or a directory.

  `model.ckpt-100.index`, `model.ckpt-100.data-00000-of-00001` and
  `model.ckpt-100.meta` all name the checkpoint `model.ckpt-100` (the files
  TensorFlow writes for it); a directory names its latest checkpoint.

  Raises:
    ValueError: if nothing readable is there.
  """
  tf = _tf()
  path = os.fspath(path)
  if tf.io.gfile.isdir(path):
    latest = tf.train.latest_checkpoint(path)
    if latest is None:
      found = sorted(f for f in tf.io.gfile.listdir(path) if f.endswith('.index'))
      if len(found) == 1:
        return os.path.join(path, found[0][:-len('.index')])
      if tf.io.gfile.exists(os.path.join(path, 'saved_model.pb')):
        raise ValueError(f'{path!r} holds a SavedModel, not a checkpoint: classify with it '
                         'through classify_image.py --saved_model_dir, and evaluate or export '
                         'from the checkpoints of the train_dir it was exported from.')
      raise ValueError(f'No checkpoint in directory {path!r}: expected a `checkpoint` '
                       f'file or one `*.index` file (found {len(found)}). Pass the '
                       'checkpoint prefix, e.g. /path/model.ckpt-1000.')
    return latest
  if tf.io.gfile.exists(path + '.index') or (
      tf.io.gfile.exists(path) and not _CHECKPOINT_FILE.search(path)):
    return path  # A V2 prefix, or a V1 single-file checkpoint (inception_v3.ckpt).
  stripped = _CHECKPOINT_FILE.sub('', path)
  if stripped != path and tf.io.gfile.exists(stripped + '.index'):
    logging.info('Reading checkpoint %s (the prefix of the file %s).', stripped, path)
    return stripped
  raise ValueError(f'Checkpoint {path!r} not found: expected {path}.index (a checkpoint '
                   'prefix) or a directory holding checkpoints.')


def _unescape(name: str) -> str:
  """Inverse of TensorFlow's object-graph key escaping ('/' -> '.S', '.' -> '..')."""
  out, i = [], 0
  while i < len(name):
    if name[i] == '.' and i + 1 < len(name):
      out.append('/' if name[i + 1] == 'S' else name[i + 1])
      i += 2
    else:
      out.append(name[i])
      i += 1
  return ''.join(out)


def checkpoint_variables(path: str) -> Dict[str, Tuple[str, Tuple[int, ...]]]:
  """{slim name: (checkpoint key, shape)} for a slim or a training checkpoint."""
  tf = _tf()
  reader = tf.train.load_checkpoint(resolve_checkpoint_path(path))
  shapes = reader.get_variable_to_shape_map()
  out = {}
  if _OBJECT_GRAPH_KEY in shapes:  # Written by our training: model vars under MODEL_KEY.
    prefix = MODEL_KEY + '/'
    for key, shape in shapes.items():
      if key.startswith(prefix) and key.endswith(_VALUE_SUFFIX):
        out[_unescape(key[len(prefix):-len(_VALUE_SUFFIX)])] = (key, tuple(shape))
  else:
    for key, shape in shapes.items():
      out[key] = (key, tuple(shape))
  return out


def _as_scopes(scopes: Union[str, Iterable[str], None]) -> List[str]:
  if not scopes:
    return []
  if isinstance(scopes, str):
    scopes = scopes.split(',')
  return [s.strip() for s in scopes if s and s.strip()]


def _excluded(name: str, scopes: Sequence[str]) -> bool:
  return any(name.startswith(s) for s in scopes)


class ScopeError(ValueError):
  """A scope argument (`exclude_scopes`, `trainable_scopes`) that names no variable."""


def check_scopes(scopes: Sequence[str], names: Iterable[str], argument: str,
                 where: str) -> None:
  """Every scope in `scopes` is a prefix of at least one of `names`.

  A scope naming nothing is nearly always a typo ('InceptionV3/logits'), and
  slim silently ignores it: the weights meant to be re-initialised (or trained)
  are restored (or frozen) instead.

  Args:
    scopes: scope prefixes, as given.
    names: the slim variable names they should match.
    argument: how the user gave them (`--checkpoint_exclude_scopes`, `exclude_scopes`).
    where: where `names` come from, for the message ('in the model inception_v3').

  Raises:
    ScopeError: naming each scope that matches nothing, the nearest existing
      scopes and the top-level scopes of `names`.
  """
  names = list(names)
  unmatched = [s for s in scopes if not any(n.startswith(s) for n in names)]
  if not unmatched:
    return
  prefixes = sorted({'/'.join(n.split('/')[:depth]) for n in names
                     for depth in range(1, n.count('/') + 1)})
  hints = []
  for scope in unmatched:
    close = ([p for p in prefixes if p.lower() == scope.lower()]
             or difflib.get_close_matches(scope, prefixes, n=2, cutoff=0.75)
             or [p for p in prefixes if p.lower().startswith(scope.lower())][:2])
    hints.append(f"'{scope}'" + (f" (did you mean {' or '.join(close)}?)" if close else ''))
  roots = sorted({'/'.join(n.split('/')[:2]) for n in names if '/' in n})
  shown = ', '.join(roots[:12]) + (', ...' if len(roots) > 12 else '.')
  raise ScopeError(
      f"{argument} names {', '.join(hints)}, which matches no variable {where}, so it would "
      f"select nothing. Scopes are prefixes of slim's variable names (case matters), such as "
      f"{shown}")


@dataclasses.dataclass
class RestoreReport:
  """What `restore_checkpoint` did.

  Attributes:
    checkpoint: the prefix read.
    restored: slim names of the model variables assigned.
    excluded: model variables left as they were by an exclude scope.
    skipped_missing: model variables the checkpoint lacks, left as they were
      (`ignore_missing_vars`).
    from_moving_averages: how many came from `<name>/ExponentialMovingAverage`.
    initialised_scopes: heads of the model that `restore_for_fine_tuning` left
      at their initial values because they did not fit.
    reason: why they did not fit, in a few words.
  """
  checkpoint: str
  restored: List[str]
  excluded: List[str]
  skipped_missing: List[str]
  from_moving_averages: int = 0
  initialised_scopes: List[str] = dataclasses.field(default_factory=list)
  reason: str = ''


def _suggest_scopes(names: Iterable[str]) -> List[str]:
  scopes = {'/'.join(n.split('/')[:2]) for n in names}
  return sorted(scopes, key=lambda s: (len(s), s))


def _format_shape(shape) -> str:
  return '[' + ', '.join(str(d) for d in shape) + ']'


@dataclasses.dataclass
class _Plan:
  """What restoring `prefix` into a model would do, before anything is assigned."""
  prefix: str
  assignments: List[Tuple[keras.Variable, str]]
  restored: List[str]
  excluded: List[str]
  missing: List[str]
  mis_shaped: List[Tuple[str, Tuple[int, ...], Tuple[int, ...]]]
  unknown: List[str]
  from_moving_averages: int

  @property
  def problems(self) -> List[str]:
    """Every name that does not fit: mis-shaped, missing and unknown."""
    return [n for n, _, _ in self.mis_shaped] + self.missing + self.unknown


def _plan(net, prefix: str, scopes: Sequence[str], use_moving_averages: bool) -> _Plan:
  model_vars = slim_variables(net)
  ckpt = checkpoint_variables(prefix)
  plan = _Plan(prefix, [], [], [], [], [], [], 0)
  for name, var in model_vars.items():
    if _excluded(name, scopes):
      plan.excluded.append(name)
      continue
    source = name
    if use_moving_averages and f'{name}/{EMA_SUFFIX}' in ckpt:
      source = f'{name}/{EMA_SUFFIX}'
      plan.from_moving_averages += 1
    if source not in ckpt:
      plan.missing.append(name)
      continue
    key, shape = ckpt[source]
    if tuple(shape) != tuple(var.shape):
      plan.mis_shaped.append((name, tuple(shape), tuple(var.shape)))
      continue
    plan.assignments.append((var, key))
    plan.restored.append(name)
  plan.unknown = sorted(n for n in ckpt if n not in model_vars and not _excluded(n, scopes)
                        and not _AUXILIARY.search(n))
  return plan


def restore_checkpoint(net, path: str, exclude_scopes=(), ignore_missing_vars: bool = False,
                       use_moving_averages: bool = False,
                       command: Optional[str] = None) -> RestoreReport:
  """Loads a slim-named checkpoint into the model, checking every name.

  Args:
    net: a NetworkFn or keras.Model.
    path: a checkpoint prefix or a directory (its latest checkpoint); slim's
      released name-based checkpoints and our training checkpoints both work.
    exclude_scopes: comma-separated string or sequence of scope prefixes not
      to restore (slim's --checkpoint_exclude_scopes); model variables under
      them keep their current values and checkpoint entries under them are
      ignored.
    ignore_missing_vars: leave model variables that the checkpoint lacks at
      their current values (logged) instead of failing.
    use_moving_averages: restore `<name>/ExponentialMovingAverage` where the
      checkpoint has it (slim's --moving_average_decay at evaluation).
    command: the command restoring (`TRAIN`, `EVAL`, `EXPORT`, `CLASSIFY`), whose
      flags the error's advice names; None: the library's arguments.

  Returns:
    A RestoreReport.

  Raises:
    ScopeError: a scope of `exclude_scopes` matches no variable of either side.
    ValueError: naming the cause where it is known (another number of classes,
      1000 vs 1001 labels, grey vs colour input, another network), then every
      mis-shaped, missing and unknown name, with the fix in the command's flags.
  """
  tf = _tf()
  prefix = resolve_checkpoint_path(path)
  scopes = _as_scopes(exclude_scopes)
  if scopes:
    check_scopes(scopes, list(slim_variable_names(net)) + list(checkpoint_variables(prefix)),
                 '--checkpoint_exclude_scopes' if command == TRAIN else 'exclude_scopes',
                 f'in the model {_model_of(net).name} or in the checkpoint')
  plan = _plan(net, prefix, scopes, use_moving_averages)
  fatal_missing = [] if ignore_missing_vars else plan.missing
  if plan.mis_shaped or fatal_missing or plan.unknown:
    raise ValueError(_restore_error(prefix, _model_of(net).name, slim_variables(net),
                                    checkpoint_variables(prefix), plan.mis_shaped,
                                    fatal_missing, plan.unknown,
                                    getattr(net, 'spec', None), command))
  reader = tf.train.load_checkpoint(prefix)
  for var, key in plan.assignments:
    var.assign(np.asarray(reader.get_tensor(key), dtype=var.dtype))
  if plan.missing:
    missing = plan.missing
    logging.warning('%d model variables not in %s kept their values: %s', len(missing),
                    prefix, ', '.join(missing[:20]) + (' ...' if len(missing) > 20 else ''))
  logging.info('Restored %d variables from %s (%d excluded by scope%s).', len(plan.restored),
               prefix, len(plan.excluded),
               f', {plan.from_moving_averages} from moving averages'
               if use_moving_averages else '')
  return RestoreReport(prefix, plan.restored, plan.excluded, plan.missing,
                       plan.from_moving_averages)


def restore_for_inference(network_fn, path: str, use_moving_averages: bool = False,
                          command: Optional[str] = None) -> RestoreReport:
  """Restores a checkpoint into a network used for inference.

  The auxiliary heads the network's spec declares (`InceptionV3/AuxLogits`,
  NASNet's `aux_N`) are skipped on both sides: they only feed the training
  loss, and a checkpoint written in training holds them while an inference
  network is built without them. Step counters and optimizer slots are never
  model variables.

  Args:
    network_fn: a `nets_factory.NetworkFn`.
    path: a checkpoint prefix, a checkpoint file (`.index`, `.data-*`) or a
      directory.
    use_moving_averages: restore the exponential moving averages of the
      weights where the checkpoint has them.
    command: as `restore_checkpoint`'s.

  Raises:
    ValueError: as `restore_checkpoint`.
  """
  prefix = resolve_checkpoint_path(path)
  names = list(slim_variable_names(network_fn)) + list(checkpoint_variables(prefix))
  aux = network_fn.spec.head_scopes(names, classifier=False, aux=True)
  return restore_checkpoint(network_fn, prefix, exclude_scopes=aux,
                            use_moving_averages=use_moving_averages, command=command)


def restore_for_fine_tuning(network_fn, path: str, exclude_scopes=None,
                            ignore_missing_vars: bool = False,
                            use_moving_averages: bool = False,
                            command: Optional[str] = None) -> RestoreReport:
  """Restores a checkpoint to fine-tune from (slim's --checkpoint_path).

  Args:
    network_fn: a `nets_factory.NetworkFn`.
    path: a checkpoint prefix, a checkpoint file or a directory.
    exclude_scopes: as `restore_checkpoint`. None (not given) leaves out the
      classifier and auxiliary heads the spec declares when, and only when,
      they do not fit the checkpoint (another number of classes, an auxiliary
      head the checkpoint lacks); they keep their initial values and the
      scopes are logged. Anything else that does not fit raises.
    ignore_missing_vars: as `restore_checkpoint`.
    use_moving_averages: as `restore_checkpoint`.
    command: as `restore_checkpoint`.

  Returns:
    A RestoreReport (`excluded` lists what was left at its initialiser; with
    the automatic choice, `initialised_scopes` and `reason` name the heads).
  """
  prefix = resolve_checkpoint_path(path)
  heads, reason = [], ''
  if exclude_scopes is None:
    exclude_scopes = []
    plan = _plan(network_fn, prefix, (), use_moving_averages)
    problems = [n for n in plan.problems
                if not (ignore_missing_vars and n in plan.missing)]
    heads = network_fn.spec.head_scopes(problems)
    if problems and all(_excluded(n, heads) for n in problems):
      exclude_scopes, reason = heads, _head_mismatch(plan, heads)
  report = restore_checkpoint(network_fn, prefix, exclude_scopes=exclude_scopes,
                              ignore_missing_vars=ignore_missing_vars,
                              use_moving_averages=use_moving_averages, command=command)
  if reason:
    report.initialised_scopes = [h for h in heads
                                 if any(_excluded(n, [h]) for n in report.excluded)]
    report.reason = reason
    if report.initialised_scopes:
      logging.info('Not restoring %s: %s; left at their initial values (pass '
                   '--checkpoint_exclude_scopes to choose the scopes yourself).',
                   ', '.join(report.initialised_scopes), reason)
  return report


def load_pretrained(network_fn, sha256: Optional[str] = None) -> RestoreReport:
  """Restores slim's release of the net (downloaded once and cached); see
  `pretrained.load_pretrained`."""
  from . import pretrained  # pylint: disable=g-import-not-at-top
  return pretrained.load_pretrained(network_fn, sha256=sha256)


def _head_mismatch(plan: _Plan, heads: Sequence[str]) -> str:
  """Why the heads do not fit, in a few words."""
  for name, ckpt_shape, model_shape in plan.mis_shaped:
    if _excluded(name, heads) and name.endswith(('weights', 'biases')):
      return (f'{ckpt_shape[-1]} classes in the checkpoint, {model_shape[-1]} in the model')
  if any(_excluded(n, heads) for n in plan.missing):
    return 'not in the checkpoint'
  return 'not in the model'


def _input_channels_mismatch(mis_shaped):
  """(name, checkpoint channels, model channels) of a first-layer kernel that differs
  only in its 1- vs 3-channel input, else None."""
  for name, ckpt_shape, model_shape in mis_shaped:
    if (len(ckpt_shape) == 4 and len(model_shape) == 4
        and {ckpt_shape[2], model_shape[2]} == {1, 3}
        and ckpt_shape[:2] == model_shape[:2] and ckpt_shape[3] == model_shape[3]):
      return name, ckpt_shape[2], model_shape[2]
  return None


# The commands whose flags the advice of a restore error is phrased in.
TRAIN, EVAL, EXPORT, CLASSIFY = 'train', 'eval', 'export', 'classify'
_INFERENCE_COMMANDS = (EVAL, EXPORT, CLASSIFY)


def _classes_mismatch(spec, mis_shaped):
  """(checkpoint classes, model classes) when the classifier's width differs, else None."""
  if spec is None:
    return None
  for name, ckpt_shape, model_shape in mis_shaped:
    if (spec.head_scopes([name], aux=False) and name.endswith(('/weights', '/biases'))
        and ckpt_shape[:-1] == model_shape[:-1]):
      return ckpt_shape[-1], model_shape[-1]
  return None


def _classes_advice(ckpt_classes: int, model_classes: int, command: Optional[str]) -> str:
  """How to give the model the checkpoint's number of classes, in the command's flags."""
  if ckpt_classes + 1 == model_classes:
    why = (f'the checkpoint has {ckpt_classes} classes and the model {model_classes}: it was '
           "trained without a background class (slim's VGG and ResNet V1 on ImageNet's 1001 "
           'labels). ')
    if command in (EVAL, EXPORT):
      return why + 'Pass --labels_offset=1: the model then has one logit less, and label L is logit L-1.'
    if command == CLASSIFY:
      return why + 'Pass --labels_offset=1 (or --num_classes=' + str(ckpt_classes) + ').'
    if command == TRAIN:
      return why + 'Pass --labels_offset=1 to train it on this dataset without the background class.'
    return why + f'Build the model with num_classes={ckpt_classes} (labels_offset=1).'
  if ckpt_classes == model_classes + 1:
    why = (f'the checkpoint has {ckpt_classes} classes (a background class) and the model '
           f'{model_classes}. ')
    if command in (EVAL, EXPORT, CLASSIFY, TRAIN):
      return why + 'Drop --labels_offset (or pass --labels_offset=0).'
    return why + f'Build the model with num_classes={ckpt_classes}.'
  why = f'the checkpoint has {ckpt_classes} classes and the model {model_classes}. '
  if command == EVAL:
    return why + ('Pass the --dataset_name and --dataset_dir it was trained on (the model '
                  "takes that dataset's number of classes).")
  if command == EXPORT:
    return why + (f'Pass --dataset_name=<the dataset it was trained on> or '
                  f'--num_classes={ckpt_classes}.')
  if command == CLASSIFY:
    return why + (f'Pass --dataset_name / --dataset_dir of the dataset it was trained on, or '
                  f'--num_classes={ckpt_classes}.')
  if command == TRAIN:
    return why + ('Fine-tuning to another number of classes leaves the classifier at its '
                  'initialiser: exclude its scope (below).')
  return why + f'Build the model with num_classes={ckpt_classes}.'


@functools.lru_cache(maxsize=None)
def _body_shapes(name: str) -> Tuple[Tuple[str, Tuple[int, ...]], ...]:
  """(slim name, shape) of registered net `name`'s variables outside its heads."""
  from . import nets_factory  # pylint: disable=g-import-not-at-top
  fn = nets_factory.get_network_fn(name, num_classes=7)
  shapes = slim_variable_names(fn)
  heads = fn.spec.head_scopes(shapes)
  return tuple(sorted((n, s) for n, s in shapes.items() if not _excluded(n, heads)))


def mismatch(net, path: str) -> Optional[str]:
  """None when every model variable is in the checkpoint with its shape, else a
  short account of what is not (for a caller that has its own advice).

  Args:
    net: a NetworkFn or keras.Model.
    path: a checkpoint prefix, one of its files or a directory.
  """
  plan = _plan(net, resolve_checkpoint_path(path), (), use_moving_averages=False)
  if not plan.mis_shaped and not plan.missing:
    return None
  parts = []
  if plan.mis_shaped:
    name, ckpt_shape, model_shape = plan.mis_shaped[-1]
    parts.append(f'{len(plan.mis_shaped)} variable(s) of another shape, e.g. {name}: '
                 f'{_format_shape(ckpt_shape)} in the checkpoint, {_format_shape(model_shape)} '
                 'in the model')
  if plan.missing:
    parts.append(f'{len(plan.missing)} variable(s) missing, e.g. {plan.missing[0]}')
  return '; '.join(parts)


def networks_fitting(path: str, skip: Sequence[str] = ()) -> List[str]:
  """Registered nets whose variables, classifier and auxiliary heads aside, have
  the names and shapes of the checkpoint's: the `--model_name` it was trained
  as (e.g. `mobilenet_v2_140` for a MobileNet V2 of depth multiplier 1.4). The
  names must be the same; a few shapes may differ (those that follow the image
  size the checkpoint was trained at).

  Only nets whose variable scope the checkpoint holds are built (at their
  default size, once per process), so this takes seconds, not minutes.

  Args:
    path: a checkpoint prefix, one of its files or a directory.
    skip: names not to consider (the net that did not fit).
  """
  from . import nets_factory  # pylint: disable=g-import-not-at-top
  ckpt = {n: shape for n, (_, shape) in checkpoint_variables(path).items()
          if not _AUXILIARY.search(n) and not n.endswith('/' + EMA_SUFFIX)}
  roots = {n.split('/')[0] for n in ckpt}
  scopes = {nets_factory.get_spec(n).scope for n in nets_factory.list_networks()}
  candidates = [n for n in nets_factory.list_networks() if n not in skip and (
      nets_factory.get_spec(n).scope in roots or
      (nets_factory.get_spec(n).scope is None and not roots & scopes))]
  fitting = []
  for name in candidates:
    body = dict(_body_shapes(name))
    heads = nets_factory.get_spec(name).head_scopes(ckpt)
    names = {n for n in ckpt if not _excluded(n, heads)}
    # The same names, and the same shapes but for the few that follow the image
    # size (a dense layer after a flatten, as LeNet's): a width variant differs
    # in nearly every shape.
    same = sum(ckpt[n] == shape for n, shape in body.items() if n in names)
    if names == set(body) and same >= 0.75 * len(body):
      fitting.append(name)
  return fitting


def _restore_error(prefix, model_name, model_vars, ckpt, mis_shaped, missing, unknown,
                   spec=None, command: Optional[str] = None) -> str:
  lines = [f'Checkpoint {prefix} does not fit model {model_name!r}:']
  model_roots = {n.split('/')[0] for n in model_vars}
  ckpt_roots = {n.split('/')[0] for n in ckpt if not _AUXILIARY.search(n)}
  another_net = bool(ckpt_roots) and not ckpt_roots & model_roots
  mostly_other = len(mis_shaped) + len(missing) > len(model_vars) // 2
  if another_net or mostly_other:
    what = (f"it holds variables under {', '.join(sorted(ckpt_roots)[:4])}, the model's are "
            f"under {', '.join(sorted(model_roots)[:4])}: a checkpoint of another network"
            if another_net else
            f"{len(mis_shaped) + len(missing)} of the model's {len(model_vars)} variables have "
            'another shape or are missing: a checkpoint of another width (depth '
            'multiplier) or variant of the network')
    fitting = networks_fitting(prefix, skip=[spec.name] if spec is not None else ())
    if fitting:
      flag = ' or '.join(f'--model_name={n}' if command else f"model_name='{n}'"
                         for n in fitting)
      lines.append(f'  {what}; it fits {flag}.')
    else:
      lines.append(f'  {what}, and no registered net fits it: check --model_name and the '
                   'options it was trained with.')
  channels = _input_channels_mismatch(mis_shaped)
  if channels:
    name, ckpt_channels, model_channels = channels
    flag = f"--use_grayscale {'off' if ckpt_channels == 3 else 'on'}"
    if command is None:
      flag = f'input_channels={ckpt_channels}; in a TrainConfig, use_grayscale / {flag}'
    exclude = ''
    if command not in _INFERENCE_COMMANDS:
      exclude = (f", or exclude {name.rsplit('/', 1)[0]} to train the first layer from "
                 'scratch')
    lines.append(f'  {name} takes {ckpt_channels}-channel images in the checkpoint and '
                 f'{model_channels}-channel images in the model: build the model for '
                 f'{ckpt_channels}-channel input ({flag}){exclude}.')
  classes = _classes_mismatch(spec, mis_shaped)
  if classes:
    lines.append('  ' + _classes_advice(*classes, command))
  if mis_shaped:
    lines.append(f'  {len(mis_shaped)} variable(s) with another shape (checkpoint vs model):')
    lines += _first([f'    {n}: {_format_shape(c)} vs {_format_shape(m)}'
                     for n, c, m in mis_shaped])
  if missing:
    lines.append(f'  {len(missing)} model variable(s) missing from the checkpoint:')
    lines += _first([f'    {n}' for n in missing])
  if unknown:
    lines.append(f'  {len(unknown)} checkpoint variable(s) unknown to the model:')
    lines += _first([f'    {n}' for n in unknown])
  problems = [n for n, _, _ in mis_shaped] + list(missing) + list(unknown)
  only_heads = spec is not None and all(spec.head_scopes([n]) for n in problems)
  if another_net or mostly_other:
    return '\n'.join(lines)  # Excluding scopes would restore next to nothing.
  if command in _INFERENCE_COMMANDS:
    # These commands restore every weight they use: excluding a scope would leave
    # it random, so the only advice is to build the model the checkpoint holds.
    if not (classes and only_heads):
      lines.append('Check --model_name and the options the checkpoint was trained with '
                   '(--use_grayscale, the number of classes).')
    return '\n'.join(lines)
  scopes = _suggest_scopes(problems)
  if command == TRAIN:
    hint = (f"To restore the rest, exclude these scopes: "
            f"--checkpoint_exclude_scopes={','.join(scopes)}")
    if missing:
      hint += ', or pass --ignore_missing_vars for the missing ones'
  else:
    hint = (f"To restore the rest, exclude these scopes: exclude_scopes='{','.join(scopes)}' "
            f"(--checkpoint_exclude_scopes={','.join(scopes)})")
    if missing:
      hint += ', or pass ignore_missing_vars=True (--ignore_missing_vars) for the missing ones'
  lines.append(hint + '.')
  return '\n'.join(lines)


def _first(lines: List[str], limit: int = 12) -> List[str]:
  if len(lines) <= limit:
    return lines
  return lines[:limit] + [f'    ... and {len(lines) - limit} more']


# ----------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------

def save_slim_checkpoint(net, path: str, global_step: Optional[int] = None,
                         variables: Optional[Mapping[str, keras.Variable]] = None) -> str:
  """Writes a TF1 name-based checkpoint (`path.index`, `path.data-*`) slim can read.

  Args:
    net: a NetworkFn or keras.Model.
    path: the checkpoint prefix to write.
    global_step: also store slim's `global_step` (int64).
    variables: {slim name: variable} to write instead of `slim_variables(net)`
      (e.g. with moving averages added).

  Returns:
    The prefix written.
  """
  tf = _tf()
  variables = dict(slim_variables(net) if variables is None else variables)
  names = sorted(variables)
  tensors = [tf.convert_to_tensor(np.asarray(variables[n])) for n in names]
  if global_step is not None:
    names.append('global_step')
    tensors.append(tf.constant(int(global_step), tf.int64))
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  tf.raw_ops.SaveV2(prefix=path, tensor_names=names, shape_and_slices=[''] * len(names),
                    tensors=tensors)
  return path
