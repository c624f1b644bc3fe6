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
import os
import re
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from absl import logging
import keras
import numpy as np
import tensorflow as tf

from . import layers

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

def resolve_checkpoint_path(path: str) -> str:
  """A checkpoint prefix from a prefix or a directory (its latest checkpoint).

  Raises:
    ValueError: if nothing readable is there.
  """
  path = os.fspath(path)
  if os.path.isdir(path):
    latest = tf.train.latest_checkpoint(path)
    if latest is None:
      found = sorted(f for f in os.listdir(path) if f.endswith('.index'))
      if len(found) == 1:
        return os.path.join(path, found[0][:-len('.index')])
      raise ValueError(f'No checkpoint in directory {path!r}: expected a `checkpoint` '
                       f'file or one `*.index` file (found {len(found)}). Pass the '
                       'checkpoint prefix, e.g. /path/model.ckpt-1000.')
    return latest
  if tf.io.gfile.exists(path + '.index') or tf.io.gfile.exists(path):
    return path
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


@dataclasses.dataclass
class RestoreReport:
  """What `restore_checkpoint` did."""
  checkpoint: str
  restored: List[str]
  excluded: List[str]
  skipped_missing: List[str]
  from_moving_averages: int = 0


def _suggest_scopes(names: Iterable[str]) -> List[str]:
  scopes = {'/'.join(n.split('/')[:2]) for n in names}
  return sorted(scopes, key=lambda s: (len(s), s))


def _format_shape(shape) -> str:
  return '[' + ', '.join(str(d) for d in shape) + ']'


def restore_checkpoint(net, path: str, exclude_scopes=(), ignore_missing_vars: bool = False,
                       use_moving_averages: bool = False) -> RestoreReport:
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

  Returns:
    A RestoreReport.

  Raises:
    ValueError: listing every mis-shaped, missing and unknown name, with the
      `exclude_scopes` that would leave them out.
  """
  prefix = resolve_checkpoint_path(path)
  scopes = _as_scopes(exclude_scopes)
  model_vars = slim_variables(net)
  ckpt = checkpoint_variables(prefix)

  restored, excluded, missing, mis_shaped = [], [], [], []
  assignments = []
  n_ema = 0
  for name, var in model_vars.items():
    if _excluded(name, scopes):
      excluded.append(name)
      continue
    source = name
    if use_moving_averages and f'{name}/{EMA_SUFFIX}' in ckpt:
      source = f'{name}/{EMA_SUFFIX}'
      n_ema += 1
    if source not in ckpt:
      missing.append(name)
      continue
    key, shape = ckpt[source]
    if tuple(shape) != tuple(var.shape):
      mis_shaped.append((name, shape, tuple(var.shape)))
      continue
    assignments.append((var, key))
    restored.append(name)

  unknown = sorted(n for n in ckpt if n not in model_vars and not _excluded(n, scopes)
                   and not _AUXILIARY.search(n))
  fatal_missing = [] if ignore_missing_vars else missing
  if mis_shaped or fatal_missing or unknown:
    raise ValueError(_restore_error(prefix, _model_of(net).name, model_vars, ckpt,
                                    mis_shaped, fatal_missing, unknown))

  reader = tf.train.load_checkpoint(prefix)
  for var, key in assignments:
    var.assign(np.asarray(reader.get_tensor(key), dtype=var.dtype))
  if missing:
    logging.warning('%d model variables not in %s kept their values: %s', len(missing),
                    prefix, ', '.join(missing[:20]) + (' ...' if len(missing) > 20 else ''))
  logging.info('Restored %d variables from %s (%d excluded by scope%s).', len(restored),
               prefix, len(excluded),
               f', {n_ema} from moving averages' if use_moving_averages else '')
  return RestoreReport(prefix, restored, excluded, missing, n_ema)


def _restore_error(prefix, model_name, model_vars, ckpt, mis_shaped, missing, unknown) -> str:
  lines = [f'Checkpoint {prefix} does not fit model {model_name!r}:']
  model_roots = {n.split('/')[0] for n in model_vars}
  ckpt_roots = {n.split('/')[0] for n in ckpt if not _AUXILIARY.search(n)}
  if ckpt_roots and not ckpt_roots & model_roots:
    lines.append(f"  it holds variables under {', '.join(sorted(ckpt_roots))}, the model's are "
                 f"under {', '.join(sorted(model_roots))}: is it a checkpoint of another "
                 'network (check --model_name)?')
  if mis_shaped:
    lines.append(f'  {len(mis_shaped)} variable(s) with another shape (checkpoint vs model):')
    lines += [f'    {n}: {_format_shape(c)} vs {_format_shape(m)}' for n, c, m in mis_shaped]
  if missing:
    lines.append(f'  {len(missing)} model variable(s) missing from the checkpoint:')
    lines += [f'    {n}' for n in missing]
  if unknown:
    lines.append(f'  {len(unknown)} checkpoint variable(s) unknown to the model:')
    lines += [f'    {n}' for n in unknown]
  scopes = _suggest_scopes([n for n, _, _ in mis_shaped] + list(missing) + list(unknown))
  hint = (f"To restore the rest, exclude these scopes: exclude_scopes='{','.join(scopes)}' "
          f"(--checkpoint_exclude_scopes={','.join(scopes)})")
  if missing:
    hint += ', or pass ignore_missing_vars=True (--ignore_missing_vars) for the missing ones'
  lines.append(hint + '.')
  return '\n'.join(lines)


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
