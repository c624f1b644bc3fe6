"""What every command-line script shares: quiet start-up, its own flags in --help,
and one paragraph for each mistake instead of a traceback.

A script defines its absl flags and a `main(argv)`, then calls `cli.run(main,
__name__)`. Exit status:
* 0: done;
* 1: a failure at run time the user can act on (a checkpoint that does not fit
  the model, data that cannot be read, a loss that diverged): `ValueError`,
  `OSError`, `FloatingPointError` (`train.NonFiniteLossError`), TensorFlow's
  data and file errors;
* 2: a usage error, found before any work starts: an unknown or malformed
  flag, a value out of range, a path that does not exist, an unknown net or
  dataset (`UsageError`, or a `ValueError` raised inside `usage_errors()`).

Both print one paragraph, `<command>: error: <what was wrong, what was
expected, what to do>`, and no traceback. Any other exception is a bug and
keeps its traceback.

TensorFlow's C++ and CUDA start-up lines (`cudart_stub.cc: Could not find cuda
drivers`, `cpu_feature_guard.cc`, `failed call to cuInit` on a machine without
a GPU) are hidden by default: TensorFlow is imported, and its GPUs listed, with
the process's stderr pointed at /dev/null, and `TF_CPP_MIN_LOG_LEVEL` defaults
to 2. `--tf_startup_logs` (or `TF_CPP_MIN_LOG_LEVEL` set in the environment)
shows them again.
"""

import contextlib
import dataclasses
import functools
import os
import sys
from typing import Any, Callable, Dict, Iterator, Optional, Sequence, Tuple

from absl import app
from absl import flags
from absl import logging

FLAGS = flags.FLAGS

flags.DEFINE_boolean('tf_startup_logs', False,
                     "Show TensorFlow's C++ and CUDA start-up lines (hidden by default; also "
                     'shown when TF_CPP_MIN_LOG_LEVEL is set).')

USAGE_EXIT, FAILURE_EXIT = 2, 1


class UsageError(Exception):
  """A command line that cannot work; the script exits with status 2."""


@contextlib.contextmanager
def usage_errors() -> Iterator[None]:
  """Turns `ValueError` / `FileNotFoundError` raised inside into a `UsageError`.

  For the up-front checks of a script (building its config, looking up its net
  and dataset, resolving its paths): what they reject is the command line.
  """
  try:
    yield
  except (ValueError, FileNotFoundError, NotADirectoryError) as e:
    raise UsageError(str(e)) from e


def check(condition: bool, message: str) -> None:
  """Raises `UsageError(message)` unless `condition`."""
  if not condition:
    raise UsageError(message)


def check_positive(**values: Optional[float]) -> None:
  """Each `flag=value` given (not None) must be > 0."""
  for flag, value in values.items():
    check(value is None or value > 0,
          f'--{flag} must be a positive number. Received: --{flag}={value}.')


def check_directory(flag: str, path: Optional[str], required: bool = True,
                    what: str = 'the directory') -> None:
  """`--flag` names an existing directory (or is unset when not `required`)."""
  if not path:
    check(not required, f'--{flag} is required: {what}.')
    return
  check(os.path.isdir(path) or '://' in path,
        f'--{flag}={path} does not exist or is not a directory; expected {what}.')


def check_files(paths: Sequence[str], what: str = 'an image file') -> None:
  """Every path exists and is a file."""
  folders = [p for p in paths if os.path.isdir(p)]
  check(not folders, f"{', '.join(folders)}: a directory; expected {what} for each argument "
        'after the flags (a shell pattern such as dir/*.jpg names the files in it).')
  missing = [p for p in paths if not os.path.isfile(p)]
  check(not missing, f"{', '.join(missing)}: no such file; expected {what} for each "
        'argument after the flags.')


def check_not_a_file(flag: str, path: Optional[str]) -> None:
  """`--flag` is a directory to write into: it may not exist yet, but is not a file."""
  check(not path or not os.path.isfile(path),
        f'--{flag}={path} is a file; expected a directory to write into (it is created if '
        'needed).')


def check_no_arguments(argv: Sequence[str]) -> None:
  """A script that takes flags only."""
  check(len(argv) <= 1, f"Unexpected arguments: {' '.join(argv[1:])}. This command takes "
        'flags only (--name=value); a value with spaces needs quotes.')


def check_network(model_name: str, image_size: Optional[int] = None,
                  size_flag: str = 'image_size', is_training: bool = False) -> None:
  """`model_name` is registered and `image_size` (if given) is one it can take.

  The smallest size is computed from the net (`nets_factory.minimum_image_size`),
  only when `image_size` is below the net's default.
  """
  from slimvision.nets import nets_factory  # pylint: disable=g-import-not-at-top
  with usage_errors():
    spec = nets_factory.get_spec(model_name)
  if image_size is None:
    return
  check(image_size > 0, f'--{size_flag} must be a positive number of pixels. '
        f'Received: --{size_flag}={image_size}.')
  if image_size >= spec.default_image_size:
    return
  smallest = nets_factory.minimum_image_size(model_name, is_training=is_training)
  check(image_size >= smallest,
        f'--{size_flag}={image_size} is too small for {model_name}: its layers need at least '
        f'{smallest} x {smallest} pixels ({"training" if is_training else "inference"}; '
        f'default {spec.default_image_size}). Pass --{size_flag}={smallest} or more.')


def check_dataset(dataset_name: str, split_name: str, dataset_dir: Optional[str]) -> None:
  """The dataset and split exist and `dataset_dir` holds the split's files."""
  from slimvision.datasets import dataset_factory  # pylint: disable=g-import-not-at-top
  check_directory('dataset_dir', dataset_dir,
                  what=f'the directory holding the {dataset_name} TFRecords '
                  '(written by download_and_convert_data.py or build_imagenet_data)')
  with usage_errors():
    dataset_factory.get_dataset(dataset_name, split_name, dataset_dir).list_files()


def define_flags(config_class: type, module_name: str, exclude: Sequence[str] = (),
                 defaults: Optional[Dict[str, Any]] = None,
                 flag_values: flags.FlagValues = FLAGS) -> None:
  """Defines one absl flag per field of a `core.config` dataclass, for a script.

  The flag takes the field's name, type and default (or `defaults[name]`), its
  help text from the class's `Attributes:` docstring (`config.field_help`), and
  is an enum where the field has `choices`.

  Args:
    config_class: e.g. `config.TrainConfig`.
    module_name: the script's `__name__` (whose flags --help lists).
    exclude: fields that are not flags (set by the script, or library-only).
    defaults: flag defaults for fields whose dataclass default differs or is
      missing (a required field).
    flag_values: where to define them (absl's global FLAGS by default).

  Raises:
    TypeError: for a field of a type no absl flag holds (exclude it).
  """
  from . import config as config_lib  # pylint: disable=g-import-not-at-top
  helps = config_lib.field_help(config_class)
  defaults = defaults or {}
  for field in dataclasses.fields(config_class):
    if field.name in exclude:
      continue
    default = defaults.get(field.name, field.default)
    if default is dataclasses.MISSING:
      raise TypeError(f'{config_class.__name__}.{field.name} has no default: give one in '
                      'defaults= or exclude it.')
    kind, _ = config_lib.field_type(config_class, field.name)
    choices = field.metadata.get('choices')
    if choices is not None:
      flags.DEFINE_enum(field.name, default, [c for c in choices if c is not None],
                        helps[field.name], module_name=module_name, flag_values=flag_values)
    elif kind in _FLAG_DEFINERS:
      _FLAG_DEFINERS[kind](field.name, default, helps[field.name], module_name=module_name,
                           flag_values=flag_values)
    else:
      raise TypeError(f'{config_class.__name__}.{field.name} of type {kind} cannot be a '
                      'flag: exclude it.')


def config_from_flags(config_class: type, module_name: str,
                      flag_values: flags.FlagValues = FLAGS, **values: Any) -> Any:
  """A `config_class` from the parsed values of the flags `module_name` defined for its
  fields (`define_flags`), updated with `values`.

  A ValueError of the config (a value out of range) becomes a usage error.
  """
  # By the name define_flags was given (absl's get_flags_for_module reads '__main__'
  # as sys.argv[0]).
  defined = {flag.name for flag in flag_values.flags_by_module_dict().get(module_name, [])}
  for field in dataclasses.fields(config_class):
    if field.name not in values and field.name in defined:
      values[field.name] = flag_values[field.name].value
  with usage_errors():
    return config_class(**values)


_FLAG_DEFINERS = {str: flags.DEFINE_string, int: flags.DEFINE_integer,
                  float: flags.DEFINE_float, bool: flags.DEFINE_boolean}


def define_checkpoint_sha256(module_name: str) -> None:
  """Defines --checkpoint_sha256 (checked against the release archive) for a script."""
  flags.DEFINE_string(
      'checkpoint_sha256', None,
      'With --checkpoint_path=pretrained: the expected sha256 (64 hex digits) of the '
      "release archive; a download that differs is removed and refused. Default: the "
      "registry's, where it records one.", module_name=module_name)


def pretrained_checkpoint(path: Optional[str], model_name: str,
                          sha256: Optional[str] = None) -> Tuple[Optional[str], bool]:
  """`--checkpoint_path=pretrained`: the release of `model_name` (downloaded and cached
  once, checked against `sha256` when given) and whether it holds moving averages;
  any other path unchanged (and False).

  A net without a release or a malformed sha256 is a usage error; a failed or
  corrupt download is a failure.
  """
  from slimvision.nets import pretrained  # pylint: disable=g-import-not-at-top
  if sha256 is not None:
    with usage_errors():
      pretrained.valid_sha256(sha256, '--checkpoint_sha256')
    check(path == pretrained.PRETRAINED,
          '--checkpoint_sha256 checks a downloaded release: use it with '
          '--checkpoint_path=pretrained.')
  if path != pretrained.PRETRAINED:
    return path, False
  with usage_errors():
    pretrained.release_url(model_name)
  prefix = pretrained.fetch(model_name, sha256=sha256)
  averages = pretrained.holds_moving_averages(prefix)
  logging.info('--checkpoint_path=pretrained: %s%s.', prefix,
               ', with the moving averages of the weights' if averages else '')
  return prefix, averages


def check_checkpoint(path: Optional[str], flag: str = 'checkpoint_path',
                     required: bool = True) -> None:
  """`--flag` names a checkpoint: a prefix, one of its files, or a directory holding one."""
  if not path:
    check(not required, f'--{flag} is required: a checkpoint prefix (model.ckpt-1000), one '
          'of its files, or a directory holding checkpoints.')
    return
  from slimvision.datasets import dataset_utils  # pylint: disable=g-import-not-at-top
  from slimvision.nets import checkpoints  # pylint: disable=g-import-not-at-top
  tf = import_tensorflow()
  try:
    checkpoints.checkpoint_variables(path)
  except ValueError as e:
    raise UsageError(f'--{flag}: {e}') from e
  except tf.errors.OpError as e:
    raise UsageError(
        f'--{flag}={path} is not a checkpoint TensorFlow can read '
        f'({dataset_utils.clean_tf_message(e.message)}) Pass a checkpoint prefix '
        '(model.ckpt-1000), one of its files, or the directory holding them.') from e


def check_saved_model(flag: str, path: str) -> None:
  """`--flag` names a SavedModel directory (export_inference_graph.py --export_dir)."""
  check_directory(flag, path, what='a SavedModel written by export_inference_graph.py '
                  '--export_dir')
  if os.path.exists(os.path.join(path, 'saved_model.pb')) or '://' in path:
    return
  tf = import_tensorflow()
  hint = ''
  if tf.train.latest_checkpoint(path):
    hint = (f' It holds training checkpoints: pass --checkpoint_path={path} (with the '
            '--model_name it was trained as) instead.')
  raise UsageError(f'--{flag}={path} holds no saved_model.pb, so it is not a SavedModel.{hint}')


# ----------------------------------------------------------------------------
# Start-up
# ----------------------------------------------------------------------------

@contextlib.contextmanager
def _stderr_to_devnull() -> Iterator[None]:
  """Points file descriptor 2 (C++ logging writes there too) at /dev/null."""
  sys.stderr.flush()
  saved = os.dup(2)
  devnull = os.open(os.devnull, os.O_WRONLY)
  try:
    os.dup2(devnull, 2)
    yield
  finally:
    sys.stderr.flush()
    os.dup2(saved, 2)
    os.close(saved)
    os.close(devnull)


def import_tensorflow(show_startup_logs: bool = False):
  """Imports TensorFlow, hiding its start-up lines unless asked; returns the module.

  Lines are shown when `show_startup_logs`, when TensorFlow is already
  imported, or when the environment sets `TF_CPP_MIN_LOG_LEVEL` (the user
  chose a level).
  """
  if show_startup_logs or 'tensorflow' in sys.modules or 'TF_CPP_MIN_LOG_LEVEL' in os.environ:
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    return tf
  os.environ['TF_CPP_MIN_LOG_LEVEL'] = '2'
  with _stderr_to_devnull():
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    tf.config.list_physical_devices('GPU')  # CUDA's probe logs here on a machine without GPU.
  return tf


def startup_logs_requested(argv: Sequence[str]) -> bool:
  """Whether `--tf_startup_logs` is on in `argv`, for a script that imports
  TensorFlow before absl parses its flags."""
  on = {'--tf_startup_logs', '--tf_startup_logs=true', '--tf_startup_logs=1'}
  return any(a.lower() in on for a in argv)


def _usage_types() -> tuple:
  """Exceptions that reject the command line: exit status 2."""
  types = [UsageError]
  checkpoints = sys.modules.get('slimvision.nets.checkpoints')
  if checkpoints is not None:
    types.append(checkpoints.ScopeError)  # A scope flag naming no variable.
  return tuple(types)


def _failure_types() -> tuple:
  """Exceptions reported in one paragraph with exit status 1."""
  types = [ValueError, OSError, FloatingPointError]
  tf = sys.modules.get('tensorflow')
  if tf is not None:
    types += [tf.errors.NotFoundError, tf.errors.DataLossError,
              tf.errors.PermissionDeniedError, tf.errors.ResourceExhaustedError,
              tf.errors.InvalidArgumentError]
  return tuple(types)


def _say(prog: str, message: str, usage: bool) -> None:
  text = f'{prog}: error: {message}'.rstrip()
  if usage:
    text += f'\n(Run {prog} --help to see the flags.)'
  sys.stderr.write(text + '\n')
  sys.stderr.flush()


def _guarded(main: Callable[[Sequence[str]], Optional[int]], argv: Sequence[str]) -> int:
  prog = os.path.basename(argv[0]) if argv else 'slimvision'
  try:
    import_tensorflow(FLAGS['tf_startup_logs'].value)
    return main(argv) or 0
  except _usage_types() as e:  # pylint: disable=catching-non-exception
    _say(prog, str(e), usage=True)
    return USAGE_EXIT
  except _failure_types() as e:  # pylint: disable=catching-non-exception
    message = getattr(e, 'message', None) or str(e)
    _say(prog, message, usage=False)
    logging.debug('Traceback of the failure above:', exc_info=True)
    return FAILURE_EXIT


def _parse_flags(argv: Sequence[str]) -> Sequence[str]:
  """absl's parsing, with a flag error answered in one paragraph (exit status 2)."""
  try:
    return FLAGS(argv)
  except flags.Error as e:
    _say(os.path.basename(argv[0]), str(e), usage=True)
    sys.exit(USAGE_EXIT)
  except SystemExit as e:
    # absl prints --help and exits 1; asking for help is not a failure.
    asked = {'-h', '-?', '--help', '--helpshort', '--helpfull', '--helpxml'}
    if e.code == 1 and asked & {a.split('=')[0] for a in argv[1:]}:
      sys.exit(0)
    raise


def _adopt_as_main(module_name: str) -> None:
  """Makes `--help` show `module_name`'s flags and docstring when it is not `__main__`.

  A console command (`slimvision-train`) runs a wrapper as `__main__`; absl's
  --help lists the flags of the main module (named after sys.argv[0]) and
  prints `__main__`'s docstring, so the command's flags are registered under
  that name too.
  """
  module = sys.modules[module_name]
  main_name = sys.argv[0]
  by_module = FLAGS.flags_by_module_dict()
  own = list(by_module.get(module_name, [])) + list(by_module.get(main_name, []))
  own += [FLAGS[name] for name in ('tf_startup_logs',)]
  for flag in own:
    FLAGS.register_key_flag_for_module(main_name, flag)
  main = sys.modules.get('__main__')
  if main is not None and main is not module and not getattr(main, '__doc__', None):
    main.__doc__ = module.__doc__


def run(main: Callable[[Sequence[str]], Optional[int]], module_name: str,
        define_flags: Optional[Callable[[], None]] = None) -> None:
  """Runs a script's `main(argv)` under absl with the behaviour described above.

  Args:
    main: the script's main; returns an exit status or None (0).
    module_name: the script module's `__name__` (whose flags --help lists).
    define_flags: called first, for scripts that define their flags lazily.
  """
  if define_flags is not None:
    define_flags()
  _adopt_as_main(module_name)
  app.run(functools.partial(_guarded, main), argv=sys.argv, flags_parser=_parse_flags)
