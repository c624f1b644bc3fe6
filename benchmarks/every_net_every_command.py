r"""Runs every registered net through the four commands, as a user would, and prints a table.

For each net (or those matching --nets): train_image_classifier.py from scratch
for a few steps at a small --train_image_size on the small flowers dataset
shipped with the tests, eval_image_classifier.py on its validation split,
export_inference_graph.py --export_dir --tflite_file, then classify_image.py
with the checkpoint and with the SavedModel (their top-1 must agree). The image
size is the net's smallest training size (`nets_factory.minimum_image_size`),
at least 32 and at most its default.

    python benchmarks/every_net_every_command.py [--nets='resnet*'] [--keep=/tmp/zoo]

Prints one markdown row per net (ok / FAIL per command, seconds) and, for a
failure, the last lines the command printed. Exits 1 if any command failed.
"""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLOWERS = os.path.join(ROOT, 'tests', 'data', 'datasets', 'flowers_mini')
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')


def _run(script, *args):
  start = time.time()
  p = subprocess.run([sys.executable, os.path.join(ROOT, script), *args], env=ENV,
                     capture_output=True, text=True, cwd=ROOT)
  return p.returncode, p.stdout + p.stderr, time.time() - start


def _top1(output):
  ranked = [l for l in output.splitlines() if l.strip().startswith('1.')]
  return ranked[0].split(']', 1)[-1].strip() if ranked else None


def _photo(path):
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  pixels = np.random.default_rng(0).integers(0, 256, (90, 120, 3), dtype=np.uint8)
  tf.io.write_file(path, tf.io.encode_jpeg(pixels))


def try_net(name, size, work):
  """{command: (ok, seconds, output)} for one net."""
  train_dir, export_dir = os.path.join(work, 'train'), os.path.join(work, 'saved')
  photo = os.path.join(work, 'photo.jpg')
  _photo(photo)
  data = ['--dataset_name=flowers', f'--dataset_dir={FLOWERS}']
  results = {}
  rc, out, sec = _run('train_image_classifier.py', f'--train_dir={train_dir}', *data,
                      '--dataset_split_name=train', f'--model_name={name}',
                      f'--train_image_size={size}', '--batch_size=2',
                      '--max_number_of_steps=2', '--optimizer=sgd',
                      '--learning_rate_decay_type=fixed', '--log_every_n_steps=1')
  results['train'] = (rc == 0, sec, out)
  rc, out, sec = _run('eval_image_classifier.py', f'--checkpoint_path={train_dir}',
                      f'--eval_dir={work}/eval', *data, '--dataset_split_name=validation',
                      f'--model_name={name}', f'--eval_image_size={size}', '--batch_size=4')
  results['eval'] = (rc == 0 and 'eval/Accuracy' in out, sec, out)
  rc, out, sec = _run('export_inference_graph.py', f'--model_name={name}',
                      f'--checkpoint_path={train_dir}', f'--export_dir={export_dir}',
                      f'--tflite_file={work}/model.tflite', f'--image_size={size}',
                      '--dataset_name=flowers')
  results['export'] = (rc == 0, sec, out)
  rc, out, sec = _run('classify_image.py', f'--model_name={name}',
                      f'--checkpoint_path={train_dir}', f'--image_size={size}', *data, photo)
  rc2, out2, sec2 = _run('classify_image.py', f'--saved_model_dir={export_dir}',
                         f'--dataset_dir={FLOWERS}', photo)
  same = _top1(out) is not None and _top1(out) == _top1(out2)
  results['classify'] = (rc == 0 and rc2 == 0 and same, sec + sec2,
                         out + '\n--- with the SavedModel ---\n' + out2)
  return results


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--nets', default='*', help='shell pattern of net names')
  parser.add_argument('--keep', default=None, help='keep the runs under this directory')
  args = parser.parse_args()
  sys.path.insert(0, ROOT)
  import _bootstrap  # pylint: disable=g-import-not-at-top
  _bootstrap.as_package()
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from slimvision.nets import nets_factory  # pylint: disable=g-import-not-at-top
  print(f'# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; '
        f'Python {platform.python_version()}, TensorFlow {tf.__version__}')
  print('| model_name | size | train | eval | export | classify | seconds |')
  print('|---|---|---|---|---|---|---|')
  failed = []
  for name in nets_factory.list_networks(args.nets):
    spec = nets_factory.get_spec(name)
    size = min(spec.default_image_size,
               max(32, nets_factory.minimum_image_size(name, is_training=True)))
    work = (os.path.join(args.keep, name) if args.keep
            else tempfile.mkdtemp(prefix=f'{name}.'))
    os.makedirs(work, exist_ok=True)
    results = try_net(name, size, work)
    cells = ['ok' if ok else 'FAIL' for ok, _, _ in results.values()]
    seconds = sum(sec for _, sec, _ in results.values())
    print(f'| `{name}` | {size} | ' + ' | '.join(cells) + f' | {seconds:.0f} |', flush=True)
    for command, (ok, _, out) in results.items():
      if not ok:
        failed.append(name)
        tail = [l for l in out.splitlines() if l.strip()][-8:]
        print(f'<!-- {name} {command} failed:\n' + '\n'.join(tail) + '\n-->', flush=True)
    if not args.keep:
      subprocess.run(['rm', '-rf', work], check=False)
  return 1 if failed else 0


if __name__ == '__main__':
  sys.exit(main())
