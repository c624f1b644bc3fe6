"""Users' mistakes with every command, each answered in one paragraph.

Each row of `MISTAKES` runs a script as a user would and checks the exit status
(2: a usage error, found before any work; 1: a failure at run time), that no
traceback is printed, and the key words of the answer: what was wrong and the
flag that fixes it. The rows named in `OWN_PROCESS` (one or more per script)
run as `python script.py ...` each in a fresh process; the other rows of a
script run one after another in one process (tests/cli_driver.py: the same
`cli.run`, flags parsed anew for each), which spares a TensorFlow start-up per
row.
"""

import collections
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import tensorflow as tf

from slimvision.core import cli
from slimvision.core import train
from slimvision.core.config import TrainConfig
from slimvision.nets import checkpoints, nets_factory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, 'tests', 'data', 'datasets')
FLOWERS = os.path.join(DATA, 'flowers_mini')
MNIST = os.path.join(DATA, 'mnist_mini')

TRAIN, EVAL, EXPORT = ('train_image_classifier.py', 'eval_image_classifier.py',
                       'export_inference_graph.py')
CLASSIFY, CONVERT = 'classify_image.py', 'download_and_convert_data.py'
IMAGENET = os.path.join('datasets', 'build_imagenet_data.py')

_FLOWERS = ['--dataset_name=flowers', f'--dataset_dir={FLOWERS}']
_TRAIN = ['--model_name=lenet', '--use_grayscale', '--train_image_size=28',
          '--max_number_of_steps=1', '--batch_size=2', '--optimizer=sgd',
          '--learning_rate_decay_type=fixed', *_FLOWERS]

# (id, script, arguments, exit status, words the answer must hold). In the
# arguments, {tmp} is a fresh directory, {photo} a JPEG, {text} a text file
# named .jpg and {name} a prepared checkpoint or directory (see `prepared`).
MISTAKES = [
    # Training.
    ('train-no-dataset-dir', TRAIN, ['--dataset_dir={tmp}/nowhere', '--dataset_name=flowers'],
     2, ['--dataset_dir=', 'does not exist']),
    ('train-batch-size-0', TRAIN, [*_FLOWERS, '--batch_size=0'], 2, ['batch_size', '>= 1']),
    ('train-image-too-small', TRAIN, [*_FLOWERS, '--train_image_size=10'],
     2, ['too small for inception_v3', '--train_image_size=107']),
    ('train-unknown-net', TRAIN, [*_FLOWERS, '--model_name=resnet50'],
     2, ['Unknown model_name', 'resnet_v1_50']),
    ('train-unknown-dataset', TRAIN, ['--dataset_name=flower', f'--dataset_dir={FLOWERS}'],
     2, ["Did you mean 'flowers'"]),
    ('train-unknown-split', TRAIN, [*_FLOWERS, '--dataset_split_name=valid'],
     2, ['split_name', 'validation']),
    ('train-misspelt-flag', TRAIN, [*_FLOWERS, '--learning_rat=0.1'],
     2, ['learning_rat', 'Did you mean', 'learning_rate']),
    ('train-enum-value', TRAIN, [*_FLOWERS, '--optimizer=sgdd'], 2, ['--optimizer', 'sgd']),
    ('train-not-a-number', TRAIN, [*_FLOWERS, '--batch_size=many'], 2, ['--batch_size', 'many']),
    ('train-positional-argument', TRAIN, [*_FLOWERS, 'resnet_v1_50'],
     2, ['Unexpected arguments', 'resnet_v1_50']),
    ('train-cosine-without-steps', TRAIN, [*_FLOWERS, '--learning_rate_decay_type=cosine'],
     2, ['cosine', 'max_number_of_steps']),
    ('train-checkpoint-not-found', TRAIN, [*_TRAIN, '--train_dir={tmp}/t',
                                           '--checkpoint_path={tmp}/model.ckpt-9'],
     2, ['not found', 'model.ckpt-9.index']),
    ('train-dir-of-another-shape', TRAIN, [*_TRAIN, '--labels_offset=1', '--train_dir={run}'],
     1, ['holds a run of another shape', '5 classes (now 4)', '--labels_offset=0',
         '--train_dir']),
    ('train-checkpoint-of-another-width', TRAIN, [
        '--model_name=mobilenet_v1_025', '--train_image_size=32', '--max_number_of_steps=1',
        '--batch_size=2', *_FLOWERS, '--train_dir={tmp}/t', '--checkpoint_path={wider}'],
     1, ['another width', '--model_name=mobilenet_v1_050']),
    ('train-rgb-checkpoint-grey-net', TRAIN, [
        '--model_name=mobilenet_v1_025', '--train_image_size=32', '--use_grayscale',
        '--max_number_of_steps=1', '--batch_size=2', *_FLOWERS, '--train_dir={tmp}/t',
        '--checkpoint_path={wider_025}'],
     1, ['3-channel', '--use_grayscale off', '--checkpoint_exclude_scopes=', 'MobilenetV1/Conv2d_0']),
    ('train-dir-is-a-file', TRAIN, [*_TRAIN, '--train_dir={photo}'],
     2, ['--train_dir=', 'is a file']),
    ('train-checkpoint-not-a-checkpoint', TRAIN, [*_TRAIN, '--train_dir={tmp}/t',
                                                  '--checkpoint_path={photo}'],
     2, ['--checkpoint_path=', 'is not a checkpoint', 'model.ckpt-1000']),
    ('train-negative-learning-rate', TRAIN, [*_TRAIN, '--train_dir={tmp}/t',
                                             '--learning_rate=-1'],
     2, ['learning_rate must be >= 0']),
    ('train-resume-other-image-size', TRAIN, [*_TRAIN[:2], '--train_image_size=32',
                                              *_TRAIN[3:], '--train_dir={run}'],
     1, ['holds a run of another shape', '--train_image_size=28 (now 32)']),
    ('train-exclude-scope-typo', TRAIN, [*_TRAIN, '--train_dir={tmp}/t', '--checkpoint_path={lenet}',
                                         '--checkpoint_exclude_scopes=LeNet/Fc4'],
     2, ['--checkpoint_exclude_scopes', "'LeNet/Fc4'", 'did you mean LeNet/fc4', 'case matters']),
    ('train-trainable-scope-typo', TRAIN, [*_TRAIN, '--train_dir={tmp}/t',
                                           '--trainable_scopes=LeNet/fc3,lenet/fc4'],
     2, ['--trainable_scopes', "'lenet/fc4'", 'LeNet/fc4']),
    ('train-unknown-preprocessing', TRAIN, [*_TRAIN, '--train_dir={tmp}/t',
                                            '--preprocessing_name=incepton'],
     2, ['Unknown preprocessing name', "Did you mean 'inception'"]),
    ('train-resume-with-another-optimizer', TRAIN, [*_TRAIN[:5], '--optimizer=adam', *_TRAIN[6:],
                                                    '--train_dir={run}'],
     1, ['training state does not fit', '--optimizer=sgd (now adam)', '--checkpoint_path=']),
    # Evaluation.
    ('eval-unknown-preprocessing', EVAL, [*_FLOWERS, '--dataset_split_name=validation',
                                          '--checkpoint_path={lenet}',
                                          '--preprocessing_name=vgg16'],
     2, ['Unknown preprocessing name', "'vgg_16'"]),
    ('eval-checkpoint-not-found', EVAL, [*_FLOWERS, '--dataset_split_name=validation',
                                         '--checkpoint_path={tmp}/nothing'],
     2, ['--checkpoint_path', 'not found']),
    ('eval-batch-size-0', EVAL, [*_FLOWERS, '--batch_size=0', '--checkpoint_path={lenet}'],
     2, ['--batch_size must be a positive number']),
    ('eval-image-too-small', EVAL, [*_FLOWERS, '--model_name=inception_v1', '--eval_image_size=64',
                                    '--checkpoint_path={lenet}'],
     2, ['--eval_image_size=64 is too small', 'inception_v1']),
    ('eval-background-class', EVAL, [*_FLOWERS, '--dataset_split_name=validation',
                                     '--model_name=lenet', '--use_grayscale',
                                     '--checkpoint_path={lenet_4}', '--eval_dir={tmp}/e'],
     1, ['4 classes', '--labels_offset=1']),
    ('eval-other-classes', EVAL, ['--dataset_name=mnist', f'--dataset_dir={MNIST}',
                                  '--dataset_split_name=test', '--model_name=lenet',
                                  '--checkpoint_path={lenet_4}', '--eval_dir={tmp}/e'],
     1, ['4 classes', '--dataset_name']),
    # Export.
    ('export-nothing-to-write', EXPORT, ['--model_name=lenet'], 2, ['--export_dir', '--tflite_file']),
    ('export-digits-lenet-without-dataset', EXPORT, [
        '--model_name=lenet', '--checkpoint_path={lenet}', '--export_dir={tmp}/saved'],
     1, ['10 classes', '--dataset_name', '--num_classes=10']),
    ('export-unknown-net', EXPORT, ['--model_name=inception', '--export_dir={tmp}/s'],
     2, ['Unknown model_name', 'inception_v1']),
    # Classification.
    ('classify-no-image', CLASSIFY, ['--checkpoint_path={lenet}'], 2, ['image files']),
    ('classify-image-not-found', CLASSIFY, ['--checkpoint_path={lenet}', '{tmp}/cat.jpg'],
     2, ['cat.jpg', 'no such file']),
    ('classify-net-without-release', CLASSIFY, ['--model_name=lenet', '{photo}'],
     2, ['slim released no checkpoint of lenet', '--checkpoint_path']),
    ('classify-release-unreachable', CLASSIFY, ['--model_name=mobilenet_v1_025', '{photo}'],
     1, ['Could not download', 'mobilenet_v1_0.25_224.tgz', 'by hand into']),
    ('classify-malformed-sha256', CLASSIFY, ['--model_name=mobilenet_v1_025',
                                             '--checkpoint_sha256=abc', '{photo}'],
     2, ['--checkpoint_sha256 must be 64 hexadecimal digits', "'abc'"]),
    ('export-sha256-without-release', EXPORT, ['--model_name=lenet', '--checkpoint_path={lenet}',
                                               '--checkpoint_sha256=' + '0' * 64,
                                               '--export_dir={tmp}/sm'],
     2, ['--checkpoint_sha256 checks a downloaded release', '--checkpoint_path=pretrained']),
    ('classify-not-an-image', CLASSIFY, ['--model_name=lenet', '--checkpoint_path={lenet}',
                                         '--dataset_name=mnist', '{text}'],
     1, ['notes.jpg']),
    ('classify-saved-model-not-found', CLASSIFY, ['--saved_model_dir={tmp}/none', '{photo}'],
     2, ['--saved_model_dir', 'does not exist']),
    ('classify-both-models', CLASSIFY, ['--checkpoint_path={lenet}', '--saved_model_dir={run}',
                                        '{photo}'],
     2, ['not both']),
    ('classify-saved-model-other-names', CLASSIFY, ['--saved_model_dir={saved}',
                                                    '--dataset_name=flowers', '{photo}'],
     1, ['they belong to another dataset', 'Drop --dataset_name']),
    ('classify-a-directory', CLASSIFY, ['--checkpoint_path={lenet}', '{tmp}'],
     2, ['a directory', 'dir/*.jpg']),
    ('classify-checkpoints-as-saved-model', CLASSIFY, ['--saved_model_dir={run}', '{photo}'],
     2, ['not a SavedModel', '--checkpoint_path={run}']),
    # Converters.
    ('convert-dataset-dir-is-a-file', CONVERT, ['--dataset_name=digits', '--dataset_dir={photo}'],
     2, ['--dataset_dir=', 'is a file']),
    ('convert-not-an-archive', CONVERT, ['--dataset_name=flowers', '--dataset_dir={tmp}/f',
                                         '--data_url=file://{text}'],
     1, ['is not a complete, readable archive', 'it was removed', '--data_url']),
    ('convert-imagenet', CONVERT, ['--dataset_name=imagenet', '--dataset_dir={tmp}'],
     2, ['build_imagenet_data']),
    ('convert-no-dataset-name', CONVERT, ['--dataset_dir={tmp}'], 2, ['--dataset_name', 'digits']),
    ('imagenet-empty-folder', IMAGENET, ['--validation_directory={tmp}'],
     2, ['No ImageNet images found', 'ILSVRC2012_val_00000001.JPEG', 'n01440764.tar']),
    ('imagenet-outer-archive', IMAGENET, ['--train_directory={tmp}/ILSVRC2012_img_train.tar'],
     2, ['--train_directory', 'does not exist']),
    ('imagenet-threads-shards', IMAGENET, ['--validation_directory={tmp}', '--num_threads=3'],
     2, ['--num_threads=3 must divide --validation_shards=128']),
]


# Rows run exactly as a user would, each in its own process: at least one per script.
OWN_PROCESS = frozenset({
    'train-misspelt-flag', 'train-dir-of-another-shape', 'eval-checkpoint-not-found',
    'export-unknown-net', 'classify-release-unreachable', 'convert-not-an-archive',
    'imagenet-empty-folder'})


@pytest.fixture(scope='module')
def prepared(tmp_path_factory):
  """Checkpoints and directories the mistakes refer to, made once."""
  tmp = tmp_path_factory.mktemp('prepared')
  out = {}
  lenet = nets_factory.get_network_fn('lenet')
  out['lenet'] = checkpoints.save_slim_checkpoint(lenet, str(tmp / 'lenet.ckpt'))
  lenet_4 = nets_factory.get_network_fn('lenet', num_classes=4)
  out['lenet_4'] = checkpoints.save_slim_checkpoint(lenet_4, str(tmp / 'lenet_4.ckpt'))
  wider = nets_factory.get_network_fn('mobilenet_v1_050', image_size=32)
  out['wider'] = checkpoints.save_slim_checkpoint(wider, str(tmp / 'mobilenet_v1_050.ckpt'))
  rgb = nets_factory.get_network_fn('mobilenet_v1_025', image_size=32)
  out['wider_025'] = checkpoints.save_slim_checkpoint(rgb, str(tmp / 'mobilenet_v1_025.ckpt'))
  # A run of LeNet on the 5 flowers classes, to be resumed with 4.
  out['run'] = str(tmp / 'run')
  train.train(TrainConfig(
      train_dir=out['run'], dataset_name='flowers', dataset_dir=FLOWERS, model_name='lenet',
      use_grayscale=True, train_image_size=28, max_number_of_steps=1, batch_size=2,
      optimizer='sgd', learning_rate_decay_type='fixed'))
  from slimvision.core import export  # pylint: disable=g-import-not-at-top
  out['saved'] = export.export(export.ExportConfig(
      model_name='lenet', checkpoint_path=out['lenet'], dataset_name='mnist',
      export_dir=str(tmp / 'saved')))['saved_model']
  out['photo'] = str(tmp / 'photo.jpg')
  pixels = np.random.default_rng(0).integers(0, 256, (40, 30, 3), dtype=np.uint8)
  tf.io.write_file(out['photo'], tf.io.encode_jpeg(pixels))
  out['text'] = str(tmp / 'notes.jpg')
  with open(out['text'], 'w') as f:
    f.write('not an image\n')
  return out


def _env():
  env = {k: v for k, v in os.environ.items() if k != 'TF_CPP_MIN_LOG_LEVEL'}
  # Releases come from a mirror that refuses connections: no test touches the internet.
  env.update(SLIMVISION_MIRROR='http://127.0.0.1:9/',
             SLIMVISION_HOME=os.path.join(tempfile.gettempdir(), 'slimvision_test_home'))
  return env


def _run(script, args):
  return subprocess.run([sys.executable, os.path.join(ROOT, script), *args], cwd=ROOT,
                        capture_output=True, text=True, timeout=600, env=_env())


@pytest.fixture(scope='module')
def answers(prepared, tmp_path_factory):
  """{row id: (tmp, CompletedProcess-like answer)}, each script's shared rows
  run together in one process the first time one of them is asked for."""
  by_script = collections.defaultdict(list)
  for row_id, script, args, _, _ in MISTAKES:
    if row_id not in OWN_PROCESS:
      by_script[script].append((row_id, args))
  done = {}

  def answer(row_id, script):
    if row_id not in done:
      rows = by_script[script]
      work = tmp_path_factory.mktemp('batch')
      tmps = {r: tmp_path_factory.mktemp(r) for r, _ in rows}
      argv = [[os.path.join(ROOT, script)] + [a.format(tmp=tmps[r], **prepared) for a in args]
              for r, args in rows]
      (work / 'argv.json').write_text(json.dumps(argv))
      module = script[:-3].replace(os.sep, '.')
      driver = os.path.join(ROOT, 'tests', 'cli_driver.py')
      proc = subprocess.run([sys.executable, driver, module, str(work / 'out.json'),
                             str(work / 'argv.json')], cwd=ROOT, capture_output=True,
                            text=True, timeout=900, env=_env())
      assert proc.returncode == 0, proc.stderr[-3000:]
      results = json.loads((work / 'out.json').read_text())
      for (r, _), result in zip(rows, results):
        done[r] = tmps[r], subprocess.CompletedProcess(
            argv, result['status'], result['stdout'], result['stderr'])
    return done[row_id]

  return answer


@pytest.mark.slow
@pytest.mark.parametrize('row_id,script,args,status,words', MISTAKES,
                         ids=[m[0] for m in MISTAKES])
def test_mistake_is_answered_in_one_paragraph(answers, prepared, tmp_path, row_id, script, args,
                                              status, words):
  if row_id in OWN_PROCESS:
    proc = _run(script, [a.format(tmp=tmp_path, **prepared) for a in args])
  else:
    tmp_path, proc = answers(row_id, script)
  assert proc.returncode == status, proc.stderr[-3000:]
  assert 'Traceback' not in proc.stderr + proc.stdout, proc.stderr[-3000:]
  name = os.path.basename(script)
  answer = proc.stderr[proc.stderr.index(f'{name}: error: '):]
  for word in words:
    assert word.format(tmp=tmp_path, **prepared) in answer, answer
  # TensorFlow's start-up lines are hidden (TF_CPP_MIN_LOG_LEVEL unset).
  for noise in ('cuda_platform.cc', 'cudart_stub.cc', 'cpu_feature_guard.cc', 'cuInit'):
    assert noise not in proc.stderr, proc.stderr[:2000]


@pytest.mark.slow
def test_replicas_on_cpu_work_below_the_default_image_size(tmp_path):
  # The up-front size check builds the net: the logical devices must exist first.
  proc = _run(TRAIN, ['--model_name=cifarnet', '--train_image_size=28', '--num_clones=2',
                      '--max_number_of_steps=1', '--batch_size=2', *_FLOWERS,
                      f'--train_dir={tmp_path}/t'])
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert 'num_clones=2 but no GPU is visible' in proc.stderr


def test_help_exits_0():
  proc = _run(CLASSIFY, ['--helpshort'])
  assert proc.returncode == 0 and '--saved_model_dir' in proc.stdout + proc.stderr


def test_the_table_is_at_least_25_mistakes_across_the_commands():
  assert len(MISTAKES) >= 25 and len({m[0] for m in MISTAKES}) == len(MISTAKES)
  assert {m[1] for m in MISTAKES} == {TRAIN, EVAL, EXPORT, CLASSIFY, CONVERT, IMAGENET}
  # Every script keeps at least one row run as its own process.
  assert OWN_PROCESS <= {m[0] for m in MISTAKES}
  assert {m[1] for m in MISTAKES if m[0] in OWN_PROCESS} == {m[1] for m in MISTAKES}


def test_usage_errors_exit_2_and_failures_1_without_traceback(capsys):
  def usage(argv):
    cli.check(False, 'a flag is wrong')

  def failure(argv):
    raise ValueError('the data is bad')

  def bug(argv):
    raise KeyError('internal')

  assert cli._guarded(usage, ['prog']) == cli.USAGE_EXIT
  assert 'prog: error: a flag is wrong' in capsys.readouterr().err
  assert cli._guarded(failure, ['prog']) == cli.FAILURE_EXIT
  assert 'prog: error: the data is bad' in capsys.readouterr().err
  with pytest.raises(KeyError):  # A bug keeps its traceback.
    cli._guarded(bug, ['prog'])


@pytest.mark.slow
@pytest.mark.parametrize('script', [TRAIN, EVAL, EXPORT, CLASSIFY, CONVERT, IMAGENET])
def test_help_lists_the_command_flags_as_a_console_command_would(script, tmp_path):
  # A console command runs a wrapper as __main__ that imports the module and
  # calls its entry point, as pip's generated `slimvision-*` scripts do.
  module = 'slimvision.' + script[:-3].replace(os.sep, '.')
  entry = 'cli' if script == IMAGENET else 'run'
  wrapper = tmp_path / 'slimvision-command'
  wrapper.write_text(
      'import sys\n'
      f'sys.path.insert(0, {ROOT!r})\n'
      'import _bootstrap\n'
      '_bootstrap.as_package()\n'
      f'from {module} import {entry}\n'
      f'sys.exit({entry}())\n')
  proc = subprocess.run([sys.executable, str(wrapper), '--helpshort'], capture_output=True,
                        text=True, timeout=300)
  listed = proc.stdout + proc.stderr
  flag = {TRAIN: '--train_dir', EVAL: '--eval_dir', EXPORT: '--export_dir',
          CLASSIFY: '--saved_model_dir', CONVERT: '--dataset_name',
          IMAGENET: '--validation_directory'}[script]
  assert flag in listed and 'tf_startup_logs' in listed, listed[-3000:]


def test_more_clones_than_devices_warns_with_what_it_did(caplog):
  from slimvision.core import strategy as strategy_lib  # pylint: disable=g-import-not-at-top
  if tf.config.list_physical_devices('GPU'):
    pytest.skip('The warning is for a machine without GPUs.')
  with caplog.at_level('WARNING'):
    strategy = strategy_lib.make_strategy(num_clones=2)
  assert strategy.num_replicas_in_sync == 2
  warned = [r.getMessage() for r in caplog.records if r.levelname == 'WARNING']
  assert any('num_clones=2 but no GPU is visible' in w and 'not faster' in w for w in warned)
