"""One source of configuration: the scripts' flags are the config dataclasses' fields."""

import dataclasses

from absl import flags
import pytest

from slimvision.core import cli
from slimvision.core import config as config_lib
import scripts_testlib

# Each script, its config, and the fields that are not flags there (set by the
# script from other flags, or for library callers only).
SCRIPTS = {
    'train_image_classifier': (config_lib.TrainConfig, ()),
    'eval_image_classifier': (config_lib.EvalConfig,
                              ('num_classes', 'max_number_of_steps', 'network_kwargs')),
    'export_inference_graph': (config_lib.ExportConfig, ('use_moving_averages',
                                                         'network_kwargs')),
    'classify_image': (config_lib.ClassifyConfig, ()),
}


@pytest.mark.parametrize('script', sorted(SCRIPTS))
def test_each_script_defines_its_configs_fields_as_flags_and_no_copies(script):
  config_class, not_flags = SCRIPTS[script]
  defined, tensorflow_imported = scripts_testlib.script_flags(script)
  helps = config_lib.field_help(config_class)
  fields = {f.name: f for f in dataclasses.fields(config_class)}
  for name in set(fields) - set(not_flags):
    default, help_text, choices = defined[name]
    if fields[name].default is not dataclasses.MISSING:
      assert default == fields[name].default, name
    assert help_text.endswith(helps[name]), name  # An enum's starts with its values.
    if fields[name].metadata.get('choices'):
      assert choices == [c for c in fields[name].metadata['choices'] if c is not None]
  assert not set(not_flags) & set(defined)
  assert not tensorflow_imported  # Start-up stays quick and quiet.


@pytest.mark.parametrize('config_class', [config_lib.TrainConfig, config_lib.EvalConfig,
                                          config_lib.ExportConfig, config_lib.ClassifyConfig])
def test_every_config_field_is_documented(config_class):
  helps = config_lib.field_help(config_class)
  assert set(helps) == {f.name for f in dataclasses.fields(config_class)}
  assert all(text.strip() for text in helps.values())


def test_an_undocumented_field_is_named():

  @dataclasses.dataclass(frozen=True)
  class Half:
    """Half documented.

    Attributes:
      documented: A field with its text,
        on two lines.
    """
    documented: int = 1
    forgotten: int = 2

  with pytest.raises(ValueError, match=r"Half documents no field \['forgotten'\]"):
    config_lib.field_help(Half)


def test_parsed_flags_become_the_config_and_out_of_range_values_a_usage_error():
  flag_values = flags.FlagValues()
  cli.define_flags(config_lib.TrainConfig, 'train', flag_values=flag_values)
  flag_values(['x', '--batch_size=3', '--optimizer=adamw', '--mixed_precision=bfloat16',
               '--nojit_compile'])
  config = cli.config_from_flags(config_lib.TrainConfig, 'train', flag_values=flag_values,
                                 train_dir='/somewhere')
  assert config == config_lib.TrainConfig(batch_size=3, optimizer='adamw',
                                          mixed_precision='bfloat16', train_dir='/somewhere')
  with pytest.raises(flags.IllegalFlagValueError, match='rmsprop'):
    flag_values(['x', '--optimizer=lamb'])
  flag_values.unparse_flags()
  flag_values(['x', '--learning_rate=-1'])
  with pytest.raises(cli.UsageError, match='learning_rate must be >= 0'):
    cli.config_from_flags(config_lib.TrainConfig, 'train', flag_values=flag_values)


def test_a_field_no_flag_can_hold_must_be_excluded():
  with pytest.raises(TypeError, match='network_kwargs'):
    cli.define_flags(config_lib.ExportConfig, 'export', flag_values=flags.FlagValues())
  with pytest.raises(TypeError, match='checkpoint_path has no default'):
    cli.define_flags(config_lib.EvalConfig, 'eval', flag_values=flags.FlagValues(),
                     exclude=('network_kwargs',))
